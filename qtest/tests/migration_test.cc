// SPDX-License-Identifier: GPL-2.0-or-later
//
// Migration qtests (docs/migration.md): two qtpm-system processes driven through the client
// library, as QEMU's own tpm-*-swtpm-test migration cases drive two QEMUs.  The device comes from
// $QTPM_TEST_DEVICE (tpm-crb, tpm-tis, tpm-tis-device); the TPM behind it is a real swtpm (one
// per process, each with its own state directory), the in-process libtpms backend, or the
// fault-injecting fake swtpm where a test needs to hold a command or count control commands.
//
//  - save/restore (exec:cat > FILE, then a new process with -incoming "exec:cat < FILE") and
//    live migration over unix: and tcp:127.0.0.1, for both backends: a PCR extended before
//    reads the same after, a transient object's saved context loads after, the object itself
//    is still loaded under its handle;
//  - a command in flight when the migration starts completes, and its response is read on the
//    destination;
//  - corrupt, truncated, wrong-version and mismatched streams (device, TPM version, backend type,
//    machine type, device path) are refused with one line on the destination's stderr and in
//    its query-migrate; over a socket the source learns why, fails the migration and runs on
//    with its TPM intact;
//  - passthrough refuses to migrate; a destination that is absent, never accepts or never
//    answers fails (or is cancelled) without hanging the source;
//  - QEMU's shapes: query-migrate from the start on the destination, MIGRATION / STOP / RESUME
//    events, run states (postmigrate, -S, a paused source), migrate's refusals.
//
// Exits 77 (skip) when the host or the device is not built.
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "backends/tpm/tests/fake_swtpm_c.h"
#include "backends/tpm/tests/tpm_test_commands.h"
#include "host_test.h"
#include "hw/tpm/crb/tpm_crb_regs.h"
#include "hw/tpm/spapr/spapr_crq.h"
#include "hw/tpm/spapr/spapr_papr.h"
#include "hw/tpm/tis/tpm_tis_regs.h"
#include "qom/testing.h"  // <check.h> without its `fail` macro, before any C++ header
#include "qtest/libqtest/tpm_util.h"

using namespace qtpm::testing;

namespace {

// ---------------------------------------------------------------------------------------------
// The device under test

const char *device() {
  const char *d = std::getenv("QTPM_TEST_DEVICE");
  return d && *d ? d : "tpm-crb";
}
bool is_crb() { return std::strcmp(device(), "tpm-crb") == 0; }
bool is_spapr() { return std::strcmp(device(), "tpm-spapr") == 0; }
bool is_x86() { return std::strcmp(qtest_get_arch(), "x86_64") == 0; }
// The name of the target's machine's RAM block (docs/host.md).
const char *ram_name() {
  if (std::strcmp(qtest_get_arch(), "aarch64") == 0) return "mach-virt.ram";
  if (std::strcmp(qtest_get_arch(), "ppc64") == 0) return "ppc_spapr.ram";
  return "pc.ram";
}
// Where guest RAM starts on the target's machine.
uint64_t ram_base() { return std::strcmp(qtest_get_arch(), "aarch64") == 0 ? 0x40000000 : 0; }
uint64_t tis_base() { return is_x86() ? qtpm::tis::kIsaBase : TPM_TIS_ARM_VIRT_BASE; }

// ---------------------------------------------------------------------------------------------
// A TPM behind a host: real swtpm, libtpms, or the fake swtpm

enum class Backend { kSwtpm, kLibtpms, kFake, kPassthrough };

// A host TPM for the passthrough backend: a pseudo terminal in raw mode whose master side a
// thread answers, every command with a TPM 2.0 success header (which is what the backend's
// version probe needs).
class PtyTpm {
 public:
  PtyTpm() {
    master_ = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    ck_assert_int_ge(master_, 0);
    ck_assert(grantpt(master_) == 0 && unlockpt(master_) == 0);
    path_ = ptsname(master_);
    // The slave stays open here so that its raw mode holds while the backend opens it.
    slave_ = open(path_.c_str(), O_RDWR | O_NOCTTY | O_CLOEXEC);
    ck_assert_int_ge(slave_, 0);
    termios t;
    ck_assert(tcgetattr(slave_, &t) == 0);
    cfmakeraw(&t);
    ck_assert(tcsetattr(slave_, TCSANOW, &t) == 0);
    thread_ = std::thread([this] { serve(); });
  }
  ~PtyTpm() {
    stop_ = true;
    thread_.join();
    close(slave_);
    close(master_);
  }
  const std::string &path() const { return path_; }

 private:
  void serve() {
    Bytes pending;
    while (!stop_) {
      pollfd p{master_, POLLIN, 0};
      if (poll(&p, 1, 20) <= 0 || !(p.revents & POLLIN)) continue;
      uint8_t buf[4096];
      ssize_t n = read(master_, buf, sizeof(buf));
      if (n <= 0) continue;
      pending.insert(pending.end(), buf, buf + n);
      // One command is complete when its header's size has arrived.
      while (pending.size() >= 10 && pending.size() >= get32(pending, 2)) {
        pending.erase(pending.begin(), pending.begin() + get32(pending, 2));
        static const uint8_t kSuccess[10] = {0x80, 0x01, 0, 0, 0, 10, 0, 0, 0, 0};
        (void)!write(master_, kSuccess, sizeof(kSuccess));
      }
    }
  }
  int master_ = -1;
  int slave_ = -1;
  std::string path_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

class TpmBehind {
 public:
  TpmBehind(Backend b, bool tpm2, uint32_t fake_caps) : backend_(b), tpm2_(tpm2) {
    if (b == Backend::kSwtpm) tpm_swtpm_start(&sw_, tpm2);
    if (b == Backend::kPassthrough) pty_ = std::make_unique<PtyTpm>();
    if (b == Backend::kFake) {
      dir_ = g_dir_make_tmp("qtpm-mig-fake-XXXXXX", nullptr);
      ck_assert_ptr_nonnull(dir_);
      std::string ctrl = std::string(dir_) + "/ctrl";
      fake_ = fake_swtpm_start(ctrl.c_str(), tpm2 ? 1 : 0);
      ck_assert_ptr_nonnull(fake_);
      if (fake_caps) fake_swtpm_set_caps(fake_, fake_caps);
    }
  }
  ~TpmBehind() {
    if (backend_ == Backend::kSwtpm) tpm_swtpm_stop(&sw_);
    if (fake_) fake_swtpm_free(fake_);
    if (dir_) {
      g_rmdir(dir_);
      g_free(dir_);
    }
  }
  TpmBehind(const TpmBehind &) = delete;
  TpmBehind &operator=(const TpmBehind &) = delete;

  // The -chardev/-tpmdev options naming this TPM as backend "dev0".
  std::string args() const {
    switch (backend_) {
      case Backend::kSwtpm:
        return std::string("-chardev socket,id=chrtpm,path=") + sw_.ctrl_path +
               " -tpmdev emulator,id=dev0,chardev=chrtpm";
      case Backend::kFake:
        return std::string("-chardev socket,id=chrtpm,path=") + fake_swtpm_ctrl_path(fake_) +
               " -tpmdev emulator,id=dev0,chardev=chrtpm";
      case Backend::kLibtpms:
        return std::string("-tpmdev libtpms,id=dev0,version=") + (tpm2_ ? "2.0" : "1.2");
      case Backend::kPassthrough:
        return "-tpmdev passthrough,id=dev0,path=" + pty_->path() + ",cancel-path=/dev/null";
    }
    return "";
  }
  fake_swtpm *fake() const { return fake_; }

 private:
  Backend backend_;
  bool tpm2_;
  TpmSwtpm sw_{};
  std::unique_ptr<PtyTpm> pty_;
  fake_swtpm *fake_ = nullptr;
  char *dir_ = nullptr;
};

// One qtpm-system process with the device under test (id tpm0) on a TPM, its stderr kept in a
// file so that tests can read the lines it printed.
struct VmOptions {
  Backend backend = Backend::kLibtpms;
  bool tpm2 = true;
  uint32_t fake_caps = 0;   // the fake swtpm's capabilities (0: swtpm 0.7.1's)
  std::string incoming;     // -incoming URI (shell-quoted here)
  std::string extra;        // more options
  std::string device_args;  // replaces "-device <device>,id=tpm0,tpmdev=dev0"
  std::string machine;      // replaces the target's default machine option
};

class Vm {
 public:
  explicit Vm(const VmOptions &o) : tpm_(o.backend, o.tpm2, o.fake_caps) {
    dir_ = g_dir_make_tmp("qtpm-mig-vm-XXXXXX", nullptr);
    ck_assert_ptr_nonnull(dir_);
    err_ = std::string(dir_) + "/stderr";
    std::string dev = o.device_args.empty()
                          ? std::string("-device ") + device() + ",id=tpm0,tpmdev=dev0"
                          : o.device_args;
    std::string machine = o.machine.empty() ? host_test_machine() : o.machine;
    std::string args = machine + " " + tpm_.args() + " " + dev + " " + o.extra;
    if (!o.incoming.empty()) args += " -incoming '" + o.incoming + "'";
    args += " 2>" + err_;
    s = qtest_init(args.c_str());
  }
  ~Vm() {
    if (s) qtest_quit(s);
    g_unlink(err_.c_str());
    g_rmdir(dir_);
    g_free(dir_);
  }
  Vm(const Vm &) = delete;
  Vm &operator=(const Vm &) = delete;

  std::string stderr_text() const {
    gchar *text = nullptr;
    g_file_get_contents(err_.c_str(), &text, nullptr, nullptr);
    std::string out = text ? text : "";
    g_free(text);
    return out;
  }
  std::string file(const char *name) const { return std::string(dir_) + "/" + name; }
  fake_swtpm *fake() const { return tpm_.fake(); }

  QTestState *s = nullptr;
  // The guest driver's side of a pseries vTPM (tpm_ibmvtpm): set up once, then the queue index.
  bool crq_ready = false;
  unsigned crq_next = 0;

  // After this VM took another's state by migration: the guest driver's view comes along too.
  void adopt_guest(const Vm &source) {
    crq_ready = source.crq_ready;
    crq_next = source.crq_next;
  }

 private:
  TpmBehind tpm_;
  char *dir_ = nullptr;
  std::string err_;
};

// ---------------------------------------------------------------------------------------------
// TPM commands through the device, as a guest driver sends them

// The pseries vTPM as Linux's tpm_ibmvtpm drives it (PAPR+ VIO CRQ, hw/tpm/spapr/spapr_crq.h):
// hypervisor calls through qtpm's `hcall` qtest command, the queue and buffer in guest RAM.
namespace spapr_guest {

using namespace qtpm::spapr;
constexpr uint64_t kQueueGpa = 0x100000, kBufferGpa = 0x101000;
constexpr uint64_t kQueueIoba = 0x0, kBufferIoba = 0x1000, kQueueSize = 0x1000;
constexpr unsigned kSlots = kQueueSize / kCrqElementSize;

int64_t hcall(Vm &vm, uint64_t opcode, std::vector<uint64_t> args) {
  std::string line = "hcall " + std::to_string(opcode);
  for (uint64_t a : args) line += " " + std::to_string(a);
  char *reply = qtest_command(vm.s, "%s", line.c_str());
  ck_assert_msg(g_str_has_prefix(reply, "OK "), "%s -> %s", line.c_str(), reply);
  int64_t status = g_ascii_strtoll(reply + 3, nullptr, 10);
  g_free(reply);
  return status;
}

uint32_t unit(Vm &vm) {
  json_object *r = qtest_qmp_assert_success_ref(
      vm.s,
      "{'execute': 'qom-get', 'arguments': {'path': '/machine/peripheral/tpm0', "
      "'property': 'reg'}}");
  uint32_t reg = static_cast<uint32_t>(json_object_get_int64(r));
  json_object_put(r);
  return reg;
}

// The driver's probe: zeroed queue, both pages mapped, queue registered, interrupts on.
void probe(Vm &vm) {
  uint32_t u = unit(vm);
  qtest_memset(vm.s, kQueueGpa, 0, kQueueSize);
  ck_assert_int_eq(hcall(vm, kHPutTce, {u, kQueueIoba, kQueueGpa | kTceRead | kTceWrite}),
                   kHSuccess);
  ck_assert_int_eq(hcall(vm, kHPutTce, {u, kBufferIoba, kBufferGpa | kTceRead | kTceWrite}),
                   kHSuccess);
  ck_assert_int_eq(hcall(vm, kHRegCrq, {u, kQueueIoba, kQueueSize}), kHSuccess);
  ck_assert_int_eq(hcall(vm, kHVioSignal, {u, 1}), kHSuccess);
  vm.crq_ready = true;
  vm.crq_next = 0;
}

void start_command(Vm &vm, const Bytes &cmd) {
  if (!vm.crq_ready) probe(vm);
  qtest_memwrite(vm.s, kBufferGpa, cmd.data(), cmd.size());
  CrqElement e{.valid = kCrqValidCommand,
               .msg = kVtpmTpmCommand,
               .len = static_cast<uint16_t>(cmd.size()),
               .data = static_cast<uint32_t>(kBufferIoba)};
  ck_assert_int_eq(hcall(vm, kHSendCrq, {unit(vm), e.word0(), e.word1()}), kHSuccess);
}

// The next response in the queue (consumed, as the driver does), or nothing yet.
std::optional<CrqElement> pop(Vm &vm) {
  uint64_t at = kQueueGpa + vm.crq_next * kCrqElementSize;
  uint8_t raw[kCrqElementSize];
  qtest_memread(vm.s, at, raw, sizeof(raw));
  CrqElement e =
      CrqElement::decode(std::span<const uint8_t, kCrqElementSize>(raw, kCrqElementSize));
  if (!(e.valid & 0x80)) return std::nullopt;
  qtest_writeb(vm.s, at, 0);
  vm.crq_next = (vm.crq_next + 1) % kSlots;
  return e;
}

Bytes response(Vm &vm, const CrqElement &e) {
  ck_assert_msg(e.valid == kCrqValidCommand && e.msg == (kVtpmTpmCommand | kVtpmResponse),
                "CRQ element valid 0x%02x msg 0x%02x data 0x%x", e.valid, e.msg, e.data);
  ck_assert_uint_eq(e.data, kBufferIoba);
  Bytes rsp(e.len);
  qtest_memread(vm.s, kBufferGpa, rsp.data(), rsp.size());
  return rsp;
}

// Polls the queue (a guard against a hang, not a time limit: the host completes the command
// between two qtest commands).
Bytes wait_response(Vm &vm) {
  for (int i = 0; i < 60000; i++) {
    if (std::optional<CrqElement> e = pop(vm)) return response(vm, *e);
    g_usleep(1000);
  }
  ck_abort_msg("no response in the CRQ");
  return {};
}

}  // namespace spapr_guest

Bytes transmit(Vm &vm, const Bytes &cmd) {
  if (is_spapr()) {
    spapr_guest::start_command(vm, cmd);
    return spapr_guest::wait_response(vm);
  }
  Bytes rsp(4096);
  size_t n =
      is_crb()
          ? tpm_crb_transmit(vm.s, TPM_CRB_BASE, cmd.data(), cmd.size(), rsp.data(), rsp.size())
          : tpm_tis_transmit(vm.s, tis_base(), 0, cmd.data(), cmd.size(), rsp.data(), rsp.size());
  rsp.resize(n);
  return rsp;
}

void expect_success(const Bytes &rsp, const char *what) {
  ck_assert_msg(rsp.size() >= 10 && rc_of(rsp) == kTpmRcSuccess, "%s: rc 0x%x (%zu bytes)", what,
                rc_of(rsp), rsp.size());
}

void startup(Vm &vm) { expect_success(transmit(vm, tpm2_startup(0)), "TPM2_Startup"); }

Bytes pcr10(Vm &vm) {
  Bytes rsp = transmit(vm, tpm2_pcr_read_sha256(10));
  expect_success(rsp, "TPM2_PCR_Read");
  return tpm2_pcr_read_digest(rsp);
}

void extend10(Vm &vm, uint8_t fill) {
  expect_success(transmit(vm, tpm2_pcr_extend_sha256(10, Bytes(32, fill))), "TPM2_PCR_Extend");
}

uint32_t create_primary(Vm &vm) {
  Bytes rsp = transmit(vm, tpm2_create_primary_ecc());
  expect_success(rsp, "TPM2_CreatePrimary");
  return get32(rsp, 10);
}

// TPM2_ContextSave: the TPMS_CONTEXT (everything after the header).
Bytes context_save(Vm &vm, uint32_t handle) {
  Bytes rsp = transmit(vm, Cmd(kTpmStNoSessions, 0x162).u32(handle).finish());
  expect_success(rsp, "TPM2_ContextSave");
  return Bytes(rsp.begin() + 10, rsp.end());
}

// TPM2_ContextLoad: the handle the context got.
uint32_t context_load(Vm &vm, const Bytes &context) {
  Bytes rsp = transmit(vm, Cmd(kTpmStNoSessions, 0x161).bytes(context).finish());
  expect_success(rsp, "TPM2_ContextLoad");
  return get32(rsp, 10);
}

void read_public(Vm &vm, uint32_t handle) {
  expect_success(transmit(vm, tpm2_read_public(handle)), "TPM2_ReadPublic");
}

// ---------------------------------------------------------------------------------------------
// QMP

std::string str_member(json_object *o, const char *key) {
  json_object *v = nullptr;
  if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
    return "";
  return json_object_get_string(v);
}

// query-migrate's return value (a new reference).
json_object *query_migrate(Vm &vm) {
  json_object *r = qtest_qmp_assert_success_ref(vm.s, "{'execute': 'query-migrate'}");
  return r;
}

std::string run_state(Vm &vm) {
  json_object *r = qtest_qmp_assert_success_ref(vm.s, "{'execute': 'query-status'}");
  std::string s = str_member(r, "status");
  json_object_put(r);
  return s;
}

struct MigrationOutcome {
  std::string status;
  std::string error;
};

// Polls query-migrate until the migration ended.  (A guard against a hang, not a time limit on
// the host: it has a bounded timeout of its own.)
MigrationOutcome wait_migration(Vm &vm) {
  for (int i = 0; i < 60000; i++) {
    json_object *r = query_migrate(vm);
    MigrationOutcome out{str_member(r, "status"), str_member(r, "error-desc")};
    json_object_put(r);
    if (out.status == "completed" || out.status == "failed" || out.status == "cancelled")
      return out;
    g_usleep(1000);
  }
  ck_abort_msg("the migration did not end");
  return {};
}

void migrate(Vm &src, const std::string &uri) {
  json_object *args = json_object_new_object();
  json_object_object_add(args, "uri", json_object_new_string(uri.c_str()));
  std::string text = json_object_to_json_string(args);
  json_object_put(args);
  json_object_put(
      qtest_qmp_assert_success_ref(src.s, "{'execute': 'migrate', 'arguments': %s}", text.c_str()));
}

// The error a QMP command answers with ("" if it succeeded).
std::string qmp_error(Vm &vm, const char *fmt, const char *arg = "") {
  json_object *r = qtest_qmp(vm.s, fmt, arg);
  json_object *err = nullptr, *desc = nullptr;
  std::string out;
  if (json_object_object_get_ex(r, "error", &err) &&
      json_object_object_get_ex(err, "desc", &desc)) {
    out = json_object_get_string(desc);
  }
  json_object_put(r);
  return out;
}

void enable_events(Vm &vm) {
  json_object_put(qtest_qmp_assert_success_ref(
      vm.s,
      "{'execute': 'migrate-set-capabilities', 'arguments': {'capabilities': "
      "[{'capability': 'events', 'state': true}]}}"));
}

std::string migration_event(Vm &vm) {
  json_object *e = qtest_qmp_eventwait_ref(vm.s, "MIGRATION");
  json_object *data = nullptr;
  json_object_object_get_ex(e, "data", &data);
  std::string status = str_member(data, "status");
  json_object_put(e);
  return status;
}

bool contains(const std::string &s, const std::string &needle) {
  return s.find(needle) != std::string::npos;
}

// Compares strings; `got` is held here because Check evaluates its arguments twice.
void expect_str(const std::string &got, const std::string &want) {
  ck_assert_msg(got == want, "got '%s', expected '%s'", got.c_str(), want.c_str());
}

// A private directory for sockets and saved states.
struct TempDir {
  TempDir() {
    path = g_dir_make_tmp("qtpm-mig-XXXXXX", nullptr);
    ck_assert_ptr_nonnull(path);
  }
  ~TempDir() {
    std::string cmd = std::string("rm -rf '") + path + "'";
    (void)!system(cmd.c_str());
    g_free(path);
  }
  std::string file(const char *name) const { return std::string(path) + "/" + name; }
  char *path;
};

// ---------------------------------------------------------------------------------------------
// The TPM state that must survive

struct TpmFacts {
  Bytes pcr;
  uint32_t object = 0;
  Bytes context;
};

// Guest RAM a test filled: two pages far apart, with patterns, that must come along.
constexpr uint64_t kRamProbes[] = {0x300000, 0x5000000};

Bytes ram_pattern(uint64_t at) {
  Bytes b(4096);
  for (size_t i = 0; i < b.size(); i++) b[i] = static_cast<uint8_t>((at >> 12) * 7 + i * 13 + 1);
  return b;
}

void fill_guest_ram(Vm &vm) {
  for (uint64_t at : kRamProbes) {
    Bytes b = ram_pattern(at);
    qtest_memwrite(vm.s, ram_base() + at, b.data(), b.size());
  }
}

void check_guest_ram(Vm &vm) {
  for (uint64_t at : kRamProbes) {
    Bytes b(4096);
    qtest_memread(vm.s, ram_base() + at, b.data(), b.size());
    ck_assert_msg(b == ram_pattern(at), "guest RAM at 0x%llx did not come along",
                  static_cast<unsigned long long>(at));
  }
}

TpmFacts prepare_tpm(Vm &vm) {
  fill_guest_ram(vm);
  startup(vm);
  extend10(vm, 0x5a);
  TpmFacts f;
  f.pcr = pcr10(vm);
  ck_assert(f.pcr != Bytes(32, 0));
  f.object = create_primary(vm);
  f.context = context_save(vm, f.object);
  return f;
}

// On the destination: the PCR reads the same, the object is still loaded under its handle, its
// saved context loads, and the TPM goes on (an extend moves the PCR as it should).
void check_tpm(Vm &vm, const TpmFacts &f) {
  ck_assert(pcr10(vm) == f.pcr);
  read_public(vm, f.object);
  uint32_t loaded = context_load(vm, f.context);
  read_public(vm, loaded);
  extend10(vm, 0x5a);
  Bytes expected(32);
  {
    GChecksum *c = g_checksum_new(G_CHECKSUM_SHA256);
    g_checksum_update(c, f.pcr.data(), 32);
    Bytes digest(32, 0x5a);
    g_checksum_update(c, digest.data(), 32);
    gsize len = 32;
    g_checksum_get_digest(c, expected.data(), &len);
    g_checksum_free(c);
  }
  ck_assert(pcr10(vm) == expected);
}

enum class Transport { kUnix, kTcp, kExec };

void migrate_and_check(Backend backend, Transport transport) {
  TempDir tmp;
  VmOptions so;
  so.backend = backend;
  Vm src(so);
  enable_events(src);
  TpmFacts facts = prepare_tpm(src);

  VmOptions dopt;
  dopt.backend = backend;
  std::string uri;
  std::unique_ptr<Vm> dst;
  if (transport == Transport::kExec) {
    std::string file = tmp.file("saved-vm");
    migrate(src, "exec:cat > " + file);
    MigrationOutcome out = wait_migration(src);
    ck_assert_msg(out.status == "completed", "%s: %s", out.status.c_str(), out.error.c_str());
    dopt.incoming = "exec:cat < " + file;
    dst = std::make_unique<Vm>(dopt);
  } else {
    dopt.incoming = transport == Transport::kUnix ? "unix:" + tmp.file("mig") : "tcp:127.0.0.1:0";
    dst = std::make_unique<Vm>(dopt);
    json_object *info = query_migrate(*dst);
    expect_str(str_member(info, "status"), "setup");
    json_object *addrs = host_test_member(info, "socket-address", json_type_array);
    json_object *addr = json_object_array_get_idx(addrs, 0);
    uri = transport == Transport::kUnix ? "unix:" + str_member(addr, "path")
                                        : "tcp:127.0.0.1:" + str_member(addr, "port");
    json_object_put(info);
    migrate(src, uri);
  }
  MigrationOutcome d = wait_migration(*dst);
  ck_assert_msg(d.status == "completed", "%s: %s", d.status.c_str(), d.error.c_str());
  expect_str(run_state(*dst), "running");
  // A restore may finish before the test's QMP session is negotiated, and events before that
  // reach no one; over a socket the migration starts later.
  if (transport != Transport::kExec) qtest_qmp_eventwait(dst->s, "RESUME");
  MigrationOutcome s = wait_migration(src);
  ck_assert_msg(s.status == "completed", "%s: %s", s.status.c_str(), s.error.c_str());
  expect_str(run_state(src), "postmigrate");
  // The source's events, in QEMU's order.
  expect_str(migration_event(src), "setup");
  expect_str(migration_event(src), "active");
  qtest_qmp_eventwait(src.s, "STOP");
  expect_str(migration_event(src), "completed");
  dst->adopt_guest(src);
  check_tpm(*dst, facts);
  check_guest_ram(*dst);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// The state survives

START_TEST(swtpm_over_unix) { migrate_and_check(Backend::kSwtpm, Transport::kUnix); }
END_TEST
START_TEST(swtpm_over_tcp) { migrate_and_check(Backend::kSwtpm, Transport::kTcp); }
END_TEST
START_TEST(swtpm_save_restore) { migrate_and_check(Backend::kSwtpm, Transport::kExec); }
END_TEST
START_TEST(libtpms_over_unix) { migrate_and_check(Backend::kLibtpms, Transport::kUnix); }
END_TEST
START_TEST(libtpms_over_tcp) { migrate_and_check(Backend::kLibtpms, Transport::kTcp); }
END_TEST
START_TEST(libtpms_save_restore) { migrate_and_check(Backend::kLibtpms, Transport::kExec); }
END_TEST

// A TPM 1.2 (behind tpm-tis / tpm-tis-device only): its PCR and its started state travel too.
namespace {

Bytes bytes_of(const uint8_t *p, size_t n) { return Bytes(p, p + n); }

Bytes tpm12_pcr10(Vm &vm) {
  Bytes rsp = transmit(vm, bytes_of(tpm12_cmd_pcr_read_10, sizeof(tpm12_cmd_pcr_read_10)));
  expect_success(rsp, "TPM_PCRRead");
  ck_assert_uint_eq(rsp.size(), 10 + 20);
  return Bytes(rsp.begin() + 10, rsp.end());
}

void tpm12_migrate(Backend backend) {
  TempDir tmp;
  VmOptions o;
  o.backend = backend;
  o.tpm2 = false;
  Vm src(o);
  expect_success(transmit(src, bytes_of(tpm12_cmd_startup_clear, sizeof(tpm12_cmd_startup_clear))),
                 "TPM_Startup");
  expect_success(transmit(src, bytes_of(tpm12_cmd_extend_10, sizeof(tpm12_cmd_extend_10))),
                 "TPM_Extend");
  Bytes before = tpm12_pcr10(src);
  ck_assert(before != Bytes(20, 0));
  o.incoming = "unix:" + tmp.file("mig");
  Vm dst(o);
  migrate(src, o.incoming);
  MigrationOutcome d = wait_migration(dst);
  ck_assert_msg(d.status == "completed", "%s: %s", d.status.c_str(), d.error.c_str());
  dst.adopt_guest(src);
  ck_assert(tpm12_pcr10(dst) == before);
  // Started: a second TPM_Startup is refused (TPM_INVALID_POSTINIT, 38).
  Bytes again = transmit(dst, bytes_of(tpm12_cmd_startup_clear, sizeof(tpm12_cmd_startup_clear)));
  ck_assert_uint_eq(rc_of(again), 38);
}

}  // namespace

START_TEST(tpm12_swtpm_over_unix) { tpm12_migrate(Backend::kSwtpm); }
END_TEST
START_TEST(tpm12_libtpms_over_unix) { tpm12_migrate(Backend::kLibtpms); }
END_TEST

// ---------------------------------------------------------------------------------------------
// A command in flight

namespace {

// Starts a command as a guest driver does, without waiting for the response.
void start_command(Vm &vm, const Bytes &cmd) {
  if (is_spapr()) return spapr_guest::start_command(vm, cmd);
  if (is_crb()) {
    using namespace qtpm::crb;
    qtest_writel(vm.s, kBaseAddress + A_LOC_CTRL, loc_ctrl::kRequestAccess);
    qtest_writel(vm.s, kBaseAddress + A_CTRL_REQ, ctrl_req::kCmdReady);
    uint64_t buffer = qtest_readl(vm.s, kBaseAddress + A_CTRL_CMD_LADDR);
    qtest_memwrite(vm.s, buffer, cmd.data(), cmd.size());
    qtest_writel(vm.s, kBaseAddress + A_CTRL_START, ctrl_start::kInvoke.mask());
    return;
  }
  using namespace qtpm::tis;
  uint64_t base = tis_base();
  qtest_writeb(vm.s, base + reg::kAccess, access::kRequestUse);
  ck_assert(qtest_readb(vm.s, base + reg::kAccess) & access::kActiveLocality);
  qtest_writel(vm.s, base + reg::kSts, sts::kCommandReady);
  for (uint8_t b : cmd) qtest_writeb(vm.s, base + reg::kDataFifo, b);
  qtest_writel(vm.s, base + reg::kSts, sts::kGo);
}

// Reads the response of the command started before the migration: it is there already.
Bytes finished_response(Vm &vm) {
  if (is_spapr()) {
    std::optional<qtpm::spapr::CrqElement> e = spapr_guest::pop(vm);
    ck_assert_msg(e.has_value(), "no response in the CRQ");
    return spapr_guest::response(vm, *e);
  }
  if (is_crb()) {
    using namespace qtpm::crb;
    ck_assert_uint_eq(qtest_readl(vm.s, kBaseAddress + A_CTRL_START), 0);
    ck_assert_uint_eq(qtest_readl(vm.s, kBaseAddress + A_CTRL_STS) & ctrl_sts::kTpmSts.mask(), 0);
    uint64_t buffer = qtest_readl(vm.s, kBaseAddress + A_CTRL_RSP_ADDR);
    Bytes rsp(10);
    qtest_memread(vm.s, buffer, rsp.data(), rsp.size());
    uint32_t size = get32(rsp, 2);
    ck_assert(size >= 10 && size <= 4096);
    rsp.resize(size);
    qtest_memread(vm.s, buffer, rsp.data(), rsp.size());
    return rsp;
  }
  using namespace qtpm::tis;
  uint64_t base = tis_base();
  uint32_t status = qtest_readl(vm.s, base + reg::kSts);
  ck_assert_msg((status & (sts::kValid | sts::kDataAvail)) == (sts::kValid | sts::kDataAvail),
                "STS 0x%08x: no response waiting", status);
  Bytes rsp;
  for (int i = 0; i < 10; i++) rsp.push_back(qtest_readb(vm.s, base + reg::kDataFifo));
  uint32_t size = get32(rsp, 2);
  ck_assert(size >= 10 && size <= 4096);
  while (rsp.size() < size) rsp.push_back(qtest_readb(vm.s, base + reg::kDataFifo));
  ck_assert_uint_eq(qtest_readl(vm.s, base + reg::kSts) & sts::kDataAvail, 0);
  return rsp;
}

}  // namespace

START_TEST(command_in_flight_completes_on_the_destination) {
  TempDir tmp;
  VmOptions o;
  o.backend = Backend::kFake;
  Vm src(o);
  o.incoming = "unix:" + tmp.file("mig");
  Vm dst(o);
  startup(src);
  size_t before = fake_swtpm_data_command_count(src.fake());
  size_t dst_before = fake_swtpm_data_command_count(dst.fake());  // the backend's probes
  // The source's swtpm holds its answer to the next command for a while.
  fake_swtpm_inject_data(src.fake(), FAKE_SWTPM_DATA_SLOW, 1, 1500);
  Bytes cmd = tpm2_get_random(16);
  start_command(src, cmd);
  ck_assert(fake_swtpm_wait_data_commands(src.fake(), before + 1, 10000));
  migrate(src, o.incoming);
  MigrationOutcome d = wait_migration(dst);
  ck_assert_msg(d.status == "completed", "%s: %s", d.status.c_str(), d.error.c_str());
  // The response came with the device state: it is there to read, and the command was never
  // sent again to the destination's TPM.
  dst.adopt_guest(src);
  Bytes rsp = finished_response(dst);
  expect_success(rsp, "TPM2_GetRandom");
  ck_assert_uint_eq(rsp.size(), 10 + 2 + 16);
  ck_assert_uint_eq(fake_swtpm_data_command_count(dst.fake()), dst_before);
  ck_assert_uint_eq(fake_swtpm_data_command_count(src.fake()), before + 1);
  // The destination's TPM was started from the source's state, as QEMU's post_load does.
  ck_assert(fake_swtpm_running(dst.fake()));
  // The device goes on: the next command runs on the destination's TPM.
  expect_success(transmit(dst, tpm2_get_random(8)), "TPM2_GetRandom after migration");
  ck_assert_uint_eq(fake_swtpm_data_command_count(dst.fake()), dst_before + 1);
}
END_TEST

START_TEST(command_in_flight_completes_on_the_source_when_refused) {
  TempDir tmp;
  VmOptions o;
  o.backend = Backend::kFake;
  Vm src(o);
  startup(src);
  size_t before = fake_swtpm_data_command_count(src.fake());
  fake_swtpm_inject_data(src.fake(), FAKE_SWTPM_DATA_SLOW, 1, 1000);
  start_command(src, tpm2_get_random(16));
  ck_assert(fake_swtpm_wait_data_commands(src.fake(), before + 1, 10000));
  VmOptions d;
  d.backend = Backend::kLibtpms;  // refused: another backend type
  d.incoming = "unix:" + tmp.file("mig");
  Vm dst(d);
  migrate(src, d.incoming);
  expect_str(wait_migration(src).status, "failed");
  expect_str(run_state(src), "running");
  // The guest on the source gets its response (a vTPM delivers the one it parked).
  Bytes rsp = finished_response(src);
  expect_success(rsp, "TPM2_GetRandom");
  ck_assert_uint_eq(rsp.size(), 10 + 2 + 16);
}
END_TEST

// ---------------------------------------------------------------------------------------------
// Refused streams: the destination says why, the source runs on with its TPM

namespace {

constexpr uint32_t kCtrlLockStorage = 0x13;

// Migrates `src` to a new destination built from `dopt`, which must refuse with `reason`.
// `before` runs on the destination before the migration, `after` once it refused.
void expect_refusal(Vm &src, TempDir &tmp, VmOptions dopt, const std::string &reason,
                    const std::function<void(Vm &)> &before = nullptr,
                    const std::function<void(Vm &)> &after = nullptr) {
  static int n = 0;
  std::string uri = "unix:" + tmp.file(("mig" + std::to_string(n++)).c_str());
  dopt.incoming = uri;
  Vm dst(dopt);
  if (before) before(dst);
  migrate(src, uri);
  MigrationOutcome d = wait_migration(dst);
  ck_assert_str_eq(d.status.c_str(), "failed");
  ck_assert_msg(contains(d.error, reason), "destination: '%s', expected '%s'", d.error.c_str(),
                reason.c_str());
  ck_assert_msg(contains(dst.stderr_text(), "qtpm-system-" + std::string(qtest_get_arch()) +
                                                ": incoming migration failed: " + d.error + "\n"),
                "stderr: %s", dst.stderr_text().c_str());
  expect_str(run_state(dst), "inmigrate");
  if (after) after(dst);
  MigrationOutcome s = wait_migration(src);
  ck_assert_str_eq(s.status.c_str(), "failed");
  expect_str(s.error, "the destination refused the state: " + d.error);
  expect_str(run_state(src), "running");
  qtest_qmp_eventwait(src.s, "STOP");
  qtest_qmp_eventwait(src.s, "RESUME");
}

}  // namespace

START_TEST(mismatched_destinations_refuse_and_the_source_runs_on) {
  TempDir tmp;
  VmOptions so;
  so.backend = Backend::kLibtpms;
  Vm src(so);
  TpmFacts facts = prepare_tpm(src);
  VmOptions same;
  same.backend = Backend::kLibtpms;

  VmOptions other_path = same;
  other_path.device_args = std::string("-device ") + device() + ",id=tpm1,tpmdev=dev0";
  // (A vTPM's TCE table comes before the device, and is the first object missing.)
  expect_refusal(src, tmp, other_path,
                 is_spapr() ? "the source has device spapr-tce-table at /machine/peripheral/tpm0/"
                              "tce-table-"
                            : "the source has device " + std::string(device()) +
                                  " at /machine/peripheral/tpm0, this machine has no device there");
  VmOptions more_ram = same;
  more_ram.extra = "-m 256M";
  expect_refusal(src, tmp, more_ram,
                 "guest RAM '" + std::string(ram_name()) +
                     "': the source has 128 MiB, this machine 256 MiB (give the destination -m "
                     "128M)");
  if (tpm_swtpm_available(true)) {
    VmOptions swtpm = same;
    swtpm.backend = Backend::kSwtpm;
    expect_refusal(src, tmp, swtpm,
                   "the TPM backend of /machine/peripheral/tpm0/tpmdev is tpm-libtpms on the "
                   "source and tpm-emulator here");
  }
  if (!is_crb()) {  // tpm-crb is TPM 2.0 only
    VmOptions tpm12 = same;
    tpm12.tpm2 = false;
    expect_refusal(src, tmp, tpm12, "is a TPM 2.0, this one is a TPM 1.2");
  }
  if (is_x86()) {
    VmOptions q35 = same;
    q35.machine = "-machine q35";
    expect_refusal(src, tmp, q35,
                   "the stream is from machine type 'pc-i440fx-7.2', this machine is "
                   "'pc-q35-7.2'");
    VmOptions other_device = same;
    const char *other = is_crb() ? "tpm-tis" : "tpm-crb";
    other_device.device_args = std::string("-device ") + other + ",id=tpm0,tpmdev=dev0";
    expect_refusal(src, tmp, other_device,
                   "the source has " + std::string(device()) +
                       " at /machine/peripheral/tpm0, this machine has " + other + " there");
    // The same device, configured differently: the device itself refuses its section.
    VmOptions no_ppi = same;
    no_ppi.device_args = std::string("-device ") + device() + ",id=tpm0,tpmdev=dev0,ppi=off";
    expect_refusal(src, tmp, no_ppi,
                   std::string("device ") + device() + " at /machine/peripheral/tpm0: ");
  }
  // After all that the TPM is as it was, and a matching destination takes it.
  ck_assert(pcr10(src) == facts.pcr);
  same.incoming = "unix:" + tmp.file("good");
  Vm dst(same);
  migrate(src, same.incoming);
  MigrationOutcome d = wait_migration(dst);
  ck_assert_msg(d.status == "completed", "%s: %s", d.status.c_str(), d.error.c_str());
  dst.adopt_guest(src);
  check_tpm(dst, facts);
}
END_TEST

// What a guest sees of the device's locality state: CRB LOC_STATE, TIS locality 0's ACCESS.
uint32_t locality_view(Vm &vm) {
  if (is_spapr()) return 0;  // no localities; what the rollback restores is checked elsewhere
  if (is_crb()) return qtest_readl(vm.s, qtpm::crb::kBaseAddress + qtpm::crb::A_LOC_STATE);
  return qtest_readb(vm.s, tis_base() + qtpm::tis::reg::kAccess);
}

START_TEST(a_backend_refusing_its_state_rolls_the_devices_back) {
  TempDir tmp;
  VmOptions o;
  o.backend = Backend::kFake;
  Vm src(o);
  startup(src);  // the source's device now has locality 0
  uint32_t src_view = locality_view(src);
  uint32_t dst_view = 0;
  constexpr uint32_t kCtrlSetStateBlob = 0x0d;
  expect_refusal(
      src, tmp, o,
      "backend tpm-emulator at /machine/peripheral/tpm0/tpmdev: tpm-emulator: setting state "
      "blob (type 1): ",
      [&](Vm &dst) {
        dst_view = locality_view(dst);
        if (!is_spapr()) ck_assert_uint_ne(dst_view, src_view);  // the load would show
        fake_swtpm_inject_ctrl(dst.fake(), kCtrlSetStateBlob, FAKE_SWTPM_CTRL_RESULT, 1, 9);
      },
      [&](Vm &dst) {
        // The device had loaded its state before the backend refused; it got its own back.
        ck_assert_uint_eq(locality_view(dst), dst_view);
        if (is_spapr()) {  // the source's queue registration did not stay either
          using namespace qtpm::spapr;
          ck_assert_int_eq(spapr_guest::hcall(dst, kHRegCrq, {spapr_guest::unit(dst), 0, 0x1000}),
                           kHSuccess);
        }
        ck_assert(!fake_swtpm_running(dst.fake()));
      });
  expect_success(transmit(src, tpm2_get_random(8)), "TPM2_GetRandom after the refusal");
}
END_TEST

START_TEST(swtpm_storage_relocked_after_a_refused_migration) {
  TempDir tmp;
  VmOptions so;
  so.backend = Backend::kFake;
  so.fake_caps = 0x1ffff;  // swtpm 0.8+: LOCK_STORAGE
  Vm src(so);
  startup(src);
  VmOptions dopt;
  dopt.backend = Backend::kLibtpms;
  expect_refusal(src, tmp, dopt,
                 "the TPM backend of /machine/peripheral/tpm0/tpmdev is "
                 "tpm-emulator on the source and tpm-libtpms here");
  ck_assert_uint_eq(fake_swtpm_ctrl_count(src.fake(), kCtrlLockStorage), 1);
  expect_success(transmit(src, tpm2_get_random(8)), "TPM2_GetRandom after the refusal");
}
END_TEST

namespace {

// Saves `src` to a file; returns its bytes.
std::string save_to_file(Vm &src, const std::string &file) {
  migrate(src, "exec:cat > " + file);
  MigrationOutcome out = wait_migration(src);
  ck_assert_msg(out.status == "completed", "%s: %s", out.status.c_str(), out.error.c_str());
  gchar *data = nullptr;
  gsize len = 0;
  ck_assert(g_file_get_contents(file.c_str(), &data, &len, nullptr));
  std::string bytes(data, len);
  g_free(data);
  return bytes;
}

// Restores `bytes` into a new process, which must refuse with a reason starting `reason`.
void expect_restore_refused(TempDir &tmp, const std::string &bytes, const std::string &reason) {
  static int n = 0;
  std::string file = tmp.file(("damaged" + std::to_string(n++)).c_str());
  ck_assert(
      g_file_set_contents(file.c_str(), bytes.data(), static_cast<gssize>(bytes.size()), nullptr));
  VmOptions o;
  o.incoming = "exec:cat < " + file;
  Vm dst(o);
  MigrationOutcome d = wait_migration(dst);
  ck_assert_str_eq(d.status.c_str(), "failed");
  ck_assert_msg(d.error.rfind(reason, 0) == 0, "'%s', expected '%s...'", d.error.c_str(),
                reason.c_str());
  ck_assert(contains(dst.stderr_text(), ": incoming migration failed: " + d.error + "\n"));
  expect_str(run_state(dst), "inmigrate");
}

}  // namespace

START_TEST(damaged_saved_states_are_refused) {
  TempDir tmp;
  Vm src(VmOptions{});
  TpmFacts facts = prepare_tpm(src);
  std::string good = save_to_file(src, tmp.file("saved"));
  std::string flipped = good;
  flipped[good.size() / 2] ^= 0x10;
  expect_restore_refused(tmp, flipped, "checksum mismatch: ");
  expect_restore_refused(tmp, good.substr(0, good.size() - 1),
                         "truncated stream: " + std::to_string(good.size() - 1) + " of " +
                             std::to_string(good.size()) + " bytes arrived");
  expect_restore_refused(tmp, good.substr(0, 10), "truncated stream: 10 bytes, less than");
  expect_restore_refused(tmp, "", "empty stream: the source sent nothing");
  std::string newer = good;
  newer[11] = 2;
  expect_restore_refused(tmp, newer, "stream format version 2 is newer than this qtpm reads (1)");
  std::string qemu = good;
  qemu.replace(0, 4, "QEVM");
  expect_restore_refused(tmp, qemu, "not a qtpm migration stream: it starts with 51 45 56 4d");
  expect_restore_refused(tmp, good + "x", "1 unexpected byte follows the end of the stream");
  // The source was only saved: `cont` runs it on, with its TPM as it was.
  expect_str(run_state(src), "postmigrate");
  qtest_qmp_assert_success(src.s, "{'execute': 'cont'}");
  expect_str(run_state(src), "running");
  ck_assert(pcr10(src) == facts.pcr);
}
END_TEST

START_TEST(garbage_on_the_socket_gets_a_verdict) {
  TempDir tmp;
  VmOptions o;
  o.incoming = "unix:" + tmp.file("mig");
  Vm dst(o);
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un un{};
  un.sun_family = AF_UNIX;
  std::string path = tmp.file("mig");
  ck_assert(path.size() < sizeof(un.sun_path));
  std::memcpy(un.sun_path, path.c_str(), path.size() + 1);
  ck_assert(connect(fd, reinterpret_cast<sockaddr *>(&un), sizeof(un)) == 0);
  static const char kQemuStream[] = "QEVM\0\0\0\3 and more of a QEMU stream";
  ck_assert(write(fd, kQemuStream, sizeof(kQemuStream)) == sizeof(kQemuStream));
  shutdown(fd, SHUT_WR);
  std::string verdict;
  char c;
  while (read(fd, &c, 1) == 1 && c != '\n') verdict += c;
  close(fd);
  ck_assert_str_eq(verdict.c_str(),
                   "error: not a qtpm migration stream: it starts with 51 45 56 4d 00 00 00 03 "
                   "(\"QEVM\", a QEMU migration stream)");
  MigrationOutcome d = wait_migration(dst);
  ck_assert_str_eq(d.status.c_str(), "failed");
  expect_str(("error: " + d.error), verdict.c_str());
}
END_TEST

// ---------------------------------------------------------------------------------------------
// Passthrough, and destinations that never come

START_TEST(passthrough_refuses_to_migrate) {
  TempDir tmp;
  VmOptions o;
  o.backend = Backend::kPassthrough;
  Vm src(o);
  const char *reason = "Migration disabled: TPM passthrough does not support migration";
  std::string uri = "unix:" + tmp.file("mig");
  expect_str(qmp_error(src, "{'execute': 'migrate', 'arguments': {'uri': '%s'}}", uri.c_str()),
             reason);
  json_object *info = query_migrate(src);
  ck_assert(!json_object_object_get_ex(info, "status", nullptr));
  json_object *blocked = host_test_member(info, "blocked-reasons", json_type_array);
  ck_assert_uint_eq(json_object_array_length(blocked), 1);
  ck_assert_str_eq(json_object_get_string(json_object_array_get_idx(blocked, 0)), reason);
  json_object_put(info);
  expect_str(run_state(src), "running");
  // Saving to a file is a migration too.
  expect_str(qmp_error(src, "{'execute': 'migrate', 'arguments': {'uri': 'exec:cat > %s'}}",
                       tmp.file("saved").c_str()),
             reason);
  ck_assert(!g_file_test(tmp.file("saved").c_str(), G_FILE_TEST_EXISTS));
}
END_TEST

namespace {

// A UNIX socket that listens and never accepts: the source connects (the backlog takes it) and
// its stream fits the socket buffer, but no answer ever comes.
struct SilentListener {
  explicit SilentListener(const std::string &path) {
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un un{};
    un.sun_family = AF_UNIX;
    ck_assert(path.size() < sizeof(un.sun_path));
    std::memcpy(un.sun_path, path.c_str(), path.size() + 1);
    ck_assert(bind(fd, reinterpret_cast<sockaddr *>(&un), sizeof(un)) == 0);
    ck_assert(listen(fd, 4) == 0);
  }
  ~SilentListener() { close(fd); }
  int fd;
};

}  // namespace

START_TEST(absent_or_silent_destinations_fail_without_hanging) {
  TempDir tmp;
  Vm src(VmOptions{});
  enable_events(src);
  TpmFacts facts = prepare_tpm(src);
  // Nobody there: fails at connect, the VM never stopped.
  migrate(src, "unix:" + tmp.file("nobody"));
  MigrationOutcome out = wait_migration(src);
  ck_assert_str_eq(out.status.c_str(), "failed");
  expect_str(out.error,
             "Failed to connect to '" + tmp.file("nobody") + "': No such file or directory");
  expect_str(run_state(src), "running");
  ck_assert_ptr_null(qtest_qmp_event_ref(src.s, "STOP"));
  // A listener that never answers: the timeout ends it and the VM runs again.
  SilentListener silent(tmp.file("silent"));
  qtest_qmp_assert_success(src.s,
                           "{'execute': 'migrate-set-parameters', 'arguments': "
                           "{'x-timeout-ms': 300}}");
  migrate(src, "unix:" + tmp.file("silent"));
  out = wait_migration(src);
  ck_assert_str_eq(out.status.c_str(), "failed");
  ck_assert_str_eq(out.error.c_str(),
                   "the destination did not confirm that it loaded the state "
                   "(nothing happened for 300 ms)");
  expect_str(run_state(src), "running");
  qtest_qmp_eventwait(src.s, "STOP");
  qtest_qmp_eventwait(src.s, "RESUME");
  ck_assert(pcr10(src) == facts.pcr);
  ck_assert(contains(src.stderr_text(), ": migration to unix:" + tmp.file("silent") +
                                            " failed: the destination did not confirm"));
}
END_TEST

START_TEST(migrate_cancel_ends_a_waiting_migration) {
  TempDir tmp;
  Vm src(VmOptions{});
  enable_events(src);
  TpmFacts facts = prepare_tpm(src);
  SilentListener silent(tmp.file("silent"));
  migrate(src, "unix:" + tmp.file("silent"));
  expect_str(migration_event(src), "setup");
  expect_str(migration_event(src), "active");
  // While it runs, nothing else may start.
  expect_str(qmp_error(src, "{'execute': 'migrate', 'arguments': {'uri': '%s'}}",
                       ("unix:" + tmp.file("other")).c_str()),
             "There's a migration process in progress");
  expect_str(qmp_error(src,
                       "{'execute': 'migrate-set-capabilities', 'arguments': "
                       "{'capabilities': [{'capability': 'events', 'state': false}]}}"),
             "There's a migration process in progress");
  qtest_qmp_assert_success(src.s, "{'execute': 'migrate_cancel'}");
  expect_str(migration_event(src), "cancelling");
  expect_str(migration_event(src), "cancelled");
  MigrationOutcome out = wait_migration(src);
  ck_assert_str_eq(out.status.c_str(), "cancelled");
  expect_str(run_state(src), "running");
  qtest_qmp_eventwait(src.s, "RESUME");
  ck_assert(pcr10(src) == facts.pcr);
  qtest_qmp_assert_success(src.s, "{'execute': 'migrate_cancel'}");  // nothing to cancel: fine
}
END_TEST

// ---------------------------------------------------------------------------------------------
// QEMU's run states, commands and refusals

START_TEST(run_states_follow_qemu) {
  TempDir tmp;
  Vm src(VmOptions{});
  TpmFacts facts = prepare_tpm(src);
  // A paused source gives a paused destination, and no STOP/RESUME.
  qtest_qmp_assert_success(src.s, "{'execute': 'stop'}");
  qtest_qmp_eventwait(src.s, "STOP");
  VmOptions d1;
  d1.incoming = "unix:" + tmp.file("mig1");
  Vm dst1(d1);
  expect_str(qmp_error(dst1, "{'execute': 'migrate', 'arguments': {'uri': '%s'}}",
                       ("unix:" + tmp.file("x")).c_str()),
             "Guest is waiting for an incoming migration");
  migrate(src, d1.incoming);
  expect_str(wait_migration(dst1).status, "completed");
  expect_str(run_state(dst1), "paused");
  dst1.adopt_guest(src);
  expect_str(wait_migration(src).status, "completed");
  expect_str(run_state(src), "postmigrate");
  expect_str(
      qmp_error(src, "{'execute': 'migrate', 'arguments': {'uri': '%s'}}", d1.incoming.c_str()),
      "Can't migrate the vm that was paused due to previous migration");
  // The destination runs on `cont`, and migrates on (with -S, the next one stays paused).
  qtest_qmp_assert_success(dst1.s, "{'execute': 'cont'}");
  qtest_qmp_eventwait(dst1.s, "RESUME");
  VmOptions d2;
  d2.incoming = "unix:" + tmp.file("mig2");
  d2.extra = "-S";
  Vm dst2(d2);
  migrate(dst1, d2.incoming);
  expect_str(wait_migration(dst2).status, "completed");
  expect_str(run_state(dst2), "paused");
  dst2.adopt_guest(dst1);
  qtest_qmp_assert_success(dst2.s, "{'execute': 'cont'}");
  expect_str(run_state(dst2), "running");
  check_tpm(dst2, facts);
}
END_TEST

START_TEST(migrate_arguments_and_incoming_errors) {
  Vm src(VmOptions{});
  expect_str(qmp_error(src, "{'execute': 'migrate', 'arguments': {'uri': '%s'}}", "rdma:1.2.3.4:5"),
             "Parameter 'uri' expects a valid migration protocol");
  expect_str(qmp_error(src, "{'execute': 'migrate', 'arguments': {'uri': '%s'}}", "tcp:localhost"),
             "tcp:HOST:PORT needs a port: 'tcp:localhost'");
  expect_str(
      qmp_error(src, "{'execute': 'migrate-incoming', 'arguments': {'uri': '%s'}}", "unix:/x"),
      "'-incoming' was not specified on the command line");
  expect_str(qmp_error(src,
                       "{'execute': 'migrate-set-capabilities', 'arguments': "
                       "{'capabilities': [{'capability': '%s', 'state': true}]}}",
                       "postcopy-ram"),
             "Migration capability 'postcopy-ram' is not supported by qtpm");
  expect_str(qmp_error(src,
                       "{'execute': 'migrate-set-capabilities', 'arguments': "
                       "{'capabilities': [{'capability': '%s', 'state': true}]}}",
                       "bogus"),
             "Parameter 'capability' does not accept value 'bogus'");
  expect_str(qmp_error(src,
                       "{'execute': 'migrate-set-parameters', 'arguments': "
                       "{'x-timeout-ms': 5}}"),
             "Parameter 'x-timeout-ms' expects a value between 100 and 3600000");
  json_object *info = query_migrate(src);
  ck_assert_int_eq(json_object_object_length(info), 0);  // no migration yet: {}
  json_object_put(info);
  // -incoming that cannot start ends the program with one located line and status 1.
  struct {
    const char *arg;
    const char *line;
  } cases[] = {
      {"-incoming foo", "-incoming foo: unknown migration protocol: foo"},
      {"-incoming tcp:127.0.0.1", "-incoming tcp:127.0.0.1: tcp:HOST:PORT needs a port"},
      {"-incoming unix:/nonexistent-dir/sock",
       "-incoming unix:/nonexistent-dir/sock: Failed to bind socket to '/nonexistent-dir/sock': "
       "No such file or directory"},
  };
  for (auto &c : cases) {
    std::string args = std::string(host_test_machine()) + " -display none " + c.arg;
    QTestRunResult r = qtest_run_binary(args.c_str(), 20000);
    ck_assert(r.exited);
    ck_assert_int_eq(r.status, 1);
    ck_assert_msg(contains(r.err, c.line), "stderr: %s", r.err);
    ck_assert_int_eq(host_test_count_lines(r.err), 1);
    qtest_run_result_clear(&r);
  }
}
END_TEST

START_TEST(incoming_defer_and_migrate_incoming) {
  TempDir tmp;
  Vm src(VmOptions{});
  TpmFacts facts = prepare_tpm(src);
  VmOptions o;
  o.incoming = "defer";
  Vm dst(o);
  json_object *info = query_migrate(dst);
  ck_assert_int_eq(json_object_object_length(info), 0);  // nothing started yet
  json_object_put(info);
  expect_str(run_state(dst), "inmigrate");
  std::string uri = "unix:" + tmp.file("mig");
  qtest_qmp_assert_success(dst.s, "{'execute': 'migrate-incoming', 'arguments': {'uri': '%s'}}",
                           uri.c_str());
  expect_str(
      qmp_error(dst, "{'execute': 'migrate-incoming', 'arguments': {'uri': '%s'}}", uri.c_str()),
      "The incoming migration has already been started");
  migrate(src, uri);
  expect_str(wait_migration(dst).status, "completed");
  dst.adopt_guest(src);
  check_tpm(dst, facts);
}
END_TEST

int main() {
  host_test_require_binary();
  if (!host_test_has_device(device())) {
    std::printf("SKIP: %s is not offered by this host\n", device());
    return HOST_TEST_SKIP;
  }
  Suite *s = suite_create("migration");
  TCase *ok = tcase_create("survives");
  tcase_set_timeout(ok, 120);
  if (tpm_swtpm_available(true)) {
    tcase_add_test(ok, swtpm_over_unix);
    tcase_add_test(ok, swtpm_over_tcp);
    tcase_add_test(ok, swtpm_save_restore);
  }
  tcase_add_test(ok, libtpms_over_unix);
  tcase_add_test(ok, libtpms_over_tcp);
  tcase_add_test(ok, libtpms_save_restore);
  tcase_add_test(ok, command_in_flight_completes_on_the_destination);
  tcase_add_test(ok, command_in_flight_completes_on_the_source_when_refused);
  if (!is_crb()) {  // tpm-crb is TPM 2.0 only
    if (tpm_swtpm_available(false)) tcase_add_test(ok, tpm12_swtpm_over_unix);
    tcase_add_test(ok, tpm12_libtpms_over_unix);
  }
  suite_add_tcase(s, ok);

  TCase *refused = tcase_create("refused");
  tcase_set_timeout(refused, 180);
  tcase_add_test(refused, mismatched_destinations_refuse_and_the_source_runs_on);
  tcase_add_test(refused, swtpm_storage_relocked_after_a_refused_migration);
  tcase_add_test(refused, a_backend_refusing_its_state_rolls_the_devices_back);
  tcase_add_test(refused, damaged_saved_states_are_refused);
  tcase_add_test(refused, garbage_on_the_socket_gets_a_verdict);
  tcase_add_test(refused, passthrough_refuses_to_migrate);
  tcase_add_test(refused, absent_or_silent_destinations_fail_without_hanging);
  tcase_add_test(refused, migrate_cancel_ends_a_waiting_migration);
  suite_add_tcase(s, refused);

  TCase *qemu = tcase_create("qemu");
  tcase_set_timeout(qemu, 120);
  tcase_add_test(qemu, run_states_follow_qemu);
  tcase_add_test(qemu, migrate_arguments_and_incoming_errors);
  tcase_add_test(qemu, incoming_defer_and_migrate_incoming);
  suite_add_tcase(s, qemu);
  return host_test_run(s);
}
