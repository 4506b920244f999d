// SPDX-License-Identifier: GPL-2.0-or-later
//
// The TIS command path: TPM 2.0 and 1.2 commands sent and received as Linux's tpm_tis_core does
// (burst count and Expect checked on every byte), responseRetry, commandCancel, commandReady
// aborts (immediate, and deferred while executing), commands longer than the buffer, bytes past
// the end of a command, STS writes that must do nothing, selfTestDone, resetEstablishment,
// backend failures and malformed responses, stale completions and reset with a command in
// flight.
#include "hw/tpm/tis/tests/tis_fixture.h"

using namespace qtpm;
using namespace qtpm::tis;
using namespace qtpm::testing;

namespace {

TisOptions variant(int i, TpmVersion v = TpmVersion::k2_0, uint32_t buffer = 4096) {
  TisOptions o;
  o.variant = (i & 1) ? TisVariant::kSysbus : TisVariant::kIsa;
  o.version = v;
  o.buffer_size = buffer;
  return o;
}

const std::vector<uint8_t> kFatal = {0x00, 0xc4, 0, 0, 0, 0x0a, 0, 0, 0, 0x09};

}  // namespace

START_TEST(test_transmit_tpm2) {
  TisFixture f(variant(_i));
  std::vector<uint8_t> rsp = tpm2_response(42);
  f.backend.push_response({rsp});
  f.request_locality(0);
  ck_assert(f.transmit(0, tpm2_get_random(32)) == rsp);
  ck_assert(f.backend.commands().at(0) == tpm2_get_random(32));
  ck_assert_uint_eq(f.backend.localities().at(0), 0);
  // After commandReady: ready for the next one, burst count back to the whole buffer.
  uint32_t s = f.sts(0);
  ck_assert_uint_eq(s, 0x04000000 | sts::kCommandReady | 4096 << 8);
  // From another locality; the backend learns which.
  f.writeb(2, reg::kAccess, access::kRequestUse);
  f.writeb(0, reg::kAccess, access::kActiveLocality);
  ck_assert(f.transmit(2, tpm2_startup()).size() == 10);
  ck_assert_uint_eq(f.backend.localities().at(1), 2);
  f.check_invariants();
}
END_TEST

START_TEST(test_transmit_tpm12_selftest) {
  TisFixture f(variant(_i, TpmVersion::k1_2));
  f.request_locality(0);
  std::vector<uint8_t> ok12 = {0x00, 0xc4, 0, 0, 0, 0x0a, 0, 0, 0, 0};
  f.backend.push_response({ok12, false, true});  // ContinueSelfTest succeeded
  ck_assert(!(f.sts(0) & sts::kSelfTestDone));
  ck_assert(f.transmit(0, tpm12_continue_selftest()) == ok12);
  ck_assert_uint_eq(f.sts(0) & 0x0c0000ff, sts::kSelfTestDone | sts::kCommandReady);  // family 0
  // Sticky, and set for every locality.
  ck_assert(f.transmit(0, tpm12_get_random()).size() == 10);
  ck_assert(f.sts(0) & sts::kSelfTestDone);
  f.writeb(3, reg::kAccess, access::kRequestUse);
  f.writeb(0, reg::kAccess, access::kActiveLocality);
  ck_assert(f.sts(3) & sts::kSelfTestDone);
  // TPM 1.2 ignores commandCancel and resetEstablishment.
  f.writel(3, reg::kSts, sts::kCommandCancel | sts::kResetEstablishment);
  ck_assert_int_eq(f.backend.cancels(), 0);
  ck_assert(f.backend.reset_established_localities().empty());
  // Reset clears it.
  f.dev->reset();
  f.request_locality(0);
  ck_assert(!(f.sts(0) & sts::kSelfTestDone));
  f.check_invariants();
}
END_TEST

START_TEST(test_response_retry) {
  TisFixture f(variant(_i));
  std::vector<uint8_t> rsp = tpm2_response(30);
  f.backend.push_response({rsp});
  f.request_locality(0);
  f.send(0, tpm2_get_random(20));
  f.wait_response(0);
  for (int i = 0; i < 12; i++) ck_assert_uint_eq(f.readb(0, reg::kDataFifo), rsp[i]);
  ck_assert_uint_eq(TisFixture::burst(f.sts(0)), 18);
  f.writeb(0, reg::kSts, sts::kResponseRetry);
  ck_assert_uint_eq(f.sts(0), 0x04000000 | sts::kValid | sts::kDataAvail | 30 << 8);
  ck_assert(f.receive(0, false) == rsp);
  // Again after reading everything.
  f.writeb(0, reg::kSts, sts::kResponseRetry);
  ck_assert(f.receive(0) == rsp);
  // Outside completion it does nothing.
  AccessOutcome out;
  f.write(0, reg::kSts, sts::kResponseRetry, 1, &out);
  ck_assert(out == AccessOutcome::kIgnored);
  ck_assert(f.dev->core().state(0) == TisState::kReady);
  f.check_invariants();
}
END_TEST

START_TEST(test_cancel_during_execution) {
  TisFixture f(variant(_i));
  f.request_locality(0);
  // Not executing: nothing to cancel.
  f.writel(0, reg::kSts, sts::kCommandCancel);
  ck_assert_int_eq(f.backend.cancels(), 0);
  f.backend.hold();
  f.send(0, tpm2_get_random());
  ck_assert(f.backend.wait_executing());
  f.writel(0, reg::kSts, sts::kCommandCancel);
  ck_assert_int_eq(f.backend.cancels(), 1);
  ck_assert(f.dev->core().state(0) == TisState::kExecution);
  // Only the owner may cancel.
  f.writel(1, reg::kSts, sts::kCommandCancel);
  ck_assert_int_eq(f.backend.cancels(), 1);
  f.backend.release();
  f.wait_response(0);
  ck_assert_uint_eq(f.receive(0).size(), 10);  // what the TPM answered after the cancel
  f.check_invariants();
}
END_TEST

// commandReady during execution: the backend is asked to cancel, the abort waits for the
// completion, whose response is dropped.
START_TEST(test_command_ready_abort_deferred) {
  TisFixture f(variant(_i));
  f.request_locality(0);
  f.writel(0, reg::kIntEnable, intr::kGlobalEnable | intr::kCommandReady | intr::kDataAvail);
  f.backend.hold();
  f.send(0, tpm2_get_random());
  ck_assert(f.backend.wait_executing());
  f.writel(0, reg::kIntStatus, intr::kSupported);
  f.writeb(0, reg::kSts, sts::kCommandReady);
  ck_assert_int_eq(f.backend.cancels(), 1);
  ck_assert(f.dev->core().state(0) == TisState::kExecution);
  ck_assert(!(f.sts(0) & sts::kCommandReady));
  // Still executing: tpmGo and FIFO writes are dropped.
  AccessOutcome out;
  f.write(0, reg::kDataFifo, 0x80, 1, &out);
  ck_assert(out == AccessOutcome::kIgnored);
  f.check_invariants();
  f.backend.release();
  ck_assert(f.host.run_until([&] { return f.dev->core().state(0) == TisState::kReady; }));
  ck_assert_uint_eq(f.sts(0), 0x04000000 | sts::kCommandReady | 4096 << 8);
  ck_assert_uint_eq(f.readl(0, reg::kDataFifo), 0xffffffff);
  // commandReady raised, dataAvail not (the response was dropped).
  ck_assert_uint_eq(f.readl(0, reg::kIntStatus), intr::kCommandReady);
  f.writel(0, reg::kIntStatus, intr::kCommandReady);
  ck_assert(f.transmit(0, tpm2_get_random()).size() == 10);
  f.check_invariants();
}
END_TEST

// commandReady while receiving aborts at once; in completion it drops the response.
START_TEST(test_command_ready_abort_immediate) {
  TisFixture f(variant(_i));
  f.request_locality(0);
  std::vector<uint8_t> cmd = tpm2_get_random();
  f.writeb(0, reg::kSts, sts::kCommandReady);
  for (int i = 0; i < 7; i++) f.writeb(0, reg::kDataFifo, cmd[i]);
  ck_assert(f.dev->core().state(0) == TisState::kReception);
  ck_assert_uint_eq(TisFixture::burst(f.sts(0)), 4096 - 7);
  f.writeb(0, reg::kSts, sts::kCommandReady);
  ck_assert(f.dev->core().state(0) == TisState::kReady);
  ck_assert_uint_eq(f.sts(0), 0x04000000 | sts::kCommandReady | 4096 << 8);
  ck_assert_int_eq(f.backend.cancels(), 0);
  f.send(0, cmd);
  f.wait_response(0);
  f.writeb(0, reg::kSts, sts::kCommandReady);
  ck_assert(f.dev->core().state(0) == TisState::kReady);
  ck_assert_uint_eq(f.readl(0, reg::kDataFifo), 0xffffffff);
  ck_assert(f.backend.commands().size() == 1 && f.backend.commands()[0] == cmd);
  f.check_invariants();
}
END_TEST

// A command longer than the buffer: Expect stays set while the buffer fills, the next byte
// clears it and is dropped.  tpmGo then gets a TPM failure response from the device itself: the
// truncated command never reaches the TPM, which would wait for the missing bytes.
START_TEST(test_command_longer_than_buffer) {
  TisFixture f(variant(_i, TpmVersion::k2_0, 64));
  ck_assert_uint_eq(f.dev->core().buffer_size(), 64);
  ck_assert_uint_eq(f.backend.last_startup_size(), 64);
  f.request_locality(0);
  std::vector<uint8_t> cmd(100, 0x5a);
  cmd[0] = 0x80, cmd[1] = 0x01, cmd[2] = 0, cmd[3] = 0, cmd[4] = 0, cmd[5] = 100;
  f.writeb(0, reg::kSts, sts::kCommandReady);
  for (int i = 0; i < 64; i++) {
    ck_assert_uint_eq(TisFixture::burst(f.sts(0)), 64 - i);
    f.writeb(0, reg::kDataFifo, cmd[i]);
    ck_assert(f.sts(0) & sts::kExpect);
  }
  ck_assert_uint_eq(TisFixture::burst(f.sts(0)), 0);
  AccessOutcome out;
  f.write(0, reg::kDataFifo, cmd[64], 1, &out);
  ck_assert(out == AccessOutcome::kIgnored);
  ck_assert_uint_eq(f.sts(0) & 0xff, sts::kValid);
  for (int i = 65; i < 100; i++) f.writeb(0, reg::kDataFifo, cmd[i]);
  ck_assert_uint_eq(f.sts(0) & 0xff, sts::kValid);
  f.write(0, reg::kSts, sts::kGo, 1, &out);
  ck_assert(out == AccessOutcome::kIgnored);  // reported as a guest error
  ck_assert(f.receive(0) == kFatal);
  ck_assert(f.backend.commands().empty());
  // The TPM is fine afterwards.
  ck_assert_uint_eq(f.transmit(0, tpm2_get_random()).size(), 10);
  f.check_invariants();
}
END_TEST

// A "command" that ends before a header does (its size field says 6) is not sent either.
START_TEST(test_command_shorter_than_header) {
  TisFixture f(variant(_i));
  f.request_locality(0);
  f.writeb(0, reg::kSts, sts::kCommandReady);
  for (uint8_t b : {0x80, 0x01, 0x00, 0x00, 0x00, 0x06}) f.writeb(0, reg::kDataFifo, b);
  ck_assert(!(f.sts(0) & sts::kExpect));  // complete as far as its size field goes
  f.writeb(0, reg::kSts, sts::kGo);
  ck_assert(f.receive(0) == kFatal);
  ck_assert(f.backend.commands().empty());
  f.check_invariants();
}
END_TEST

START_TEST(test_buffer_size_capped) {
  TisFixture f(variant(_i, TpmVersion::k2_0, 8192));
  ck_assert_uint_eq(f.dev->core().buffer_size(), 4096);
  ck_assert_uint_eq(f.backend.last_startup_size(), 4096);
  f.request_locality(0);
  ck_assert_uint_eq(TisFixture::burst(f.sts(0)), 4096);
}
END_TEST

// Bytes after the end of a command are dropped (QEMU's swtpm qtests send one extra 0x00), also
// inside one multi-byte write; tpmGo before the command is complete does nothing.
START_TEST(test_bytes_past_end_and_early_go) {
  TisFixture f(variant(_i));
  f.request_locality(0);
  std::vector<uint8_t> cmd = tpm2_get_random();
  f.writeb(0, reg::kSts, sts::kCommandReady);
  for (size_t i = 0; i < 8; i++) f.writeb(0, reg::kDataFifo, cmd[i]);
  AccessOutcome out;
  f.write(0, reg::kSts, sts::kGo, 1, &out);
  ck_assert(out == AccessOutcome::kIgnored);
  ck_assert(f.dev->core().state(0) == TisState::kReception);
  for (size_t i = 8; i < cmd.size(); i++) f.writeb(0, reg::kDataFifo, cmd[i]);
  f.write(0, reg::kDataFifo, 0x00, 1, &out);
  ck_assert(out == AccessOutcome::kIgnored);
  ck_assert(!(f.sts(0) & sts::kExpect));
  f.writeb(0, reg::kSts, sts::kGo);
  f.wait_response(0);
  ck_assert(f.backend.commands().at(0) == cmd);
  f.receive(0);
  // A 10-byte command written as three dwords: the two extra bytes are not sent.
  std::vector<uint8_t> small = tpm12_continue_selftest();
  small[0] = 0x80, small[1] = 0x01;
  small.resize(12, 0xee);
  for (size_t i = 0; i < 12; i += 4) {
    f.writel(0, reg::kDataFifo,
             small[i] | small[i + 1] << 8 | small[i + 2] << 16 | uint32_t(small[i + 3]) << 24);
  }
  f.writeb(0, reg::kSts, sts::kGo);
  f.wait_response(0);
  ck_assert(f.backend.commands().at(1) == std::vector<uint8_t>(small.begin(), small.begin() + 10));
  f.check_invariants();
}
END_TEST

// STS writes that must not act: more than one action bit, tpmGo outside reception, any STS or
// FIFO write from a locality that does not own the TPM, FIFO writes while idle.
START_TEST(test_sts_writes_without_effect) {
  TisFixture f(variant(_i));
  AccessOutcome out;
  f.write(0, reg::kSts, sts::kCommandReady, 1, &out);  // nobody owns the TPM
  ck_assert(out == AccessOutcome::kIgnored);
  f.request_locality(0);
  f.write(0, reg::kDataFifo, 0x80, 1, &out);  // idle
  ck_assert(out == AccessOutcome::kIgnored);
  ck_assert(f.dev->core().state(0) == TisState::kIdle);
  f.write(0, reg::kSts, sts::kCommandReady | sts::kGo, 1, &out);
  ck_assert(out == AccessOutcome::kIgnored);
  ck_assert(f.dev->core().state(0) == TisState::kIdle);
  f.write(0, reg::kSts, sts::kGo, 1, &out);
  ck_assert(out == AccessOutcome::kIgnored);
  f.write(1, reg::kSts, sts::kCommandReady, 1, &out);
  ck_assert(out == AccessOutcome::kIgnored);
  f.write(1, reg::kDataFifo, 0x80, 1, &out);
  ck_assert(out == AccessOutcome::kIgnored);
  ck_assert_uint_eq(f.sts(1), 0xffffffff);
  f.writeb(0, reg::kSts, sts::kCommandReady);
  ck_assert(f.dev->core().state(0) == TisState::kReady);
  ck_assert(f.backend.commands().empty());
  f.check_invariants();
}
END_TEST

START_TEST(test_reset_establishment) {
  TisFixture f(variant(_i));
  f.backend.set_established(true);
  f.request_locality(0);
  f.writel(0, reg::kSts, sts::kResetEstablishment);  // locality 0 may not
  ck_assert(f.backend.reset_established_localities().empty());
  ck_assert_uint_eq(f.access(0) & access::kTpmEstablishment, 0);
  f.writeb(3, reg::kAccess, access::kSeize);
  f.writel(3, reg::kSts, sts::kResetEstablishment);
  ck_assert_uint_eq(f.backend.reset_established_localities().size(), 1);
  ck_assert_uint_eq(f.backend.reset_established_localities()[0], 3);
  ck_assert_uint_eq(f.access(3) & access::kTpmEstablishment, access::kTpmEstablishment);
  // A byte write to STS+3 carries the same bit.
  f.writeb(3, reg::kSts + 3, sts::kResetEstablishment >> 24);
  ck_assert_uint_eq(f.backend.reset_established_localities().size(), 2);
}
END_TEST

// A failing backend or a malformed response gives the guest a TPM failure response.
START_TEST(test_backend_failures) {
  TisFixture f(variant(_i));
  f.request_locality(0);
  f.backend.push_response({{}, true});
  ck_assert(f.transmit(0, tpm2_get_random()) == kFatal);
  f.backend.push_response({tpm2_response(20), true});  // error with bytes: still a failure
  ck_assert(f.transmit(0, tpm2_get_random()) == kFatal);
  f.backend.push_response({{0x80, 0x01, 0, 0}});  // shorter than a header
  ck_assert(f.transmit(0, tpm2_get_random()) == kFatal);
  std::vector<uint8_t> lying = tpm2_response(20);
  lying[5] = 40;  // claims more than it has
  f.backend.push_response({lying});
  ck_assert(f.transmit(0, tpm2_get_random()) == kFatal);
  lying[5] = 4;  // claims less than a header
  f.backend.push_response({lying});
  ck_assert(f.transmit(0, tpm2_get_random()) == kFatal);
  // Trailing bytes past the size field are not served.
  std::vector<uint8_t> trailing = tpm2_response(20);
  trailing[5] = 12;
  f.backend.push_response({trailing});
  ck_assert(f.transmit(0, tpm2_get_random()) ==
            std::vector<uint8_t>(trailing.begin(), trailing.begin() + 12));
  f.check_invariants();
}
END_TEST

// A completion nobody waits for changes nothing; a reset with a command in flight drains it and
// the late completion is not delivered twice.
START_TEST(test_stale_completion_and_reset_in_flight) {
  TisFixture f(variant(_i));
  f.request_locality(0);
  auto stray = std::make_unique<TpmRequest>();
  stray->response = tpm2_response(10);
  f.dev->tpm_request_completed(std::move(stray));
  ck_assert(f.dev->core().state(0) == TisState::kIdle);
  f.check_invariants();
  f.backend.hold();
  f.send(0, tpm2_get_random());
  ck_assert(f.backend.wait_executing());
  f.backend.release();
  f.dev->reset();
  ck_assert_uint_eq(f.dev->core().active_locality(), kNoLocality);
  ck_assert(!f.dev->core().command_in_flight());
  f.host.loop.wait_and_run(20);
  ck_assert(f.dev->core().state(0) == TisState::kIdle);
  ck_assert_uint_eq(f.access(0), 0x81);
  ck_assert_int_eq(f.backend.resets(), 2);
  ck_assert_int_eq(f.backend.startups(), 2);
  f.check_invariants();
  f.request_locality(0);
  ck_assert(f.transmit(0, tpm2_get_random()).size() == 10);
}
END_TEST

int main() {
  Suite *s = suite_create("tis-command");
  TCase *tc = tcase_create("command");
  tcase_add_loop_test(tc, test_transmit_tpm2, 0, 2);
  tcase_add_loop_test(tc, test_transmit_tpm12_selftest, 0, 2);
  tcase_add_loop_test(tc, test_response_retry, 0, 2);
  tcase_add_loop_test(tc, test_cancel_during_execution, 0, 2);
  tcase_add_loop_test(tc, test_command_ready_abort_deferred, 0, 2);
  tcase_add_loop_test(tc, test_command_ready_abort_immediate, 0, 2);
  tcase_add_loop_test(tc, test_command_longer_than_buffer, 0, 2);
  tcase_add_loop_test(tc, test_command_shorter_than_header, 0, 2);
  tcase_add_loop_test(tc, test_buffer_size_capped, 0, 2);
  tcase_add_loop_test(tc, test_bytes_past_end_and_early_go, 0, 2);
  tcase_add_loop_test(tc, test_sts_writes_without_effect, 0, 2);
  tcase_add_loop_test(tc, test_reset_establishment, 0, 2);
  tcase_add_loop_test(tc, test_backend_failures, 0, 2);
  tcase_add_loop_test(tc, test_stale_completion_and_reset_in_flight, 0, 2);
  suite_add_tcase(s, tc);
  return qtpm::testing::run_suite(s);
}
