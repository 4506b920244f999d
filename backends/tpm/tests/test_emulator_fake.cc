// SPDX-License-Identifier: GPL-2.0-or-later
//
// The emulator backend against the fault-injecting fake swtpm: the protocol as used (attach,
// startup, locality, established flag, cancel, state blobs, shutdown) and every fault a swtpm
// can commit (dies, hangs, short / oversized / garbage replies, missing capabilities, error
// results).  For each fault: the host never hangs (short x-timeout-ms), the guest gets a fatal
// TPM response, and the user gets one line naming swtpm and what went wrong.
#include "qom/testing.h"

#include <algorithm>

#include "backends/tpm/swtpm_protocol.h"
#include "backends/tpm/tests/emulator_rig.h"
#include "backends/tpm/tests/fake_swtpm.h"

using namespace qtpm;
using namespace qtpm::testing;

namespace {

const std::vector<uint8_t> kGetRandom16 = {0x80, 0x01, 0, 0, 0, 0x0c, 0, 0, 0x01, 0x7b, 0, 16};

uint32_t code(swtpm::Cmd c) { return static_cast<uint32_t>(c); }

// A fake swtpm in a temporary directory plus a rig attached to it.
struct FakeRig {
  explicit FakeRig(bool tpm2 = true, uint32_t caps = 0)
      : fake(dir.file("ctrl"), FakeSwtpm::Options{tpm2, caps}) {}
  TempDir dir;
  FakeSwtpm fake;
  EmulatorRig rig;
};

bool contains(const std::string &s, const char *needle) { return s.find(needle) != std::string::npos; }

// Exactly one message, which names swtpm and contains `what`.
void assert_one_line(EmulatorRig &rig, const char *what) {
  auto lines = rig.lines();
  ck_assert_msg(lines.size() == 1, "expected one message, got %zu", lines.size());
  ck_assert_msg(contains(lines[0], "tpm-emulator: ") && contains(lines[0], "swtpm") &&
                    contains(lines[0], what),
                "unexpected message: %s", lines[0].c_str());
}

// Runs a request that must fail: completion arrives, response is the fatal TPM error.
void assert_request_fails(EmulatorRig &rig) {
  TpmRequest *r = rig.run(kGetRandom16);
  ck_assert_ptr_nonnull(r);
  ck_assert(!r->status.is_ok());
  ck_assert(is_fatal_response(r));
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// The protocol as used.

START_TEST(test_attach_and_startup) {
  FakeRig t;
  ck_assert(t.fake.listening());
  Status st = t.rig.realize(t.fake.ctrl_path());
  ck_assert_msg(st.is_ok(), "%s", st.message().c_str());
  EmulatorBackend *be = t.rig.backend;
  ck_assert(be->version() == TpmVersion::k2_0);
  ck_assert_uint_eq(be->capabilities(), 0xffff);
  ck_assert_uint_eq(be->buffer_size(), 4096);
  ck_assert(be->tpm_type() == "emulator");
  ck_assert(be->tpm_options() == (std::vector<std::pair<std::string, std::string>>{
                                     {"chardev", "chr0"}}));
  // Attach: SET_DATAFD, then (after the data-channel probe) GET_CAPABILITY, then the size query.
  auto log = t.fake.ctrl_log();
  ck_assert_uint_eq(log.size(), 3);
  ck_assert_uint_eq(log[0], code(swtpm::Cmd::kSetDataFd));
  ck_assert_uint_eq(log[1], code(swtpm::Cmd::kGetCapability));
  ck_assert_uint_eq(log[2], code(swtpm::Cmd::kSetBufferSize));
  ck_assert(!t.fake.running());  // the TPM starts at machine reset, not at creation
  // Machine reset: STOP, SET_BUFFERSIZE(n), INIT(0), then the established flag is read.
  st = t.rig.start(3968);
  ck_assert_msg(st.is_ok(), "%s", st.message().c_str());
  log = t.fake.ctrl_log();
  ck_assert_uint_eq(log.size(), 7);
  ck_assert_uint_eq(log[3], code(swtpm::Cmd::kStop));
  ck_assert_uint_eq(log[4], code(swtpm::Cmd::kSetBufferSize));
  ck_assert_uint_eq(log[5], code(swtpm::Cmd::kInit));
  ck_assert_uint_eq(log[6], code(swtpm::Cmd::kGetTpmEstablished));
  ck_assert(t.fake.buffer_size_requests() == (std::vector<uint32_t>{0, 3968}));
  ck_assert(t.fake.init_flags() == (std::vector<uint32_t>{0}));
  ck_assert(t.fake.running());
  ck_assert(t.rig.lines().empty());
  ck_assert(!be->blocks_migration(nullptr));
}
END_TEST

START_TEST(test_tpm12_probe) {
  FakeRig t(false);
  Status st = t.rig.realize(t.fake.ctrl_path());
  ck_assert_msg(st.is_ok(), "%s", st.message().c_str());
  ck_assert(t.rig.backend->version() == TpmVersion::k1_2);
  // The probe asked TPM2_ReadClock first, then TPM_GetTicks.
  auto data = t.fake.data_log();
  ck_assert_uint_eq(data.size(), 2);
  ck_assert_uint_eq(tpm_header_code(data[0].bytes.data()), 0x181);
  ck_assert_uint_eq(tpm_header_code(data[1].bytes.data()), 0xF1);
}
END_TEST

START_TEST(test_request_and_locality) {
  FakeRig t;
  ck_assert(t.rig.realize(t.fake.ctrl_path()).is_ok());
  ck_assert(t.rig.start().is_ok());
  TpmRequest *r = t.rig.run(kGetRandom16, 0);
  ck_assert_ptr_nonnull(r);
  ck_assert(r->status.is_ok());
  ck_assert_uint_eq(r->response.size(), 10 + 2 + 16);
  ck_assert_uint_eq(rc_of(r), 0);
  ck_assert_uint_eq(r->response[12], 0x5a);
  ck_assert_ptr_nonnull(t.rig.run(kGetRandom16, 0));
  ck_assert_ptr_nonnull(t.rig.run(kGetRandom16, 2));
  // SET_LOCALITY only when it changes; every command ran at the locality it was sent from.
  ck_assert(t.fake.localities() == (std::vector<uint8_t>{0, 2}));
  auto data = t.fake.data_log();
  ck_assert_uint_eq(data.size(), 1 + 3);  // probe + three requests
  ck_assert_uint_eq(data[1].locality, 0);
  ck_assert_uint_eq(data[3].locality, 2);
  // After a reset the locality is said again.
  ck_assert(t.rig.backend->startup(4096).is_ok());
  ck_assert_ptr_nonnull(t.rig.run(kGetRandom16, 2));
  ck_assert(t.fake.localities() == (std::vector<uint8_t>{0, 2, 2}));
}
END_TEST

START_TEST(test_established_flag) {
  FakeRig t;
  t.fake.set_established(true);
  ck_assert(t.rig.realize(t.fake.ctrl_path()).is_ok());
  ck_assert(t.rig.start().is_ok());
  ck_assert_ptr_nonnull(t.rig.run(kGetRandom16, 1));  // the last SET_LOCALITY is now 1
  size_t queries = t.fake.ctrl_count(code(swtpm::Cmd::kGetTpmEstablished));
  ck_assert(t.rig.backend->established_flag());
  ck_assert(t.rig.backend->established_flag());
  // Read once at startup, then cached: guest register reads never wait for swtpm.
  ck_assert_uint_eq(t.fake.ctrl_count(code(swtpm::Cmd::kGetTpmEstablished)), queries);
  // The reset goes out with the locality that asked for it (3), not the last-set one (1).
  Status st = t.rig.backend->reset_established_flag(3);
  ck_assert_msg(st.is_ok(), "%s", st.message().c_str());
  ck_assert(t.fake.reset_established_localities() == (std::vector<uint8_t>{3}));
  ck_assert(!t.fake.established());
  ck_assert(!t.rig.backend->established_flag());
  // swtpm refuses other localities: the error names swtpm and the result.
  st = t.rig.backend->reset_established_flag(0);
  ck_assert(!st.is_ok());
  ck_assert_msg(contains(st.message(), "CMD_RESET_TPMESTABLISHED") &&
                    contains(st.message(), "0x3d"),
                "%s", st.message().c_str());
}
END_TEST

START_TEST(test_reset_established_tpm12_ignored) {
  FakeRig t(false);
  ck_assert(t.rig.realize(t.fake.ctrl_path()).is_ok());
  ck_assert(t.rig.start().is_ok());
  ck_assert(t.rig.backend->reset_established_flag(3).is_ok());
  ck_assert_uint_eq(t.fake.ctrl_count(code(swtpm::Cmd::kResetTpmEstablished)), 0);
}
END_TEST

START_TEST(test_selftest_detection) {
  FakeRig t(false);
  ck_assert(t.rig.realize(t.fake.ctrl_path()).is_ok());
  ck_assert(t.rig.start().is_ok());
  const std::vector<uint8_t> self_test = {0x00, 0xc1, 0, 0, 0, 0x0a, 0, 0, 0, 0x53};
  TpmRequest *r = t.rig.run(self_test);
  ck_assert_ptr_nonnull(r);
  ck_assert(r->selftest_done);
  const std::vector<uint8_t> get_ticks = {0x00, 0xc1, 0, 0, 0, 0x0a, 0, 0, 0, 0xf1};
  r = t.rig.run(get_ticks);
  ck_assert_ptr_nonnull(r);
  ck_assert(!r->selftest_done);
}
END_TEST

START_TEST(test_cancel_slow_command) {
  FakeRig t;
  ck_assert(t.rig.realize(t.fake.ctrl_path(), 20000).is_ok());
  ck_assert(t.rig.start().is_ok());
  t.fake.inject_data(FAKE_SWTPM_DATA_SLOW, 1, 15000);
  auto req = std::make_unique<TpmRequest>();
  req->command = kGetRandom16;
  req->max_response = 4096;
  ck_assert_ptr_null(t.rig.backend->deliver(std::move(req)).get());
  ck_assert(t.fake.wait_data_commands(2, 5000));  // the probe, then this one
  t.rig.backend->cancel();
  ck_assert(t.rig.host.run_until([&] { return !t.rig.frontend.done.empty(); }, 10000));
  TpmRequest *r = t.rig.frontend.done.back().get();
  // The fake answers a cancelled command with TPM_RC_CANCELED, long before its delay.
  ck_assert_uint_eq(rc_of(r), 0x909);
  ck_assert_uint_eq(t.fake.cancels(), 1);
  // The CANCEL reply is collected before the next control command; the channel stays in step.
  ck_assert_ptr_nonnull(t.rig.run(kGetRandom16, 3));
  ck_assert(t.fake.localities().back() == 3);
  ck_assert(t.rig.lines().empty());
}
END_TEST

START_TEST(test_cancel_needs_capability) {
  FakeRig t(true, 0xffff & ~swtpm::cap::kCancelTpmCmd);
  ck_assert(t.rig.realize(t.fake.ctrl_path(), 5000).is_ok());
  ck_assert(t.rig.start().is_ok());
  t.fake.inject_data(FAKE_SWTPM_DATA_SLOW, 1, 200);
  auto req = std::make_unique<TpmRequest>();
  req->command = kGetRandom16;
  req->max_response = 4096;
  ck_assert_ptr_null(t.rig.backend->deliver(std::move(req)).get());
  t.rig.backend->cancel();
  ck_assert(t.rig.host.run_until([&] { return !t.rig.frontend.done.empty(); }, 10000));
  ck_assert_uint_eq(rc_of(t.rig.frontend.done.back().get()), 0);  // ran to completion
  ck_assert_uint_eq(t.fake.ctrl_count(code(swtpm::Cmd::kCancelTpmCmd)), 0);
}
END_TEST

START_TEST(test_state_blobs) {
  FakeRig t;
  ck_assert(t.rig.realize(t.fake.ctrl_path()).is_ok());
  ck_assert(t.rig.start().is_ok());
  EmulatorStateBlobs blobs;
  Status st = t.rig.backend->save_state_blobs(&blobs);
  ck_assert_msg(st.is_ok(), "%s", st.message().c_str());
  ck_assert(blobs.permanent.data == t.fake.blob(1));
  ck_assert(blobs.volatile_state.data == t.fake.blob(2));
  ck_assert(blobs.savestate.data.empty());  // swtpm's non-fatal "no such blob" (0x800)
  // Restore: STOP, SET_STATEBLOB for the non-empty blobs, INIT(DELETE_VOLATILE).
  blobs.permanent.data = {1, 2, 3, 4, 5};
  size_t before = t.fake.ctrl_log().size();
  st = t.rig.backend->restore_state_blobs(blobs);
  ck_assert_msg(st.is_ok(), "%s", st.message().c_str());
  auto log = t.fake.ctrl_log();
  ck_assert_uint_eq(log[before], code(swtpm::Cmd::kStop));
  ck_assert_uint_eq(log[before + 1], code(swtpm::Cmd::kSetStateBlob));
  ck_assert_uint_eq(log[before + 2], code(swtpm::Cmd::kSetStateBlob));
  ck_assert_uint_eq(log[before + 3], code(swtpm::Cmd::kInit));
  ck_assert_uint_eq(t.fake.init_flags().back(), swtpm::kInitDeleteVolatile);
  ck_assert(t.fake.blob(1) == (std::vector<uint8_t>{1, 2, 3, 4, 5}));
  ck_assert(t.fake.running());
  ck_assert_ptr_nonnull(t.rig.run(kGetRandom16));
  // A blob that claims the wrong type is refused before swtpm is touched.
  blobs.savestate.type = swtpm::BlobType::kPermanent;
  before = t.fake.ctrl_log().size();
  ck_assert(!t.rig.backend->restore_state_blobs(blobs).is_ok());
  ck_assert_uint_eq(t.fake.ctrl_log().size(), before);
}
END_TEST

START_TEST(test_incoming_migration_defers_init) {
  FakeRig t;
  ck_assert(t.rig.realize(t.fake.ctrl_path()).is_ok());
  t.rig.host.incoming = true;
  ck_assert(t.rig.start().is_ok());
  ck_assert(t.fake.init_flags().empty());
  ck_assert(!t.fake.running());
  EmulatorStateBlobs blobs;
  blobs.permanent.data = {9, 9, 9};
  ck_assert(t.rig.backend->restore_state_blobs(blobs).is_ok());
  ck_assert(t.fake.init_flags() == (std::vector<uint32_t>{swtpm::kInitDeleteVolatile}));
  ck_assert(t.fake.blob(1) == (std::vector<uint8_t>{9, 9, 9}));
  ck_assert_ptr_nonnull(t.rig.run(kGetRandom16));
}
END_TEST

START_TEST(test_lock_storage_and_migration_caps) {
  FakeRig t;  // 0.7.1: no LOCK_STORAGE
  ck_assert(t.rig.realize(t.fake.ctrl_path()).is_ok());
  ck_assert(t.rig.start().is_ok());
  ck_assert(t.rig.backend->relock_storage().is_ok());
  ck_assert_uint_eq(t.fake.ctrl_count(code(swtpm::Cmd::kLockStorage)), 0);

  FakeRig t2(true, 0x1ffff);  // 0.8+: LOCK_STORAGE offered
  ck_assert(t2.rig.realize(t2.fake.ctrl_path()).is_ok());
  ck_assert(t2.rig.start().is_ok());
  ck_assert(t2.rig.backend->relock_storage().is_ok());
  ck_assert_uint_eq(t2.fake.ctrl_count(code(swtpm::Cmd::kLockStorage)), 1);

  FakeRig t3(true, 0xffff & ~swtpm::cap::kGetStateBlob);
  ck_assert(t3.rig.realize(t3.fake.ctrl_path()).is_ok());
  std::string reason;
  ck_assert(t3.rig.backend->blocks_migration(&reason));
  ck_assert_str_eq(reason.c_str(), "Migration disabled: TPM emulator does not support migration");
}
END_TEST

START_TEST(test_unrealize_sends_shutdown) {
  FakeRig t;
  ck_assert(t.rig.realize(t.fake.ctrl_path()).is_ok());
  ck_assert(t.rig.start().is_ok());
  t.rig.backend_obj.reset();
  ck_assert_uint_eq(t.fake.ctrl_count(code(swtpm::Cmd::kShutdown)), 1);
  ck_assert(!t.fake.alive());
}
END_TEST

START_TEST(test_configuration_errors) {
  register_builtin_types();
  TestHost host;
  auto obj = object_new(kTypeTpmEmulator);
  ck_assert_ptr_nonnull(obj.get());
  ck_assert(type_is_a(kTypeTpmEmulator, kTypeTpmBackend));
  ck_assert_str_eq(type_find(kTypeTpmEmulator)->description.c_str(), "TPM emulator backend driver");
  auto *be = object_cast<EmulatorBackend>(obj.get());
  be->set_host(&host);
  ck_assert(be->realize().message() == "tpm-emulator: parameter 'chardev' is missing");
  ck_assert(be->set_property("chardev", "nope").is_ok());
  ck_assert(be->realize().message() == "tpm-emulator: tpm chardev 'nope' not found");
  // A chardev that is not connected (a server nobody dialled).
  TempDir dir;
  auto chr_obj = object_new("chardev-socket");
  auto *chr = object_cast<Chardev>(chr_obj.get());
  ck_assert(chr->set_property("path", dir.file("srv")).is_ok());
  ck_assert(chr->set_property("server", "on").is_ok());
  ck_assert(chr->set_property("wait", "off").is_ok());
  ck_assert(chr->realize().is_ok());
  host.chardevs["srv"] = chr;
  ck_assert(be->set_property("chardev", "srv").is_ok());
  Status st = be->realize();
  ck_assert(contains(st.message(), "No valid chardev found at 'srv'"));
  obj.reset();
}
END_TEST

// ---------------------------------------------------------------------------------------------
// Faults at creation.

START_TEST(test_missing_capabilities) {
  FakeRig t(true, 0xffff & ~(swtpm::cap::kResetTpmEstablished | swtpm::cap::kStop));
  Status st = t.rig.realize(t.fake.ctrl_path());
  ck_assert(!st.is_ok());
  ck_assert_msg(contains(st.message(), "minimum set of required capabilities for TPM 2") &&
                    contains(st.message(), "RESET_TPMESTABLISHED") &&
                    contains(st.message(), "STOP") && !contains(st.message(), "INIT"),
                "%s", st.message().c_str());
  // TPM 1.2 does not need RESET_TPMESTABLISHED.
  FakeRig t12(false, 0x7fff & ~swtpm::cap::kResetTpmEstablished);
  ck_assert(t12.rig.realize(t12.fake.ctrl_path()).is_ok());
}
END_TEST

START_TEST(test_dies_at_creation) {
  FakeRig t;
  t.fake.inject_ctrl(code(swtpm::Cmd::kGetCapability), FAKE_SWTPM_CTRL_DIE);
  Status st = t.rig.realize(t.fake.ctrl_path());
  ck_assert_msg(contains(st.message(), "tpm-emulator: probing failed: swtpm closed the control "
                                       "channel"),
                "%s", st.message().c_str());
}
END_TEST

START_TEST(test_garbage_probe_at_creation) {
  FakeRig t;
  t.fake.inject_data(FAKE_SWTPM_DATA_GARBAGE);
  Status st = t.rig.realize(t.fake.ctrl_path());
  ck_assert_msg(contains(st.message(), "is not emulating a TPM device") &&
                    contains(st.message(), "not a TPM response"),
                "%s", st.message().c_str());
}
END_TEST

START_TEST(test_hang_at_creation) {
  FakeRig t;
  t.fake.inject_ctrl(code(swtpm::Cmd::kSetDataFd), FAKE_SWTPM_FREEZE);
  Status st = t.rig.realize(t.fake.ctrl_path(), 200);
  ck_assert_msg(contains(st.message(), "CMD_SET_DATAFD") && contains(st.message(), "200 ms"),
                "%s", st.message().c_str());
}
END_TEST

// ---------------------------------------------------------------------------------------------
// Faults on TPM commands: fatal response, one line, recovery at the next reset.

struct DataFaultCase {
  fake_swtpm_fault fault;
  const char *message;
};

const DataFaultCase kDataFaults[] = {
    {FAKE_SWTPM_DATA_DIE, "closed the connection instead of answering"},
    {FAKE_SWTPM_DATA_NO_REPLY, "did not answer a TPM command in time"},
    {FAKE_SWTPM_DATA_SHORT, "stopped answering after 14 bytes"},
    {FAKE_SWTPM_DATA_SHORT_CLOSE, "closed the connection in the middle of a response"},
    {FAKE_SWTPM_DATA_OVERSIZED, "more than the negotiated 4096-byte buffer"},
    {FAKE_SWTPM_DATA_UNDERSIZED, "claiming 6 bytes"},
    {FAKE_SWTPM_DATA_GARBAGE, "not a TPM response"},
    {FAKE_SWTPM_DATA_TRAILING, "sent 32 bytes for a response whose header says 28"},
    {FAKE_SWTPM_FREEZE, "did not answer a TPM command in time"},
};

START_TEST(test_data_faults) {
  const DataFaultCase &c = kDataFaults[_i];
  FakeRig t;
  ck_assert(t.rig.realize(t.fake.ctrl_path(), 1000).is_ok());
  ck_assert(t.rig.start().is_ok());
  t.fake.inject_data(c.fault);
  assert_request_fails(t.rig);
  assert_one_line(t.rig, c.message);
  // The data channel is out of step now: the next command fails at once, with no new line.
  assert_request_fails(t.rig);
  ck_assert_uint_eq(t.rig.lines().size(), 1);
  // The next machine reset replaces the data channel; a swtpm that is still there works again.
  Status st = t.rig.backend->startup(4096);
  if (c.fault == FAKE_SWTPM_DATA_DIE || c.fault == FAKE_SWTPM_FREEZE) {
    ck_assert(!st.is_ok());
    ck_assert(t.rig.backend->had_startup_error());
    assert_request_fails(t.rig);
    // A dead or hung swtpm is one problem, however many commands notice it: still one line.
    ck_assert_uint_eq(t.rig.lines().size(), 1);
  } else {
    ck_assert_msg(st.is_ok(), "%s", st.message().c_str());
    TpmRequest *r = t.rig.run(kGetRandom16);
    ck_assert_ptr_nonnull(r);
    ck_assert(r->status.is_ok());
    ck_assert_uint_eq(rc_of(r), 0);
    // A new data channel (swtpm may refuse it once or twice until it notices the old one gone).
    ck_assert_uint_ge(t.fake.ctrl_count(code(swtpm::Cmd::kSetDataFd)), 2);
  }
}
END_TEST

START_TEST(test_response_larger_than_frontend_buffer) {
  // A response that fits swtpm's buffer but not the frontend's is refused too.
  FakeRig t;
  ck_assert(t.rig.realize(t.fake.ctrl_path(), 1000).is_ok());
  ck_assert(t.rig.start().is_ok());
  TpmRequest *r = t.rig.run(kGetRandom16, 0, 20);
  ck_assert_ptr_nonnull(r);
  ck_assert(!r->status.is_ok());
  ck_assert(is_fatal_response(r));
  assert_one_line(t.rig, "more than the negotiated 20-byte buffer");
}
END_TEST

// ---------------------------------------------------------------------------------------------
// Faults on control commands.

START_TEST(test_ctrl_error_result_at_startup) {
  FakeRig t;
  ck_assert(t.rig.realize(t.fake.ctrl_path(), 1000).is_ok());
  t.fake.inject_ctrl(code(swtpm::Cmd::kInit), FAKE_SWTPM_CTRL_RESULT, 1, 0x9);
  Status st = t.rig.start();
  ck_assert_str_eq(st.message().c_str(),
                   "tpm-emulator: swtpm answered CMD_INIT with error 0x9 (operation failed)");
  ck_assert(t.rig.backend->had_startup_error());
  assert_request_fails(t.rig);  // never reaches swtpm
  ck_assert_uint_eq(t.fake.data_count(), 1);
  assert_one_line(t.rig, "CMD_INIT");
  // A well-formed error leaves the channel in step: the next reset works.
  ck_assert(t.rig.backend->startup(4096).is_ok());
  ck_assert_uint_eq(rc_of(t.rig.run(kGetRandom16)), 0);
}
END_TEST

START_TEST(test_ctrl_bare_error_reply) {
  // swtpm answers SET_BUFFERSIZE on a running TPM with a bare 4-byte error; the client must not
  // wait for the 12 bytes a success would carry.
  FakeRig t;
  ck_assert(t.rig.realize(t.fake.ctrl_path(), 2000).is_ok());
  t.fake.inject_ctrl(code(swtpm::Cmd::kSetBufferSize), FAKE_SWTPM_CTRL_RESULT, 1,
                     swtpm::kResultBadOrdinal);
  Status st = t.rig.start();
  ck_assert(contains(st.message(), "CMD_SET_BUFFERSIZE with error 0xa"));
  ck_assert(t.rig.backend->startup(4096).is_ok());
}
END_TEST

START_TEST(test_ctrl_short_reply) {
  FakeRig t;
  ck_assert(t.rig.realize(t.fake.ctrl_path(), 1000).is_ok());
  t.fake.inject_ctrl(code(swtpm::Cmd::kSetBufferSize), FAKE_SWTPM_CTRL_SHORT);
  Status st = t.rig.start();
  ck_assert_msg(contains(st.message(), "swtpm sent a short reply to CMD_SET_BUFFERSIZE"), "%s",
                st.message().c_str());
  assert_one_line(t.rig, "short reply");
  // Out of step: later control commands fail at once and add no line.
  st = t.rig.backend->startup(4096);
  ck_assert(contains(st.message(), "unusable after an earlier failure"));
  ck_assert_uint_eq(t.rig.lines().size(), 1);
}
END_TEST

START_TEST(test_ctrl_trailing_bytes) {
  FakeRig t;
  ck_assert(t.rig.realize(t.fake.ctrl_path(), 1000).is_ok());
  t.fake.inject_ctrl(code(swtpm::Cmd::kStop), FAKE_SWTPM_CTRL_TRAILING);
  // The stray bytes are read as the next command's result: an error, never a hang or a crash.
  Status st = t.rig.start();
  ck_assert(!st.is_ok());
  ck_assert_msg(contains(st.message(), "0xdeadbeef"), "%s", st.message().c_str());
}
END_TEST

START_TEST(test_ctrl_hang_on_locality) {
  FakeRig t;
  ck_assert(t.rig.realize(t.fake.ctrl_path(), 1000).is_ok());
  ck_assert(t.rig.start().is_ok());
  t.fake.inject_ctrl(code(swtpm::Cmd::kSetLocality), FAKE_SWTPM_CTRL_NO_REPLY);
  assert_request_fails(t.rig);
  assert_one_line(t.rig, "did not respond within 1000 ms while waiting for the reply to "
                         "CMD_SET_LOCALITY");
}
END_TEST

START_TEST(test_ctrl_bad_locality_result) {
  FakeRig t;
  ck_assert(t.rig.realize(t.fake.ctrl_path(), 1000).is_ok());
  ck_assert(t.rig.start().is_ok());
  TpmRequest *r = t.rig.run(kGetRandom16, 5);
  ck_assert_ptr_nonnull(r);
  ck_assert(is_fatal_response(r));
  assert_one_line(t.rig, "swtpm answered CMD_SET_LOCALITY with error 0x3d (bad locality)");
  // A refused locality is not remembered: the next command says its locality again.
  ck_assert_uint_eq(rc_of(t.rig.run(kGetRandom16, 0)), 0);
  ck_assert(t.fake.localities() == (std::vector<uint8_t>{0}));
}
END_TEST

START_TEST(test_ctrl_bad_state_blob) {
  FakeRig t;
  ck_assert(t.rig.realize(t.fake.ctrl_path(), 1000).is_ok());
  ck_assert(t.rig.start().is_ok());
  t.fake.inject_ctrl(code(swtpm::Cmd::kGetStateBlob), FAKE_SWTPM_CTRL_BAD_BLOB);
  EmulatorStateBlobs blobs;
  Status st = t.rig.backend->save_state_blobs(&blobs);
  ck_assert_msg(contains(st.message(), "getting state blob (type 1)") &&
                    contains(st.message(), "4294967040 bytes"),
                "%s", st.message().c_str());
  ck_assert(blobs.permanent.data.empty());
}
END_TEST

START_TEST(test_swtpm_dies_between_commands) {
  FakeRig t;
  ck_assert(t.rig.realize(t.fake.ctrl_path(), 1000).is_ok());
  ck_assert(t.rig.start().is_ok());
  t.fake.inject_ctrl(0, FAKE_SWTPM_CTRL_DIE);
  // The next control command (here SET_LOCALITY for locality 2) finds swtpm gone.
  TpmRequest *r = t.rig.run(kGetRandom16, 2);
  ck_assert_ptr_nonnull(r);
  ck_assert(is_fatal_response(r));
  assert_one_line(t.rig, "closed the control channel");
  // Reset: fails with a message, never exits or hangs; still one line.
  Status st = t.rig.backend->startup(4096);
  ck_assert(!st.is_ok());
  ck_assert_uint_eq(t.rig.lines().size(), 1);
  assert_request_fails(t.rig);
  ck_assert(!t.rig.backend->established_flag());
}
END_TEST

START_TEST(test_buffer_size_not_granted) {
  FakeRig t;
  t.fake.set_buffer_sizes(4096, 4096, 8192);
  ck_assert(t.rig.realize(t.fake.ctrl_path(), 1000).is_ok());
  ck_assert_uint_eq(t.rig.backend->buffer_size(), 8192);
  Status st = t.rig.start(3968);
  ck_assert_str_eq(st.message().c_str(), "tpm-emulator: swtpm set a buffer size of 4096 bytes "
                                         "when 3968 were asked for");
}
END_TEST

int main() {
  Suite *s = suite_create("emulator-fake");
  TCase *proto = tcase_create("protocol");
  tcase_set_timeout(proto, 60);
  tcase_add_test(proto, test_attach_and_startup);
  tcase_add_test(proto, test_tpm12_probe);
  tcase_add_test(proto, test_request_and_locality);
  tcase_add_test(proto, test_established_flag);
  tcase_add_test(proto, test_reset_established_tpm12_ignored);
  tcase_add_test(proto, test_selftest_detection);
  tcase_add_test(proto, test_cancel_slow_command);
  tcase_add_test(proto, test_cancel_needs_capability);
  tcase_add_test(proto, test_state_blobs);
  tcase_add_test(proto, test_incoming_migration_defers_init);
  tcase_add_test(proto, test_lock_storage_and_migration_caps);
  tcase_add_test(proto, test_unrealize_sends_shutdown);
  tcase_add_test(proto, test_configuration_errors);
  suite_add_tcase(s, proto);

  TCase *faults = tcase_create("faults");
  tcase_set_timeout(faults, 60);
  tcase_add_test(faults, test_missing_capabilities);
  tcase_add_test(faults, test_dies_at_creation);
  tcase_add_test(faults, test_garbage_probe_at_creation);
  tcase_add_test(faults, test_hang_at_creation);
  tcase_add_loop_test(faults, test_data_faults, 0,
                      static_cast<int>(sizeof kDataFaults / sizeof kDataFaults[0]));
  tcase_add_test(faults, test_response_larger_than_frontend_buffer);
  tcase_add_test(faults, test_ctrl_error_result_at_startup);
  tcase_add_test(faults, test_ctrl_bare_error_reply);
  tcase_add_test(faults, test_ctrl_short_reply);
  tcase_add_test(faults, test_ctrl_trailing_bytes);
  tcase_add_test(faults, test_ctrl_hang_on_locality);
  tcase_add_test(faults, test_ctrl_bad_locality_result);
  tcase_add_test(faults, test_ctrl_bad_state_blob);
  tcase_add_test(faults, test_swtpm_dies_between_commands);
  tcase_add_test(faults, test_buffer_size_not_granted);
  suite_add_tcase(s, faults);
  return qtpm::testing::run_suite(s);
}
