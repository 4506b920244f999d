// SPDX-License-Identifier: GPL-2.0-or-later
//
// QEMU's qtest wire protocol (QEMU 7.2 softmmu/qtest.c): line-based requests split on single
// spaces, numbers in C syntax (strtoull base 0), replies "OK ...", "FAIL ..." or "ERR ...", and
// asynchronous "IRQ raise N" / "IRQ lower N" lines for intercepted interrupts.
//
//   readb|readw|readl|readq ADDR        -> OK 0x%016x (target-endian value of the bytes)
//   writeb|writew|writel|writeq ADDR V  -> OK
//   inb|inw|inl PORT / outb|outw|outl PORT V   (PORT <= 0xffff)
//   read ADDR SIZE -> OK 0x<hex> ; write ADDR SIZE 0x<hex> ; b64read / b64write ; memset
//   clock_step [NS] / clock_set NS      -> OK <ns>   (qtest accelerator only)
//   irq_intercept_in|irq_intercept_out QOM-PATH ; set_irq_in QOM-PATH NAME NUM LEVEL
//   endianness                          -> OK little|big
//
// Unlike QEMU, which asserts (aborting the process) on a malformed request, qtpm answers
// "ERR <reason>" and carries on; sizes are bounded (kMaxTransfer) instead of allocating what a
// request asks for, and an over-long line is dropped with "ERR line too long".
//
// The server does no I/O itself: feed() takes received bytes, replies go to the sender, and the
// -qtest-log transcript (QEMU's "[R +t]", "[S +t]", "[I t] OPENED" format) to the log file.
#pragma once

#include <chrono>
#include <cstdio>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "qtest/server/machine.h"

namespace qtpm::host {

class QtestServer {
 public:
  static constexpr uint64_t kMaxTransfer = 16u << 20;  // read/write/b64 payload bytes
  static constexpr size_t kMaxLine = 48u << 20;        // a 16 MiB write in hex, and some

  using Sender = std::function<void(std::string_view)>;
  // Extension point (QEMU's qtest_set_command_cb): a handler returns true when it answered the
  // request.  Tried before "FAIL Unknown command"; e.g. pseries "rtas".
  using CommandHandler = std::function<bool(const std::vector<std::string> &words, QtestServer &server)>;

  // `root` resolves QOM paths; `qtest_accel`: the qtest accelerator won (clock commands work).
  QtestServer(Machine &machine, Object *root, bool qtest_accel);
  ~QtestServer();

  void set_sender(Sender sender) { sender_ = std::move(sender); }
  // Takes ownership of `log` (may be null: no transcript).
  void set_log(FILE *log);
  void add_command_handler(CommandHandler handler) { handlers_.push_back(std::move(handler)); }
  // Lowers the line limit (tests).
  void set_max_line(size_t bytes) { max_line_ = bytes; }

  // Connection events: OPENED resets the IRQ levels libqtest tracks and the log clock.
  void opened();
  void closed();
  void feed(std::string_view bytes);

  // Sends one reply line (with its '\n'), logged with the "[S +t]" prefix.
  void send(const std::string &line);

 private:
  void process_line(const std::string &line);
  void dispatch(const std::vector<std::string> &words);
  // Command groups; each returns the reply line.
  std::string cmd_mem_read(const std::vector<std::string> &w);
  std::string cmd_mem_write(const std::vector<std::string> &w);
  std::string cmd_port_in(const std::vector<std::string> &w);
  std::string cmd_port_out(const std::vector<std::string> &w);
  std::string cmd_read(const std::vector<std::string> &w);
  std::string cmd_write(const std::vector<std::string> &w);
  std::string cmd_b64read(const std::vector<std::string> &w);
  std::string cmd_b64write(const std::vector<std::string> &w);
  std::string cmd_memset(const std::vector<std::string> &w);
  std::string cmd_clock(const std::vector<std::string> &w);
  std::string cmd_irq_intercept(const std::vector<std::string> &w);
  std::string cmd_set_irq_in(const std::vector<std::string> &w);
  void report_irq(unsigned n, bool level);
  void log_printf(const char *fmt, ...) __attribute__((format(printf, 2, 3)));
  double elapsed() const;

  Machine &machine_;
  Object *root_;
  bool qtest_accel_;
  Sender sender_;
  FILE *log_ = nullptr;
  bool opened_ = false;
  std::chrono::steady_clock::time_point start_;
  std::string inbuf_;
  bool discarding_ = false;  // dropping an over-long line up to its '\n'
  size_t max_line_ = kMaxLine;
  std::vector<CommandHandler> handlers_;
  Object *intercepted_ = nullptr;
  bool installing_intercept_ = false;
  std::map<unsigned, bool> irq_levels_;
};

}  // namespace qtpm::host
