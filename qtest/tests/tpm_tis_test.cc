// SPDX-License-Identifier: GPL-2.0-or-later
//
// qtests for the TIS through qtpm-system-<arch>: one test body per check, parameterised by the
// variant the target has - tpm-tis at 0xfed40000 on pc and q35 (x86_64), tpm-tis-device at
// 0x0c000000 on virt (aarch64).  Localities and identity registers, ACCESS arbitration,
// commands sent as Linux's tpm_tis_core does (burst count and Expect checked after every byte),
// responseRetry, commandCancel, interrupts seen through irq_intercept_in, malformed accesses and
// a command longer than the buffer - on the fault-injecting fake swtpm
// (backends/tpm/tests/fake_swtpm_c.h); then TPM 2.0 and TPM 1.2 round trips on a real
// `swtpm socket`.  Offsets and fields come from hw/tpm/tis/tpm_tis_regs.h.
//
// Exits 77 (skip) while the host or the device is not built.
#include "qom/testing.h"  // <check.h> without its `fail` macro, before any C++ header

#include <glib.h>
#include <glib/gstdio.h>

#include <cstring>
#include <string>
#include <vector>

#include "backends/tpm/tests/fake_swtpm_c.h"
#include "host_test.h"
#include "hw/tpm/tis/tpm_tis_regs.h"
#include "qtest/libqtest/tpm_util.h"

using namespace qtpm::tis;

namespace {

using Bytes = std::vector<uint8_t>;
constexpr size_t kHeader = 10;
constexpr int kCompletionTimeoutMs = 60000;  // a guard against a hang, not a timing assertion

struct Variant {
  const char *device;
  const char *machine;
  uint64_t base;
  const char *intc;  // irq_intercept_in target
  int irq;           // the interrupt controller input the TIS is wired to
};

// x86_64: ISA IRQ 5 on the IOAPIC; aarch64: the first platform-bus SPI (input 112 of the GIC).
const Variant kX86[] = {{"tpm-tis", "", kIsaBase, "ioapic", 5},
                        {"tpm-tis", "-machine q35", kIsaBase, "ioapic", 5}};
const Variant kArm[] = {{"tpm-tis-device", "-machine virt", 0x0c000000, "gic", 112}};

const Variant *variants(int *count) {
  bool arm = strcmp(qtest_get_arch(), "aarch64") == 0;
  *count = arm ? 1 : 2;
  return arm ? kArm : kX86;
}

const Variant &variant(int i) {
  int n;
  return variants(&n)[i];
}

enum class Tpm { kFake2, kFake12, kSwtpm2, kSwtpm12 };

// One host with the TIS (id tpm0) on an emulator backend, torn down in the destructor.
class Rig {
 public:
  Rig(const Variant &v, Tpm tpm, const char *extra = "") : v_(v) {
    bool tpm2 = tpm == Tpm::kFake2 || tpm == Tpm::kSwtpm2;
    std::string ctrl;
    if (tpm == Tpm::kFake2 || tpm == Tpm::kFake12) {
      dir_ = g_dir_make_tmp("tpm-tis-test-XXXXXX", nullptr);
      ck_assert_ptr_nonnull(dir_);
      ctrl = std::string(dir_) + "/ctrl";
      fake = fake_swtpm_start(ctrl.c_str(), tpm2);
      ck_assert_ptr_nonnull(fake);
    } else {
      tpm_swtpm_start(&swtpm_, tpm2);
      real_ = true;
      ctrl = swtpm_.ctrl_path;
    }
    s = qtest_initf("%s -chardev socket,id=chrtpm,path=%s -tpmdev emulator,id=dev0,chardev=chrtpm "
                    "-device %s,id=tpm0,tpmdev=dev0%s",
                    v.machine, ctrl.c_str(), v.device, extra);
  }
  ~Rig() {
    qtest_quit(s);
    if (fake) fake_swtpm_free(fake);
    if (real_) tpm_swtpm_stop(&swtpm_);
    if (dir_) {
      g_rmdir(dir_);
      g_free(dir_);
    }
  }

  uint64_t addr(uint8_t l, uint32_t off) const {
    return v_.base + (uint64_t{l} << kLocalityShift) + off;
  }
  uint8_t readb(uint8_t l, uint32_t off) { return qtest_readb(s, addr(l, off)); }
  uint32_t readl(uint8_t l, uint32_t off) { return qtest_readl(s, addr(l, off)); }
  void writeb(uint8_t l, uint32_t off, uint8_t v) { qtest_writeb(s, addr(l, off), v); }
  void writel(uint8_t l, uint32_t off, uint32_t v) { qtest_writel(s, addr(l, off), v); }
  uint8_t access(uint8_t l) { return readb(l, reg::kAccess); }
  uint32_t sts(uint8_t l) {
    uint32_t v = readl(l, reg::kSts);
    ck_assert_msg((v & sts::kReadZero) == 0, "STS 0x%08x has bits Linux requires to be 0", v);
    return v;
  }
  static uint32_t burst(uint32_t v) { return sts::kBurstCount.extract(v); }

  void request_locality(uint8_t l) {
    writeb(l, reg::kAccess, access::kRequestUse);
    ck_assert_uint_eq(access(l) & (access::kActiveLocality | access::kRegValidSts |
                                   access::kRequestUse),
                      access::kActiveLocality | access::kRegValidSts);
  }

  // Linux tpm_tis_send_data(), checking the burst count and Expect after every byte.
  void send(uint8_t l, const Bytes &cmd) {
    if (!(sts(l) & sts::kCommandReady)) writeb(l, reg::kSts, sts::kCommandReady);
    uint32_t free_bytes = burst(sts(l));
    ck_assert_uint_gt(free_bytes, 0);
    for (size_t i = 0; i < cmd.size(); i++) {
      ck_assert_uint_eq(burst(sts(l)), free_bytes - i);
      writeb(l, reg::kDataFifo, cmd[i]);
      uint32_t v = sts(l);
      ck_assert(v & sts::kValid);
      ck_assert_msg(bool(v & sts::kExpect) == (i + 1 < cmd.size()), "byte %zu: STS 0x%08x", i, v);
    }
    writeb(l, reg::kSts, sts::kGo);
  }

  // Polls STS until the response is there (the host runs completions between qtest commands).
  void wait_response(uint8_t l) {
    constexpr uint32_t kWant = sts::kValid | sts::kDataAvail;
    for (int waited = 0; (readl(l, reg::kSts) & kWant) != kWant; waited++) {
      ck_assert_msg(waited < kCompletionTimeoutMs, "no response");
      g_usleep(1000);
    }
  }

  // Linux tpm_tis_recv(): header, size within the burst count, the rest, nothing left over.
  Bytes receive(uint8_t l, bool ready_after = true) {
    uint32_t total = burst(sts(l));
    Bytes rsp;
    for (size_t i = 0; i < kHeader; i++) rsp.push_back(readb(l, reg::kDataFifo));
    ck_assert_uint_ge(total, kHeader);
    ck_assert_uint_eq(tpm_hdr_size(rsp.data()), total);
    while (rsp.size() < total) {
      ck_assert_uint_eq(burst(sts(l)), total - rsp.size());
      rsp.push_back(readb(l, reg::kDataFifo));
    }
    uint32_t v = sts(l);
    ck_assert(v & sts::kValid);
    ck_assert(!(v & sts::kDataAvail));
    if (ready_after) writeb(l, reg::kSts, sts::kCommandReady);
    return rsp;
  }

  Bytes transmit(uint8_t l, const Bytes &cmd) {
    send(l, cmd);
    wait_response(l);
    return receive(l);
  }

  QTestState *s = nullptr;
  fake_swtpm *fake = nullptr;

 private:
  const Variant &v_;
  char *dir_ = nullptr;
  TpmSwtpm swtpm_{};
  bool real_ = false;
};

Bytes bytes(const uint8_t *p, size_t n) { return Bytes(p, p + n); }
Bytes get_random16() { return bytes(tpm2_cmd_get_random_16, sizeof tpm2_cmd_get_random_16); }

void expect_access(Rig &r, std::array<uint8_t, 5> want) {
  for (uint8_t l = 0; l < kLocalities; l++) {
    ck_assert_msg(r.access(l) == want[l], "locality %u: ACCESS 0x%02x, expected 0x%02x", l,
                  r.access(l), want[l]);
  }
}

}  // namespace

START_TEST(localities_and_identity) {
  for (Tpm tpm : {Tpm::kFake2, Tpm::kFake12}) {
    Rig r(variant(_i), tpm);
    bool tpm2 = tpm == Tpm::kFake2;
    for (uint8_t l = 0; l < kLocalities; l++) {
      ck_assert_uint_eq(r.access(l), 0x81);
      ck_assert_uint_eq(r.readl(l, reg::kIntEnable), 0x08);
      ck_assert_uint_eq(r.readl(l, reg::kIntVector), kDefaultIrq);
      ck_assert_uint_eq(r.readl(l, reg::kIntStatus), 0);
      ck_assert_uint_eq(r.readl(l, reg::kIntfCapability), tpm2 ? 0x30000697 : 0x20000697);
      ck_assert_uint_eq(r.readl(l, reg::kInterfaceId), tpm2 ? 0x00002100 : 0xffffffff);
      ck_assert_uint_eq(r.readl(l, reg::kDidVid), 0x00011014);
      ck_assert_uint_eq(r.readl(l, reg::kRid), 0x01);
      ck_assert_uint_eq(r.readl(l, reg::kSts), 0xffffffff);
    }
    r.request_locality(0);
    ck_assert_uint_eq(r.sts(0), (tpm2 ? 0x04000000u : 0u) | 4096u << 8);
    ck_assert_uint_eq(r.readb(0, reg::kSts + 1), 0xff);  // byte reads of the burst count
    ck_assert_uint_eq(r.readb(0, reg::kSts + 2), 0x00);
    // SeaBIOS: select the FIFO and lock the selection.
    r.writel(0, reg::kInterfaceId, 0);
    r.writel(0, reg::kInterfaceId, iface_id::kIntfSelLock);
    for (uint8_t l = 0; l < kLocalities; l++) {
      ck_assert_uint_eq(r.readl(l, reg::kInterfaceId),
                        (tpm2 ? 0x00002100u : 0xffffffffu) | iface_id::kIntfSelLock);
    }
  }
}
END_TEST

START_TEST(access_arbitration) {
  Rig r(variant(_i), Tpm::kFake2);
  r.request_locality(0);
  r.writeb(1, reg::kAccess, access::kRequestUse);
  r.writeb(2, reg::kAccess, access::kRequestUse);
  expect_access(r, {0xa5, 0x87, 0x87, 0x85, 0x85});
  r.writeb(0, reg::kAccess, access::kActiveLocality);  // to the highest waiting: 2
  expect_access(r, {0x85, 0x83, 0xa5, 0x85, 0x85});
  r.writeb(3, reg::kAccess, access::kSeize);
  expect_access(r, {0x85, 0x83, 0x95, 0xa5, 0x85});
  r.writeb(1, reg::kAccess, access::kSeize);  // lower than the owner: refused
  expect_access(r, {0x85, 0x83, 0x95, 0xa5, 0x85});
  r.writeb(2, reg::kAccess, access::kBeenSeized);
  r.writeb(3, reg::kAccess, access::kActiveLocality);
  expect_access(r, {0x81, 0xa1, 0x81, 0x81, 0x81});
  // Locality 4 is the hardware's: writes are refused.
  r.writeb(4, reg::kAccess, access::kSeize);
  r.writeb(4, reg::kAccess, access::kRequestUse);
  expect_access(r, {0x81, 0xa1, 0x81, 0x81, 0x81});
}
END_TEST

START_TEST(transmit_and_retry) {
  Rig r(variant(_i), Tpm::kFake2);
  r.request_locality(0);
  Bytes startup = bytes(tpm2_cmd_startup_clear, sizeof tpm2_cmd_startup_clear);
  ck_assert_uint_eq(tpm_hdr_code(r.transmit(0, startup).data()), TPM2_RC_SUCCESS);
  Bytes rsp = r.transmit(0, get_random16());
  ck_assert_uint_eq(tpm_hdr_code(rsp.data()), TPM2_RC_SUCCESS);
  ck_assert_uint_eq(rsp.size(), kHeader + 2 + 16);
  // responseRetry: read part, retry, read it all again.
  r.send(0, get_random16());
  r.wait_response(0);
  Bytes first;
  for (int i = 0; i < 12; i++) first.push_back(r.readb(0, reg::kDataFifo));
  r.writeb(0, reg::kSts, sts::kResponseRetry);
  Bytes again = r.receive(0);
  ck_assert(Bytes(again.begin(), again.begin() + 12) == first);
  // From locality 2: swtpm is told the locality.
  r.writeb(2, reg::kAccess, access::kRequestUse);
  r.writeb(0, reg::kAccess, access::kActiveLocality);
  r.transmit(2, get_random16());
  ck_assert_int_eq(fake_swtpm_last_locality(r.fake), 2);
  uint8_t loc = 0xff;
  Bytes seen(64);
  size_t n = fake_swtpm_data_command(r.fake, fake_swtpm_data_command_count(r.fake) - 1,
                                     seen.data(), seen.size(), &loc);
  ck_assert(Bytes(seen.begin(), seen.begin() + n) == get_random16());
  ck_assert_uint_eq(loc, 2);
}
END_TEST

START_TEST(cancel_and_abort) {
  Rig r(variant(_i), Tpm::kFake2);
  r.request_locality(0);
  r.transmit(0, bytes(tpm2_cmd_startup_clear, sizeof tpm2_cmd_startup_clear));
  size_t sent = fake_swtpm_data_command_count(r.fake);
  fake_swtpm_inject_data(r.fake, FAKE_SWTPM_DATA_SLOW, 1, 30000);
  r.send(0, get_random16());
  ck_assert(fake_swtpm_wait_data_commands(r.fake, sent + 1, kCompletionTimeoutMs));
  r.writel(0, reg::kSts, sts::kCommandCancel);
  r.wait_response(0);
  ck_assert_uint_ge(fake_swtpm_cancel_count(r.fake), 1);
  r.receive(0);
  // commandReady while executing: cancelled, the response dropped, ready again.
  fake_swtpm_inject_data(r.fake, FAKE_SWTPM_DATA_SLOW, 1, 30000);
  r.send(0, get_random16());
  ck_assert(fake_swtpm_wait_data_commands(r.fake, sent + 2, kCompletionTimeoutMs));
  r.writeb(0, reg::kSts, sts::kCommandReady);
  for (int waited = 0; !(r.readl(0, reg::kSts) & sts::kCommandReady); waited++) {
    ck_assert_msg(waited < kCompletionTimeoutMs, "abort never finished");
    g_usleep(1000);
  }
  ck_assert_uint_ge(fake_swtpm_cancel_count(r.fake), 2);
  ck_assert_uint_eq(r.readl(0, reg::kDataFifo), 0xffffffff);
  ck_assert_uint_eq(tpm_hdr_code(r.transmit(0, get_random16()).data()), TPM2_RC_SUCCESS);
}
END_TEST

START_TEST(interrupts) {
  const Variant &v = variant(_i);
  Rig r(v, Tpm::kFake2);
  qtest_irq_intercept_in(r.s, v.intc);
  r.request_locality(0);
  r.writel(0, reg::kIntEnable, 0x08 | intr::kSupported | intr::kGlobalEnable);
  ck_assert(!qtest_get_irq(r.s, v.irq));
  r.writeb(0, reg::kSts, sts::kCommandReady);  // idle -> ready: commandReady
  ck_assert_uint_eq(r.readl(0, reg::kIntStatus), intr::kCommandReady);
  ck_assert(qtest_get_irq(r.s, v.irq));
  r.writel(0, reg::kIntStatus, intr::kCommandReady);
  ck_assert(!qtest_get_irq(r.s, v.irq));
  r.send(0, bytes(tpm2_cmd_startup_clear, sizeof tpm2_cmd_startup_clear));
  r.wait_response(0);  // completion: dataAvail | stsValid
  ck_assert_uint_eq(r.readl(0, reg::kIntStatus), intr::kDataAvail | intr::kStsValid);
  ck_assert(qtest_get_irq(r.s, v.irq));
  uint32_t status = r.readl(0, reg::kIntStatus);  // Linux's handler: write back what it read
  r.writel(0, reg::kIntStatus, status);
  ck_assert(!qtest_get_irq(r.s, v.irq));
  r.receive(0, false);  // the last byte: stsValid
  ck_assert_uint_eq(r.readl(0, reg::kIntStatus), intr::kStsValid);
  ck_assert(qtest_get_irq(r.s, v.irq));
  r.writel(0, reg::kIntStatus, intr::kStsValid);
  r.writeb(0, reg::kAccess, access::kActiveLocality);
  r.request_locality(0);  // localityChange
  ck_assert_uint_eq(r.readl(0, reg::kIntStatus), intr::kLocalityChange);
  ck_assert(qtest_get_irq(r.s, v.irq));
  r.writel(0, reg::kIntStatus, 0xffffffff);
  ck_assert(!qtest_get_irq(r.s, v.irq));
}
END_TEST

START_TEST(malformed_accesses_and_long_command) {
  Rig r(variant(_i), Tpm::kFake2);
  ck_assert_uint_eq(qtest_readq(r.s, r.addr(0, reg::kDidVid)), 0x0000000100011014ull);
  ck_assert_uint_eq(qtest_readl(r.s, r.addr(1, reg::kDidVid + 1)), 0x01000110);
  ck_assert_uint_eq(qtest_readw(r.s, r.addr(1, reg::kDidVid + 3)), 0x0100);
  for (uint32_t off : {0x04u, 0x1cu, 0x34u, 0xc0u, 0xf08u, 0xffcu}) {
    ck_assert_uint_eq(r.readl(0, off), 0xffffffff);
    r.writel(0, off, 0);
  }
  r.writel(0, reg::kDidVid, 0);
  ck_assert_uint_eq(r.readl(0, reg::kDidVid), 0x00011014);
  // XDATA_FIFO is the same FIFO.
  r.request_locality(0);
  r.transmit(0, bytes(tpm2_cmd_startup_clear, sizeof tpm2_cmd_startup_clear));
  Bytes cmd = get_random16();
  for (uint8_t b : cmd) r.writeb(0, reg::kXDataFifo + 0x20, b);
  ck_assert(!(r.sts(0) & sts::kExpect));
  r.writeb(0, reg::kSts, sts::kGo);
  r.wait_response(0);
  ck_assert_uint_eq(r.readl(0, reg::kXDataFifo) & 0xffff, 0x0180);
  r.writeb(0, reg::kSts, sts::kCommandReady);
  // A command longer than the buffer: Expect holds for 4096 bytes, the next byte clears it, and
  // tpmGo gets a TPM failure response from the device - the truncated command would leave
  // swtpm waiting for the rest - and the TPM keeps working.
  Bytes big(5000, 0x5a);
  big[0] = 0x80, big[1] = 0x01, big[2] = 0, big[3] = 0, big[4] = 5000 >> 8, big[5] = 5000 & 0xff;
  size_t before = fake_swtpm_data_command_count(r.fake);
  for (size_t i = 0; i < 4096; i++) r.writeb(0, reg::kDataFifo, big[i]);
  ck_assert(r.sts(0) & sts::kExpect);
  ck_assert_uint_eq(Rig::burst(r.sts(0)), 0);
  r.writeb(0, reg::kDataFifo, big[4096]);
  ck_assert_uint_eq(r.sts(0) & 0xff, sts::kValid);
  r.writeb(0, reg::kSts, sts::kGo);
  r.wait_response(0);
  const Bytes fatal = {0x00, 0xc4, 0, 0, 0, 0x0a, 0, 0, 0, 0x09};
  ck_assert(r.receive(0) == fatal);
  ck_assert_uint_eq(fake_swtpm_data_command_count(r.fake), before);
  ck_assert_uint_eq(tpm_hdr_code(r.transmit(0, get_random16()).data()), TPM2_RC_SUCCESS);
}
END_TEST

START_TEST(swtpm_tpm2) {
  ck_assert_msg(tpm_swtpm_available(true), "no swtpm (scripts/install-deps --tests)");
  Rig r(variant(_i), Tpm::kSwtpm2);
  r.request_locality(0);
  ck_assert_uint_eq(tpm_hdr_code(r.transmit(0, bytes(tpm2_cmd_startup_clear,
                                                     sizeof tpm2_cmd_startup_clear)).data()),
                    TPM2_RC_SUCCESS);
  Bytes rsp = r.transmit(0, bytes(tpm2_cmd_get_cap_max_sizes, sizeof tpm2_cmd_get_cap_max_sizes));
  ck_assert_uint_eq(tpm_hdr_code(rsp.data()), TPM2_RC_SUCCESS);
  uint8_t before[32], after[32];
  Bytes read = r.transmit(0, bytes(tpm2_cmd_pcr_read_10, sizeof tpm2_cmd_pcr_read_10));
  ck_assert(tpm2_pcr_read_value(read.data(), read.size(), before));
  rsp = r.transmit(0, bytes(tpm2_cmd_pcr_extend_10, sizeof tpm2_cmd_pcr_extend_10));
  ck_assert_uint_eq(tpm_hdr_code(rsp.data()), TPM2_RC_SUCCESS);
  read = r.transmit(0, bytes(tpm2_cmd_pcr_read_10, sizeof tpm2_cmd_pcr_read_10));
  ck_assert(tpm2_pcr_read_value(read.data(), read.size(), after));
  GChecksum *sum = g_checksum_new(G_CHECKSUM_SHA256);
  g_checksum_update(sum, before, 32);
  g_checksum_update(sum, tpm2_extend_digest, 32);
  uint8_t want[32];
  gsize len = 32;
  g_checksum_get_digest(sum, want, &len);
  g_checksum_free(sum);
  ck_assert(memcmp(after, want, 32) == 0);
}
END_TEST

START_TEST(swtpm_tpm12) {
  ck_assert_msg(tpm_swtpm_available(false), "no swtpm (scripts/install-deps --tests)");
  Rig r(variant(_i), Tpm::kSwtpm12);
  ck_assert_uint_eq(r.readl(0, reg::kIntfCapability), 0x20000697);
  r.request_locality(0);
  Bytes rsp = r.transmit(0, bytes(tpm12_cmd_startup_clear, sizeof tpm12_cmd_startup_clear));
  ck_assert_uint_eq(tpm_hdr_tag(rsp.data()), TPM12_TAG_RSP_COMMAND);
  ck_assert_uint_eq(tpm_hdr_code(rsp.data()), 0);
  ck_assert(!(r.sts(0) & sts::kSelfTestDone));
  rsp = r.transmit(0, bytes(tpm12_cmd_continue_selftest, sizeof tpm12_cmd_continue_selftest));
  ck_assert_uint_eq(tpm_hdr_code(rsp.data()), 0);
  ck_assert(r.sts(0) & sts::kSelfTestDone);
  rsp = r.transmit(0, bytes(tpm12_cmd_get_random_16, sizeof tpm12_cmd_get_random_16));
  ck_assert_uint_eq(tpm_hdr_code(rsp.data()), 0);
  ck_assert_uint_eq(rsp.size(), kHeader + 4 + 16);
}
END_TEST

int main() {
  host_test_require_binary();
  int count = 0;
  const Variant *all = variants(&count);
  if (!host_test_has_device(all[0].device)) {
    printf("%s is not in this build: skipped\n", all[0].device);
    return HOST_TEST_SKIP;
  }
  Suite *s = suite_create("tpm-tis");
  TCase *tc = tcase_create("tis");
  tcase_set_timeout(tc, 120);
  tcase_add_loop_test(tc, localities_and_identity, 0, count);
  tcase_add_loop_test(tc, access_arbitration, 0, count);
  tcase_add_loop_test(tc, transmit_and_retry, 0, count);
  tcase_add_loop_test(tc, cancel_and_abort, 0, count);
  tcase_add_loop_test(tc, interrupts, 0, count);
  tcase_add_loop_test(tc, malformed_accesses_and_long_command, 0, count);
  tcase_add_loop_test(tc, swtpm_tpm2, 0, count);
  tcase_add_loop_test(tc, swtpm_tpm12, 0, count);
  suite_add_tcase(s, tc);
  return host_test_run(s);
}
