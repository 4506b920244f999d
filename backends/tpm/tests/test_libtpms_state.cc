// SPDX-License-Identifier: GPL-2.0-or-later
//
// The libtpms backend with `state=DIR`: persistence across backend restarts, swtpm's file format
// (golden files from swtpm 0.7.1), refusal of encrypted or corrupt state without touching it,
// the directory lock, state blobs committed to the directory, and crash consistency under
// kill -9 at random moments.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include "backends/tpm/tests/libtpms_rig.h"
#include "backends/tpm/tests/swtpm_golden_state.h"
#include "backends/tpm/tpm_state_blob.h"
#include "backends/tpm/tpm_state_dir.h"

using namespace qtpm;
using namespace qtpm::testing;

namespace {

constexpr uint32_t kNvIndex = 0x01500001;
constexpr uint32_t kNvExtendIndex = 0x01500020;

LibtpmsRigOptions in_dir(const TempDir &dir, const char *version = "2.0") {
  LibtpmsRigOptions o;
  o.state = dir.path;
  o.version = version;
  return o;
}

bool contains(const std::string &s, const char *text) { return s.find(text) != std::string::npos; }

void write_file(const std::string &path, const Bytes &bytes) {
  ck_assert(g_file_set_contents(path.c_str(), reinterpret_cast<const gchar *>(bytes.data()),
                                static_cast<gssize>(bytes.size()), nullptr));
}

}  // namespace

START_TEST(test_nv_survives_restart) {
  TempDir dir;
  const Bytes secret = {'q', 't', 'p', 'm', '-', 'n', 'v', '!'};
  {
    LibtpmsRig rig(in_dir(dir));
    ck_assert(rig.start().is_ok());
    ck_assert_uint_eq(rig.rc(tpm2_startup(0)), 0);
    ck_assert_uint_eq(rig.rc(tpm2_nv_define(kNvIndex, 8)), 0);
    ck_assert_uint_eq(rig.rc(tpm2_nv_write(kNvIndex, secret, 0)), 0);
  }
  // swtpm's layout: the blob in its envelope, the lock file, no temporary file left behind.
  Bytes file = read_file_bytes(dir.file("tpm2-00.permall"));
  ck_assert_uint_gt(file.size(), 16);
  ck_assert_uint_eq(get32(file, 0), 0x0201000a);
  ck_assert_uint_eq(get16(file, 4), 0);
  ck_assert_uint_eq(get32(file, 6), file.size());
  ck_assert_uint_eq(get16(file, 10), 1);
  ck_assert_uint_eq(get32(file, 12), file.size() - 16);
  ck_assert(g_file_test(dir.file(".lock").c_str(), G_FILE_TEST_EXISTS));
  ck_assert(!g_file_test(dir.file(".qtpm-tmp.tpm2-00.permall").c_str(), G_FILE_TEST_EXISTS));
  ck_assert(!g_file_test(dir.file("tpm2-00.volatilestate").c_str(), G_FILE_TEST_EXISTS));
  struct stat sb;
  ck_assert_int_eq(stat(dir.file("tpm2-00.permall").c_str(), &sb), 0);
  ck_assert_uint_eq(sb.st_mode & 0007, 0);  // not world-readable, as swtpm's files

  LibtpmsRig rig(in_dir(dir));
  ck_assert(rig.start().is_ok());
  ck_assert_uint_eq(rig.rc(tpm2_startup(0)), 0);
  ck_assert(tpm2_nv_read_data(rig.transact(tpm2_nv_read(kNvIndex, kNvIndex, 8, 0))) == secret);
}
END_TEST

START_TEST(test_pcr_survives_shutdown_state) {
  TempDir dir;
  const Bytes d = sha256_of(Bytes{'b', 'o', 'o', 't'});
  Bytes expected;
  {
    LibtpmsRig rig(in_dir(dir));
    ck_assert(rig.start().is_ok());
    ck_assert_uint_eq(rig.rc(tpm2_startup(0)), 0);
    ck_assert_uint_eq(rig.rc(tpm2_pcr_extend_sha256(10, d)), 0);
    expected = tpm2_pcr_read_digest(rig.transact(tpm2_pcr_read_sha256(10)));
    ck_assert(expected == sha256_concat(Bytes(32, 0), d));
    ck_assert_uint_eq(rig.rc(tpm2_shutdown(1)), 0);
  }
  LibtpmsRig rig(in_dir(dir));
  ck_assert(rig.start().is_ok());
  ck_assert_uint_eq(rig.rc(tpm2_startup(1)), 0);
  ck_assert(tpm2_pcr_read_digest(rig.transact(tpm2_pcr_read_sha256(10))) == expected);
}
END_TEST

START_TEST(test_tpm12_persistence) {
  TempDir dir;
  Bytes out;
  {
    LibtpmsRig rig(in_dir(dir, "1.2"));
    ck_assert(rig.start().is_ok());
    ck_assert_uint_eq(rig.rc(tpm12_startup(1)), 0);
    out = tpm12_digest_of(rig.transact(tpm12_extend(10, Bytes(20, 9))));
    ck_assert_uint_eq(rig.rc(tpm12_save_state()), 0);
  }
  ck_assert(g_file_test(dir.file("tpm-00.permall").c_str(), G_FILE_TEST_EXISTS));
  ck_assert(g_file_test(dir.file("tpm-00.savestate").c_str(), G_FILE_TEST_EXISTS));
  LibtpmsRig rig(in_dir(dir, "1.2"));
  ck_assert(rig.start().is_ok());
  ck_assert_uint_eq(rig.rc(tpm12_startup(2)), 0);
  ck_assert(tpm12_digest_of(rig.transact(tpm12_pcr_read(10))) == out);
  // TPM_Startup(ST_STATE) consumed the saved state.
  ck_assert(!g_file_test(dir.file("tpm-00.savestate").c_str(), G_FILE_TEST_EXISTS));
}
END_TEST

START_TEST(test_golden_swtpm_files_load) {
  // Files written by swtpm 0.7.1 start here, for both versions.
  for (const char *version : {"2.0", "1.2"}) {
    TempDir dir;
    const bool v2 = std::strcmp(version, "2.0") == 0;
    Bytes golden = v2 ? Bytes(std::begin(kSwtpm071Tpm2Permall), std::end(kSwtpm071Tpm2Permall))
                      : Bytes(std::begin(kSwtpm071Tpm12Permall), std::end(kSwtpm071Tpm12Permall));
    const std::string file = dir.file(v2 ? "tpm2-00.permall" : "tpm-00.permall");
    write_file(file, golden);
    LibtpmsRig rig(in_dir(dir, version));
    ck_assert(rig.start().is_ok());
    if (v2) {
      // swtpm sent Startup(CLEAR) and was then stopped without a Shutdown: the TPM wants a
      // fresh Startup, and it works.
      ck_assert_uint_eq(rig.rc(tpm2_startup(0)), 0);
      ck_assert_uint_eq(rig.rc(tpm2_get_random(16)), 0);
    } else {
      ck_assert_uint_eq(rig.rc(tpm12_startup(1)), 0);
      ck_assert(tpm12_digest_of(rig.transact(tpm12_pcr_read(10))) == Bytes(20, 0));
    }
  }
}
END_TEST

START_TEST(test_bad_state_refused_and_kept) {
  TempDir dir;
  const std::string file = dir.file("tpm2-00.permall");
  struct Case {
    Bytes bytes;
    const char *expect;
  };
  Bytes encrypted = swtpm_blob_encode(Bytes(64, 1));
  encrypted[5] = kSwtpmBlobFlagEncrypted;
  Bytes corrupt_payload = swtpm_blob_encode(Bytes(64, 0xee));  // well wrapped, libtpms refuses
  Bytes truncated = swtpm_blob_encode(Bytes(64, 1));
  truncated[15] = 200;  // DATA longer than the file
  const Case cases[] = {
      {encrypted, "is encrypted (swtpm --key or --migration-key)"},
      {truncated, "is corrupt"},
      {corrupt_payload, "TPMLIB_MainInit"},
  };
  for (const Case &c : cases) {
    write_file(file, c.bytes);
    LibtpmsRig rig(in_dir(dir));
    Status st = rig.start();
    ck_assert(!st.is_ok());
    ck_assert_msg(contains(st.message(), c.expect), "%s", st.message().c_str());
    ck_assert(contains(st.message(), "tpm-libtpms: "));
    ck_assert(rig.be->had_startup_error());
    // Refusing never rewrites the state.
    rig.destroy();
    ck_assert(read_file_bytes(file) == c.bytes);
  }
  // The message names the file.
  write_file(file, encrypted);
  LibtpmsRig rig(in_dir(dir));
  Status st = rig.start();
  ck_assert_msg(contains(st.message(), ("state file '" + file + "'").c_str()), "%s",
                st.message().c_str());
  rig.destroy();
  // A directory in place of the file.
  g_unlink(file.c_str());
  ck_assert_int_eq(g_mkdir(file.c_str(), 0700), 0);
  LibtpmsRig rig2(in_dir(dir));
  st = rig2.start();
  ck_assert_msg(contains(st.message(), "is not a regular file"), "%s", st.message().c_str());
}
END_TEST

START_TEST(test_directory_handling) {
  TempDir base;
  // A missing directory is created (its parent exists)...
  LibtpmsRigOptions o;
  o.state = base.file("new");
  {
    LibtpmsRig rig(o);
    ck_assert(rig.start().is_ok());
    ck_assert_uint_eq(rig.rc(tpm2_startup(0)), 0);
  }
  ck_assert(g_file_test(base.file("new/tpm2-00.permall").c_str(), G_FILE_TEST_EXISTS));
  // ...a missing parent is an error naming the option's value.
  o.state = base.file("no/such");
  LibtpmsRig rig(o);
  Status st = rig.start();
  ck_assert(!st.is_ok());
  const std::string expected =
      "tpm-libtpms: cannot create state directory '" + o.state + "': No such file or directory";
  ck_assert_str_eq(st.message().c_str(), expected.c_str());
  // A stale temporary file from an interrupted write is cleaned up; the blob is untouched.
  write_file(base.file("new/.qtpm-tmp.tpm2-00.permall"), Bytes{1, 2, 3});
  std::unique_ptr<SwtpmStateDir> d;
  ck_assert(SwtpmStateDir::open(base.file("new"), TpmVersion::k2_0, &d).is_ok());
  ck_assert(!g_file_test(base.file("new/.qtpm-tmp.tpm2-00.permall").c_str(), G_FILE_TEST_EXISTS));
  // Only libtpms' blob names are accepted.
  Bytes data;
  bool found = true;
  ck_assert(!d->load("../etc/passwd", &data, &found).is_ok());
  ck_assert(!found);
  ck_assert(!d->store("x", Bytes{1}).is_ok());
}
END_TEST

START_TEST(test_lock_excludes) {
  TempDir dir;
  // Inside the process: a second opener of the directory is refused.
  std::unique_ptr<SwtpmStateDir> first, second;
  ck_assert(SwtpmStateDir::open(dir.path, TpmVersion::k2_0, &first).is_ok());
  Status st = SwtpmStateDir::open(dir.path, TpmVersion::k2_0, &second);
  ck_assert(!st.is_ok());
  ck_assert_msg(contains(st.message(), "is in use by"), "%s", st.message().c_str());
  first.reset();
  ck_assert(SwtpmStateDir::open(dir.path, TpmVersion::k2_0, &second).is_ok());
  second.reset();

  // Another process holding swtpm's kind of lock (a process-wide fcntl F_SETLK write lock on
  // .lock): refused, naming the process.
  int ready[2];
  ck_assert_int_eq(pipe(ready), 0);
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    int fd = open((dir.path + "/.lock").c_str(), O_WRONLY | O_CREAT, 0660);
    struct flock fl = {};
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    char ok = (fd >= 0 && fcntl(fd, F_SETLK, &fl) == 0) ? 'y' : 'n';
    if (write(ready[1], &ok, 1) != 1) _exit(1);
    pause();
    _exit(0);
  }
  char ok = 0;
  ck_assert_int_eq(read(ready[0], &ok, 1), 1);
  ck_assert_int_eq(ok, 'y');
  LibtpmsRig rig(in_dir(dir));
  st = rig.start();
  ck_assert(!st.is_ok());
  const std::string expected =
      strprintf("tpm-libtpms: state directory '%s' is in use by process %d (it holds the lock on "
                "%s/.lock)",
                dir.path.c_str(), static_cast<int>(pid), dir.path.c_str());
  ck_assert_str_eq(st.message().c_str(), expected.c_str());
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  close(ready[0]);
  close(ready[1]);
  // The failed backend released libtpms: a new one on the freed directory works.
  rig.destroy();
  LibtpmsRig again(in_dir(dir));
  ck_assert(again.start().is_ok());
}
END_TEST

START_TEST(test_state_blobs_committed_to_directory) {
  LibtpmsStateBlobs blobs;
  Bytes pcr;
  {
    LibtpmsRig mem;  // the "source": in memory
    ck_assert(mem.start().is_ok());
    ck_assert_uint_eq(mem.rc(tpm2_startup(0)), 0);
    ck_assert_uint_eq(mem.rc(tpm2_pcr_extend_sha256(10, Bytes(32, 4))), 0);
    pcr = tpm2_pcr_read_digest(mem.transact(tpm2_pcr_read_sha256(10)));
    ck_assert(mem.be->get_state_blobs(&blobs).is_ok());
  }
  TempDir dir;
  LibtpmsRig rig(in_dir(dir));
  ck_assert(rig.start().is_ok());
  ck_assert_uint_eq(rig.rc(tpm2_startup(0)), 0);
  ck_assert_uint_eq(rig.rc(tpm2_shutdown(0)), 0);
  const Bytes before = read_file_bytes(dir.file("tpm2-00.permall"));

  // Refused blobs: startup fails, the directory keeps its state.
  LibtpmsStateBlobs bad = blobs;
  bad.permanent.resize(bad.permanent.size() / 2);
  ck_assert(rig.be->set_state_blobs(bad).is_ok());
  ck_assert(!rig.be->startup(4096).is_ok());
  ck_assert(read_file_bytes(dir.file("tpm2-00.permall")) == before);

  // Accepted blobs: the TPM runs from them and the permanent blob is in the directory; the
  // volatile blob is not stored.
  ck_assert(rig.be->set_state_blobs(blobs).is_ok());
  ck_assert(rig.be->startup(4096).is_ok());
  ck_assert(tpm2_pcr_read_digest(rig.transact(tpm2_pcr_read_sha256(10))) == pcr);
  Bytes stored;
  ck_assert(swtpm_blob_decode(read_file_bytes(dir.file("tpm2-00.permall")), "f", &stored).is_ok());
  ck_assert(stored == blobs.permanent);
  ck_assert(!g_file_test(dir.file("tpm2-00.volatilestate").c_str(), G_FILE_TEST_EXISTS));
  // While stopped, get_state_blobs answers from the directory.
  rig.be->stop_tpm();
  LibtpmsStateBlobs from_dir;
  ck_assert(rig.be->get_state_blobs(&from_dir).is_ok());
  Bytes decoded;
  ck_assert(swtpm_blob_decode(read_file_bytes(dir.file("tpm2-00.permall")), "f", &decoded).is_ok());
  ck_assert(from_dir.permanent == decoded);
  ck_assert(from_dir.volatile_state.empty());
}
END_TEST

// ---- kill -9 at random moments -------------------------------------------------------------

namespace {

// Records the child sends: a tag and a 32-byte value.
struct Record {
  char tag;  // 'N' NV extend done (value read back), 'P' about to Shutdown(STATE) with PCR
             // value, 'C' Shutdown(STATE) done with that value
  uint8_t value[32];
};

}  // namespace

// The child: a guest that loops Startup(STATE), PCR_Extend, NV_Extend, Shutdown(STATE) with a
// machine reset (TPMLIB_Terminate + MainInit) in between, reporting what it committed.  It makes
// no Check calls (they would report into the parent's test); failures end it with an exit code.
class CrashChild {
 public:
  CrashChild(const std::string &dir, int fd) : dir_(dir), fd_(fd) {}
  [[noreturn]] void run() {
    LibtpmsBackend *be = make();
    const Bytes d = sha256_of(Bytes{'c', 'r', 'a', 's', 'h'});
    for (;;) {
      if (!be->startup(4096)) _exit(11);
      if (rc_of(send(be, tpm2_startup(1))) != 0 && rc_of(send(be, tpm2_startup(0))) != 0) {
        _exit(12);
      }
      Bytes pcr = tpm2_pcr_read_digest(send(be, tpm2_pcr_read_sha256(10)));
      if (rc_of(send(be, tpm2_pcr_extend_sha256(10, d))) != 0) _exit(13);
      if (rc_of(send(be, tpm2_nv_extend(kNvExtendIndex, d))) != 0) _exit(14);
      report('N', tpm2_nv_read_data(send(be, tpm2_nv_read(kTpmRhOwner, kNvExtendIndex, 32, 0))));
      Bytes next = sha256_concat(pcr, d);
      report('P', next);
      if (rc_of(send(be, tpm2_shutdown(1))) != 0) _exit(15);
      report('C', next);
    }
  }

 private:
  LibtpmsBackend *make() {
    register_builtin_types();
    object_ = object_new(kTypeTpmLibtpms);
    auto *be = object_cast<LibtpmsBackend>(object_.get());
    be->set_id("crash");
    be->set_host(&host_);
    if (!be->set_property("state", dir_) || !be->realize() || !be->attach(&frontend_)) _exit(16);
    return be;
  }
  Bytes send(LibtpmsBackend *be, const Bytes &cmd) {
    auto req = std::make_unique<TpmRequest>();
    req->command = cmd;
    req->max_response = 4096;
    if (be->deliver(std::move(req))) _exit(17);
    be->finish_sync();
    if (frontend_.done.empty()) _exit(18);
    Bytes resp = frontend_.done.back()->response;
    frontend_.done.clear();
    return resp;
  }
  void report(char tag, const Bytes &value) {
    Record r = {};
    r.tag = tag;
    if (value.size() != 32) _exit(19);
    std::memcpy(r.value, value.data(), 32);
    if (write(fd_, &r, sizeof r) != static_cast<ssize_t>(sizeof r)) _exit(20);
  }

  std::string dir_;
  int fd_;
  TestHost host_;
  RecordingFrontend frontend_{TpmVersion::k2_0};
  std::unique_ptr<Object> object_;
};

START_TEST(test_kill9_leaves_committed_state) {
  TempDir dir;
  const Bytes d = sha256_of(Bytes{'c', 'r', 'a', 's', 'h'});
  Bytes committed_pcr(32, 0);  // PCR 10 as of the last completed Shutdown(STATE)
  Bytes committed_nv;          // the NV extend index as last reported
  {
    LibtpmsRig rig(in_dir(dir));
    ck_assert(rig.start().is_ok());
    ck_assert_uint_eq(rig.rc(tpm2_startup(0)), 0);
    ck_assert_uint_eq(rig.rc(tpm2_nv_define_extend(kNvExtendIndex)), 0);
    ck_assert_uint_eq(rig.rc(tpm2_nv_extend(kNvExtendIndex, d)), 0);
    committed_nv = sha256_concat(Bytes(32, 0), d);
    ck_assert(tpm2_nv_read_data(rig.transact(tpm2_nv_read(kTpmRhOwner, kNvExtendIndex, 32,
                                                          0))) == committed_nv);
    ck_assert_uint_eq(rig.rc(tpm2_shutdown(1)), 0);
  }
  for (int round = 0; round < 6; round++) {
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
      close(fds[0]);
      CrashChild(dir.path, fds[1]).run();
    }
    close(fds[1]);
    // A random moment: anywhere in a startup, a command, or the middle of a state write.
    g_usleep(static_cast<gulong>(g_random_int_range(5000, 120000)));
    kill(pid, SIGKILL);
    int status = 0;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFSIGNALED(status), "child exited early with status %d",
                  WIFEXITED(status) ? WEXITSTATUS(status) : -1);

    // What the child reported before it died.
    Bytes pending_pcr;
    Record r;
    while (read(fds[0], &r, sizeof r) == static_cast<ssize_t>(sizeof r)) {
      Bytes v(r.value, r.value + 32);
      if (r.tag == 'N') committed_nv = v;
      if (r.tag == 'P') pending_pcr = v;
      if (r.tag == 'C') {
        committed_pcr = v;
        pending_pcr.clear();
      }
    }
    close(fds[0]);

    // The directory always loads, and holds only committed values.
    LibtpmsRig rig(in_dir(dir));
    Status st = rig.start();
    ck_assert_msg(st.is_ok(), "round %d: %s", round, st.message().c_str());
    uint32_t rc = rig.rc(tpm2_startup(1));
    if (rc == 0) {
      // Restored: the last completed Shutdown(STATE), or the one that completed unreported.
      Bytes pcr = tpm2_pcr_read_digest(rig.transact(tpm2_pcr_read_sha256(10)));
      ck_assert_msg(pcr == committed_pcr || (!pending_pcr.empty() && pcr == pending_pcr),
                    "round %d: PCR 10 is not a committed value", round);
      committed_pcr = pcr;
    } else {
      // Killed between a Startup and its Shutdown(STATE): the TPM knows the shutdown was not
      // orderly and refuses to resume, as a real TPM after a power loss; it still starts clean.
      ck_assert_uint_eq(rig.rc(tpm2_startup(0)), 0);
      committed_pcr = Bytes(32, 0);
    }
    Bytes nv = tpm2_nv_read_data(rig.transact(tpm2_nv_read(kTpmRhOwner, kNvExtendIndex, 32, 0)));
    ck_assert_msg(nv == committed_nv || nv == sha256_concat(committed_nv, d),
                  "round %d: NV extend index is not a committed value", round);
    committed_nv = nv;
    ck_assert_uint_eq(rig.rc(tpm2_shutdown(1)), 0);
  }
}
END_TEST

int main() {
  Suite *s = suite_create("libtpms-state");
  TCase *tc = tcase_create("state-dir");
  tcase_set_timeout(tc, 300);
  tcase_add_test(tc, test_nv_survives_restart);
  tcase_add_test(tc, test_pcr_survives_shutdown_state);
  tcase_add_test(tc, test_tpm12_persistence);
  tcase_add_test(tc, test_golden_swtpm_files_load);
  tcase_add_test(tc, test_bad_state_refused_and_kept);
  tcase_add_test(tc, test_directory_handling);
  tcase_add_test(tc, test_lock_excludes);
  tcase_add_test(tc, test_state_blobs_committed_to_directory);
  tcase_add_test(tc, test_kill9_leaves_committed_state);
  suite_add_tcase(s, tc);
  return qtpm::testing::run_suite(s);
}
