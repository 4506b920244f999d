// SPDX-License-Identifier: GPL-2.0-or-later
//
// TIS locality arbitration: request, relinquish and release cascades across localities 0-3,
// seize chains, beenSeized, pending requests, and locality changes while a command executes
// (deferred until it completes).  ACCESS values are those QEMU's qtests observe: 0x81 idle,
// 0xa1 active, 0xa5 active with others waiting, 0x83/0x87 waiting, 0x91/0x95 seized-from.
#include "hw/tpm/tis/tests/tis_fixture.h"

using namespace qtpm;
using namespace qtpm::tis;
using namespace qtpm::testing;

namespace {

TisOptions variant(int i) {
  TisOptions o;
  o.variant = i ? TisVariant::kSysbus : TisVariant::kIsa;
  return o;
}

void expect_access(TisFixture &f, std::array<uint8_t, 5> want) {
  for (uint8_t l = 0; l < kLocalities; l++) {
    ck_assert_msg(f.access(l) == want[l], "locality %u: ACCESS 0x%02x, expected 0x%02x", l,
                  f.access(l), want[l]);
  }
  f.check_invariants();
}

}  // namespace

START_TEST(test_request_and_relinquish_each) {
  TisFixture f(variant(_i));
  expect_access(f, {0x81, 0x81, 0x81, 0x81, 0x81});
  for (uint8_t l = 0; l < 4; l++) {
    f.writeb(l, reg::kAccess, access::kRequestUse);
    std::array<uint8_t, 5> want = {0x81, 0x81, 0x81, 0x81, 0x81};
    want[l] = 0xa1;
    expect_access(f, want);
    ck_assert_uint_eq(f.dev->core().active_locality(), l);
    // Requesting again while active changes nothing.
    f.writeb(l, reg::kAccess, access::kRequestUse);
    expect_access(f, want);
    f.writeb(l, reg::kAccess, access::kActiveLocality);
    expect_access(f, {0x81, 0x81, 0x81, 0x81, 0x81});
  }
  // Relinquishing a locality one does not own is not a release.
  f.request_locality(1);
  f.writeb(2, reg::kAccess, access::kActiveLocality);
  expect_access(f, {0x81, 0xa1, 0x81, 0x81, 0x81});
}
END_TEST

// Requests queue behind the owner; a release goes to the highest waiting locality.
START_TEST(test_release_cascade) {
  TisFixture f(variant(_i));
  f.request_locality(0);
  f.writeb(1, reg::kAccess, access::kRequestUse);
  expect_access(f, {0xa5, 0x83, 0x85, 0x85, 0x85});
  f.writeb(2, reg::kAccess, access::kRequestUse);
  expect_access(f, {0xa5, 0x87, 0x87, 0x85, 0x85});
  f.writeb(3, reg::kAccess, access::kRequestUse);
  expect_access(f, {0xa5, 0x87, 0x87, 0x87, 0x85});
  // 0 releases: 3 is the highest waiting.
  f.writeb(0, reg::kAccess, access::kActiveLocality);
  expect_access(f, {0x85, 0x87, 0x87, 0xa5, 0x85});
  // A waiting locality withdraws its request.
  f.writeb(1, reg::kAccess, access::kActiveLocality);
  expect_access(f, {0x85, 0x85, 0x83, 0xa5, 0x85});
  f.writeb(3, reg::kAccess, access::kActiveLocality);
  expect_access(f, {0x81, 0x81, 0xa1, 0x81, 0x81});
  // Locality 1 asks again; 2 releases to it; 1 releases to nobody.
  f.writeb(1, reg::kAccess, access::kRequestUse);
  expect_access(f, {0x85, 0x83, 0xa5, 0x85, 0x85});
  f.writeb(2, reg::kAccess, access::kActiveLocality);
  expect_access(f, {0x81, 0xa1, 0x81, 0x81, 0x81});
  f.writeb(1, reg::kAccess, access::kActiveLocality);
  expect_access(f, {0x81, 0x81, 0x81, 0x81, 0x81});
  ck_assert_uint_eq(f.dev->core().active_locality(), kNoLocality);
  // Relinquish and request in one write: the TPM is released (QEMU's order).
  f.request_locality(2);
  f.writeb(2, reg::kAccess, access::kActiveLocality | access::kRequestUse);
  expect_access(f, {0x81, 0x81, 0x81, 0x81, 0x81});
}
END_TEST

// Seize: a higher locality takes the TPM; the loser shows beenSeized until it clears it.
START_TEST(test_seize_chain) {
  TisFixture f(variant(_i));
  f.request_locality(0);
  f.writeb(1, reg::kAccess, access::kSeize);
  expect_access(f, {0x91, 0xa1, 0x81, 0x81, 0x81});
  f.writeb(2, reg::kAccess, access::kSeize);
  expect_access(f, {0x91, 0x91, 0xa1, 0x81, 0x81});
  f.writeb(3, reg::kAccess, access::kSeize);
  expect_access(f, {0x91, 0x91, 0x91, 0xa1, 0x81});
  // Lower or equal localities cannot seize, and a refused seize aborts nothing.
  f.writeb(3, reg::kSts, sts::kCommandReady);
  f.writeb(3, reg::kDataFifo, 0x80);
  f.writeb(1, reg::kAccess, access::kSeize);
  f.writeb(3, reg::kAccess, access::kSeize);
  expect_access(f, {0x91, 0x91, 0x91, 0xa1, 0x81});
  ck_assert(f.dev->core().state(3) == TisState::kReception);
  ck_assert_uint_eq(TisFixture::burst(f.sts(3)), 4095);
  // beenSeized is write-1-to-clear, by its own locality only.
  f.writeb(1, reg::kAccess, access::kBeenSeized);
  expect_access(f, {0x91, 0x81, 0x91, 0xa1, 0x81});
  // Seize plus request in one write: the request is dropped.
  f.writeb(0, reg::kAccess, access::kSeize | access::kRequestUse);
  expect_access(f, {0x91, 0x81, 0x91, 0xa1, 0x81});
  f.writeb(0, reg::kAccess, access::kBeenSeized);
  f.writeb(2, reg::kAccess, access::kBeenSeized);
  f.writeb(3, reg::kAccess, access::kActiveLocality);
  expect_access(f, {0x81, 0x81, 0x81, 0x81, 0x81});
  // Seize with nobody active: granted, nobody was seized.
  f.writeb(2, reg::kAccess, access::kSeize);
  expect_access(f, {0x81, 0x81, 0xa1, 0x81, 0x81});
}
END_TEST

// Seize with requests pending: the seized locality shows 0x95.
START_TEST(test_seize_with_pending) {
  TisFixture f(variant(_i));
  f.request_locality(0);
  f.writeb(1, reg::kAccess, access::kRequestUse);
  expect_access(f, {0xa5, 0x83, 0x85, 0x85, 0x85});
  f.writeb(2, reg::kAccess, access::kSeize);
  expect_access(f, {0x95, 0x83, 0xa5, 0x85, 0x85});
  // The seizer releases: the waiting locality gets the TPM.
  f.writeb(2, reg::kAccess, access::kActiveLocality);
  expect_access(f, {0x91, 0xa1, 0x81, 0x81, 0x81});
}
END_TEST

// A locality change drops the old owner's command: nobody reads its response later.
START_TEST(test_change_abandons_command) {
  TisFixture f(variant(_i));
  f.request_locality(0);
  f.send(0, tpm2_get_random());
  f.wait_response(0);
  ck_assert(f.dev->core().state(0) == TisState::kCompletion);
  f.writeb(1, reg::kAccess, access::kRequestUse);
  f.writeb(0, reg::kAccess, access::kActiveLocality);
  ck_assert_uint_eq(f.dev->core().active_locality(), 1);
  ck_assert(f.dev->core().state(0) == TisState::kIdle);
  ck_assert_uint_eq(f.readl(1, reg::kDataFifo), 0xffffffff);
  f.writeb(0, reg::kAccess, access::kRequestUse);
  f.writeb(1, reg::kAccess, access::kActiveLocality);
  ck_assert_uint_eq(f.dev->core().active_locality(), 0);
  uint32_t s = f.sts(0);
  ck_assert(!(s & (sts::kDataAvail | sts::kCommandReady)));
  ck_assert_uint_eq(f.readl(0, reg::kDataFifo), 0xffffffff);
  // And the next command works as usual.
  ck_assert_uint_eq(f.transmit(0, tpm2_get_random()).size(), 10);
  f.check_invariants();
}
END_TEST

// A seize while a command executes waits for it (the backend is asked to cancel); the response
// is dropped and the seizer gets the TPM afterwards.
START_TEST(test_seize_during_execution_deferred) {
  TisFixture f(variant(_i));
  f.request_locality(0);
  f.backend.hold();
  f.send(0, tpm2_get_random());
  ck_assert(f.backend.wait_executing());
  f.writeb(2, reg::kAccess, access::kSeize);
  ck_assert_int_eq(f.backend.cancels(), 1);
  ck_assert_uint_eq(f.dev->core().active_locality(), 0);
  ck_assert_uint_eq(f.access(0), 0xa1);
  ck_assert_uint_eq(f.access(2), 0x81);  // seize is never shown
  ck_assert(f.dev->core().state(0) == TisState::kExecution);
  // A second seize by a lower locality, and the owner's commandReady or release, do not undo
  // the pending seize (in QEMU they do, leaving locality 2's seize bit set for good).
  f.writeb(1, reg::kAccess, access::kSeize);
  f.writeb(0, reg::kSts, sts::kCommandReady);
  f.writeb(0, reg::kAccess, access::kActiveLocality);
  f.check_invariants();
  f.backend.release();
  ck_assert(f.host.run_until([&] { return f.dev->core().active_locality() == 2; }));
  expect_access(f, {0x91, 0x81, 0xa1, 0x81, 0x81});
  ck_assert(f.dev->core().state(0) == TisState::kIdle);
  ck_assert(f.dev->core().state(2) == TisState::kIdle);
  ck_assert_uint_eq(f.readl(2, reg::kDataFifo), 0xffffffff);
  // Seizing works again afterwards.
  f.writeb(3, reg::kAccess, access::kSeize);
  expect_access(f, {0x91, 0x81, 0x91, 0xa1, 0x81});
}
END_TEST

// A higher seize replaces a pending lower one.
START_TEST(test_higher_seize_replaces_pending) {
  TisFixture f(variant(_i));
  f.request_locality(0);
  f.backend.hold();
  f.send(0, tpm2_get_random());
  ck_assert(f.backend.wait_executing());
  f.writeb(1, reg::kAccess, access::kSeize);
  f.writeb(3, reg::kAccess, access::kSeize);
  f.writeb(2, reg::kAccess, access::kSeize);  // lower than the pending one: refused
  ck_assert_int_eq(f.backend.cancels(), 2);
  f.check_invariants();
  f.backend.release();
  ck_assert(f.host.run_until([&] { return f.dev->core().active_locality() == 3; }));
  expect_access(f, {0x91, 0x81, 0x81, 0xa1, 0x81});
}
END_TEST

// A release while a command executes also waits; requests arriving meanwhile are served.
START_TEST(test_release_during_execution_deferred) {
  TisFixture f(variant(_i));
  f.request_locality(0);
  f.backend.hold();
  f.send(0, tpm2_get_random());
  ck_assert(f.backend.wait_executing());
  f.writeb(0, reg::kAccess, access::kActiveLocality);
  ck_assert_uint_eq(f.dev->core().active_locality(), 0);
  f.writeb(1, reg::kAccess, access::kRequestUse);
  expect_access(f, {0xa5, 0x83, 0x85, 0x85, 0x85});
  f.backend.release();
  ck_assert(f.host.run_until([&] { return f.dev->core().active_locality() == 1; }));
  expect_access(f, {0x81, 0xa1, 0x81, 0x81, 0x81});
  // Without a waiting locality, a deferred release leaves nobody active.
  f.backend.hold();
  f.send(1, tpm2_get_random());
  ck_assert(f.backend.wait_executing());
  f.writeb(1, reg::kAccess, access::kActiveLocality);
  f.backend.release();
  ck_assert(f.host.run_until([&] { return f.dev->core().active_locality() == kNoLocality; }));
  expect_access(f, {0x81, 0x81, 0x81, 0x81, 0x81});
}
END_TEST

int main() {
  Suite *s = suite_create("tis-locality");
  TCase *tc = tcase_create("locality");
  tcase_add_loop_test(tc, test_request_and_relinquish_each, 0, 2);
  tcase_add_loop_test(tc, test_release_cascade, 0, 2);
  tcase_add_loop_test(tc, test_seize_chain, 0, 2);
  tcase_add_loop_test(tc, test_seize_with_pending, 0, 2);
  tcase_add_loop_test(tc, test_change_abandons_command, 0, 2);
  tcase_add_loop_test(tc, test_seize_during_execution_deferred, 0, 2);
  tcase_add_loop_test(tc, test_higher_seize_replaces_pending, 0, 2);
  tcase_add_loop_test(tc, test_release_during_execution_deferred, 0, 2);
  suite_add_tcase(s, tc);
  return qtpm::testing::run_suite(s);
}
