// SPDX-License-Identifier: GPL-2.0-or-later
//
// tpm-libtpms as a Migratable (tpm_libtpms_state.cc) with a real libtpms TPM 2.0: a saved state
// brings PCRs and loaded objects back after the TPM moved on; a state from a TPM of the other
// version, a damaged blob or a malformed section is refused and the running TPM keeps its state.
// (One libtpms TPM per process: save and load happen on the same backend.)
#include "backends/tpm/tests/libtpms_rig.h"
#include "qom/testing.h"

using namespace qtpm;
using namespace qtpm::testing;

namespace {

Bytes pcr10(LibtpmsRig &rig) {
  Bytes resp = rig.transact(tpm2_pcr_read_sha256(10));
  ck_assert_uint_eq(rc_of(resp), kTpmRcSuccess);
  return tpm2_pcr_read_digest(resp);
}

void extend10(LibtpmsRig &rig, uint8_t fill) {
  ck_assert_uint_eq(rig.rc(tpm2_pcr_extend_sha256(10, Bytes(32, fill))), kTpmRcSuccess);
}

std::vector<uint8_t> saved(LibtpmsRig &rig) {
  Status st = rig.be->prepare_save();
  ck_assert_msg(st.is_ok(), "%s", st.message().c_str());
  return rig.be->save_state().finish();
}

Status load(LibtpmsRig &rig, const std::vector<uint8_t> &section) {
  StateReader r;
  Status st = StateReader::parse(section, &r);
  ck_assert_msg(st.is_ok(), "%s", st.message().c_str());
  return rig.be->load_state(r);
}

std::vector<uint8_t> with_permanent(uint8_t version, Bytes permanent) {
  StateWriter w("tpm-libtpms", 1);
  w.put_u8("tpm-version", version);
  w.put_bytes("permanent", permanent);
  w.put_bytes("volatile", Bytes{});
  w.put_bytes("savestate", Bytes{});
  return w.finish();
}

}  // namespace

START_TEST(state_brings_pcrs_and_objects_back) {
  LibtpmsRig rig;
  ck_assert(rig.start().is_ok());
  ck_assert_uint_eq(rig.rc(tpm2_startup(0)), kTpmRcSuccess);
  extend10(rig, 0x11);
  Bytes before = pcr10(rig);
  Bytes primary = rig.transact(tpm2_create_primary_ecc());
  ck_assert_uint_eq(rc_of(primary), kTpmRcSuccess);
  uint32_t handle = get32(primary, 10);
  std::vector<uint8_t> sec = saved(rig);

  // The TPM moves on: another extend, the object flushed.
  extend10(rig, 0x22);
  ck_assert(pcr10(rig) != before);
  ck_assert_uint_eq(rig.rc(tpm2_flush_context(handle)), kTpmRcSuccess);

  Status st = load(rig, sec);
  ck_assert_msg(st.is_ok(), "%s", st.message().c_str());
  ck_assert(rig.be->tpm_running());
  ck_assert(pcr10(rig) == before);
  // The transient object is loaded again under its handle.
  ck_assert_uint_eq(rig.rc(tpm2_read_public(handle)), kTpmRcSuccess);
  // No TPM2_Startup needed: the volatile state says the TPM is started.
  extend10(rig, 0x11);
  ck_assert(pcr10(rig) == sha256_concat(before, Bytes(32, 0x11)));
}
END_TEST

START_TEST(refused_states_leave_the_tpm_as_it_was) {
  LibtpmsRig rig;
  ck_assert(rig.start().is_ok());
  ck_assert_uint_eq(rig.rc(tpm2_startup(0)), kTpmRcSuccess);
  extend10(rig, 0x33);
  Bytes value = pcr10(rig);

  Status st = load(rig, with_permanent(1, Bytes{1, 2, 3}));
  ck_assert_str_eq(st.message().c_str(),
                   "tpm-libtpms: the state is of a TPM 1.2, 'tpm0' is a TPM 2.0 (version=2.0)");
  st = load(rig, with_permanent(2, Bytes{}));
  ck_assert_str_eq(st.message().c_str(), "tpm-libtpms: the permanent state blob is empty");
  StateWriter old("tpm-libtpms", 9);
  st = load(rig, old.finish());
  ck_assert_str_eq(st.message().c_str(),
                   "tpm-libtpms: state of 'tpm-libtpms': version 9 is newer than this build "
                   "supports (1)");
  ck_assert(pcr10(rig) == value);

  // libtpms itself refuses a damaged blob: the TPM comes back with the state it had.
  st = load(rig, with_permanent(2, Bytes(64, 0x5a)));
  ck_assert(!st.is_ok());
  ck_assert_msg(
      st.message().find("libtpms refused the incoming permanent state") != std::string::npos, "%s",
      st.message().c_str());
  ck_assert(rig.be->tpm_running());
  ck_assert(pcr10(rig) == value);
}
END_TEST

START_TEST(save_needs_a_tpm_that_started) {
  LibtpmsRig rig;
  ck_assert(rig.be->set_property("version", "2.0").is_ok());
  ck_assert(rig.be->realize().is_ok());
  Status st = rig.be->prepare_save();
  ck_assert_str_eq(st.message().c_str(),
                   "tpm-libtpms: 'tpm0' has no TPM state to save (the TPM never started)");
}
END_TEST

int main() {
  Suite *s = suite_create("libtpms-migratable");
  TCase *tc = tcase_create("state");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, state_brings_pcrs_and_objects_back);
  tcase_add_test(tc, refused_states_leave_the_tpm_as_it_was);
  tcase_add_test(tc, save_needs_a_tpm_that_started);
  suite_add_tcase(s, tc);
  return qtpm::testing::run_suite(s);
}
