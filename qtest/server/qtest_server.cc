// SPDX-License-Identifier: GPL-2.0-or-later
//
// The qtest protocol server (see qtest_server.h).
#include "qtest/server/qtest_server.h"

#include <glib.h>

#include <cerrno>
#include <cinttypes>
#include <cstdarg>
#include <cstdlib>

namespace qtpm::host {

namespace {

// qemu_strtou64(word, NULL, 0, &v) == 0: the whole word is a number in C syntax.  A leading '-'
// wraps as strtoull does; QEMU accepts it too.
std::optional<uint64_t> parse_u64(const std::string &word) {
  if (word.empty()) return std::nullopt;
  errno = 0;
  char *end = nullptr;
  unsigned long long v = std::strtoull(word.c_str(), &end, 0);
  if (errno != 0 || end == word.c_str() || *end != '\0') return std::nullopt;
  return v;
}

std::optional<int64_t> parse_i64(const std::string &word) {
  if (word.empty()) return std::nullopt;
  errno = 0;
  char *end = nullptr;
  long long v = std::strtoll(word.c_str(), &end, 0);
  if (errno != 0 || end == word.c_str() || *end != '\0') return std::nullopt;
  return v;
}

int hex_nibble(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Splits on single spaces exactly as g_strsplit(line, " ", 0): "a  b" has an empty middle word.
std::vector<std::string> split_words(const std::string &line) {
  std::vector<std::string> words;
  if (line.empty()) return words;
  size_t pos = 0;
  for (;;) {
    size_t sp = line.find(' ', pos);
    words.push_back(line.substr(pos, sp == std::string::npos ? std::string::npos : sp - pos));
    if (sp == std::string::npos) break;
    pos = sp + 1;
  }
  return words;
}

// Width in bytes from the command's last letter (readb/readw/readl/readq).
unsigned width_of(char suffix) {
  switch (suffix) {
    case 'b': return 1;
    case 'w': return 2;
    case 'l': return 4;
    default: return 8;
  }
}

std::string bad_number(const std::string &word) { return "ERR invalid number '" + word + "'\n"; }

}  // namespace

QtestServer::QtestServer(Machine &machine, Object *root, bool qtest_accel)
    : machine_(machine), root_(root), qtest_accel_(qtest_accel), start_(std::chrono::steady_clock::now()) {}

QtestServer::~QtestServer() {
  // Undo interception so no closure outlives the server.
  if (auto *intc = dynamic_cast<InterruptController *>(intercepted_)) intc->set_observer(nullptr);
  if (auto *dev = dynamic_cast<Device *>(intercepted_)) {
    for (size_t i = 0; i < dev->irq_count(); i++) dev->irq(i).connect(machine_.irq_sink(dev, i));
  }
  if (log_ && log_ != stderr) std::fclose(log_);
}

void QtestServer::set_log(FILE *log) {
  if (log_ && log_ != stderr) std::fclose(log_);
  log_ = log;
}

double QtestServer::elapsed() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void QtestServer::log_printf(const char *fmt, ...) {
  if (!log_) return;
  va_list ap;
  va_start(ap, fmt);
  std::vfprintf(log_, fmt, ap);
  va_end(ap);
  std::fflush(log_);
}

void QtestServer::opened() {
  irq_levels_.clear();
  start_ = std::chrono::steady_clock::now();
  opened_ = true;
  log_printf("[I %.06f] OPENED\n", elapsed());
}

void QtestServer::closed() {
  opened_ = false;
  log_printf("[I +%.06f] CLOSED\n", elapsed());
}

void QtestServer::send(const std::string &line) {
  if (opened_) log_printf("[S +%.06f] %s", elapsed(), line.c_str());
  if (sender_) sender_(line);
}

void QtestServer::feed(std::string_view bytes) {
  while (!bytes.empty()) {
    size_t nl = bytes.find('\n');
    std::string_view part = bytes.substr(0, nl);
    if (discarding_) {
      // The rest of an over-long line: dropped up to its end.
    } else if (inbuf_.size() + part.size() > max_line_) {
      inbuf_.clear();
      discarding_ = true;
      send("ERR line too long\n");
    } else {
      inbuf_.append(part);
    }
    if (nl == std::string_view::npos) return;
    bytes.remove_prefix(nl + 1);
    if (discarding_) {
      discarding_ = false;
      continue;
    }
    std::string line;
    line.swap(inbuf_);
    process_line(line);
  }
}

void QtestServer::process_line(const std::string &line) {
  std::vector<std::string> words = split_words(line);
  if (log_) {
    std::string logged;
    for (const auto &w : words) logged += " " + w;
    log_printf("[R +%.06f]%s\n", elapsed(), logged.c_str());
  }
  if (words.empty()) {
    send("FAIL Unknown command ''\n");
    return;
  }
  dispatch(words);
}

void QtestServer::dispatch(const std::vector<std::string> &w) {
  const std::string &cmd = w[0];
  std::string reply;
  if (cmd == "readb" || cmd == "readw" || cmd == "readl" || cmd == "readq") {
    reply = cmd_mem_read(w);
  } else if (cmd == "writeb" || cmd == "writew" || cmd == "writel" || cmd == "writeq") {
    reply = cmd_mem_write(w);
  } else if (cmd == "inb" || cmd == "inw" || cmd == "inl") {
    reply = cmd_port_in(w);
  } else if (cmd == "outb" || cmd == "outw" || cmd == "outl") {
    reply = cmd_port_out(w);
  } else if (cmd == "read") {
    reply = cmd_read(w);
  } else if (cmd == "write") {
    reply = cmd_write(w);
  } else if (cmd == "b64read") {
    reply = cmd_b64read(w);
  } else if (cmd == "b64write") {
    reply = cmd_b64write(w);
  } else if (cmd == "memset") {
    reply = cmd_memset(w);
  } else if (qtest_accel_ && (cmd == "clock_step" || cmd == "clock_set")) {
    reply = cmd_clock(w);
  } else if (cmd == "irq_intercept_in" || cmd == "irq_intercept_out") {
    reply = cmd_irq_intercept(w);
  } else if (cmd == "set_irq_in") {
    reply = cmd_set_irq_in(w);
  } else if (cmd == "endianness") {
    reply = machine_.big_endian() ? "OK big\n" : "OK little\n";
  } else if (cmd == "module_load") {
    // qtpm has no loadable modules: every module_load fails, as QEMU's does for a missing one.
    reply = w.size() < 3 ? "ERR missing argument\n" : "FAIL\n";
  } else {
    for (auto &handler : handlers_)
      if (handler(w, *this)) return;
    reply = "FAIL Unknown command '" + cmd + "'\n";
  }
  send(reply);
}

// --- memory and ports ---------------------------------------------------------------------

namespace {

// The bytes of `value` in target byte order (QEMU's tswap before address_space_write).
void to_target(uint64_t value, unsigned width, bool big_endian, uint8_t *out) {
  for (unsigned i = 0; i < width; i++) {
    unsigned shift = 8 * (big_endian ? width - 1 - i : i);
    out[i] = static_cast<uint8_t>(value >> shift);
  }
}

uint64_t from_target(const uint8_t *in, unsigned width, bool big_endian) {
  uint64_t v = 0;
  for (unsigned i = 0; i < width; i++) {
    unsigned shift = 8 * (big_endian ? width - 1 - i : i);
    v |= static_cast<uint64_t>(in[i]) << shift;
  }
  return v;
}

}  // namespace

std::string QtestServer::cmd_mem_read(const std::vector<std::string> &w) {
  if (w.size() < 2) return "ERR missing argument\n";
  std::optional<uint64_t> addr = parse_u64(w[1]);
  if (!addr) return bad_number(w[1]);
  unsigned width = width_of(w[0][4]);
  if (!AddressSpace::range_ok(*addr, width)) return "ERR address out of range\n";
  uint8_t buf[8];
  machine_.memory().read(*addr, buf, width);
  return strprintf("OK 0x%016" PRIx64 "\n", from_target(buf, width, machine_.big_endian()));
}

std::string QtestServer::cmd_mem_write(const std::vector<std::string> &w) {
  if (w.size() < 3) return "ERR missing argument\n";
  std::optional<uint64_t> addr = parse_u64(w[1]);
  if (!addr) return bad_number(w[1]);
  std::optional<uint64_t> value = parse_u64(w[2]);
  if (!value) return bad_number(w[2]);
  unsigned width = width_of(w[0][5]);
  if (!AddressSpace::range_ok(*addr, width)) return "ERR address out of range\n";
  uint8_t buf[8];
  // The value is truncated to the access width, as QEMU's uintN_t data = value does.
  to_target(*value, width, machine_.big_endian(), buf);
  machine_.memory().write(*addr, buf, width);
  return "OK\n";
}

std::string QtestServer::cmd_port_in(const std::vector<std::string> &w) {
  if (w.size() < 2) return "ERR missing argument\n";
  std::optional<uint64_t> port = parse_u64(w[1]);
  if (!port) return bad_number(w[1]);
  if (*port > 0xffff) return "ERR port out of range\n";
  unsigned width = width_of(w[0][2]);
  uint8_t buf[4];
  machine_.io().read(*port, buf, width);
  return strprintf("OK 0x%04" PRIx64 "\n", from_target(buf, width, machine_.big_endian()));
}

std::string QtestServer::cmd_port_out(const std::vector<std::string> &w) {
  if (w.size() < 3) return "ERR missing argument\n";
  std::optional<uint64_t> port = parse_u64(w[1]);
  if (!port) return bad_number(w[1]);
  std::optional<uint64_t> value = parse_u64(w[2]);
  if (!value) return bad_number(w[2]);
  if (*port > 0xffff) return "ERR port out of range\n";
  unsigned width = width_of(w[0][3]);
  uint8_t buf[4];
  to_target(*value, width, machine_.big_endian(), buf);
  machine_.io().write(*port, buf, width);
  return "OK\n";
}

namespace {

// Common checks of "CMD ADDR SIZE ..." requests.
std::string parse_addr_size(const std::vector<std::string> &w, size_t needed, uint64_t max_size,
                            uint64_t *addr, uint64_t *size) {
  if (w.size() < needed) return "ERR missing argument\n";
  std::optional<uint64_t> a = parse_u64(w[1]);
  if (!a) return bad_number(w[1]);
  std::optional<uint64_t> s = parse_u64(w[2]);
  if (!s) return bad_number(w[2]);
  if (*s > max_size) return "ERR size too large\n";
  if (!AddressSpace::range_ok(*a, *s)) return "ERR address out of range\n";
  *addr = *a;
  *size = *s;
  return "";
}

}  // namespace

std::string QtestServer::cmd_read(const std::vector<std::string> &w) {
  uint64_t addr, size;
  if (std::string err = parse_addr_size(w, 3, kMaxTransfer, &addr, &size); !err.empty()) return err;
  // QEMU asserts on a zero size ("we'd send garbage"); answer an error instead.
  if (size == 0) return "ERR invalid argument size\n";
  std::vector<uint8_t> data(size);
  machine_.memory().read(addr, data.data(), size);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string reply = "OK 0x";
  reply.reserve(6 + 2 * size);
  for (uint8_t b : data) {
    reply += kHex[b >> 4];
    reply += kHex[b & 15];
  }
  return reply + "\n";
}

std::string QtestServer::cmd_write(const std::vector<std::string> &w) {
  uint64_t addr, size;
  if (std::string err = parse_addr_size(w, 4, kMaxTransfer, &addr, &size); !err.empty()) return err;
  const std::string &hex = w[3];
  if (hex.size() < 3) return "ERR invalid argument size\n";
  // As QEMU: skip the "0x", take whole byte pairs, zero-fill what the data does not cover.
  std::vector<uint8_t> data(size, 0);
  for (uint64_t i = 0; i < size && i * 2 + 4 <= hex.size(); i++) {
    int hi = hex_nibble(hex[i * 2 + 2]), lo = hex_nibble(hex[i * 2 + 3]);
    if (hi < 0 || lo < 0) return "ERR invalid hex data\n";
    data[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  machine_.memory().write(addr, data.data(), size);
  return "OK\n";
}

std::string QtestServer::cmd_b64read(const std::vector<std::string> &w) {
  uint64_t addr, size;
  if (std::string err = parse_addr_size(w, 3, kMaxTransfer, &addr, &size); !err.empty()) return err;
  std::vector<uint8_t> data(size);
  machine_.memory().read(addr, data.data(), size);
  gchar *b64 = g_base64_encode(data.data(), size);
  std::string reply = std::string("OK ") + b64 + "\n";
  g_free(b64);
  return reply;
}

std::string QtestServer::cmd_b64write(const std::vector<std::string> &w) {
  uint64_t addr, size;
  if (std::string err = parse_addr_size(w, 4, kMaxTransfer, &addr, &size); !err.empty()) return err;
  if (w[3].size() < 3) return "ERR invalid argument size\n";
  // GLib's decoder skips characters outside the alphabet; QEMU then writes whatever came out.
  // qtpm refuses such data instead.
  if (w[3].find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") !=
      std::string::npos) {
    return "ERR invalid base64 data\n";
  }
  gsize decoded_len = 0;
  guchar *decoded = g_base64_decode(w[3].c_str(), &decoded_len);
  if (decoded_len != size) {
    log_printf("[S +%.06f] b64write: data length mismatch (told %" PRIu64 ", found %zu)\n",
               elapsed(), size, static_cast<size_t>(decoded_len));
  }
  // QEMU writes SIZE bytes from the decoded buffer even when it is shorter (reading past it);
  // qtpm zero-fills instead.
  std::vector<uint8_t> data(size, 0);
  for (uint64_t i = 0; i < size && i < decoded_len; i++) data[i] = decoded[i];
  g_free(decoded);
  machine_.memory().write(addr, data.data(), size);
  return "OK\n";
}

std::string QtestServer::cmd_memset(const std::vector<std::string> &w) {
  uint64_t addr, size;
  // No transfer buffer is allocated, so any size that stays inside the address space is fine.
  if (std::string err = parse_addr_size(w, 4, UINT64_MAX, &addr, &size); !err.empty()) return err;
  std::optional<uint64_t> pattern = parse_u64(w[3]);
  if (!pattern) return bad_number(w[3]);
  if (size) machine_.memory().fill(addr, static_cast<uint8_t>(*pattern), size);
  return "OK\n";
}

// --- clock and interrupts -----------------------------------------------------------------

std::string QtestServer::cmd_clock(const std::vector<std::string> &w) {
  VirtualClock &clock = machine_.clock();
  int64_t now;
  if (w[0] == "clock_step") {
    if (w.size() < 2) {
      now = clock.step_to_next_deadline();
    } else {
      std::optional<int64_t> ns = parse_i64(w[1]);
      if (!ns) return bad_number(w[1]);
      now = clock.step(*ns);
    }
  } else {
    if (w.size() < 2) return "ERR missing argument\n";
    std::optional<int64_t> ns = parse_i64(w[1]);
    if (!ns) return bad_number(w[1]);
    now = clock.set(*ns);
  }
  return strprintf("OK %" PRIi64 "\n", now);
}

void QtestServer::report_irq(unsigned n, bool level) {
  // As qtest_irq_handler: only changes are reported, against the levels seen so far.
  if (installing_intercept_) return;
  bool &known = irq_levels_[n];
  if (known == level) return;
  known = level;
  send(strprintf("IRQ %s %u\n", level ? "raise" : "lower", n));
}

std::string QtestServer::cmd_irq_intercept(const std::vector<std::string> &w) {
  if (w.size() < 2) return "ERR missing argument\n";
  Object *obj = object_resolve_path(root_, w[1]);
  auto *intc = dynamic_cast<InterruptController *>(obj);
  auto *dev = dynamic_cast<Device *>(obj);
  // QEMU aborts when the path names something that is not a device; qtpm says it is unknown.
  if (!intc && !dev) return "FAIL Unknown device\n";
  if (intercepted_) return intercepted_ == obj ? "OK\n" : "FAIL IRQ intercept already enabled\n";
  bool out = w[0] == "irq_intercept_out";
  // Intercepted lines keep working: the interceptor forwards to what was connected before.
  if (intc && !out) {
    intc->set_observer([this](unsigned n, bool level) { report_irq(n, level); });
  } else if (dev && out) {
    installing_intercept_ = true;  // connect() replays the current level; QEMU reports nothing
    for (size_t i = 0; i < dev->irq_count(); i++) {
      IrqOutput::Sink forward = machine_.irq_sink(dev, i);
      unsigned n = static_cast<unsigned>(i);
      dev->irq(i).connect([this, forward, n](bool level) {
        if (forward) forward(level);
        report_irq(n, level);
      });
    }
    installing_intercept_ = false;
  }
  intercepted_ = obj;
  return "OK\n";
}

std::string QtestServer::cmd_set_irq_in(const std::vector<std::string> &w) {
  if (w.size() < 5) return "ERR missing argument\n";
  Object *obj = object_resolve_path(root_, w[1]);
  auto *intc = dynamic_cast<InterruptController *>(obj);
  if (!intc && !dynamic_cast<Device *>(obj)) return "FAIL Unknown device\n";
  std::optional<int64_t> num = parse_i64(w[3]);
  if (!num || *num < INT32_MIN || *num > INT32_MAX) return bad_number(w[3]);
  std::optional<int64_t> level = parse_i64(w[4]);
  if (!level || *level < INT32_MIN || *level > INT32_MAX) return bad_number(w[4]);
  // Devices here have no GPIO inputs; controllers have one unnamed list.
  if (!intc || w[2] != "unnamed-gpio-in" || *num < 0 ||
      !intc->set_input(static_cast<unsigned>(*num), *level != 0)) {
    return "FAIL Unknown GPIO\n";
  }
  return "OK\n";
}

}  // namespace qtpm::host
