// SPDX-License-Identifier: GPL-2.0-or-later
//
// The libtpms backend with in-memory state, driven as a frontend drives it (deliver/completion):
// TPM 2.0 and 1.2 commands, options, the one-instance rule, locality, physical presence, the
// established flag, cancel, buffer sizes, reset behaviour and the state-blob API.
#include <libtpms/tpm_tis.h>

#include "backends/tpm/tests/libtpms_rig.h"

using namespace qtpm;
using namespace qtpm::testing;

namespace {

LibtpmsRigOptions tpm12() {
  LibtpmsRigOptions o;
  o.version = "1.2";
  return o;
}

}  // namespace

START_TEST(test_tpm2_round_trips) {
  LibtpmsRig rig;
  ck_assert(rig.start().is_ok());
  ck_assert(rig.be->tpm_running());
  // Before TPM2_Startup every command is refused with TPM_RC_INITIALIZE.
  ck_assert_uint_eq(rig.rc(tpm2_get_random(8)), kTpmRcInitialize);
  ck_assert_uint_eq(rig.rc(tpm2_startup(0)), 0);

  Bytes random = rig.transact(tpm2_get_random(32));
  ck_assert_uint_eq(rc_of(random), 0);
  ck_assert_uint_eq(random.size(), 10 + 2 + 32);
  ck_assert_uint_eq(get16(random, 10), 32);
  ck_assert(slice(random, 12, 32) != Bytes(32, 0));

  // PCR 16 starts at zero; one extend gives SHA256(zeros || data).
  ck_assert(tpm2_pcr_read_digest(rig.transact(tpm2_pcr_read_sha256(16))) == Bytes(32, 0));
  Bytes data = sha256_of(Bytes{'q', 't', 'p', 'm'});
  ck_assert_uint_eq(rig.rc(tpm2_pcr_extend_sha256(16, data)), 0);
  Bytes expected = sha256_concat(Bytes(32, 0), data);
  ck_assert(tpm2_pcr_read_digest(rig.transact(tpm2_pcr_read_sha256(16))) == expected);
  // A second extend chains on the first.
  ck_assert_uint_eq(rig.rc(tpm2_pcr_extend_sha256(16, data)), 0);
  ck_assert(tpm2_pcr_read_digest(rig.transact(tpm2_pcr_read_sha256(16))) ==
            sha256_concat(expected, data));

  // Key generation: an RSA and an ECC primary, each answered with a transient handle.
  for (const Bytes &cmd : {tpm2_create_primary_rsa(), tpm2_create_primary_ecc()}) {
    Bytes resp = rig.transact(cmd);
    ck_assert_uint_eq(rc_of(resp), 0);
    uint32_t handle = get32(resp, 10);
    ck_assert_uint_eq(handle >> 24, 0x80);
    ck_assert_uint_eq(rig.rc(tpm2_flush_context(handle)), 0);
  }
  ck_assert(rig.last->status.is_ok());
  ck_assert(!rig.last->selftest_done);
}
END_TEST

START_TEST(test_tpm12_basics) {
  LibtpmsRig rig(tpm12());
  ck_assert(rig.start().is_ok());
  ck_assert(rig.be->version() == TpmVersion::k1_2);
  ck_assert_uint_eq(rig.rc(tpm12_startup(1)), 0);
  ck_assert(tpm12_digest_of(rig.transact(tpm12_pcr_read(10))) == Bytes(20, 0));
  Bytes data(20, 0x5a);
  Bytes out = tpm12_digest_of(rig.transact(tpm12_extend(10, data)));
  ck_assert(out == sha1_concat(Bytes(20, 0), data));
  ck_assert(tpm12_digest_of(rig.transact(tpm12_pcr_read(10))) == out);
  // ContinueSelfTest: a success is reported to the frontend (TIS shows selfTestDone).
  ck_assert_uint_eq(rig.rc(tpm12_continue_selftest()), 0);
  ck_assert(rig.last->selftest_done);
  rig.transact(tpm12_pcr_read(10));
  ck_assert(!rig.last->selftest_done);
}
END_TEST

START_TEST(test_options_and_errors) {
  {
    LibtpmsRigOptions o;
    o.version = "3.0";
    LibtpmsRig rig(o);
    Status st = rig.start();
    ck_assert(!st.is_ok());
    ck_assert_str_eq(st.message().c_str(),
                     "tpm-libtpms: Parameter 'version' expects '2.0' or '1.2', not '3.0'");
  }
  LibtpmsRig rig;
  ck_assert(rig.start().is_ok());
  const std::string type = rig.be->tpm_type();
  ck_assert_str_eq(type.c_str(), "libtpms");
  auto opts = rig.be->tpm_options();
  ck_assert_int_eq(opts.size(), 1);
  ck_assert_str_eq(opts[0].first.c_str(), "version");
  ck_assert_str_eq(opts[0].second.c_str(), "2.0");
  ck_assert_uint_eq(rig.be->buffer_size(), 4096);
  const TypeInfo *t = type_find(kTypeTpmLibtpms);
  ck_assert_ptr_nonnull(t);
  ck_assert(type_is_a(kTypeTpmLibtpms, kTypeTpmBackend));
  ck_assert(t->user_creatable);
}
END_TEST

START_TEST(test_state_option_shown) {
  TempDir dir;
  LibtpmsRigOptions o;
  o.state = dir.path;
  LibtpmsRig rig(o);
  ck_assert(rig.start().is_ok());
  auto opts = rig.be->tpm_options();
  ck_assert_int_eq(opts.size(), 2);
  ck_assert_str_eq(opts[1].first.c_str(), "state");
  ck_assert_str_eq(opts[1].second.c_str(), dir.path.c_str());
}
END_TEST

START_TEST(test_second_instance_refused) {
  LibtpmsRig first;
  ck_assert(first.start().is_ok());
  LibtpmsRigOptions o;
  o.id = "tpm1";
  LibtpmsRig second(o);
  Status st = second.start();
  ck_assert(!st.is_ok());
  ck_assert_str_eq(st.message().c_str(),
                   "tpm-libtpms: libtpms runs one TPM per process and TPM backend 'tpm0' "
                   "already uses it");
  // The first one is undisturbed...
  ck_assert_uint_eq(first.rc(tpm2_startup(0)), 0);
  ck_assert_uint_eq(first.rc(tpm2_get_random(4)), 0);
  // ...and once it is gone, libtpms is free again.
  first.destroy();
  ck_assert(second.start().is_ok());
  ck_assert_uint_eq(second.rc(tpm2_startup(0)), 0);
}
END_TEST

START_TEST(test_locality_reaches_tpm) {
  LibtpmsRig rig;
  ck_assert(rig.start().is_ok());
  ck_assert_uint_eq(rig.rc(tpm2_startup(0)), 0);
  // PC Client PCR 17 takes extends from localities 2-4 only (TPM_RC_LOCALITY otherwise).
  Bytes d(32, 1);
  ck_assert_uint_eq(rig.rc(tpm2_pcr_extend_sha256(17, d), 0), 0x907);
  ck_assert_uint_eq(rig.rc(tpm2_pcr_extend_sha256(17, d), 1), 0x907);
  ck_assert_uint_eq(rig.rc(tpm2_pcr_extend_sha256(17, d), 3), 0);
  // PCR 20: localities 1-3.
  ck_assert_uint_eq(rig.rc(tpm2_pcr_extend_sha256(20, d), 0), 0x907);
  ck_assert_uint_eq(rig.rc(tpm2_pcr_extend_sha256(20, d), 1), 0);
}
END_TEST

START_TEST(test_physical_presence_property) {
  {
    LibtpmsRig rig;  // default: not asserted, as swtpm
    ck_assert(rig.start().is_ok());
    ck_assert_uint_eq(rig.rc(tpm2_startup(0)), 0);
    ck_assert_uint_eq(rig.rc(tpm2_pp_commands()) & 0xff, 0x90);  // TPM_RC_PP (session 1)
  }
  LibtpmsRigOptions o;
  o.physical_presence = true;
  LibtpmsRig rig(o);
  ck_assert(rig.start().is_ok());
  ck_assert_uint_eq(rig.rc(tpm2_startup(0)), 0);
  ck_assert_uint_eq(rig.rc(tpm2_pp_commands()), 0);
}
END_TEST

START_TEST(test_established_flag) {
  LibtpmsRig rig;
  ck_assert(rig.start().is_ok());
  ck_assert_uint_eq(rig.rc(tpm2_startup(0)), 0);
  ck_assert(!rig.be->established_flag());
  // A locality-4 hash sequence (DRTM) sets the flag; the backend sees it after the next command.
  // No request is pending, so the test may call libtpms itself.
  ck_assert_uint_eq(TPM_IO_Hash_Start(), 0);
  ck_assert_uint_eq(TPM_IO_Hash_End(), 0);
  ck_assert_uint_eq(rig.rc(tpm2_get_random(4)), 0);
  ck_assert(rig.be->established_flag());
  // Only localities 3 and 4 may reset it.
  Status st = rig.be->reset_established_flag(0);
  ck_assert(!st.is_ok());
  ck_assert(rig.be->established_flag());
  ck_assert(rig.be->reset_established_flag(3).is_ok());
  ck_assert(!rig.be->established_flag());

  // A reset that arrives while a command runs is applied when the command is done (whichever
  // way the race goes, the flag ends up clear).
  ck_assert_uint_eq(TPM_IO_Hash_Start(), 0);
  ck_assert_uint_eq(TPM_IO_Hash_End(), 0);
  ck_assert_uint_eq(rig.rc(tpm2_get_random(4)), 0);
  ck_assert(rig.be->established_flag());
  auto req = std::make_unique<TpmRequest>();
  req->command = tpm2_create_primary_rsa();
  req->max_response = 4096;
  ck_assert_ptr_null(rig.be->deliver(std::move(req)).get());
  ck_assert(rig.be->reset_established_flag(3).is_ok());
  rig.be->finish_sync();
  ck_assert(!rig.be->established_flag());
}
END_TEST

START_TEST(test_cancel_then_continue) {
  LibtpmsRig rig;
  ck_assert(rig.start().is_ok());
  ck_assert_uint_eq(rig.rc(tpm2_startup(0)), 0);
  auto req = std::make_unique<TpmRequest>();
  req->command = tpm2_create_primary_rsa();
  req->max_response = 4096;
  ck_assert_ptr_null(rig.be->deliver(std::move(req)).get());
  rig.be->cancel();
  rig.be->finish_sync();
  // Cancelled (TPM_RC_CANCELED) or finished first; either way the TPM keeps working and a
  // cancel does not linger into the next command.
  ck_assert_uint_eq(rig.rc(tpm2_create_primary_ecc()), 0);
  ck_assert_uint_eq(rig.rc(tpm2_get_random(16)), 0);
}
END_TEST

START_TEST(test_buffer_sizes) {
  LibtpmsRigOptions o;
  o.buffer_size = 3968;  // tpm-crb
  LibtpmsRig rig(o);
  ck_assert(rig.start().is_ok());
  ck_assert_uint_eq(rig.be->buffer_size(), 3968);
  ck_assert_uint_eq(rig.rc(tpm2_startup(0)), 0);
  ck_assert_uint_eq(rig.rc(tpm2_get_random(32)), 0);
  // Too small for libtpms: a startup error, not an exit; requests then get the fatal answer.
  Status st = rig.be->startup(1024);
  ck_assert(!st.is_ok());
  ck_assert_str_eq(st.message().c_str(),
                   "tpm-libtpms: the frontend's buffer of 1024 bytes is smaller than libtpms' "
                   "minimum of 2808 bytes");
  ck_assert(rig.be->had_startup_error());
  Bytes resp = rig.transact(tpm2_get_random(4));
  ck_assert_uint_eq(rc_of(resp), 9);  // TPM_FAIL
  ck_assert(!rig.last->status.is_ok());
  // The next machine reset with a good size recovers.
  ck_assert(rig.be->startup(4096).is_ok());
  ck_assert_uint_eq(rig.rc(tpm2_startup(0)), 0);
}
END_TEST

START_TEST(test_reset_is_an_orderly_shutdown) {
  // A guest that reboots without TPM2_Shutdown: the backend shuts the TPM down before
  // restarting it, so each machine reset is an orderly TPM Reset.  The TPM shows it in
  // TPM2_ReadClock: resetCount counts the resets, and clockInfo.safe stays YES (a disorderly
  // shutdown makes it NO).
  LibtpmsRig rig;
  ck_assert(rig.start().is_ok());
  for (uint32_t i = 1; i <= 3; i++) {
    ck_assert_uint_eq(rig.rc(tpm2_startup(0)), 0);
    Bytes clock = rig.transact(tpm2_read_clock());
    ck_assert_uint_eq(rc_of(clock), 0);
    ck_assert_uint_eq(tpm2_clock_reset_count(clock), i);
    ck_assert_uint_eq(tpm2_clock_safe(clock), 1);
    rig.be->reset();
    ck_assert(rig.be->startup(4096).is_ok());
  }
  // A TPM left after its own TPM2_Shutdown(STATE) is not shut down again: Startup(STATE) works.
  // (PCR 10: PCRs 0-15 are saved by Shutdown(STATE); the debug PCR 16 is not.)
  ck_assert_uint_eq(rig.rc(tpm2_startup(0)), 0);
  Bytes d(32, 7);
  ck_assert_uint_eq(rig.rc(tpm2_pcr_extend_sha256(10, d)), 0);
  ck_assert_uint_eq(rig.rc(tpm2_shutdown(1)), 0);
  ck_assert(rig.be->startup(4096).is_ok());
  ck_assert_uint_eq(rig.rc(tpm2_startup(1)), 0);
  ck_assert(tpm2_pcr_read_digest(rig.transact(tpm2_pcr_read_sha256(10))) ==
            sha256_concat(Bytes(32, 0), d));
}
END_TEST

START_TEST(test_state_blobs_round_trip) {
  LibtpmsRig rig;
  ck_assert(rig.start().is_ok());
  ck_assert_uint_eq(rig.rc(tpm2_startup(0)), 0);
  Bytes d = sha256_of(Bytes{1, 2, 3});
  ck_assert_uint_eq(rig.rc(tpm2_pcr_extend_sha256(16, d)), 0);
  ck_assert_uint_eq(rig.rc(tpm2_nv_define(0x01500010, 4)), 0);
  ck_assert_uint_eq(rig.rc(tpm2_nv_write(0x01500010, Bytes{9, 8, 7, 6}, 0)), 0);
  const Bytes pcr = tpm2_pcr_read_digest(rig.transact(tpm2_pcr_read_sha256(16)));

  LibtpmsStateBlobs blobs;
  ck_assert(rig.be->get_state_blobs(&blobs).is_ok());
  ck_assert_uint_gt(blobs.permanent.size(), 0);
  ck_assert_uint_gt(blobs.volatile_state.size(), 0);
  ck_assert_uint_eq(blobs.savestate.size(), 0);  // TPM 2.0 has none

  // get -> terminate -> set -> init: the TPM continues where it was, without a new Startup.
  rig.be->stop_tpm();
  ck_assert(!rig.be->tpm_running());
  ck_assert(rig.be->set_state_blobs(blobs).is_ok());
  ck_assert(rig.be->startup(0).is_ok());
  ck_assert_uint_eq(rig.be->buffer_size(), 4096);
  ck_assert(tpm2_pcr_read_digest(rig.transact(tpm2_pcr_read_sha256(16))) == pcr);
  ck_assert(tpm2_nv_read_data(rig.transact(tpm2_nv_read(kTpmRhOwner, 0x01500010, 4, 0))) ==
            (Bytes{9, 8, 7, 6}));
  ck_assert_uint_eq(rig.rc(tpm2_startup(0)), kTpmRcInitialize);  // already started

  // The volatile blob is used once: the next machine reset starts the TPM afresh (PCR cleared
  // by Startup), while the permanent state (the NV index) stays.
  rig.be->reset();
  ck_assert(rig.be->startup(4096).is_ok());
  ck_assert_uint_eq(rig.rc(tpm2_startup(0)), 0);
  ck_assert(tpm2_pcr_read_digest(rig.transact(tpm2_pcr_read_sha256(16))) == Bytes(32, 0));
  ck_assert(tpm2_nv_read_data(rig.transact(tpm2_nv_read(kTpmRhOwner, 0x01500010, 4, 0))) ==
            (Bytes{9, 8, 7, 6}));

  // A broken incoming state is refused at startup and leaves the previous state in place.
  LibtpmsStateBlobs bad = blobs;
  bad.permanent.assign(64, 0xee);
  ck_assert(rig.be->set_state_blobs(bad).is_ok());
  Status st = rig.be->startup(0);
  ck_assert(!st.is_ok());
  ck_assert_ptr_nonnull(strstr(st.message().c_str(), "incoming"));
  ck_assert(rig.be->startup(4096).is_ok());
  ck_assert_uint_eq(rig.rc(tpm2_startup(0)), 0);
  ck_assert(tpm2_nv_read_data(rig.transact(tpm2_nv_read(kTpmRhOwner, 0x01500010, 4, 0))) ==
            (Bytes{9, 8, 7, 6}));
  LibtpmsStateBlobs empty;
  ck_assert(!rig.be->set_state_blobs(empty).is_ok());
}
END_TEST

START_TEST(test_tpm12_state_blobs) {
  LibtpmsRig rig(tpm12());
  ck_assert(rig.start().is_ok());
  ck_assert_uint_eq(rig.rc(tpm12_startup(1)), 0);
  Bytes out = tpm12_digest_of(rig.transact(tpm12_extend(10, Bytes(20, 3))));
  ck_assert_uint_eq(rig.rc(tpm12_save_state()), 0);
  LibtpmsStateBlobs blobs;
  ck_assert(rig.be->get_state_blobs(&blobs).is_ok());
  ck_assert_uint_gt(blobs.permanent.size(), 0);
  ck_assert_uint_gt(blobs.savestate.size(), 0);  // written by TPM_SaveState
  rig.be->stop_tpm();
  ck_assert(rig.be->set_state_blobs(blobs).is_ok());
  ck_assert(rig.be->startup(0).is_ok());
  // The volatile blob resumed the running TPM: PCR 10 still holds the extend.
  ck_assert(tpm12_digest_of(rig.transact(tpm12_pcr_read(10))) == out);
  // Without the volatile blob the TPM starts from its saved state (TPM_Startup(ST_STATE)).
  blobs.volatile_state.clear();
  ck_assert(rig.be->set_state_blobs(blobs).is_ok());
  ck_assert(rig.be->startup(0).is_ok());
  ck_assert_uint_eq(rig.rc(tpm12_startup(2)), 0);
  ck_assert(tpm12_digest_of(rig.transact(tpm12_pcr_read(10))) == out);
}
END_TEST

START_TEST(test_unrealize_and_requests_without_tpm) {
  LibtpmsRig rig;
  ck_assert(rig.start().is_ok());
  rig.be->stop_tpm();
  Bytes resp = rig.transact(tpm2_get_random(4));
  ck_assert_uint_eq(rc_of(resp), 9);
  ck_assert(!rig.last->status.is_ok());
  // A command shorter than a header is the TPM's business, not a crash.
  ck_assert(rig.be->startup(4096).is_ok());
  resp = rig.transact(Bytes{0x80, 0x01, 0x00});
  ck_assert_uint_ge(resp.size(), 10);
  ck_assert_uint_ne(rc_of(resp), 0);
  resp = rig.transact(Bytes{});
  ck_assert_uint_ge(resp.size(), 10);
  rig.be->unrealize();
  ck_assert(!rig.be->tpm_running());
}
END_TEST

int main() {
  Suite *s = suite_create("libtpms");
  TCase *tc = tcase_create("backend");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_tpm2_round_trips);
  tcase_add_test(tc, test_tpm12_basics);
  tcase_add_test(tc, test_options_and_errors);
  tcase_add_test(tc, test_state_option_shown);
  tcase_add_test(tc, test_second_instance_refused);
  tcase_add_test(tc, test_locality_reaches_tpm);
  tcase_add_test(tc, test_physical_presence_property);
  tcase_add_test(tc, test_established_flag);
  tcase_add_test(tc, test_cancel_then_continue);
  tcase_add_test(tc, test_buffer_sizes);
  tcase_add_test(tc, test_reset_is_an_orderly_shutdown);
  tcase_add_test(tc, test_state_blobs_round_trip);
  tcase_add_test(tc, test_tpm12_state_blobs);
  tcase_add_test(tc, test_unrealize_and_requests_without_tpm);
  suite_add_tcase(s, tc);
  return qtpm::testing::run_suite(s);
}
