// SPDX-License-Identifier: GPL-2.0-or-later
//
// qtests for tpm-spapr (the PAPR VIO vTPM, CRQ protocol of Linux tpm_ibmvtpm) through
// qtpm-system-ppc64 -machine pseries.  A test acts as the guest's driver: it maps pages into the
// device's DMA window with H_PUT_TCE, registers a CRQ, sends messages with H_SEND_CRQ and reads
// the responses from guest memory - hypervisor calls go through qtpm's `hcall` qtest command.
// Behind the device: the fault-injecting fake swtpm (backends/tpm/tests/fake_swtpm_c.h) or a real
// swtpm (TPM2_Startup, PCR_Extend and PCR_Read, the PCR value checked with GLib's SHA-256).
//
// Exits 77 (skip) while the host, tpm-spapr in it, or the emulator backend is not built.
#include "qom/testing.h"  // <check.h> without its `fail` macro, before any C++ header

#include <glib.h>
#include <glib/gstdio.h>

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "backends/tpm/tests/fake_swtpm_c.h"
#include "host_test.h"
#include "hw/tpm/spapr/spapr_crq.h"
#include "hw/tpm/spapr/spapr_papr.h"
#include "qtest/libqtest/tpm_util.h"

using namespace qtpm::spapr;

namespace {

constexpr size_t kHeader = 10;  // TPM command/response header
// Guest layout: the CRQ page and the TPM buffer page in RAM, and where they sit on the bus.
constexpr uint64_t kQueueGpa = 0x100000;
constexpr uint64_t kBufferGpa = 0x101000;
constexpr uint64_t kQueueIoba = 0x0;
constexpr uint64_t kBufferIoba = 0x1000;
constexpr uint64_t kQueueSize = 0x1000;
constexpr unsigned kSlots = kQueueSize / kCrqElementSize;
constexpr uint64_t kRw = kTceRead | kTceWrite;

const char *kDevicePath = "/machine/peripheral/vtpm";

// The guest side of the vTPM: what Linux's tpm_ibmvtpm does, step by step.
struct Guest {
  QTestState *s = nullptr;
  uint32_t unit = 0;
  unsigned next = 0;  // the driver's queue index

  int64_t hcall(uint64_t opcode, std::vector<uint64_t> args, std::vector<uint64_t> *out = nullptr) {
    std::string line = "hcall " + std::to_string(opcode);
    for (uint64_t a : args) line += " " + std::to_string(a);
    char *reply = qtest_command(s, "%s", line.c_str());
    ck_assert_msg(g_str_has_prefix(reply, "OK "), "%s -> %s", line.c_str(), reply);
    gchar **words = g_strsplit(reply + 3, " ", -1);
    int64_t status = g_ascii_strtoll(words[0], nullptr, 10);
    for (int i = 1; out && words[i]; i++) out->push_back(g_ascii_strtoull(words[i], nullptr, 16));
    g_strfreev(words);
    g_free(reply);
    return status;
  }
  int64_t put_tce(uint64_t ioba, uint64_t gpa, uint64_t perms = kRw) {
    return hcall(kHPutTce, {unit, ioba, gpa | perms});
  }
  int64_t send(uint8_t valid, uint8_t msg, uint16_t len = 0, uint32_t data = 0) {
    CrqElement e{.valid = valid, .msg = msg, .len = len, .data = data};
    return hcall(kHSendCrq, {unit, e.word0(), e.word1()});
  }
  // The driver's probe: zeroed queue page, both pages mapped, queue registered, interrupts on,
  // then INIT (answered by INIT_COMPLETE), GET_VERSION and GET_RTCE_BUFFER_SIZE.
  void probe() {
    qtest_memset(s, kQueueGpa, 0, kQueueSize);
    next = 0;
    ck_assert_int_eq(put_tce(kQueueIoba, kQueueGpa), kHSuccess);
    ck_assert_int_eq(put_tce(kBufferIoba, kBufferGpa), kHSuccess);
    ck_assert_int_eq(hcall(kHRegCrq, {unit, kQueueIoba, kQueueSize}), kHSuccess);
    ck_assert_int_eq(hcall(kHVioSignal, {unit, 1}), kHSuccess);
  }
  CrqElement slot(unsigned i) {
    uint8_t raw[kCrqElementSize];
    qtest_memread(s, kQueueGpa + i * kCrqElementSize, raw, sizeof(raw));
    return CrqElement::decode(std::span<const uint8_t, kCrqElementSize>(raw, kCrqElementSize));
  }
  std::optional<CrqElement> pop() {
    CrqElement e = slot(next);
    if (!(e.valid & 0x80)) return std::nullopt;
    qtest_writeb(s, kQueueGpa + next * kCrqElementSize, 0);  // consumed
    next = (next + 1) % kSlots;
    return e;
  }
  // Polls the queue until a response arrives.  The bound only turns a hang into a failure: the
  // host runs the completion between two qtest commands.
  CrqElement wait() {
    for (int i = 0; i < 60000; i++) {
      if (std::optional<CrqElement> e = pop()) return *e;
      g_usleep(1000);
    }
    ck_abort_msg("no response in the CRQ");
    return {};
  }
  void start_command(const std::vector<uint8_t> &cmd, uint64_t ioba = kBufferIoba,
                     uint64_t gpa = kBufferGpa) {
    qtest_memwrite(s, gpa, cmd.data(), cmd.size());
    ck_assert_int_eq(send(kCrqValidCommand, kVtpmTpmCommand, uint16_t(cmd.size()), uint32_t(ioba)),
                     kHSuccess);
  }
  // tpm_ibmvtpm_send + recv.
  std::vector<uint8_t> transact(const std::vector<uint8_t> &cmd) {
    start_command(cmd);
    CrqElement r = wait();
    ck_assert_uint_eq(r.valid, kCrqValidCommand);
    ck_assert_msg(r.msg == (kVtpmTpmCommand | kVtpmResponse), "response msg 0x%02x data 0x%x",
                  r.msg, r.data);
    ck_assert_uint_eq(r.data, kBufferIoba);
    ck_assert_uint_ge(r.len, kHeader);
    std::vector<uint8_t> rsp(r.len);
    qtest_memread(s, kBufferGpa, rsp.data(), rsp.size());
    ck_assert_uint_eq(tpm_hdr_size(rsp.data()), r.len);
    return rsp;
  }
};

void expect_element(const CrqElement &e, uint8_t valid, uint8_t msg, uint16_t len, uint32_t data) {
  ck_assert_uint_eq(e.valid, valid);
  ck_assert_uint_eq(e.msg, msg);
  ck_assert_uint_eq(e.len, len);
  ck_assert_uint_eq(e.data, data);
  ck_assert_uint_eq(e.reserved, 0);
}

// Every vTPM message but TPM_COMMAND, as the driver's probe and suspend send them.
void every_message(Guest &g, uint32_t version) {
  // Linux: INIT_CRQ_CMD, and on INIT_CRQ_RES, INIT_CRQ_COMP_CMD.
  ck_assert_int_eq(g.hcall(kHSendCrq, {g.unit, 0xC001000000000000ull, 0}), kHSuccess);
  expect_element(g.wait(), kCrqValidInit, kCrqInit, 0, 0);
  ck_assert_int_eq(g.hcall(kHSendCrq, {g.unit, 0xC002000000000000ull, 0}), kHSuccess);
  expect_element(g.wait(), kCrqValidInit, kCrqInitComplete, 0, 0);
  ck_assert_int_eq(g.send(kCrqValidCommand, kVtpmGetVersion), kHSuccess);
  expect_element(g.wait(), kCrqValidCommand, kVtpmGetVersion | kVtpmResponse, 0, version);
  // swtpm's (and the fake's) buffer is 4096 bytes: the RTCE buffer is the whole page.
  ck_assert_int_eq(g.send(kCrqValidCommand, kVtpmGetRtceBufferSize), kHSuccess);
  expect_element(g.wait(), kCrqValidCommand, kVtpmGetRtceBufferSize | kVtpmResponse, kVtpmBufferMax, 0);
  ck_assert_int_eq(g.send(kCrqValidCommand, kVtpmPrepareToSuspend), kHSuccess);
  expect_element(g.wait(), kCrqValidCommand, kVtpmPrepareToSuspend | kVtpmResponse, 0, 0);
}

uint32_t qom_reg(QTestState *s) {
  json_object *ret = qtest_qmp_assert_success_ref(
      s, "{'execute': 'qom-get', 'arguments': {'path': '%s', 'property': 'reg'}}", kDevicePath);
  ck_assert(json_object_is_type(ret, json_type_int));
  uint32_t reg = uint32_t(json_object_get_int64(ret));
  json_object_put(ret);
  return reg;
}

void system_reset(QTestState *s) {
  json_object_put(qtest_qmp_assert_success_ref(s, "{'execute': 'system_reset'}"));
  qtest_qmp_eventwait(s, "RESET");
}

std::vector<uint8_t> bytes(const uint8_t *p, size_t n) { return std::vector<uint8_t>(p, p + n); }

std::string hex(const std::string &text) {
  std::string out;
  char two[3];
  for (unsigned char c : text) {
    std::snprintf(two, sizeof(two), "%02x", c);
    out += two;
  }
  return out;
}

struct FakeRigOptions {
  bool tpm2 = true;
  const char *extra = "";  // more options after the device
};

// One host with tpm-spapr (id vtpm) on a fake swtpm.
struct FakeRig {
  explicit FakeRig(FakeRigOptions o = {}) {
    dir = g_dir_make_tmp("tpm-spapr-test-XXXXXX", nullptr);
    ck_assert_ptr_nonnull(dir);
    std::string ctrl = std::string(dir) + "/ctrl";
    swtpm = fake_swtpm_start(ctrl.c_str(), o.tpm2 ? 1 : 0);
    ck_assert_ptr_nonnull(swtpm);
    g.s = qtest_initf("-machine pseries -chardev socket,id=chrtpm,path=%s "
                      "-tpmdev emulator,id=dev0,chardev=chrtpm -device tpm-spapr,id=vtpm,tpmdev=dev0 %s",
                      ctrl.c_str(), o.extra);
    g.unit = qom_reg(g.s);
  }
  ~FakeRig() {
    qtest_quit(g.s);
    if (swtpm) fake_swtpm_free(swtpm);
    g_rmdir(dir);
    g_free(dir);
  }
  Guest g;
  fake_swtpm *swtpm = nullptr;
  char *dir = nullptr;
};

std::vector<uint8_t> startup_clear() {
  return bytes(tpm2_cmd_startup_clear, sizeof(tpm2_cmd_startup_clear));
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Placement: unit address, interrupt, device tree, QOM

START_TEST(unit_address_and_device_tree) {
  FakeRig rig;
  // QEMU 7.2 under libqtest: vty, nvram, vlan and vscsi take 0x71000000..3.
  ck_assert_uint_eq(rig.g.unit, 0x71000004);
  char *dt = qtest_command(rig.g.s, "spapr_dt 0x71000004");
  std::string expect = "OK vtpm@71000004 reg=71000004 device_type=" + hex("IBM,vtpm") +
                       "00 compatible=" + hex("IBM,vtpm20") +
                       "00 interrupts=0000110400000000 ibm,#dma-address-cells=00000002 "
                       "ibm,#dma-size-cells=00000002 ibm,my-dma-window="
                       "71000004000000000000000000000000" "10000000";
  ck_assert_str_eq(dt, expect.c_str());
  g_free(dt);
  dt = qtest_command(rig.g.s, "spapr_dt 0x71000001");  // the nvram: reserved, not modelled
  ck_assert_str_eq(dt, "FAIL Unknown device");
  g_free(dt);
  // QEMU's QOM: the TCE table is a child of the device.
  json_object *list = qtest_qmp_assert_success_ref(
      rig.g.s, "{'execute': 'qom-list', 'arguments': {'path': '%s'}}", kDevicePath);
  bool found = false;
  for (size_t i = 0; i < json_object_array_length(list); i++) {
    json_object *name = host_test_member(json_object_array_get_idx(list, i), "name", json_type_string);
    found = found || strcmp(json_object_get_string(name), "tce-table-71000004") == 0;
  }
  json_object_put(list);
  ck_assert(found);
  // query-tpm: the model is tpm-spapr, bound to the emulator backend.
  json_object *tpms = qtest_qmp_assert_success_ref(rig.g.s, "{'execute': 'query-tpm'}");
  ck_assert_uint_eq(json_object_array_length(tpms), 1);
  json_object *tpm = json_object_array_get_idx(tpms, 0);
  ck_assert_str_eq(json_object_get_string(host_test_member(tpm, "model", json_type_string)), "tpm-spapr");
  ck_assert_str_eq(json_object_get_string(host_test_member(tpm, "id", json_type_string)), "dev0");
  json_object *options = host_test_member(tpm, "options", json_type_object);
  ck_assert_str_eq(json_object_get_string(host_test_member(options, "type", json_type_string)), "emulator");
  json_object_put(tpms);
  json_object *models = qtest_qmp_assert_success_ref(rig.g.s, "{'execute': 'query-tpm-models'}");
  ck_assert(host_test_array_has_string(models, "tpm-spapr"));
  json_object_put(models);
}
END_TEST

START_TEST(unit_address_nodefaults_and_explicit) {
  {
    FakeRig rig({.extra = "-nodefaults"});  // only the nvram before us
    ck_assert_uint_eq(rig.g.unit, 0x71000001);
  }
  {
    char *dir = g_dir_make_tmp("tpm-spapr-test-XXXXXX", nullptr);
    std::string ctrl = std::string(dir) + "/ctrl";
    fake_swtpm *f = fake_swtpm_start(ctrl.c_str(), 1);
    char *args = g_strdup_printf("-machine pseries -chardev socket,id=c,path=%s -tpmdev "
                                 "emulator,id=t,chardev=c -device tpm-spapr,tpmdev=t,reg=0x71000001",
                                 ctrl.c_str());
    QTestRunResult r = qtest_run_binary(args, 30000);
    ck_assert(r.exited);
    ck_assert_int_eq(r.status, 1);
    ck_assert_msg(strstr(r.err, "-device tpm-spapr,tpmdev=t,reg=0x71000001: tpm-spapr and "
                                "spapr-nvram devices conflict at address 0x71000001\n"),
                  "%s", r.err);
    ck_assert_int_eq(host_test_count_lines(r.err), 1);
    qtest_run_result_clear(&r);
    g_free(args);
    fake_swtpm_free(f);  // the fake serves one client
    f = fake_swtpm_start(ctrl.c_str(), 1);
    args = g_strdup_printf("-machine pseries -chardev socket,id=c,path=%s -tpmdev "
                           "emulator,id=t,chardev=c -device tpm-spapr,tpmdev=t,reg=0x1000", ctrl.c_str());
    r = qtest_run_binary(args, 30000);
    ck_assert_int_eq(r.status, 1);
    ck_assert_msg(strstr(r.err, "reg=0x1000: IRQ 4353 is not free\n"), "%s", r.err);
    qtest_run_result_clear(&r);
    g_free(args);
    fake_swtpm_free(f);
    g_rmdir(dir);
    g_free(dir);
  }
}
END_TEST

START_TEST(device_help) {
  QTestRunResult r = qtest_run_binary("-machine pseries -device help", 30000);
  ck_assert_int_eq(r.status, 0);
  ck_assert_ptr_nonnull(strstr(r.out, "name \"tpm-spapr\", bus spapr-vio-bus\n"));
  qtest_run_result_clear(&r);
  r = qtest_run_binary("-machine pseries -device tpm-spapr,help", 30000);
  ck_assert_int_eq(r.status, 0);
  ck_assert_str_eq(r.out, "tpm-spapr options:\n"
                          "  reg=<uint32>           -  (default: 4294967295)\n"
                          "  tpmdev=<str>           - ID of a tpm to use as a backend\n");
  qtest_run_result_clear(&r);
}
END_TEST

// ---------------------------------------------------------------------------------------------
// Hypervisor calls

START_TEST(hcall_checks) {
  FakeRig rig;
  Guest &g = rig.g;
  uint64_t u = g.unit;
  ck_assert_int_eq(g.hcall(kHRegCrq, {0x71000001, 0, 0x1000}), kHParameter);  // reserved unit
  ck_assert_int_eq(g.hcall(kHRegCrq, {u, 0, 0x800}), kHParameter);
  ck_assert_int_eq(g.hcall(kHRegCrq, {u, 0, 0x10001000}), kHParameter);
  ck_assert_int_eq(g.hcall(kHRegCrq, {u, 0x10, 0x1000}), kHParameter);
  ck_assert_int_eq(g.hcall(kHRegCrq, {u, 0, 0x1000}), kHSuccess);
  ck_assert_int_eq(g.hcall(kHRegCrq, {u, 0, 0x1000}), kHResource);
  ck_assert_int_eq(g.hcall(kHFreeCrq, {u}), kHSuccess);
  ck_assert_int_eq(g.hcall(kHEnableCrq, {u}), kHSuccess);
  ck_assert_int_eq(g.hcall(kHVioSignal, {u, 2}), kHParameter);
  ck_assert_int_eq(g.hcall(kHVioSignal, {u, 1}), kHSuccess);
  ck_assert_int_eq(g.hcall(kHPutTce, {u, 0x10000000, 3}), kHParameter);
  ck_assert_int_eq(g.hcall(kHPutTce, {u + 1, 0, 3}), kHParameter);
  ck_assert_int_eq(g.put_tce(0x3000, 0x200000), kHSuccess);
  std::vector<uint64_t> out;
  ck_assert_int_eq(g.hcall(kHGetTce, {u, 0x3abc}, &out), kHSuccess);
  ck_assert_uint_eq(out.size(), 1);
  ck_assert_uint_eq(out[0], 0x200000 | kRw);
  ck_assert_int_eq(g.hcall(0x4, {}), kHFunction);
  // Malformed requests get ERR/FAIL and the host carries on.
  const char *bad[][2] = {
      {"hcall", "ERR missing argument"},
      {"hcall 0x108 zz", "ERR invalid number 'zz'"},
      {"hcall 1 1 2 3 4 5 6 7 8 9 10", "ERR too many arguments"},
      {"spapr_dt", "ERR missing argument"},
      {"spapr_dt 0x123456789", "FAIL Unknown device"},
  };
  for (auto &[request, reply] : bad) {
    char *r = qtest_command(g.s, "%s", request);
    ck_assert_str_eq(r, reply);
    g_free(r);
  }
  ck_assert_int_eq(g.hcall(kHEnableCrq, {u}), kHSuccess);
}
END_TEST

START_TEST(no_hcall_without_pseries) {
  // -M none has no VIO bus and so no hypervisor: the commands do not exist.
  QTestState *s = qtest_init("-M none");
  char *r = qtest_command(s, "hcall 0x108 0x71000000 0 0");
  ck_assert_str_eq(r, "FAIL Unknown command 'hcall'");
  g_free(r);
  r = qtest_command(s, "spapr_dt 0x71000000");
  ck_assert_str_eq(r, "FAIL Unknown command 'spapr_dt'");
  g_free(r);
  qtest_quit(s);
}
END_TEST

// ---------------------------------------------------------------------------------------------
// Messages, with the fake swtpm

START_TEST(messages_tpm2) {
  FakeRig rig;
  Guest &g = rig.g;
  g.probe();
  every_message(g, kVtpmVersion20);
  // Unknown messages: no answer.
  ck_assert_int_eq(g.send(kCrqValidCommand, 0x09), kHSuccess);
  ck_assert_int_eq(g.send(0x12, 0x01), kHSuccess);
  ck_assert(!g.pop().has_value());
  // A TPM command: the fake sees exactly the guest's bytes; the response lands in the buffer.
  size_t before = fake_swtpm_data_command_count(rig.swtpm);
  std::vector<uint8_t> cmd = startup_clear();
  std::vector<uint8_t> rsp = g.transact(cmd);
  ck_assert_uint_eq(tpm_hdr_code(rsp.data()), TPM2_RC_SUCCESS);
  ck_assert_uint_eq(fake_swtpm_data_command_count(rig.swtpm), before + 1);
  uint8_t seen[64];
  uint8_t locality = 0xff;
  size_t n = fake_swtpm_data_command(rig.swtpm, before, seen, sizeof(seen), &locality);
  ck_assert_uint_eq(n, cmd.size());
  ck_assert_mem_eq(seen, cmd.data(), n);
  ck_assert(g.transact(bytes(tpm2_cmd_get_random_16, sizeof(tpm2_cmd_get_random_16))).size() >= kHeader);
}
END_TEST

START_TEST(messages_tpm12) {
  FakeRig rig({.tpm2 = false});
  Guest &g = rig.g;
  g.probe();
  every_message(g, kVtpmVersion12);
  char *dt = qtest_command(g.s, "spapr_dt %u", g.unit);
  ck_assert_ptr_nonnull(strstr(dt, (" compatible=" + hex("IBM,vtpm") + "00 ").c_str()));
  g_free(dt);
  std::vector<uint8_t> rsp = g.transact(bytes(tpm12_cmd_startup_clear, sizeof(tpm12_cmd_startup_clear)));
  ck_assert_uint_eq(tpm_hdr_tag(rsp.data()), TPM12_TAG_RSP_COMMAND);
}
END_TEST

START_TEST(interrupt_pulses) {
  char *log_path = g_strdup_printf("%s/tpm-spapr-irq-%d.log", g_get_tmp_dir(), getpid());
  std::string extra = std::string("-qtest-log ") + log_path;
  {
    FakeRig rig({.extra = extra.c_str()});
    Guest &g = rig.g;
    qtest_irq_intercept_out(g.s, kDevicePath);
    g.probe();
    ck_assert_int_eq(g.send(kCrqValidCommand, kVtpmGetVersion), kHSuccess);
    g.wait();
    ck_assert_int_eq(g.hcall(kHVioSignal, {g.unit, 0}), kHSuccess);
    ck_assert_int_eq(g.send(kCrqValidCommand, kVtpmGetVersion), kHSuccess);
    g.wait();
    ck_assert_int_eq(g.hcall(kHVioSignal, {g.unit, 1}), kHSuccess);
    g.transact(startup_clear());
    ck_assert(!qtest_get_irq(g.s, 0));  // pulses: the line is low again
  }
  // Two responses with signalling on, one without: two edges, each raised and lowered.
  gchar *log = nullptr;
  ck_assert(g_file_get_contents(log_path, &log, nullptr, nullptr));
  int raises = 0, lowers = 0;
  for (const char *p = log; (p = strstr(p, "IRQ raise 0\n")); p++) raises++;
  for (const char *p = log; (p = strstr(p, "IRQ lower 0\n")); p++) lowers++;
  ck_assert_int_eq(raises, 2);
  ck_assert_int_eq(lowers, 2);
  g_free(log);
  g_unlink(log_path);
  g_free(log_path);
}
END_TEST

// ---------------------------------------------------------------------------------------------
// Faults

START_TEST(dma_failures) {
  FakeRig rig;
  Guest &g = rig.g;
  g.probe();
  size_t before = fake_swtpm_data_command_count(rig.swtpm);
  // The command's page is not mapped: COPY_IN_FAILED, and the TPM sees nothing.
  g.start_command(startup_clear(), 0x8000);
  expect_element(g.wait(), kCrqValidCommand, kVtpmError, 0, kVtpmErrCopyInFailed);
  ck_assert_uint_eq(fake_swtpm_data_command_count(rig.swtpm), before);
  // Mapped for device reads only: the command runs, the response cannot be written.
  ck_assert_int_eq(g.put_tce(0x8000, 0x180000, kTceRead), kHSuccess);
  g.start_command(startup_clear(), 0x8000, 0x180000);
  expect_element(g.wait(), kCrqValidCommand, kVtpmError, 0, kVtpmErrCopyOutFailed);
  ck_assert_uint_eq(fake_swtpm_data_command_count(rig.swtpm), before + 1);
  uint8_t still[12];
  qtest_memread(g.s, 0x180000, still, sizeof(still));
  ck_assert_mem_eq(still, tpm2_cmd_startup_clear, sizeof(still));
  // The device is fine afterwards.
  ck_assert_uint_eq(tpm_hdr_code(g.transact(startup_clear()).data()), TPM2_RC_SUCCESS);
}
END_TEST

START_TEST(queue_full) {
  FakeRig rig;
  Guest &g = rig.g;
  g.probe();
  for (unsigned i = 0; i < kSlots; i++) ck_assert_int_eq(g.send(kCrqValidCommand, kVtpmGetVersion), kHSuccess);
  // Full: the next response is lost (as in QEMU); nothing is overwritten.
  ck_assert_int_eq(g.send(kCrqValidCommand, kVtpmPrepareToSuspend), kHSuccess);
  for (unsigned i = 0; i < kSlots; i++) {
    expect_element(g.slot(i), kCrqValidCommand, kVtpmGetVersion | kVtpmResponse, 0, kVtpmVersion20);
  }
  for (unsigned i = 0; i < kSlots; i++) g.pop();
  ck_assert(!g.pop().has_value());
  // With room again, the queue goes on where it stopped (slot 0 after the wrap).
  ck_assert_int_eq(g.send(kCrqValidCommand, kVtpmPrepareToSuspend), kHSuccess);
  expect_element(g.wait(), kCrqValidCommand, kVtpmPrepareToSuspend | kVtpmResponse, 0, 0);
  ck_assert_uint_eq(tpm_hdr_code(g.transact(startup_clear()).data()), TPM2_RC_SUCCESS);
}
END_TEST

START_TEST(busy_while_executing) {
  FakeRig rig;
  Guest &g = rig.g;
  g.probe();
  // The fake holds the next command for a minute; the vTPM has no cancel, so the test ends it by
  // taking the fake away (the backend then answers with the fatal response).
  size_t before = fake_swtpm_data_command_count(rig.swtpm);
  fake_swtpm_inject_data(rig.swtpm, FAKE_SWTPM_DATA_SLOW, 1, 60000);
  g.start_command(startup_clear());
  ck_assert(fake_swtpm_wait_data_commands(rig.swtpm, before + 1, 30000));
  ck_assert_int_eq(g.send(kCrqValidCommand, kVtpmTpmCommand, 12, uint32_t(kBufferIoba)), kHBusy);
  ck_assert_uint_eq(fake_swtpm_data_command_count(rig.swtpm), before + 1);
  // Other messages are answered meanwhile.
  ck_assert_int_eq(g.send(kCrqValidCommand, kVtpmGetVersion), kHSuccess);
  expect_element(g.wait(), kCrqValidCommand, kVtpmGetVersion | kVtpmResponse, 0, kVtpmVersion20);
  fake_swtpm_free(rig.swtpm);
  rig.swtpm = nullptr;
  CrqElement r = g.wait();
  expect_element(r, kCrqValidCommand, kVtpmTpmCommand | kVtpmResponse, kHeader, uint32_t(kBufferIoba));
  uint8_t rsp[kHeader];
  qtest_memread(g.s, kBufferGpa, rsp, sizeof(rsp));
  ck_assert_uint_ne(tpm_hdr_code(rsp), TPM2_RC_SUCCESS);
  // Not busy any more.
  ck_assert_int_eq(g.send(kCrqValidCommand, kVtpmTpmCommand, 12, uint32_t(kBufferIoba)), kHSuccess);
}
END_TEST

START_TEST(reset_quiesces_and_restarts) {
  FakeRig rig;
  Guest &g = rig.g;
  g.probe();
  g.transact(startup_clear());
  size_t inits = fake_swtpm_ctrl_count(rig.swtpm, PTM_CMD_INIT);
  system_reset(g.s);
  ck_assert_uint_eq(fake_swtpm_ctrl_count(rig.swtpm, PTM_CMD_INIT), inits + 1);
  // The queue and every TCE are gone, signalling is off.
  std::vector<uint64_t> out;
  ck_assert_int_eq(g.hcall(kHGetTce, {g.unit, kBufferIoba}, &out), kHSuccess);
  ck_assert_uint_eq(out.at(0), 0);
  ck_assert_int_eq(g.hcall(kHRegCrq, {g.unit, kQueueIoba, kQueueSize}), kHSuccess);  // not H_RESOURCE
  ck_assert_int_eq(g.hcall(kHFreeCrq, {g.unit}), kHSuccess);
  // The unit address survives a reset.
  ck_assert_uint_eq(qom_reg(g.s), g.unit);
  g.probe();
  ck_assert_uint_eq(tpm_hdr_code(g.transact(startup_clear()).data()), TPM2_RC_SUCCESS);
}
END_TEST

START_TEST(startup_failure_at_reset) {
  FakeRig rig;
  Guest &g = rig.g;
  // swtpm refuses CMD_INIT at the next reset: QEMU exits; qtpm keeps the machine running.
  fake_swtpm_inject_ctrl(rig.swtpm, PTM_CMD_INIT, FAKE_SWTPM_CTRL_RESULT, 1, 0x101);
  system_reset(g.s);
  g.probe();
  ck_assert_int_eq(g.send(kCrqValidCommand, kVtpmGetVersion), kHSuccess);
  expect_element(g.wait(), kCrqValidCommand, kVtpmGetVersion | kVtpmResponse, 0, kVtpmVersion20);
  std::vector<uint8_t> rsp = g.transact(startup_clear());
  ck_assert_uint_ne(tpm_hdr_code(rsp.data()), TPM2_RC_SUCCESS);  // the fatal response
  json_object *ret = qtest_qmp_assert_success_ref(g.s, "{'execute': 'query-status'}");
  ck_assert_str_eq(json_object_get_string(host_test_member(ret, "status", json_type_string)), "running");
  json_object_put(ret);
  // The next reset, with a willing TPM, recovers.
  system_reset(g.s);
  g.probe();
  ck_assert_uint_eq(tpm_hdr_code(g.transact(startup_clear()).data()), TPM2_RC_SUCCESS);
}
END_TEST

// ---------------------------------------------------------------------------------------------
// A real swtpm

START_TEST(real_swtpm_tpm2_pcrs) {
  TpmSwtpm sw;
  tpm_swtpm_start(&sw, true);
  Guest g;
  g.s = qtest_initf("-machine pseries -chardev socket,id=chrtpm,path=%s "
                    "-tpmdev emulator,id=dev0,chardev=chrtpm -device tpm-spapr,id=vtpm,tpmdev=dev0",
                    sw.ctrl_path);
  g.unit = qom_reg(g.s);
  g.probe();
  every_message(g, kVtpmVersion20);

  std::vector<uint8_t> rsp = g.transact(startup_clear());
  ck_assert_uint_eq(tpm_hdr_code(rsp.data()), TPM2_RC_SUCCESS);
  rsp = g.transact(bytes(tpm2_cmd_pcr_read_10, sizeof(tpm2_cmd_pcr_read_10)));
  ck_assert_uint_eq(tpm_hdr_code(rsp.data()), TPM2_RC_SUCCESS);
  uint8_t before[32];
  ck_assert(tpm2_pcr_read_value(rsp.data(), rsp.size(), before));
  rsp = g.transact(bytes(tpm2_cmd_pcr_extend_10, sizeof(tpm2_cmd_pcr_extend_10)));
  ck_assert_uint_eq(tpm_hdr_code(rsp.data()), TPM2_RC_SUCCESS);
  rsp = g.transact(bytes(tpm2_cmd_pcr_read_10, sizeof(tpm2_cmd_pcr_read_10)));
  ck_assert_uint_eq(tpm_hdr_code(rsp.data()), TPM2_RC_SUCCESS);
  uint8_t after[32];
  ck_assert(tpm2_pcr_read_value(rsp.data(), rsp.size(), after));
  // PCR_new = SHA-256(PCR_old || digest)
  GChecksum *sum = g_checksum_new(G_CHECKSUM_SHA256);
  g_checksum_update(sum, before, 32);
  g_checksum_update(sum, tpm2_extend_digest, 32);
  uint8_t expected[32];
  gsize len = sizeof(expected);
  g_checksum_get_digest(sum, expected, &len);
  g_checksum_free(sum);
  ck_assert_mem_eq(after, expected, 32);
  rsp = g.transact(bytes(tpm2_cmd_get_random_16, sizeof(tpm2_cmd_get_random_16)));
  ck_assert_uint_eq(tpm_hdr_code(rsp.data()), TPM2_RC_SUCCESS);
  ck_assert_uint_eq(rsp.size(), kHeader + 2 + 16);
  qtest_quit(g.s);
  tpm_swtpm_stop(&sw);
}
END_TEST

START_TEST(real_swtpm_tpm12) {
  TpmSwtpm sw;
  tpm_swtpm_start(&sw, false);
  Guest g;
  g.s = qtest_initf("-machine pseries -chardev socket,id=chrtpm,path=%s "
                    "-tpmdev emulator,id=dev0,chardev=chrtpm -device tpm-spapr,id=vtpm,tpmdev=dev0",
                    sw.ctrl_path);
  g.unit = qom_reg(g.s);
  g.probe();
  every_message(g, kVtpmVersion12);
  std::vector<uint8_t> rsp = g.transact(bytes(tpm12_cmd_startup_clear, sizeof(tpm12_cmd_startup_clear)));
  ck_assert_uint_eq(tpm_hdr_code(rsp.data()), 0);
  rsp = g.transact(bytes(tpm12_cmd_extend_10, sizeof(tpm12_cmd_extend_10)));
  ck_assert_uint_eq(tpm_hdr_code(rsp.data()), 0);
  ck_assert_uint_eq(rsp.size(), kHeader + 20);
  qtest_quit(g.s);
  tpm_swtpm_stop(&sw);
}
END_TEST

int main() {
  host_test_require_binary();
  if (!host_test_has_device("tpm-spapr")) {
    std::printf("SKIP: this qtpm-system has no tpm-spapr\n");
    return HOST_TEST_SKIP;
  }
  Suite *s = suite_create("tpm-spapr");
  TCase *tc = tcase_create("tpm-spapr");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, unit_address_and_device_tree);
  tcase_add_test(tc, unit_address_nodefaults_and_explicit);
  tcase_add_test(tc, device_help);
  tcase_add_test(tc, hcall_checks);
  tcase_add_test(tc, no_hcall_without_pseries);
  tcase_add_test(tc, messages_tpm2);
  tcase_add_test(tc, messages_tpm12);
  tcase_add_test(tc, interrupt_pulses);
  tcase_add_test(tc, dma_failures);
  tcase_add_test(tc, queue_full);
  tcase_add_test(tc, busy_while_executing);
  tcase_add_test(tc, reset_quiesces_and_restarts);
  tcase_add_test(tc, startup_failure_at_reset);
  tcase_add_test(tc, real_swtpm_tpm2_pcrs);
  tcase_add_test(tc, real_swtpm_tpm12);
  suite_add_tcase(s, tc);
  return host_test_run(s);
}
