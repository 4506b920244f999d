// SPDX-License-Identifier: GPL-2.0-or-later
//
// Unit tests for the qtest wire protocol: every command's reply, target endianness, IRQ
// interception, the -qtest-log transcript, and malformed input (never a crash).
#include "qom/testing.h"
#include "qtest/server/tests/check_str.h"

#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "qom/trace.h"
#include "qtest/server/host.h"
#include "qtest/server/qtest_server.h"
#include "qtest/server/tests/fake_tpm.h"

using namespace qtpm;
using namespace qtpm::host;
using qtpm::testing::FakeTpmDevice;

namespace {

// A host with a fake ISA TPM (MMIO at 0xfed40000, IRQ 5) and a qtest server whose replies are
// collected in `out`.
struct Rig {
  Config config;
  QueueCompletionLoop loop;
  std::unique_ptr<Host> host;
  std::unique_ptr<QtestServer> qtest;
  std::string out;

  explicit Rig(std::vector<std::string> args, const char *prog = "qtpm-system-x86_64") {
    args.insert(args.begin(), prog);
    ParseResult r = parse_command_line(args, &config);
    ck_assert_msg(r.run, "%s", r.err.c_str());
    host = std::make_unique<Host>(config, &loop);
    Status st = host->build();
    ck_assert_msg(st.is_ok(), "%s", st.message().c_str());
    qtest = std::make_unique<QtestServer>(host->machine(), host->root(), config.accel == "qtest");
    qtest->set_sender([this](std::string_view s) { out.append(s); });
    qtest->opened();
  }
  ~Rig() {
    qtest.reset();
    host->shutdown();
  }
  // Sends one request line and returns (and forgets) everything the server sent.
  std::string req(const std::string &line) {
    out.clear();
    qtest->feed(line + "\n");
    return out;
  }
  FakeTpmDevice *tpm() { return dynamic_cast<FakeTpmDevice *>(object_resolve_path(host->root(), "tis")); }
};

std::vector<std::string> pc_with_tpm() {
  return {"-accel", "qtest", "-tpmdev", "fake,id=t", "-device", "fake-tpm-isa,tpmdev=t,id=tis"};
}

START_TEST(endianness) {
  CHECK_STR(Rig({}).req("endianness").c_str(), "OK little\n");
  CHECK_STR(Rig({"-M", "virt"}, "qtpm-system-aarch64").req("endianness").c_str(), "OK little\n");
  CHECK_STR(Rig({}, "qtpm-system-ppc64").req("endianness").c_str(), "OK big\n");
}
END_TEST

START_TEST(ram_reads_and_writes) {
  Rig r({});
  CHECK_STR(r.req("writel 0x1000 0x12345678").c_str(), "OK\n");
  CHECK_STR(r.req("readl 0x1000").c_str(), "OK 0x0000000012345678\n");
  CHECK_STR(r.req("readb 0x1000").c_str(), "OK 0x0000000000000078\n");
  CHECK_STR(r.req("readw 0x1002").c_str(), "OK 0x0000000000001234\n");
  CHECK_STR(r.req("writeb 0x1000 0x1ff").c_str(), "OK\n");  // truncated to the width
  CHECK_STR(r.req("readb 0x1000").c_str(), "OK 0x00000000000000ff\n");
  CHECK_STR(r.req("writeq 0x2000 0x0102030405060708").c_str(), "OK\n");
  CHECK_STR(r.req("readq 0x2000").c_str(), "OK 0x0102030405060708\n");
  CHECK_STR(r.req("writew 4096 65535").c_str(), "OK\n");  // decimal works too
  CHECK_STR(r.req("readw 010000").c_str(), "OK 0x000000000000ffff\n");  // octal, as strtoul
  // Unassigned memory reads as zero; writes there are dropped.
  CHECK_STR(r.req("writel 0xe0000000 1").c_str(), "OK\n");
  CHECK_STR(r.req("readl 0xe0000000").c_str(), "OK 0x0000000000000000\n");
  CHECK_STR(r.req("readq 0xfffffffffffffff8").c_str(), "OK 0x0000000000000000\n");
}
END_TEST

START_TEST(big_endian_target) {
  Rig r({}, "qtpm-system-ppc64");
  CHECK_STR(r.req("writew 0x100 0x1234").c_str(), "OK\n");
  CHECK_STR(r.req("readb 0x100").c_str(), "OK 0x0000000000000012\n");
  CHECK_STR(r.req("readw 0x100").c_str(), "OK 0x0000000000001234\n");
  CHECK_STR(r.req("read 0x100 2").c_str(), "OK 0x1234\n");
  CHECK_STR(r.req("writel 0x200 0xaabbccdd").c_str(), "OK\n");
  CHECK_STR(r.req("read 0x200 4").c_str(), "OK 0xaabbccdd\n");
  CHECK_STR(r.req("readq 0x200").c_str(), "OK 0xaabbccdd00000000\n");
}
END_TEST

START_TEST(mmio_goes_through_the_device) {
  Rig r(pc_with_tpm());
  FakeTpmDevice *tpm = r.tpm();
  tpm->accesses.clear();
  // An unaligned readw reaches the device as two byte reads (QEMU's memory core does this).
  CHECK_STR(r.req("readw 0xfed40019").c_str(), "OK 0x0000000000001a19\n");
  ck_assert_int_eq(tpm->accesses.size(), 2);
  ck_assert_uint_eq(tpm->accesses[0].size, 1);
  CHECK_STR(r.req("writel 0xfed40010 0xcafe").c_str(), "OK\n");
  CHECK_STR(r.req("readl 0xfed40010").c_str(), "OK 0x000000000000cafe\n");
  tpm->accesses.clear();
  CHECK_STR(r.req("readq 0xfed40000").c_str(), "OK 0x0706050403020100\n");
  ck_assert_int_eq(tpm->accesses.size(), 2);
  // A device error outcome is counted as a guest error.
  unsigned long errors = log_guest_count(LogCategory::kGuestError);
  CHECK_STR(r.req("readl 0xfed44000").c_str(), "OK 0x0000000003020100\n");
  ck_assert_uint_eq(log_guest_count(LogCategory::kGuestError), errors + 1);
}
END_TEST

START_TEST(bulk_commands) {
  Rig r({});
  CHECK_STR(r.req("write 0x3000 4 0xdeadbeef").c_str(), "OK\n");
  CHECK_STR(r.req("read 0x3000 4").c_str(), "OK 0xdeadbeef\n");
  CHECK_STR(r.req("write 0x3000 4 0x11").c_str(), "OK\n");  // zero-filled
  CHECK_STR(r.req("read 0x3000 4").c_str(), "OK 0x11000000\n");
  CHECK_STR(r.req("write 0x3000 2 0x123").c_str(), "OK\n");  // an odd digit is dropped
  CHECK_STR(r.req("read 0x3000 2").c_str(), "OK 0x1200\n");
  CHECK_STR(r.req("write 0x3000 4 0x").c_str(), "ERR invalid argument size\n");
  CHECK_STR(r.req("write 0x3000 4 0xzz").c_str(), "ERR invalid hex data\n");
  CHECK_STR(r.req("b64write 0x3000 3 AQID").c_str(), "OK\n");
  CHECK_STR(r.req("read 0x3000 3").c_str(), "OK 0x010203\n");
  CHECK_STR(r.req("b64read 0x3000 3").c_str(), "OK AQID\n");
  CHECK_STR(r.req("b64read 0x3000 0").c_str(), "OK \n");
  CHECK_STR(r.req("b64write 0x3000 5 AQID").c_str(), "OK\n");  // short data: zero-filled
  CHECK_STR(r.req("read 0x3000 5").c_str(), "OK 0x0102030000\n");
  CHECK_STR(r.req("b64write 0x3000 1 AQ").c_str(), "ERR invalid argument size\n");
  CHECK_STR(r.req("b64write 0x3000 4 !!!!").c_str(), "ERR invalid base64 data\n");
  CHECK_STR(r.req("read 0x3000 1").c_str(), "OK 0x01\n");  // untouched
  CHECK_STR(r.req("memset 0x3000 8 0x5a").c_str(), "OK\n");
  CHECK_STR(r.req("read 0x3000 8").c_str(), "OK 0x5a5a5a5a5a5a5a5a\n");
  CHECK_STR(r.req("memset 0x3000 0 1").c_str(), "OK\n");
  // A huge memset over RAM and nothing: no allocation, no error.
  CHECK_STR(r.req("memset 0 0xffffffffffff 0").c_str(), "OK\n");
  CHECK_STR(r.req("read 0x3000 1").c_str(), "OK 0x00\n");
}
END_TEST

START_TEST(port_io) {
  Rig r({});
  CHECK_STR(r.req("inb 0x60").c_str(), "OK 0x00ff\n");
  CHECK_STR(r.req("inw 0x60").c_str(), "OK 0xffff\n");
  CHECK_STR(r.req("inl 0xcf8").c_str(), "OK 0xffffffff\n");
  CHECK_STR(r.req("outb 0x80 0x12").c_str(), "OK\n");
  CHECK_STR(r.req("outl 0xffff 1").c_str(), "OK\n");
  CHECK_STR(r.req("inb 0x10000").c_str(), "ERR port out of range\n");
  // A device's port I/O region (fw_cfg style): the device sees the accesses.
  Rig p({"-device", "fake-ports-isa,id=ports"});
  auto *dev = dynamic_cast<FakeTpmDevice *>(object_resolve_path(p.host->root(), "ports"));
  CHECK_STR(p.req("outw 0x520 0x1234").c_str(), "OK\n");
  ck_assert_uint_eq(dev->accesses.back().value, 0x1234);
  ck_assert(dev->accesses.back().write);
  CHECK_STR(p.req("inb 0x521").c_str(), "OK 0x0001\n");
  CHECK_STR(p.req("inl 0x520").c_str(), "OK 0xffff0100\n");  // 2 bytes of device, 2 unassigned
  CHECK_STR(p.req("readw 0x520").c_str(), "OK 0x0000000000000000\n");  // not in memory
  CHECK_STR(r.req("outw 0x10000 1").c_str(), "ERR port out of range\n");
}
END_TEST

START_TEST(virtual_clock_commands) {
  Rig r({"-accel", "qtest"});
  CHECK_STR(r.req("clock_step").c_str(), "OK 0\n");
  CHECK_STR(r.req("clock_step 100").c_str(), "OK 100\n");
  CHECK_STR(r.req("clock_set 1000").c_str(), "OK 1000\n");
  CHECK_STR(r.req("clock_set 10").c_str(), "OK 1000\n");
  CHECK_STR(r.req("clock_step -5").c_str(), "OK 1000\n");
  int fired = 0;
  r.host->machine().clock().add_timer(1500, [&] { fired++; });
  CHECK_STR(r.req("clock_step").c_str(), "OK 1500\n");  // to the next deadline
  ck_assert_int_eq(fired, 1);
  CHECK_STR(r.req("clock_set").c_str(), "ERR missing argument\n");
  CHECK_STR(r.req("clock_step x").c_str(), "ERR invalid number 'x'\n");
  // Only the qtest accelerator gives the client the clock; QEMU then knows no such command.
  Rig t({"-accel", "tcg"});
  CHECK_STR(t.req("clock_step 10").c_str(), "FAIL Unknown command 'clock_step'\n");
  CHECK_STR(t.req("clock_set 10").c_str(), "FAIL Unknown command 'clock_set'\n");
}
END_TEST

START_TEST(irq_intercept_in) {
  Rig r(pc_with_tpm());
  CHECK_STR(r.req("irq_intercept_in nonesuch").c_str(), "FAIL Unknown device\n");
  CHECK_STR(r.req("irq_intercept_in /machine").c_str(), "FAIL Unknown device\n");
  CHECK_STR(r.req("irq_intercept_in ioapic").c_str(), "OK\n");
  CHECK_STR(r.req("irq_intercept_in /machine/i440fx/ioapic").c_str(), "OK\n");
  CHECK_STR(r.req("irq_intercept_out tis").c_str(), "FAIL IRQ intercept already enabled\n");
  // The fake raises its IRQ output on a write to +0x18: the async line precedes the OK.
  CHECK_STR(r.req("writel 0xfed40018 1").c_str(), "IRQ raise 5\nOK\n");
  CHECK_STR(r.req("writel 0xfed40018 1").c_str(), "OK\n");  // no change, no line
  CHECK_STR(r.req("writel 0xfed40018 0").c_str(), "IRQ lower 5\nOK\n");
  CHECK_STR(r.req("set_irq_in ioapic unnamed-gpio-in 3 1").c_str(), "IRQ raise 3\nOK\n");
  CHECK_STR(r.req("set_irq_in ioapic unnamed-gpio-in 24 1").c_str(), "FAIL Unknown GPIO\n");
  CHECK_STR(r.req("set_irq_in ioapic other 3 1").c_str(), "FAIL Unknown GPIO\n");
  CHECK_STR(r.req("set_irq_in nope unnamed-gpio-in 3 1").c_str(), "FAIL Unknown device\n");
  CHECK_STR(r.req("set_irq_in ioapic unnamed-gpio-in x 1").c_str(), "ERR invalid number 'x'\n");
  CHECK_STR(r.req("set_irq_in ioapic unnamed-gpio-in 3").c_str(), "ERR missing argument\n");
  // A backend completion (main loop, no request in progress) can raise an IRQ too: the line
  // is sent on its own.
  r.out.clear();
  r.tpm()->irq(0).raise();
  CHECK_STR(r.out.c_str(), "IRQ raise 5\n");
  // A new connection starts from all-low levels.
  r.qtest->opened();
  r.out.clear();
  r.tpm()->irq(0).lower();
  r.tpm()->irq(0).raise();
  CHECK_STR(r.out.c_str(), "IRQ raise 5\n");
}
END_TEST

START_TEST(irq_intercept_out) {
  Rig r(pc_with_tpm());
  auto *ioapic = dynamic_cast<InterruptController *>(object_resolve_path(r.host->root(), "ioapic"));
  r.tpm()->irq(0).raise();  // already high when intercepted: QEMU reports nothing yet
  CHECK_STR(r.req("irq_intercept_out tis").c_str(), "OK\n");
  CHECK_STR(r.req("writel 0xfed40018 0").c_str(), "OK\n");  // level 0 == the level known
  CHECK_STR(r.req("writel 0xfed40018 1").c_str(), "IRQ raise 0\nOK\n");
  ck_assert(ioapic->input_level(5));  // still forwarded to the interrupt controller
}
END_TEST

START_TEST(unknown_and_malformed) {
  Rig r({});
  CHECK_STR(r.req("frobnicate 1 2").c_str(), "FAIL Unknown command 'frobnicate'\n");
  CHECK_STR(r.req("").c_str(), "FAIL Unknown command ''\n");
  CHECK_STR(r.req("readb").c_str(), "ERR missing argument\n");
  CHECK_STR(r.req("readb  0x10").c_str(), "ERR invalid number ''\n");  // two spaces
  CHECK_STR(r.req("readb 0x10\r").c_str(), "ERR invalid number '0x10\r'\n");
  CHECK_STR(r.req("readb 0x1g").c_str(), "ERR invalid number '0x1g'\n");
  CHECK_STR(r.req("readb 0x10000000000000000").c_str(), "ERR invalid number '0x10000000000000000'\n");
  CHECK_STR(r.req("writeb 0x10").c_str(), "ERR missing argument\n");
  CHECK_STR(r.req("readq 0xfffffffffffffffc").c_str(), "ERR address out of range\n");
  CHECK_STR(r.req("read 0 0").c_str(), "ERR invalid argument size\n");
  CHECK_STR(r.req("read 0 0x1000001").c_str(), "ERR size too large\n");
  CHECK_STR(r.req("read 0xffffffffffffffff 2").c_str(), "ERR address out of range\n");
  CHECK_STR(r.req("b64read 0 0xffffffffffffffff").c_str(), "ERR size too large\n");
  CHECK_STR(r.req("write 0 0xffffffffffff 0x00").c_str(), "ERR size too large\n");
  CHECK_STR(r.req("memset 0xffffffffffffffff 2 0").c_str(), "ERR address out of range\n");
  CHECK_STR(r.req("module_load a b").c_str(), "FAIL\n");
  CHECK_STR(r.req("module_load").c_str(), "ERR missing argument\n");
  CHECK_STR(r.req("readb 0x10 extra words").c_str(), "OK 0x0000000000000000\n");  // ignored, as QEMU
  // Requests split anywhere arrive whole.
  r.out.clear();
  for (char c : std::string("readb 0x0\nendianness\n")) r.qtest->feed(std::string_view(&c, 1));
  CHECK_STR(r.out.c_str(), "OK 0x0000000000000000\nOK little\n");
  // An over-long line is refused once and the next line works.
  r.qtest->set_max_line(64);
  r.out.clear();
  r.qtest->feed(std::string(100, 'x'));
  r.qtest->feed(std::string(100, 'y') + "\nendianness\n");
  CHECK_STR(r.out.c_str(), "ERR line too long\nOK little\n");
}
END_TEST

START_TEST(extra_command_handlers) {
  Rig r({}, "qtpm-system-ppc64");
  r.qtest->add_command_handler([](const std::vector<std::string> &w, QtestServer &s) {
    if (w[0] != "rtas") return false;
    s.send("OK 0\n");
    return true;
  });
  CHECK_STR(r.req("rtas get-time-of-day 0 0 8 0").c_str(), "OK 0\n");
  CHECK_STR(r.req("hcall").c_str(), "FAIL Unknown command 'hcall'\n");
}
END_TEST

START_TEST(random_input_never_crashes) {
  Rig r(pc_with_tpm());
  std::mt19937 rng(1234);
  static const char *words[] = {"readb", "readw", "readl", "readq", "writeb", "writel", "read", "write",
                                "b64read", "b64write", "memset", "inb", "outl", "clock_step", "clock_set",
                                "irq_intercept_in", "irq_intercept_out", "set_irq_in", "endianness",
                                "0xfed40000", "0xfed40018", "0", "1", "-1", "0xffffffffffffffff", "ioapic",
                                "tis", "unnamed-gpio-in", "0x", "AAAA", "", "\xff\x00", "16777216", "4"};
  for (int i = 0; i < 20000; i++) {
    std::string line;
    int n = rng() % 6;
    for (int k = 0; k < n; k++) {
      if (k) line += ' ';
      if (rng() % 8 == 0) {
        for (int b = rng() % 12; b > 0; b--) line += static_cast<char>(rng() % 256);
      } else {
        line += words[rng() % (sizeof words / sizeof *words)];
      }
    }
    r.qtest->feed(line + "\n");
    ck_assert_uint_le(r.out.size(), 64u << 20);
    r.out.clear();
  }
}
END_TEST

START_TEST(log_transcript) {
  Rig r({});
  char path[] = "/tmp/qtpm-qtest-log-XXXXXX";
  int fd = mkstemp(path);
  ck_assert_int_ge(fd, 0);
  r.qtest->set_log(fdopen(fd, "w+"));
  r.qtest->opened();
  r.req("readb 0x0");
  r.req("write 0 1 0");
  r.qtest->closed();
  r.qtest->set_log(nullptr);
  FILE *f = std::fopen(path, "r");
  std::vector<std::string> lines;
  char buf[256];
  while (std::fgets(buf, sizeof buf, f)) lines.emplace_back(buf);
  std::fclose(f);
  std::remove(path);
  ck_assert_int_eq(lines.size(), 6);
  ck_assert(lines[0].rfind("[I ", 0) == 0 && lines[0].find("] OPENED\n") != std::string::npos);
  ck_assert(lines[1].rfind("[R +", 0) == 0 && lines[1].find("] readb 0x0\n") != std::string::npos);
  ck_assert(lines[2].rfind("[S +", 0) == 0 && lines[2].find("] OK 0x0000000000000000\n") != std::string::npos);
  ck_assert(lines[3].find("] write 0 1 0\n") != std::string::npos);
  ck_assert(lines[4].find("] ERR invalid argument size\n") != std::string::npos);
  ck_assert(lines[5].rfind("[I +", 0) == 0 && lines[5].find("] CLOSED\n") != std::string::npos);
}
END_TEST

}  // namespace

int main() {
  qtpm::testing::register_fake_types();
  Suite *s = suite_create("qtest-protocol");
  TCase *tc = tcase_create("protocol");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, endianness);
  tcase_add_test(tc, ram_reads_and_writes);
  tcase_add_test(tc, big_endian_target);
  tcase_add_test(tc, mmio_goes_through_the_device);
  tcase_add_test(tc, bulk_commands);
  tcase_add_test(tc, port_io);
  tcase_add_test(tc, virtual_clock_commands);
  tcase_add_test(tc, irq_intercept_in);
  tcase_add_test(tc, irq_intercept_out);
  tcase_add_test(tc, unknown_and_malformed);
  tcase_add_test(tc, extra_command_handlers);
  tcase_add_test(tc, random_input_never_crashes);
  tcase_add_test(tc, log_transcript);
  suite_add_tcase(s, tc);
  return qtpm::testing::run_suite(s);
}
