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
#include "qom/testing.h"  // <check.h> without its `fail` macro, before any C++ header

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
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "backends/tpm/tests/fake_swtpm_c.h"
#include "backends/tpm/tests/tpm_test_commands.h"
#include "host_test.h"
#include "hw/tpm/crb/tpm_crb_regs.h"
#include "hw/tpm/tis/tpm_tis_regs.h"
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
bool is_x86() { return std::strcmp(qtest_get_arch(), "x86_64") == 0; }
uint64_t tis_base() { return is_x86() ? qtpm::tis::kIsaBase : TPM_TIS_ARM_VIRT_BASE; }

// ---------------------------------------------------------------------------------------------
// A TPM behind a host: real swtpm, libtpms, or the fake swtpm

enum class Backend { kSwtpm, kLibtpms, kFake };

class TpmBehind {
 public:
  explicit TpmBehind(Backend b, bool tpm2 = true) : backend_(b), tpm2_(tpm2) {
    if (b == Backend::kSwtpm) tpm_swtpm_start(&sw_, tpm2);
    if (b == Backend::kFake) {
      dir_ = g_dir_make_tmp("qtpm-mig-fake-XXXXXX", nullptr);
      ck_assert_ptr_nonnull(dir_);
      std::string ctrl = std::string(dir_) + "/ctrl";
      fake_ = fake_swtpm_start(ctrl.c_str(), tpm2 ? 1 : 0);
      ck_assert_ptr_nonnull(fake_);
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
    }
    return "";
  }
  fake_swtpm *fake() const { return fake_; }

 private:
  Backend backend_;
  bool tpm2_;
  TpmSwtpm sw_{};
  fake_swtpm *fake_ = nullptr;
  char *dir_ = nullptr;
};

// One qtpm-system process with the device under test (id tpm0) on a TPM, its stderr kept in a
// file so that tests can read the lines it printed.
struct VmOptions {
  Backend backend = Backend::kLibtpms;
  bool tpm2 = true;
  std::string incoming;      // -incoming URI (shell-quoted here)
  std::string extra;         // more options
  std::string device_args;   // replaces "-device <device>,id=tpm0,tpmdev=dev0"
  std::string machine;       // replaces the target's default machine option
};

class Vm {
 public:
  explicit Vm(const VmOptions &o) : tpm_(o.backend, o.tpm2) {
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

 private:
  TpmBehind tpm_;
  char *dir_ = nullptr;
  std::string err_;
};

// ---------------------------------------------------------------------------------------------
// TPM commands through the device, as a guest driver sends them

Bytes transmit(Vm &vm, const Bytes &cmd) {
  Bytes rsp(4096);
  size_t n = is_crb() ? tpm_crb_transmit(vm.s, TPM_CRB_BASE, cmd.data(), cmd.size(), rsp.data(),
                                         rsp.size())
                      : tpm_tis_transmit(vm.s, tis_base(), 0, cmd.data(), cmd.size(), rsp.data(),
                                         rsp.size());
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
  if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string)) return "";
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
    if (out.status == "completed" || out.status == "failed" || out.status == "cancelled") return out;
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
  json_object_put(qtest_qmp_assert_success_ref(
      src.s, "{'execute': 'migrate', 'arguments': %s}", text.c_str()));
}

// The error a QMP command answers with ("" if it succeeded).
std::string qmp_error(Vm &vm, const char *fmt, const char *arg = "") {
  json_object *r = qtest_qmp(vm.s, fmt, arg);
  json_object *err = nullptr, *desc = nullptr;
  std::string out;
  if (json_object_object_get_ex(r, "error", &err) && json_object_object_get_ex(err, "desc", &desc)) {
    out = json_object_get_string(desc);
  }
  json_object_put(r);
  return out;
}

void enable_events(Vm &vm) {
  json_object_put(qtest_qmp_assert_success_ref(
      vm.s, "{'execute': 'migrate-set-capabilities', 'arguments': {'capabilities': "
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

TpmFacts prepare_tpm(Vm &vm) {
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
    ck_assert_str_eq(str_member(info, "status").c_str(), "setup");
    json_object *addrs = host_test_member(info, "socket-address", json_type_array);
    json_object *addr = json_object_array_get_idx(addrs, 0);
    uri = transport == Transport::kUnix ? "unix:" + str_member(addr, "path")
                                        : "tcp:127.0.0.1:" + str_member(addr, "port");
    json_object_put(info);
    migrate(src, uri);
  }
  MigrationOutcome d = wait_migration(*dst);
  ck_assert_msg(d.status == "completed", "%s: %s", d.status.c_str(), d.error.c_str());
  ck_assert_str_eq(run_state(*dst).c_str(), "running");
  // A restore may finish before the test's QMP session is negotiated, and events before that
  // reach no one; over a socket the migration starts later.
  if (transport != Transport::kExec) qtest_qmp_eventwait(dst->s, "RESUME");
  MigrationOutcome s = wait_migration(src);
  ck_assert_msg(s.status == "completed", "%s: %s", s.status.c_str(), s.error.c_str());
  ck_assert_str_eq(run_state(src).c_str(), "postmigrate");
  // The source's events, in QEMU's order.
  ck_assert_str_eq(migration_event(src).c_str(), "setup");
  ck_assert_str_eq(migration_event(src).c_str(), "active");
  qtest_qmp_eventwait(src.s, "STOP");
  ck_assert_str_eq(migration_event(src).c_str(), "completed");
  check_tpm(*dst, facts);
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
  suite_add_tcase(s, ok);
  return host_test_run(s);
}
