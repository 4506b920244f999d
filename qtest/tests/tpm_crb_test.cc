// SPDX-License-Identifier: GPL-2.0-or-later
//
// qtests for tpm-crb (TCG PTP 1.05 CRB as QEMU 7.2 shows it) through qtpm-system-x86_64: every
// INTF_ID field, LOC_* transitions, idle/ready, commands, cancel, the error latch, both buffer
// layouts (including OVMF's base + 0x80 view), the PPI page and memory clear on system_reset.
// The TPM behind the device is the fault-injecting fake swtpm (backends/tpm/tests/fake_swtpm_c.h)
// or, for the PCR round trips, a real swtpm 2.0.  Offsets and fields come from
// hw/tpm/crb/tpm_crb_regs.h; nothing is re-typed here.
//
// Exits 77 (skip) while the host, tpm-crb in it, or the emulator backend is not built.
#include "qom/testing.h"  // <check.h> without its `fail` macro, before any C++ header

#include <glib.h>
#include <glib/gstdio.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "backends/tpm/tests/fake_swtpm_c.h"
#include "host_test.h"
#include "hw/tpm/crb/tpm_crb_layout.h"
#include "hw/tpm/crb/tpm_crb_regs.h"
#include "hw/tpm/tpm_ppi.h"
#include "qtest/libqtest/tpm_util.h"

using namespace qtpm;
using namespace qtpm::crb;

namespace {

constexpr uint64_t kBase = kBaseAddress;
constexpr size_t kTpmHeaderSize = 10;  // tag u16, size u32, code u32
constexpr uint64_t kOvmfBuffer = kBaseAddress + kRegistersSize;
// Guest RAM well inside the pc machine's default memory, away from anything the host puts there.
constexpr uint64_t kRamProbe = 0x200000;

struct FakeRigOptions {
  const char *layout = "qemu";
  const char *extra = "";    // more -device properties, e.g. ",ppi=off"
  bool established = false;  // what the fake TPM reports before the host starts
};

// One host with tpm-crb (id tpm0) on a fake swtpm, torn down in the destructor.
struct FakeRig {
  explicit FakeRig(FakeRigOptions o = {}) {
    dir = g_dir_make_tmp("tpm-crb-test-XXXXXX", nullptr);
    ck_assert_ptr_nonnull(dir);
    std::string ctrl = std::string(dir) + "/ctrl";
    swtpm = fake_swtpm_start(ctrl.c_str(), 1);
    ck_assert_ptr_nonnull(swtpm);
    fake_swtpm_set_established(swtpm, o.established ? 1 : 0);
    s = qtest_initf("-chardev socket,id=chrtpm,path=%s -tpmdev emulator,id=dev0,chardev=chrtpm "
                    "-device tpm-crb,id=tpm0,tpmdev=dev0,buffer-layout=%s%s",
                    ctrl.c_str(), o.layout, o.extra);
  }
  ~FakeRig() {
    qtest_quit(s);
    fake_swtpm_free(swtpm);
    g_rmdir(dir);
    g_free(dir);
  }
  uint32_t reg(uint32_t offset) { return qtest_readl(s, kBase + offset); }
  void set_reg(uint32_t offset, uint32_t value) { qtest_writel(s, kBase + offset, value); }

  QTestState *s = nullptr;
  fake_swtpm *swtpm = nullptr;
  char *dir = nullptr;
};

void system_reset(QTestState *s) {
  json_object_put(qtest_qmp_assert_success_ref(s, "{'execute': 'system_reset'}"));
  qtest_qmp_eventwait(s, "RESET");
}

// Polls CTRL_START until the command completes (a guard against a hang, not a time limit on
// the device: the host runs the completion between two qtest commands).
bool wait_start_clear(QTestState *s) {
  for (int i = 0; i < 60000; i++) {
    if (!(qtest_readl(s, kBase + A_CTRL_START) & ctrl_start::kInvoke.mask())) return true;
    g_usleep(1000);
  }
  return false;
}

std::vector<uint8_t> startup_clear() {
  return std::vector<uint8_t>(tpm2_cmd_startup_clear,
                              tpm2_cmd_startup_clear + sizeof(tpm2_cmd_startup_clear));
}

// Starts a command the way EDK2 does: locality, cmdReady, the bytes at `buffer`, START.
void start_command(FakeRig &rig, uint64_t buffer, const std::vector<uint8_t> &cmd) {
  rig.set_reg(A_LOC_CTRL, loc_ctrl::kRequestAccess);
  rig.set_reg(A_CTRL_REQ, ctrl_req::kCmdReady);
  qtest_memwrite(rig.s, buffer, cmd.data(), cmd.size());
  rig.set_reg(A_CTRL_START, ctrl_start::kInvoke.mask());
}

void sha256_extend(const uint8_t old[32], const uint8_t digest[32], uint8_t out[32]) {
  GChecksum *sum = g_checksum_new(G_CHECKSUM_SHA256);
  g_checksum_update(sum, old, 32);
  g_checksum_update(sum, digest, 32);
  gsize len = 32;
  g_checksum_get_digest(sum, out, &len);
  g_checksum_free(sum);
  ck_assert_uint_eq(len, 32);
}

}  // namespace

// ---------------------------------------------------------------------------------------------

START_TEST(intf_id_fields_and_reset_values) {
  FakeRig rig;
  uint32_t id = rig.reg(A_INTF_ID);
  ck_assert_uint_eq(id, intf_id::kValue);
  ck_assert_uint_eq(intf_id::kInterfaceType.extract(id), intf_id::kTypeCrbActive);
  ck_assert_uint_eq(intf_id::kInterfaceVersion.extract(id), intf_id::kVersionCrb);
  ck_assert_uint_eq(intf_id::kCapLocality.extract(id), 0);
  ck_assert_uint_eq(intf_id::kCapCrbIdleBypass.extract(id), 0);
  ck_assert_uint_eq(intf_id::kCapDataXferSizeSupport.extract(id), intf_id::kXferSize64);
  ck_assert_uint_eq(intf_id::kCapFifo.extract(id), 0);
  ck_assert_uint_eq(intf_id::kCapCrb.extract(id), 1);
  ck_assert_uint_eq(intf_id::kInterfaceSelector.extract(id), intf_id::kSelectorCrb);
  ck_assert_uint_eq(intf_id::kIntfSelLock.extract(id), 0);
  ck_assert_uint_eq(intf_id::kRid.extract(id), 0);
  uint32_t id2 = rig.reg(A_INTF_ID2);
  ck_assert_uint_eq(intf_id2::kVid.extract(id2), intf_id2::kVendorIbm);
  ck_assert_uint_eq(intf_id2::kDid.extract(id2), 0);
  ck_assert_uint_eq(qtest_readq(rig.s, kBase + A_INTF_ID), uint64_t(id2) << 32 | id);
  ck_assert_uint_eq(qtest_readb(rig.s, kBase + A_INTF_ID + 1), (intf_id::kValue >> 8) & 0xff);
  // SeaBIOS's select + lock writes leave it alone.
  rig.set_reg(A_INTF_ID, intf_id::kIntfSelLock.mask() | intf_id::kInterfaceSelector.mask());
  ck_assert_uint_eq(rig.reg(A_INTF_ID), intf_id::kValue);

  // Reset values (the fake reports "not established": tpmEstablished reads 1).
  ck_assert_uint_eq(rig.reg(A_LOC_STATE),
                    loc_state::kTpmRegValidSts.mask() | loc_state::kTpmEstablished.mask());
  ck_assert_uint_eq(rig.reg(A_LOC_STS), 0);
  ck_assert_uint_eq(rig.reg(A_CTRL_STS), ctrl_sts::kTpmIdle.mask());
  ck_assert_uint_eq(rig.reg(A_CTRL_START), 0);
  ck_assert_uint_eq(rig.reg(A_CTRL_CMD_SIZE), kQemuLayout.buffer_size);
  ck_assert_uint_eq(rig.reg(A_CTRL_CMD_LADDR), kQemuBufferAddress);
  ck_assert_uint_eq(rig.reg(A_CTRL_CMD_HADDR), 0);
  ck_assert_uint_eq(rig.reg(A_CTRL_RSP_SIZE), kQemuLayout.buffer_size);
  ck_assert_uint_eq(qtest_readq(rig.s, kBase + A_CTRL_RSP_ADDR), kQemuBufferAddress);
  // The device asked the TPM for the CRB's buffer size.
  ck_assert_uint_ge(fake_swtpm_ctrl_count(rig.swtpm, PTM_CMD_SET_BUFFERSIZE), 1);
}
END_TEST

START_TEST(established_flag_in_loc_state) {
  // tpmEstablished reads the inverse of the TPM's flag (QEMU: !established).
  FakeRig rig({.established = true});
  ck_assert_uint_eq(loc_state::kTpmEstablished.extract(rig.reg(A_LOC_STATE)), 0);
}
END_TEST

START_TEST(locality_transitions) {
  FakeRig rig;
  rig.set_reg(A_LOC_CTRL, loc_ctrl::kRequestAccess);
  uint32_t st = rig.reg(A_LOC_STATE);
  ck_assert_uint_eq(loc_state::kLocAssigned.extract(st), 1);
  ck_assert_uint_eq(loc_state::kActiveLocality.extract(st), 0);
  ck_assert_uint_eq(loc_state::kTpmRegValidSts.extract(st), 1);
  ck_assert_uint_eq(rig.reg(A_LOC_STS), loc_sts::kGranted.mask());
  ck_assert_uint_eq(rig.reg(A_LOC_CTRL), 0);
  rig.set_reg(A_LOC_CTRL, loc_ctrl::kSeize);
  rig.set_reg(A_LOC_CTRL, loc_ctrl::kResetEstablishmentBit);
  ck_assert_uint_eq(loc_state::kLocAssigned.extract(rig.reg(A_LOC_STATE)), 1);
  rig.set_reg(A_LOC_CTRL, loc_ctrl::kRelinquish);
  ck_assert_uint_eq(loc_state::kLocAssigned.extract(rig.reg(A_LOC_STATE)), 0);
  ck_assert_uint_eq(rig.reg(A_LOC_STS), 0);
  // SeaBIOS: writeb(LOC_CTRL, 1).
  qtest_writeb(rig.s, kBase + A_LOC_CTRL, loc_ctrl::kRequestAccess);
  ck_assert_uint_eq(loc_state::kLocAssigned.extract(rig.reg(A_LOC_STATE)), 1);
  // Exact values only.
  rig.set_reg(A_LOC_CTRL, loc_ctrl::kRelinquish | loc_ctrl::kRequestAccess);
  ck_assert_uint_eq(loc_state::kLocAssigned.extract(rig.reg(A_LOC_STATE)), 1);
  // system_reset gives the locality back.
  system_reset(rig.s);
  ck_assert_uint_eq(loc_state::kLocAssigned.extract(rig.reg(A_LOC_STATE)), 0);
  ck_assert_uint_eq(rig.reg(A_LOC_STS), 0);
}
END_TEST

START_TEST(idle_and_ready) {
  FakeRig rig;
  rig.set_reg(A_CTRL_REQ, ctrl_req::kCmdReady);
  ck_assert_uint_eq(rig.reg(A_CTRL_REQ), 0);
  ck_assert_uint_eq(rig.reg(A_CTRL_STS), 0);
  rig.set_reg(A_CTRL_REQ, ctrl_req::kGoIdle);
  ck_assert_uint_eq(rig.reg(A_CTRL_REQ), 0);
  ck_assert_uint_eq(rig.reg(A_CTRL_STS), ctrl_sts::kTpmIdle.mask());
  rig.set_reg(A_CTRL_REQ, ctrl_req::kGoIdle | ctrl_req::kCmdReady);
  ck_assert_uint_eq(rig.reg(A_CTRL_STS), ctrl_sts::kTpmIdle.mask());
}
END_TEST

START_TEST(command_reaches_the_tpm) {
  FakeRig rig;
  std::vector<uint8_t> cmd = startup_clear();
  size_t before = fake_swtpm_data_command_count(rig.swtpm);
  // Junk after the command must not be sent: the header's size decides.
  uint8_t junk[8] = {0xde, 0xad, 0xbe, 0xef, 0xde, 0xad, 0xbe, 0xef};
  qtest_memwrite(rig.s, kQemuBufferAddress + cmd.size(), junk, sizeof(junk));
  start_command(rig, kQemuBufferAddress, cmd);
  ck_assert(wait_start_clear(rig.s));
  ck_assert_uint_eq(fake_swtpm_data_command_count(rig.swtpm), before + 1);
  uint8_t seen[64];
  uint8_t locality = 0xff;
  size_t n = fake_swtpm_data_command(rig.swtpm, before, seen, sizeof(seen), &locality);
  ck_assert_uint_eq(n, cmd.size());
  ck_assert_mem_eq(seen, cmd.data(), n);
  uint8_t rsp[kTpmHeaderSize];
  qtest_memread(rig.s, kQemuBufferAddress, rsp, sizeof(rsp));
  ck_assert_uint_eq(tpm_hdr_code(rsp), TPM2_RC_SUCCESS);
  ck_assert_uint_eq(ctrl_sts::kTpmSts.extract(rig.reg(A_CTRL_STS)), 0);
}
END_TEST

START_TEST(cancel_a_running_command) {
  FakeRig rig;
  size_t before = fake_swtpm_data_command_count(rig.swtpm);
  // The fake holds the command for a minute unless cancelled.
  fake_swtpm_inject_data(rig.swtpm, FAKE_SWTPM_DATA_SLOW, 1, 60000);
  // Nothing running: cancel does nothing.
  rig.set_reg(A_CTRL_CANCEL, kCancelInvoke);
  ck_assert_uint_eq(fake_swtpm_cancel_count(rig.swtpm), 0);
  start_command(rig, kQemuBufferAddress, startup_clear());
  ck_assert(fake_swtpm_wait_data_commands(rig.swtpm, before + 1, 30000));
  ck_assert_uint_eq(rig.reg(A_CTRL_START), ctrl_start::kInvoke.mask());
  rig.set_reg(A_CTRL_CANCEL, 0);  // Linux's reset of CTRL_CANCEL: no cancel
  ck_assert_uint_eq(fake_swtpm_cancel_count(rig.swtpm), 0);
  rig.set_reg(A_CTRL_CANCEL, kCancelInvoke);
  ck_assert(wait_start_clear(rig.s));
  ck_assert_uint_eq(fake_swtpm_cancel_count(rig.swtpm), 1);
  ck_assert_uint_eq(rig.reg(A_CTRL_CANCEL), 0);
}
END_TEST

START_TEST(backend_failure_latches_tpm_sts) {
  FakeRig rig;
  fake_swtpm_inject_data(rig.swtpm, FAKE_SWTPM_DATA_OVERSIZED, 1, 0);
  start_command(rig, kQemuBufferAddress, startup_clear());
  ck_assert(wait_start_clear(rig.s));
  ck_assert_uint_eq(ctrl_sts::kTpmSts.extract(rig.reg(A_CTRL_STS)), 1);
  uint8_t rsp[kTpmHeaderSize];
  qtest_memread(rig.s, kQemuBufferAddress, rsp, sizeof(rsp));
  ck_assert_uint_ne(tpm_hdr_code(rsp), TPM2_RC_SUCCESS);  // the fatal response
  ck_assert_uint_eq(tpm_hdr_size(rsp), kTpmHeaderSize);
}
END_TEST

START_TEST(page_aligned_layout) {
  FakeRig rig({.layout = kPageAlignedLayout.name});
  const uint32_t page = uint32_t(kBase) + kPageAlignedLayout.buffer_offset;
  ck_assert_uint_eq(rig.reg(A_CTRL_CMD_LADDR), page);
  ck_assert_uint_eq(rig.reg(A_CTRL_CMD_HADDR), 0);
  ck_assert_uint_eq(qtest_readq(rig.s, kBase + A_CTRL_RSP_ADDR), page);
  ck_assert_uint_eq(rig.reg(A_CTRL_CMD_SIZE), rig.reg(A_CTRL_RSP_SIZE));
  ck_assert_uint_eq(rig.reg(A_CTRL_CMD_SIZE), kPageAlignedLayout.buffer_size);
  // One memory, two addresses, both ways.
  qtest_writel(rig.s, page, 0x11223344);
  ck_assert_uint_eq(qtest_readl(rig.s, kOvmfBuffer), 0x11223344);
  qtest_writel(rig.s, kOvmfBuffer + kPageAlignedLayout.buffer_size - 4, 0xa5a5a5a5);
  ck_assert_uint_eq(qtest_readl(rig.s, page + kPageAlignedLayout.buffer_size - 4), 0xa5a5a5a5);
  // OVMF: the command at base + 0x80 after writing the address registers; the response there.
  rig.set_reg(A_CTRL_CMD_LADDR, uint32_t(kOvmfBuffer));
  rig.set_reg(A_CTRL_RSP_ADDR, uint32_t(kOvmfBuffer));
  ck_assert_uint_eq(rig.reg(A_CTRL_CMD_LADDR), page);
  size_t before = fake_swtpm_data_command_count(rig.swtpm);
  std::vector<uint8_t> cmd = startup_clear();
  start_command(rig, kOvmfBuffer, cmd);
  ck_assert(wait_start_clear(rig.s));
  uint8_t seen[64], locality = 0xff;
  ck_assert_uint_eq(fake_swtpm_data_command(rig.swtpm, before, seen, sizeof(seen), &locality),
                    cmd.size());
  ck_assert_mem_eq(seen, cmd.data(), cmd.size());
  uint8_t low[kTpmHeaderSize], high[kTpmHeaderSize];
  qtest_memread(rig.s, kOvmfBuffer, low, sizeof(low));
  qtest_memread(rig.s, page, high, sizeof(high));
  ck_assert_mem_eq(low, high, sizeof(low));
  ck_assert_uint_eq(tpm_hdr_code(low), TPM2_RC_SUCCESS);
  // Linux: through the registers (the libqtest helper follows CTRL_CMD/RSP).
  uint8_t rsp[4096];
  size_t n = tpm_crb_transmit(rig.s, kBase, tpm2_cmd_get_random_16,
                              sizeof(tpm2_cmd_get_random_16), rsp, sizeof(rsp));
  ck_assert_uint_ge(n, kTpmHeaderSize);
}
END_TEST

START_TEST(ppi_page_and_memory_clear) {
  FakeRig rig;
  const uint64_t ppi = PpiLayout::kAddress;
  qtest_writel(rig.s, ppi + PpiLayout::kPprq, 0x0e);
  qtest_writeb(rig.s, ppi + PpiLayout::kFunc + 0x0e, PpiLayout::kFuncAllowedUsrReq);
  ck_assert_uint_eq(qtest_readl(rig.s, ppi + PpiLayout::kPprq), 0x0e);
  ck_assert_uint_eq(qtest_readb(rig.s, ppi + PpiLayout::kFunc + 0x0e), 3);

  // Without the memory-overwrite request guest RAM survives a reset, and so does the page.
  qtest_writel(rig.s, kRamProbe, 0xcafef00d);
  system_reset(rig.s);
  ck_assert_uint_eq(qtest_readl(rig.s, kRamProbe), 0xcafef00d);
  ck_assert_uint_eq(qtest_readl(rig.s, ppi + PpiLayout::kPprq), 0x0e);

  // The OS asks for a clear (MOVV bit 0): the next reset wipes guest RAM, not the page.
  qtest_writeb(rig.s, ppi + PpiLayout::kMovv, 1);
  system_reset(rig.s);
  ck_assert_uint_eq(qtest_readl(rig.s, kRamProbe), 0);
  ck_assert_uint_eq(qtest_readl(rig.s, ppi + PpiLayout::kPprq), 0x0e);
  ck_assert_uint_eq(qtest_readb(rig.s, ppi + PpiLayout::kMovv), 1);  // as QEMU: it stays set
  // And again until someone clears it.
  qtest_writel(rig.s, kRamProbe, 0xcafef00d);
  system_reset(rig.s);
  ck_assert_uint_eq(qtest_readl(rig.s, kRamProbe), 0);
}
END_TEST

START_TEST(ppi_off_means_no_clear) {
  FakeRig rig({.extra = ",ppi=off"});
  json_object *ppi = qtest_qmp_assert_success_ref(
      rig.s, "{'execute': 'qom-get', 'arguments': {'path': '/machine/peripheral/tpm0', "
             "'property': 'ppi'}}");
  ck_assert(!json_object_get_boolean(ppi));
  json_object_put(ppi);
  qtest_writel(rig.s, kRamProbe, 0xcafef00d);
  system_reset(rig.s);
  ck_assert_uint_eq(qtest_readl(rig.s, kRamProbe), 0xcafef00d);
}
END_TEST

// The PCR round trip with a real swtpm 2.0, in both layouts (the generic tpm-crb-swtpm test
// covers the default layout too; here the page-aligned one and OVMF's view).
static void pcr_round_trip(const char *layout) {
  TpmSwtpm sw;
  tpm_swtpm_start(&sw, true);
  QTestState *s = qtest_initf("-chardev socket,id=chrtpm,path=%s -tpmdev emulator,id=dev0,"
                              "chardev=chrtpm -device tpm-crb,tpmdev=dev0,buffer-layout=%s",
                              sw.ctrl_path, layout);
  uint8_t rsp[4096], before[32], after[32], expect[32];
  size_t n = tpm_crb_transmit(s, kBase, tpm2_cmd_startup_clear, sizeof(tpm2_cmd_startup_clear),
                              rsp, sizeof(rsp));
  ck_assert_uint_eq(tpm_hdr_code(rsp), TPM2_RC_SUCCESS);
  n = tpm_crb_transmit(s, kBase, tpm2_cmd_pcr_read_10, sizeof(tpm2_cmd_pcr_read_10), rsp,
                       sizeof(rsp));
  ck_assert(tpm2_pcr_read_value(rsp, n, before));
  n = tpm_crb_transmit(s, kBase, tpm2_cmd_pcr_extend_10, sizeof(tpm2_cmd_pcr_extend_10), rsp,
                       sizeof(rsp));
  ck_assert_uint_eq(tpm_hdr_code(rsp), TPM2_RC_SUCCESS);
  n = tpm_crb_transmit(s, kBase, tpm2_cmd_pcr_read_10, sizeof(tpm2_cmd_pcr_read_10), rsp,
                       sizeof(rsp));
  ck_assert(tpm2_pcr_read_value(rsp, n, after));
  uint8_t zeros[32] = {0};
  ck_assert_mem_eq(before, zeros, 32);
  sha256_extend(before, tpm2_extend_digest, expect);
  ck_assert_mem_eq(after, expect, 32);

  // OVMF's way: a PCR_Read written at base + 0x80, whatever the registers say.
  qtest_writel(s, kBase + A_LOC_CTRL, loc_ctrl::kRequestAccess);
  qtest_writel(s, kBase + A_CTRL_REQ, ctrl_req::kCmdReady);
  qtest_memwrite(s, kOvmfBuffer, tpm2_cmd_pcr_read_10, sizeof(tpm2_cmd_pcr_read_10));
  qtest_writel(s, kBase + A_CTRL_START, ctrl_start::kInvoke.mask());
  ck_assert(wait_start_clear(s));
  uint8_t hdr[kTpmHeaderSize];
  qtest_memread(s, kOvmfBuffer, hdr, sizeof(hdr));
  n = tpm_hdr_size(hdr);
  ck_assert_uint_le(n, sizeof(rsp));
  qtest_memread(s, kOvmfBuffer, rsp, n);
  uint8_t again[32];
  ck_assert(tpm2_pcr_read_value(rsp, n, again));
  ck_assert_mem_eq(again, expect, 32);
  ck_assert_uint_eq(ctrl_sts::kTpmSts.extract(qtest_readl(s, kBase + A_CTRL_STS)), 0);

  qtest_quit(s);
  tpm_swtpm_stop(&sw);
}

START_TEST(swtpm_pcr_round_trip_qemu_layout) { pcr_round_trip(kQemuLayout.name); }
END_TEST

START_TEST(swtpm_pcr_round_trip_page_aligned) { pcr_round_trip(kPageAlignedLayout.name); }
END_TEST

namespace {

// Skips (77) unless the host offers tpm-crb and the emulator backend.
void require_stack() {
  host_test_require_binary();
  QTestRunResult r = qtest_run_binary("-device help", 20000);
  bool has_crb = r.exited && r.status == 0 && strstr(r.out, "name \"tpm-crb\"");
  qtest_run_result_clear(&r);
  r = qtest_run_binary("-tpmdev help", 20000);
  bool has_emulator = strstr(r.err, " emulator ") != nullptr;
  qtest_run_result_clear(&r);
  if (!has_crb || !has_emulator) {
    std::printf("SKIP: the host has %s%s yet\n", has_crb ? "" : "no tpm-crb",
                has_emulator ? "" : " no emulator backend");
    std::exit(HOST_TEST_SKIP);
  }
}

}  // namespace

int main() {
  require_stack();
  Suite *suite = suite_create("tpm-crb");
  TCase *fake = tcase_create("fake-swtpm");
  tcase_set_timeout(fake, 120);
  tcase_add_test(fake, intf_id_fields_and_reset_values);
  tcase_add_test(fake, established_flag_in_loc_state);
  tcase_add_test(fake, locality_transitions);
  tcase_add_test(fake, idle_and_ready);
  tcase_add_test(fake, command_reaches_the_tpm);
  tcase_add_test(fake, cancel_a_running_command);
  tcase_add_test(fake, backend_failure_latches_tpm_sts);
  tcase_add_test(fake, page_aligned_layout);
  tcase_add_test(fake, ppi_page_and_memory_clear);
  tcase_add_test(fake, ppi_off_means_no_clear);
  suite_add_tcase(suite, fake);
  if (tpm_swtpm_available(true)) {
    TCase *real = tcase_create("swtpm");
    tcase_set_timeout(real, 120);
    tcase_add_test(real, swtpm_pcr_round_trip_qemu_layout);
    tcase_add_test(real, swtpm_pcr_round_trip_page_aligned);
    suite_add_tcase(suite, real);
  } else {
    std::printf("FAIL: swtpm is not installed (scripts/install-deps --tests)\n");
    return 1;
  }
  return host_test_run(suite);
}
