// SPDX-License-Identifier: GPL-2.0-or-later
//
// tpm-emulator as a Migratable (tpm_emulator_state.cc) against two fake swtpms, a source and a
// destination: the section carries swtpm's blobs and flags, a load speaks QEMU's post_load
// sequence (STOP, SET_STATEBLOB for each non-empty blob, INIT with DELETE_VOLATILE), and every
// invalid state is refused before the destination's swtpm hears a single command.  A swtpm
// without the state-blob commands refuses the save with QEMU's blocker message.
#include "backends/tpm/swtpm_protocol.h"
#include "backends/tpm/tests/emulator_rig.h"
#include "backends/tpm/tests/fake_swtpm.h"
#include "qom/testing.h"

using namespace qtpm;
using namespace qtpm::testing;

namespace {

uint32_t code(swtpm::Cmd c) { return static_cast<uint32_t>(c); }

struct FakeRig {
  explicit FakeRig(bool tpm2 = true, uint32_t caps = 0)
      : fake(dir.file("ctrl"), FakeSwtpm::Options{tpm2, caps}) {}
  TempDir dir;
  FakeSwtpm fake;
  EmulatorRig rig;
};

std::vector<uint8_t> bytes(std::initializer_list<uint8_t> b) { return b; }

// The saved section of `rig`'s backend, as it would travel in a stream.
std::vector<uint8_t> saved(FakeRig &t) {
  Status st = t.rig.backend->prepare_save();
  ck_assert_msg(st.is_ok(), "%s", st.message().c_str());
  return t.rig.backend->save_state().finish();
}

Status load(FakeRig &t, const std::vector<uint8_t> &section) {
  StateReader r;
  Status st = StateReader::parse(section, &r);
  ck_assert_msg(st.is_ok(), "%s", st.message().c_str());
  return t.rig.backend->load_state(r);
}

// A section as a (broken or hostile) source might write it.
std::vector<uint8_t> section(uint8_t version, uint32_t perm_flags, std::vector<uint8_t> perm,
                             uint32_t section_version = 1) {
  StateWriter w("tpm-emulator", section_version);
  w.put_u8("tpm-version", version);
  w.put_u32("permanent-flags", perm_flags);
  w.put_bytes("permanent", perm);
  w.put_u32("volatile-flags", 0);
  w.put_bytes("volatile", std::vector<uint8_t>{});
  w.put_u32("savestate-flags", 0);
  w.put_bytes("savestate", std::vector<uint8_t>{});
  return w.finish();
}

void expect_refused(FakeRig &dst, const std::vector<uint8_t> &sec, const char *message) {
  size_t before = dst.fake.ctrl_log().size();
  Status st = load(dst, sec);
  ck_assert(!st.is_ok());
  ck_assert_msg(st.message() == message, "got '%s'", st.message().c_str());
  ck_assert_uint_eq(dst.fake.ctrl_log().size(), before);  // swtpm untouched
}

}  // namespace

START_TEST(save_carries_blobs_and_load_replays_post_load) {
  FakeRig src, dst;
  ck_assert(src.rig.realize(src.fake.ctrl_path()).is_ok());
  ck_assert(src.rig.start().is_ok());
  src.fake.set_blob(1, bytes({0x02, 0x01, 0x00, 0x0a, 0xaa}));
  src.fake.set_blob(2, bytes({0x02, 0x01, 0x00, 0x0a, 0xbb, 0xcc}));
  src.fake.set_blob(3, {});
  std::vector<uint8_t> sec = saved(src);
  ck_assert_uint_eq(src.fake.ctrl_count(code(swtpm::Cmd::kGetStateBlob)), 3);
  ck_assert(src.fake.running());  // taking the state leaves the source's TPM running

  StateReader r;
  ck_assert(StateReader::parse(sec, &r).is_ok());
  ck_assert(r.expect("tpm-emulator", 1, 1).is_ok());
  uint8_t version = 0;
  ck_assert(r.get_u8("tpm-version", &version).is_ok() && version == 2);

  // The destination defers INIT during -incoming; the load starts it.
  ck_assert(dst.rig.realize(dst.fake.ctrl_path()).is_ok());
  dst.rig.host.incoming = true;
  ck_assert(dst.rig.start().is_ok());
  ck_assert(!dst.fake.running());
  size_t before = dst.fake.ctrl_log().size();
  Status st = load(dst, sec);
  ck_assert_msg(st.is_ok(), "%s", st.message().c_str());
  std::vector<uint32_t> log = dst.fake.ctrl_log();
  log.erase(log.begin(), log.begin() + static_cast<long>(before));
  // STOP, two SET_STATEBLOBs (savestate is empty), INIT; then the established flag is read.
  ck_assert_uint_ge(log.size(), 4);
  ck_assert_uint_eq(log[0], code(swtpm::Cmd::kStop));
  ck_assert_uint_eq(log[1], code(swtpm::Cmd::kSetStateBlob));
  ck_assert_uint_eq(log[2], code(swtpm::Cmd::kSetStateBlob));
  ck_assert_uint_eq(log[3], code(swtpm::Cmd::kInit));
  ck_assert(dst.fake.init_flags() == (std::vector<uint32_t>{swtpm::kInitDeleteVolatile}));
  ck_assert(dst.fake.blob(1) == src.fake.blob(1));
  ck_assert(dst.fake.blob(2) == src.fake.blob(2));
  ck_assert(dst.fake.running());
  // The section a backend writes after a load is the one it loaded.
  ck_assert(saved(dst) == sec);
}
END_TEST

START_TEST(invalid_states_are_refused_before_swtpm_is_touched) {
  FakeRig dst;
  ck_assert(dst.rig.realize(dst.fake.ctrl_path()).is_ok());
  dst.rig.host.incoming = true;
  ck_assert(dst.rig.start().is_ok());
  expect_refused(dst, section(1, 0, {1, 2, 3}),
                 "tpm-emulator: the state is of a TPM 1.2, the swtpm behind 'tpm0' emulates a "
                 "TPM 2.0");
  expect_refused(dst, section(2, 0x4, {1, 2, 3}),
                 "tpm-emulator: the permanent blob has unknown state flags 0x4");
  expect_refused(dst, section(2, 0, {}), "tpm-emulator: the permanent state blob is empty");
  expect_refused(dst, section(2, 0, {1}, 2),
                 "tpm-emulator: state of 'tpm-emulator': version 2 is newer than this build "
                 "supports (1)");
  StateWriter other("tpm-libtpms", 1);
  expect_refused(dst, other.finish(),
                 "tpm-emulator: saved state: expected section 'tpm-emulator', found "
                 "'tpm-libtpms'");
  // An encrypted blob (swtpm --migration-key) travels with its flag.
  size_t sets = dst.fake.ctrl_count(code(swtpm::Cmd::kSetStateBlob));
  ck_assert(load(dst, section(2, swtpm::kStateFlagEncrypted, {7, 7})).is_ok());
  ck_assert_uint_eq(dst.fake.ctrl_count(code(swtpm::Cmd::kSetStateBlob)), sets + 1);
}
END_TEST

START_TEST(swtpm_refusing_a_blob_fails_the_load) {
  FakeRig dst;
  ck_assert(dst.rig.realize(dst.fake.ctrl_path()).is_ok());
  dst.rig.host.incoming = true;
  ck_assert(dst.rig.start().is_ok());
  dst.fake.inject_ctrl(code(swtpm::Cmd::kSetStateBlob), FAKE_SWTPM_CTRL_RESULT, 1, 0x800);
  Status st = load(dst, section(2, 0, {1, 2, 3}));
  ck_assert(!st.is_ok());
  ck_assert_msg(st.message().rfind("tpm-emulator: ", 0) == 0 &&
                    st.message().find("state blob (type 1)") != std::string::npos,
                "%s", st.message().c_str());
  ck_assert(!dst.fake.running());  // no INIT after a refused blob
}
END_TEST

START_TEST(save_refused_without_state_blob_commands) {
  FakeRig t(true, 0xffff & ~swtpm::cap::kSetStateBlob);
  ck_assert(t.rig.realize(t.fake.ctrl_path()).is_ok());
  ck_assert(t.rig.start().is_ok());
  Status st = t.rig.backend->prepare_save();
  ck_assert(!st.is_ok());
  ck_assert_str_eq(st.message().c_str(),
                   "tpm-emulator: Migration disabled: TPM emulator does not support migration");
  ck_assert_uint_eq(t.fake.ctrl_count(code(swtpm::Cmd::kGetStateBlob)), 0);
}
END_TEST

START_TEST(save_finishes_the_command_in_flight) {
  FakeRig t;
  ck_assert(t.rig.realize(t.fake.ctrl_path()).is_ok());
  ck_assert(t.rig.start().is_ok());
  t.fake.inject_data(FAKE_SWTPM_DATA_SLOW, 1, 300);
  auto req = std::make_unique<TpmRequest>();
  req->command = {0x80, 0x01, 0, 0, 0, 0x0c, 0, 0, 0x01, 0x7b, 0, 16};  // GetRandom(16)
  req->max_response = 4096;
  ck_assert_ptr_null(t.rig.backend->deliver(std::move(req)).get());
  ck_assert(t.rig.backend->request_pending());
  ck_assert(t.rig.backend->prepare_save().is_ok());
  // The response went to the frontend (whose state carries it) before the blobs were taken.
  ck_assert(!t.rig.backend->request_pending());
  ck_assert_uint_eq(t.rig.frontend.done.size(), 1);
  ck_assert_uint_eq(rc_of(t.rig.frontend.done[0].get()), 0);
  auto log = t.fake.ctrl_log();
  ck_assert_uint_eq(log.back(), code(swtpm::Cmd::kGetStateBlob));
}
END_TEST

int main() {
  Suite *s = suite_create("emulator-migratable");
  TCase *tc = tcase_create("state");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, save_carries_blobs_and_load_replays_post_load);
  tcase_add_test(tc, invalid_states_are_refused_before_swtpm_is_touched);
  tcase_add_test(tc, swtpm_refusing_a_blob_fails_the_load);
  tcase_add_test(tc, save_refused_without_state_blob_commands);
  tcase_add_test(tc, save_finishes_the_command_in_flight);
  suite_add_tcase(s, tc);
  return qtpm::testing::run_suite(s);
}
