// SPDX-License-Identifier: GPL-2.0-or-later
//
// The libtpms backend and a real swtpm 0.7.1 on the same state directory: a directory
// provisioned by swtpm_setup (EK and its certificate) works in-process; PCR and NV state move
// from libtpms to swtpm and back, for TPM 2.0 and 1.2; files written by swtpm re-encode to the
// same bytes; and each side refuses the directory while the other holds it.
#include <sys/stat.h>
#include <sys/wait.h>

#include <cstring>

#include "backends/tpm/tests/libtpms_rig.h"
#include "backends/tpm/tests/swtpm_dir_process.h"
#include "backends/tpm/tpm_state_blob.h"

using namespace qtpm;
using namespace qtpm::testing;

namespace {

constexpr uint32_t kRsaEkCertIndex = 0x01c00002;    // TCG EK Credential Profile, RSA 2048
constexpr uint32_t kPlatformCertIndex = 0x01c08000;  // swtpm_setup's platform certificate
constexpr uint32_t kRsaEkHandle = 0x81010001;        // where swtpm_setup makes the RSA EK persistent
constexpr uint32_t kNvIndex = 0x01500001;
constexpr uint32_t kTpmaNvOwnerRead = 1u << 17;
constexpr uint32_t kTpmaNvAuthRead = 1u << 18;

LibtpmsRigOptions in_dir(const std::string &dir, const char *version = "2.0") {
  LibtpmsRigOptions o;
  o.state = dir;
  o.version = version;
  return o;
}

bool contains(const std::string &s, const std::string &text) {
  return s.find(text) != std::string::npos;
}

// swtpm_setup with a certificate authority of its own in `work` (so the test needs neither
// root nor the system's /var/lib/swtpm-localca).
Status run_swtpm_setup(const TempDir &work, const std::string &state_dir) {
  const std::string ca = work.file("ca");
  g_mkdir(ca.c_str(), 0700);
  const std::string localca = "statedir = " + ca + "\nsigningkey = " + ca +
                              "/signkey.pem\nissuercert = " + ca +
                              "/issuercert.pem\ncertserial = " + ca + "/certserial\n";
  const std::string options =
      "--platform-manufacturer qtpm\n--platform-version 2.1\n--platform-model qtpm-test\n";
  const std::string setup = "create_certs_tool = swtpm_localca\ncreate_certs_tool_config = " +
                            work.file("localca.conf") +
                            "\ncreate_certs_tool_options = " + work.file("localca.options") +
                            "\nactive_pcr_banks = sha256\n";
  g_file_set_contents(work.file("localca.conf").c_str(), localca.c_str(), -1, nullptr);
  g_file_set_contents(work.file("localca.options").c_str(), options.c_str(), -1, nullptr);
  g_file_set_contents(work.file("setup.conf").c_str(), setup.c_str(), -1, nullptr);
  std::string state = state_dir, config = work.file("setup.conf"), log = work.file("setup.log");
  const char *argv[] = {"swtpm_setup",   "--tpm2",         "--tpmstate",
                        state.c_str(),   "--create-ek-cert", "--create-platform-cert",
                        "--config",      config.c_str(),   "--logfile",
                        log.c_str(),     nullptr};
  gint status = 0;
  GError *err = nullptr;
  if (!g_spawn_sync(nullptr, const_cast<char **>(argv), nullptr, G_SPAWN_SEARCH_PATH, nullptr,
                    nullptr, nullptr, nullptr, &status, &err)) {
    Status st = Status::errorf("cannot run swtpm_setup: %s", err->message);
    g_error_free(err);
    return st;
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    gchar *text = nullptr;
    g_file_get_contents(log.c_str(), &text, nullptr, nullptr);
    Status st = Status::errorf("swtpm_setup failed: %s", text ? text : "");
    g_free(text);
    return st;
  }
  return Status::ok();
}

// Reads a whole NV index in chunks, authorised as its attributes allow.
Bytes read_nv_index(LibtpmsRig &rig, uint32_t index) {
  NvPublic pub = tpm2_nv_public_of(rig.transact(tpm2_nv_read_public(index)));
  ck_assert_uint_eq(pub.index, index);
  const uint32_t auth = (pub.attributes & kTpmaNvOwnerRead) ? kTpmRhOwner : index;
  ck_assert(pub.attributes & (kTpmaNvOwnerRead | kTpmaNvAuthRead));
  Bytes all;
  for (uint16_t off = 0; off < pub.data_size;) {
    uint16_t n = static_cast<uint16_t>(std::min<int>(512, pub.data_size - off));
    Bytes part = tpm2_nv_read_data(rig.transact(tpm2_nv_read(auth, index, n, off)));
    ck_assert_uint_eq(part.size(), n);
    all.insert(all.end(), part.begin(), part.end());
    off = static_cast<uint16_t>(off + n);
  }
  return all;
}

// Files swtpm wrote re-encode, through qtpm's codec, to exactly the same bytes.
void check_swtpm_file_format(const std::string &path) {
  Bytes file = read_file_bytes(path);
  ck_assert_uint_gt(file.size(), 16);
  Bytes payload;
  ck_assert(swtpm_blob_decode(file, path, &payload).is_ok());
  ck_assert(swtpm_blob_encode(payload) == file);
}

}  // namespace

START_TEST(test_swtpm_setup_directory_in_process) {
  TempDir work;
  const std::string state = work.file("state");
  g_mkdir(state.c_str(), 0700);
  Status st = run_swtpm_setup(work, state);
  ck_assert_msg(st.is_ok(), "%s", st.message().c_str());
  check_swtpm_file_format(state + "/tpm2-00.permall");

  LibtpmsRig rig(in_dir(state));
  ck_assert(rig.start().is_ok());
  ck_assert_uint_eq(rig.rc(tpm2_startup(0)), 0);
  // The EK certificate: a DER X.509 certificate filling the index...
  Bytes cert = read_nv_index(rig, kRsaEkCertIndex);
  ck_assert_uint_gt(cert.size(), 256);
  ck_assert_uint_eq(cert[0], 0x30);
  ck_assert_uint_eq(cert[1], 0x82);
  ck_assert_uint_eq(get16(cert, 2) + 4u, cert.size());
  // ...that certifies this TPM's RSA EK: the EK's modulus is in it.
  Bytes modulus = tpm2_read_public_rsa_modulus(rig.transact(tpm2_read_public(kRsaEkHandle)), 256);
  ck_assert_uint_eq(modulus.size(), 256);
  ck_assert(std::search(cert.begin(), cert.end(), modulus.begin(), modulus.end()) != cert.end());
  // The platform certificate is there too.
  Bytes platform = read_nv_index(rig, kPlatformCertIndex);
  ck_assert_uint_eq(platform[0], 0x30);
}
END_TEST

START_TEST(test_tpm2_state_moves_both_ways) {
  TempDir work;
  const std::string state = work.file("state");
  const Bytes d = sha256_of(Bytes{'m', 'o', 'v', 'e'});
  const Bytes first = {1, 1, 1, 1, 1, 1, 1, 1}, second = {2, 2, 2, 2, 2, 2, 2, 2};
  Bytes pcr;
  {  // libtpms writes: an NV index, PCR 10, saved by Shutdown(STATE)
    LibtpmsRig rig(in_dir(state));
    ck_assert(rig.start().is_ok());
    ck_assert_uint_eq(rig.rc(tpm2_startup(0)), 0);
    ck_assert_uint_eq(rig.rc(tpm2_nv_define(kNvIndex, 8)), 0);
    ck_assert_uint_eq(rig.rc(tpm2_nv_write(kNvIndex, first, 0)), 0);
    ck_assert_uint_eq(rig.rc(tpm2_pcr_extend_sha256(10, d)), 0);
    pcr = tpm2_pcr_read_digest(rig.transact(tpm2_pcr_read_sha256(10)));
    ck_assert_uint_eq(rig.rc(tpm2_shutdown(1)), 0);
  }
  {  // swtpm reads it all, then changes the NV index and extends again
    SwtpmDirProcess swtpm;
    Status st = swtpm.start(state, true, work.path);
    ck_assert_msg(st.is_ok(), "%s", st.message().c_str());
    ck_assert_uint_eq(swtpm.rc(tpm2_startup(1)), 0);
    ck_assert(tpm2_pcr_read_digest(swtpm.transact(tpm2_pcr_read_sha256(10))) == pcr);
    ck_assert(tpm2_nv_read_data(swtpm.transact(tpm2_nv_read(kNvIndex, kNvIndex, 8, 0))) == first);
    ck_assert_uint_eq(swtpm.rc(tpm2_nv_write(kNvIndex, second, 0)), 0);
    ck_assert_uint_eq(swtpm.rc(tpm2_pcr_extend_sha256(10, d)), 0);
    pcr = tpm2_pcr_read_digest(swtpm.transact(tpm2_pcr_read_sha256(10)));
    ck_assert(pcr == sha256_concat(sha256_concat(Bytes(32, 0), d), d));
    ck_assert_uint_eq(swtpm.rc(tpm2_shutdown(1)), 0);
    ck_assert(swtpm.shutdown());
  }
  check_swtpm_file_format(state + "/tpm2-00.permall");
  // And libtpms reads what swtpm wrote.
  LibtpmsRig rig(in_dir(state));
  ck_assert(rig.start().is_ok());
  ck_assert_uint_eq(rig.rc(tpm2_startup(1)), 0);
  ck_assert(tpm2_pcr_read_digest(rig.transact(tpm2_pcr_read_sha256(10))) == pcr);
  ck_assert(tpm2_nv_read_data(rig.transact(tpm2_nv_read(kNvIndex, kNvIndex, 8, 0))) == second);
}
END_TEST

START_TEST(test_tpm12_state_moves_both_ways) {
  TempDir work;
  const std::string state = work.file("state");
  Bytes pcr;
  {
    LibtpmsRig rig(in_dir(state, "1.2"));
    ck_assert(rig.start().is_ok());
    ck_assert_uint_eq(rig.rc(tpm12_startup(1)), 0);
    pcr = tpm12_digest_of(rig.transact(tpm12_extend(10, Bytes(20, 0x12))));
    ck_assert_uint_eq(rig.rc(tpm12_save_state()), 0);
  }
  {
    SwtpmDirProcess swtpm;
    Status st = swtpm.start(state, false, work.path);
    ck_assert_msg(st.is_ok(), "%s", st.message().c_str());
    ck_assert_uint_eq(swtpm.rc(tpm12_startup(2)), 0);
    ck_assert(tpm12_digest_of(swtpm.transact(tpm12_pcr_read(10))) == pcr);
    pcr = tpm12_digest_of(swtpm.transact(tpm12_extend(10, Bytes(20, 0x21))));
    ck_assert_uint_eq(swtpm.rc(tpm12_save_state()), 0);
    ck_assert(swtpm.shutdown());
  }
  check_swtpm_file_format(state + "/tpm-00.permall");
  check_swtpm_file_format(state + "/tpm-00.savestate");
  LibtpmsRig rig(in_dir(state, "1.2"));
  ck_assert(rig.start().is_ok());
  ck_assert_uint_eq(rig.rc(tpm12_startup(2)), 0);
  ck_assert(tpm12_digest_of(rig.transact(tpm12_pcr_read(10))) == pcr);
}
END_TEST

START_TEST(test_lock_against_swtpm) {
  TempDir work;
  const std::string state = work.file("state");
  g_mkdir(state.c_str(), 0700);
  {  // swtpm holds the directory: the backend is refused, naming swtpm's process
    SwtpmDirProcess swtpm;
    Status st = swtpm.start(state, true, work.path);
    ck_assert_msg(st.is_ok(), "%s", st.message().c_str());
    LibtpmsRig rig(in_dir(state));
    st = rig.start();
    ck_assert(!st.is_ok());
    const std::string expected =
        strprintf("is in use by process %d (it holds the lock on %s/.lock)",
                  static_cast<int>(swtpm.pid()), state.c_str());
    ck_assert_msg(contains(st.message(), expected), "%s", st.message().c_str());
    // swtpm is unaffected.
    ck_assert_uint_eq(swtpm.rc(tpm2_startup(0)), 0);
    ck_assert_uint_eq(swtpm.rc(tpm2_get_random(8)), 0);
    ck_assert(swtpm.shutdown());
  }
  // The backend holds it: swtpm cannot start on it.
  LibtpmsRig rig(in_dir(state));
  ck_assert(rig.start().is_ok());
  SwtpmDirProcess swtpm;
  Status st = swtpm.start(state, true, work.path);
  ck_assert(!st.is_ok());
  ck_assert_msg(contains(st.message(), "lock"), "%s", st.message().c_str());
  ck_assert_uint_eq(rig.rc(tpm2_startup(0)), 0);
}
END_TEST

int main() {
  gchar *swtpm = g_find_program_in_path("swtpm");
  gchar *setup = g_find_program_in_path("swtpm_setup");
  const bool have = swtpm && setup;
  g_free(swtpm);
  g_free(setup);
  if (!have) {
    std::fprintf(stderr, "swtpm / swtpm_setup not found (scripts/install-deps --tests)\n");
    return 77;  // meson: skipped
  }
  Suite *s = suite_create("libtpms-swtpm");
  TCase *tc = tcase_create("interop");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_swtpm_setup_directory_in_process);
  tcase_add_test(tc, test_tpm2_state_moves_both_ways);
  tcase_add_test(tc, test_tpm12_state_moves_both_ways);
  tcase_add_test(tc, test_lock_against_swtpm);
  suite_add_tcase(s, tc);
  return qtpm::testing::run_suite(s);
}
