// SPDX-License-Identifier: GPL-2.0-or-later
//
// The emulator backend against a real swtpm (Debian's 0.7.1), started for each test as
//   swtpm socket --tpmstate dir=TMP --ctrl type=unixio,path=TMP/ctrl [--tpm2]
// TPM 2.0 and 1.2: attach, startup, TPM2_Startup + GetRandom + PCR_Extend + PCR_Read round
// trips (PCR values checked against SHA-256/SHA-1 computed here), established flag, locality
// (PCR 20 may only be reset from locality 2), cancel, state blobs (a PCR survives a
// save/restore), shutdown, and a swtpm killed under the backend.
#include "qom/testing.h"

#include <glib.h>


#include "backends/tpm/tests/emulator_rig.h"
#include "backends/tpm/tests/swtpm_process.h"

using namespace qtpm;
using namespace qtpm::testing;

namespace {

struct Rig {
  explicit Rig(bool tpm2) : swtpm(tpm2) {
    ck_assert_msg(swtpm.wait_ready(), "swtpm did not start (is it installed?)");
    Status st = rig.realize(swtpm.ctrl_path(), 10000);
    ck_assert_msg(st.is_ok(), "%s", st.message().c_str());
    st = rig.start();
    ck_assert_msg(st.is_ok(), "%s", st.message().c_str());
  }
  SwtpmProcess swtpm;
  EmulatorRig rig;
};

void put_u32(std::vector<uint8_t> &v, uint32_t x) {
  for (int s = 24; s >= 0; s -= 8) v.push_back(static_cast<uint8_t>(x >> s));
}

// Builds a command with its size filled in.
std::vector<uint8_t> command(uint16_t tag, uint32_t code, const std::vector<uint8_t> &params) {
  std::vector<uint8_t> c{static_cast<uint8_t>(tag >> 8), static_cast<uint8_t>(tag)};
  put_u32(c, static_cast<uint32_t>(10 + params.size()));
  put_u32(c, code);
  c.insert(c.end(), params.begin(), params.end());
  return c;
}

std::vector<uint8_t> digest(GChecksumType type, const std::vector<uint8_t> &data) {
  GChecksum *sum = g_checksum_new(type);
  g_checksum_update(sum, data.data(), static_cast<gssize>(data.size()));
  std::vector<uint8_t> out(static_cast<size_t>(g_checksum_type_get_length(type)));
  gsize len = out.size();
  g_checksum_get_digest(sum, out.data(), &len);
  g_checksum_free(sum);
  return out;
}

// PCR extend: new = H(old || measurement).
std::vector<uint8_t> extended(GChecksumType type, std::vector<uint8_t> old,
                              const std::vector<uint8_t> &measurement) {
  old.insert(old.end(), measurement.begin(), measurement.end());
  return digest(type, old);
}

// --- TPM 2.0 commands (TPM 2.0 Library Part 3) ---

// The password session (TPM_RS_PW, empty auth) that commands on PCR handles need.
void put_pw_session(std::vector<uint8_t> &p) {
  put_u32(p, 9);
  put_u32(p, 0x40000009);
  p.insert(p.end(), {0, 0, 0, 0, 0});  // nonce size 0, attributes 0, hmac size 0
}

std::vector<uint8_t> tpm2_startup_clear() { return command(0x8001, 0x144, {0, 0}); }

std::vector<uint8_t> tpm2_get_random(uint16_t n) {
  return command(0x8001, 0x17B, {static_cast<uint8_t>(n >> 8), static_cast<uint8_t>(n)});
}

std::vector<uint8_t> tpm2_pcr_extend(uint32_t pcr, const std::vector<uint8_t> &sha256) {
  std::vector<uint8_t> p;
  put_u32(p, pcr);
  put_pw_session(p);
  put_u32(p, 1);                        // TPML_DIGEST_VALUES.count
  p.insert(p.end(), {0x00, 0x0B});      // TPM_ALG_SHA256
  p.insert(p.end(), sha256.begin(), sha256.end());
  return command(0x8002, 0x182, p);
}

std::vector<uint8_t> tpm2_pcr_reset(uint32_t pcr) {
  std::vector<uint8_t> p;
  put_u32(p, pcr);
  put_pw_session(p);
  return command(0x8002, 0x13D, p);
}

std::vector<uint8_t> tpm2_pcr_read(uint32_t pcr) {
  std::vector<uint8_t> p;
  put_u32(p, 1);                    // TPML_PCR_SELECTION.count
  p.insert(p.end(), {0x00, 0x0B});  // SHA256
  p.push_back(3);                   // sizeofSelect
  uint8_t select[3] = {0, 0, 0};
  select[pcr / 8] = static_cast<uint8_t>(1u << (pcr % 8));
  p.insert(p.end(), select, select + 3);
  return command(0x8001, 0x17E, p);
}

// The SHA-256 value out of a PCR_Read response: header, updateCounter, selection (10 bytes),
// digest count, TPM2B size, digest.
std::vector<uint8_t> pcr_value_20(const TpmRequest *r) {
  ck_assert_ptr_nonnull(r);
  ck_assert_uint_eq(rc_of(r), 0);
  ck_assert_uint_eq(r->response.size(), 62);
  return std::vector<uint8_t>(r->response.begin() + 30, r->response.end());
}

std::vector<uint8_t> read_pcr16(EmulatorRig &rig) { return pcr_value_20(rig.run(tpm2_pcr_read(16))); }

uint32_t run_rc(EmulatorRig &rig, const std::vector<uint8_t> &cmd, uint8_t locality = 0) {
  TpmRequest *r = rig.run(cmd, locality);
  ck_assert_ptr_nonnull(r);
  ck_assert_msg(r->status.is_ok(), "%s", r->status.message().c_str());
  return rc_of(r);
}

}  // namespace

START_TEST(test_tpm2_round_trips) {
  Rig t(true);
  EmulatorBackend *be = t.rig.backend;
  ck_assert(be->version() == TpmVersion::k2_0);
  ck_assert_uint_eq(be->capabilities() & 0x348F, 0x348F);
  ck_assert_uint_eq(be->buffer_size(), 4096);
  ck_assert_uint_eq(run_rc(t.rig, tpm2_startup_clear()), 0);
  TpmRequest *r = t.rig.run(tpm2_get_random(16));
  ck_assert_uint_eq(rc_of(r), 0);
  ck_assert_uint_eq(r->response.size(), 10 + 2 + 16);
  // PCR 16 starts at zero; an extend gives SHA-256(zeros || measurement).
  std::vector<uint8_t> m = digest(G_CHECKSUM_SHA256, {'q', 't', 'p', 'm'});
  ck_assert(read_pcr16(t.rig) == std::vector<uint8_t>(32, 0));
  ck_assert_uint_eq(run_rc(t.rig, tpm2_pcr_extend(16, m)), 0);
  ck_assert(read_pcr16(t.rig) == extended(G_CHECKSUM_SHA256, std::vector<uint8_t>(32, 0), m));
  ck_assert(t.rig.lines().empty());
  // A second machine reset restarts the TPM: Startup is accepted again, PCR 16 is back at zero.
  ck_assert(be->startup(3968).is_ok());
  ck_assert_uint_eq(run_rc(t.rig, tpm2_startup_clear()), 0);
  ck_assert(read_pcr16(t.rig) == std::vector<uint8_t>(32, 0));
}
END_TEST

START_TEST(test_tpm2_locality) {
  Rig t(true);
  ck_assert_uint_eq(run_rc(t.rig, tpm2_startup_clear()), 0);
  // PC Client rules: PCR 20 may be reset from locality 2 only.
  ck_assert_uint_eq(run_rc(t.rig, tpm2_pcr_reset(20), 0), 0x907);  // TPM_RC_LOCALITY
  ck_assert_uint_eq(run_rc(t.rig, tpm2_pcr_reset(20), 2), 0);
  ck_assert_uint_eq(run_rc(t.rig, tpm2_pcr_reset(20), 3), 0x907);
  // swtpm refuses locality 5: the guest gets a fatal response, the user a line.
  TpmRequest *r = t.rig.run(tpm2_get_random(8), 5);
  ck_assert(is_fatal_response(r));
  auto lines = t.rig.lines();
  ck_assert_uint_eq(lines.size(), 1);
  ck_assert_msg(lines[0].find("CMD_SET_LOCALITY with error 0x3d") != std::string::npos, "%s",
                lines[0].c_str());
  ck_assert_uint_eq(run_rc(t.rig, tpm2_pcr_reset(20), 2), 0);
}
END_TEST

START_TEST(test_tpm2_established_flag) {
  Rig t(true);
  ck_assert_uint_eq(run_rc(t.rig, tpm2_startup_clear()), 0);
  ck_assert(!t.rig.backend->established_flag());
  ck_assert(t.rig.backend->reset_established_flag(3).is_ok());
  ck_assert(t.rig.backend->reset_established_flag(4).is_ok());
  Status st = t.rig.backend->reset_established_flag(0);
  ck_assert(!st.is_ok());
  ck_assert_msg(st.message().find("0x3d") != std::string::npos, "%s", st.message().c_str());
  ck_assert(!t.rig.backend->established_flag());
}
END_TEST

START_TEST(test_tpm2_cancel) {
  Rig t(true);
  ck_assert_uint_eq(run_rc(t.rig, tpm2_startup_clear()), 0);
  t.rig.backend->cancel();  // nothing pending: nothing sent
  // swtpm 0.7.1 runs a command and its control channel on one thread, so a cancel cannot cut a
  // command short; it must not disturb anything either.
  auto req = std::make_unique<TpmRequest>();
  req->command = tpm2_get_random(16);
  req->max_response = 4096;
  size_t before = t.rig.frontend.done.size();
  ck_assert_ptr_null(t.rig.backend->deliver(std::move(req)).get());
  t.rig.backend->cancel();
  ck_assert(t.rig.host.run_until([&] { return t.rig.frontend.done.size() > before; }, 10000));
  ck_assert(t.rig.frontend.done.back()->status.is_ok());
  // The CANCEL reply is collected before the next control command (SET_LOCALITY 2 here).
  ck_assert_uint_eq(run_rc(t.rig, tpm2_pcr_reset(20), 2), 0);
  ck_assert_uint_eq(run_rc(t.rig, tpm2_get_random(4), 0), 0);
  ck_assert(t.rig.lines().empty());
}
END_TEST

START_TEST(test_tpm2_state_blobs) {
  Rig t(true);
  ck_assert_uint_eq(run_rc(t.rig, tpm2_startup_clear()), 0);
  std::vector<uint8_t> m1 = digest(G_CHECKSUM_SHA256, {1});
  ck_assert_uint_eq(run_rc(t.rig, tpm2_pcr_extend(16, m1)), 0);
  std::vector<uint8_t> v1 = read_pcr16(t.rig);
  EmulatorStateBlobs blobs;
  Status st = t.rig.backend->save_state_blobs(&blobs);
  ck_assert_msg(st.is_ok(), "%s", st.message().c_str());
  ck_assert(!blobs.permanent.data.empty());
  ck_assert(!blobs.volatile_state.data.empty());
  ck_assert(blobs.savestate.data.empty());
  ck_assert_uint_eq(blobs.permanent.flags & swtpm::kStateFlagEncrypted, 0);
  // Change the PCR, then restore: the saved value is back, without a new TPM2_Startup.
  ck_assert_uint_eq(run_rc(t.rig, tpm2_pcr_extend(16, m1)), 0);
  ck_assert(read_pcr16(t.rig) != v1);
  st = t.rig.backend->restore_state_blobs(blobs);
  ck_assert_msg(st.is_ok(), "%s", st.message().c_str());
  ck_assert(read_pcr16(t.rig) == v1);
  // And the data channel carries on (locality is said afresh after INIT).
  ck_assert_uint_eq(run_rc(t.rig, tpm2_pcr_reset(20), 2), 0);
  ck_assert(t.rig.lines().empty());
}
END_TEST

START_TEST(test_tpm2_shutdown) {
  Rig t(true);
  ck_assert(!t.swtpm.wait_exit(0));
  t.rig.backend_obj.reset();  // unrealize: CMD_SHUTDOWN ends swtpm
  ck_assert(t.swtpm.wait_exit(10000));
}
END_TEST

START_TEST(test_tpm2_swtpm_killed) {
  Rig t(true);
  ck_assert_uint_eq(run_rc(t.rig, tpm2_startup_clear()), 0);
  t.swtpm.kill_now();
  ck_assert(t.swtpm.wait_exit(10000));
  TpmRequest *r = t.rig.run(tpm2_get_random(8));
  ck_assert(is_fatal_response(r));
  auto lines = t.rig.lines();
  ck_assert_uint_eq(lines.size(), 1);
  ck_assert_msg(lines[0].find("tpm-emulator: swtpm closed the connection") == 0, "%s",
                lines[0].c_str());
  // The next machine reset fails with a message instead of ending the process.
  Status st = t.rig.backend->startup(4096);
  ck_assert(!st.is_ok());
  ck_assert(t.rig.backend->had_startup_error());
  ck_assert(is_fatal_response(t.rig.run(tpm2_get_random(8))));
  ck_assert_uint_eq(t.rig.lines().size(), 1);
}
END_TEST

START_TEST(test_tpm12_round_trips) {
  Rig t(false);
  EmulatorBackend *be = t.rig.backend;
  ck_assert(be->version() == TpmVersion::k1_2);
  ck_assert_uint_eq(be->capabilities() & 0x340F, 0x340F);
  ck_assert_uint_eq(run_rc(t.rig, command(0x00c1, 0x99, {0, 1})), 0);  // TPM_Startup(ST_CLEAR)
  TpmRequest *r = t.rig.run(command(0x00c1, 0x53, {}));                // TPM_ContinueSelfTest
  ck_assert_uint_eq(rc_of(r), 0);
  ck_assert(r->selftest_done);
  r = t.rig.run(command(0x00c1, 0x46, {0, 0, 0, 16}));  // TPM_GetRandom(16)
  ck_assert_uint_eq(rc_of(r), 0);
  ck_assert_uint_eq(r->response.size(), 10 + 4 + 16);
  // TPM_Extend(16, m) answers the new value, SHA-1(zeros || m); TPM_PCRRead agrees.
  std::vector<uint8_t> m = digest(G_CHECKSUM_SHA1, {'q', 't', 'p', 'm'});
  std::vector<uint8_t> p{0, 0, 0, 16};
  p.insert(p.end(), m.begin(), m.end());
  r = t.rig.run(command(0x00c1, 0x14, p));
  ck_assert_uint_eq(rc_of(r), 0);
  std::vector<uint8_t> want = extended(G_CHECKSUM_SHA1, std::vector<uint8_t>(20, 0), m);
  ck_assert(std::vector<uint8_t>(r->response.begin() + 10, r->response.end()) == want);
  r = t.rig.run(command(0x00c1, 0x15, {0, 0, 0, 16}));
  ck_assert(std::vector<uint8_t>(r->response.begin() + 10, r->response.end()) == want);
  // TPM 1.2: the established-flag reset is not offered and is ignored.
  ck_assert(be->reset_established_flag(3).is_ok());
  ck_assert(!be->established_flag());
  // State blobs round trip on 1.2 too.
  EmulatorStateBlobs blobs;
  ck_assert(be->save_state_blobs(&blobs).is_ok());
  ck_assert(!blobs.permanent.data.empty());
  ck_assert(be->restore_state_blobs(blobs).is_ok());
  r = t.rig.run(command(0x00c1, 0x15, {0, 0, 0, 16}));
  ck_assert(std::vector<uint8_t>(r->response.begin() + 10, r->response.end()) == want);
  ck_assert(t.rig.lines().empty());
}
END_TEST

int main() {
  Suite *s = suite_create("emulator-swtpm");
  TCase *tc = tcase_create("swtpm");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_tpm2_round_trips);
  tcase_add_test(tc, test_tpm2_locality);
  tcase_add_test(tc, test_tpm2_established_flag);
  tcase_add_test(tc, test_tpm2_cancel);
  tcase_add_test(tc, test_tpm2_state_blobs);
  tcase_add_test(tc, test_tpm2_shutdown);
  tcase_add_test(tc, test_tpm2_swtpm_killed);
  tcase_add_test(tc, test_tpm12_round_trips);
  suite_add_tcase(s, tc);
  return qtpm::testing::run_suite(s);
}
