// SPDX-License-Identifier: GPL-2.0-or-later
//
// Saved-state tests for tpm-crb (schema in tpm_crb_state.cc and docs/crb.md): round trips in
// both layouts, mutations that must show, draining a command in flight, and corrupt or
// mismatched blobs that must be refused without changing the device.
#include "qom/testing.h"

#include <thread>

#include "hw/tpm/crb/tests/crb_rig.h"

using namespace qtpm;
using namespace qtpm::crb;
using namespace qtpm::testing;

namespace {

std::vector<uint8_t> save(TpmCrb &crb) {
  ck_assert(crb.prepare_save().is_ok());
  return crb.save_state().finish();
}

Status load(TpmCrb &crb, const std::vector<uint8_t> &blob) {
  StateReader reader;
  Status st = StateReader::parse(blob, &reader);
  if (!st) return st;
  return crb.load_state(reader);
}

// A device with some state: locality held, ready, error latched, data in buffer and PPI.
void dirty(CrbRig &rig) {
  rig.backend.push_reply({{}, true});
  rig.transact(tpm2_command(0x17b, {0, 8}));
  rig.set_reg(A_LOC_CTRL, loc_ctrl::kRequestAccess);
  rig.set_reg(A_CTRL_REQ, ctrl_req::kCmdReady);
  rig.write(0xfed40080 + 0x100, 0x55aa55aa, 4);
  if (rig.region("tpm-ppi")) rig.write(PpiLayout::kAddress + PpiLayout::kPprq, 0x21, 1);
}

void check_round_trip(const char *layout, bool ppi) {
  CrbRig a({.layout = layout, .ppi = ppi});
  ck_assert(a.start().is_ok());
  dirty(a);
  std::vector<uint8_t> blob = save(*a.crb);

  // Restore into a fresh device: everything the guest sees is the same.
  CrbRig b({.layout = layout, .ppi = ppi});
  ck_assert(b.start().is_ok());
  Status st = load(*b.crb, blob);
  ck_assert_msg(st.is_ok(), "%s", st.message().c_str());
  for (const RegisterSpec &r : kRegisters) {
    ck_assert_msg(a.reg(r.offset) == b.reg(r.offset), "%s differs", r.name);
  }
  ck_assert(std::memcmp(a.crb->buffer_memory(), b.crb->buffer_memory(),
                        a.crb->layout().memory_size) == 0);
  ck_assert(save(*b.crb) == blob);

  // save -> mutate -> restore -> save is equal, and the mutation showed in between.
  b.set_reg(A_LOC_CTRL, loc_ctrl::kRelinquish);
  b.set_reg(A_CTRL_REQ, ctrl_req::kGoIdle);
  b.write(0xfed40080 + 0x100, 0, 4);
  if (ppi) b.write(PpiLayout::kAddress + PpiLayout::kPprq, 0, 1);
  std::vector<uint8_t> mutated = save(*b.crb);
  ck_assert(mutated != blob);
  ck_assert(load(*b.crb, blob).is_ok());
  ck_assert(save(*b.crb) == blob);
  ck_assert_uint_eq(b.reg(A_LOC_STATE), 0x83);
  ck_assert_uint_eq(b.reg(A_LOC_STS), 1);
  ck_assert_uint_eq(b.reg(A_CTRL_STS), ctrl_sts::kTpmSts.mask());
  ck_assert_uint_eq(b.read(0xfed40080 + 0x100, 4), 0x55aa55aa);
  if (ppi) ck_assert_uint_eq(b.read(PpiLayout::kAddress + PpiLayout::kPprq, 1), 0x21);
  // The restored device works.
  ck_assert(b.transact(tpm2_command(0x17b, {0, 8})) == tpm2_response(0));
}

}  // namespace

START_TEST(test_round_trip_qemu_layout) { check_round_trip("qemu", true); }
END_TEST

START_TEST(test_round_trip_page_aligned_no_ppi) { check_round_trip("page-aligned", false); }
END_TEST

START_TEST(test_in_flight_command_is_drained) {
  CrbRig rig;
  ck_assert(rig.start().is_ok());
  std::vector<uint8_t> reply = {0x80, 0x01, 0, 0, 0, 0x0c, 0, 0, 0, 0, 0x12, 0x34};
  rig.backend.push_reply({reply});
  rig.backend.set_hold(true);
  rig.set_reg(A_LOC_CTRL, loc_ctrl::kRequestAccess);
  rig.copy_in(0xfed40080, tpm2_command(0x17b, {0, 2}));
  rig.set_reg(A_CTRL_START, 1);
  ck_assert(rig.backend.wait_held());
  std::thread finisher([&] { rig.backend.release(); });
  ck_assert(rig.crb->prepare_save().is_ok());  // waits for the response
  finisher.join();
  ck_assert_uint_eq(rig.reg(A_CTRL_START), 0);
  std::vector<uint8_t> blob = rig.crb->save_state().finish();

  CrbRig dest;
  ck_assert(dest.start().is_ok());
  ck_assert(load(*dest.crb, blob).is_ok());
  ck_assert_uint_eq(dest.reg(A_CTRL_START), 0);
  ck_assert(dest.copy_out(0xfed40080, reply.size()) == reply);
}
END_TEST

START_TEST(test_corrupt_blobs_rejected) {
  CrbRig rig;
  ck_assert(rig.start().is_ok());
  dirty(rig);
  std::vector<uint8_t> good = save(*rig.crb);
  std::vector<uint8_t> before = good;

  struct Case {
    const char *what;
    std::vector<uint8_t> blob;
    const char *expect;  // part of the message
  };
  std::vector<Case> cases;
  // Structurally broken: truncated, extended, flipped length.
  cases.push_back({"truncated", {good.begin(), good.end() - 7}, "saved state"});
  std::vector<uint8_t> longer = good;
  longer.push_back(0);
  cases.push_back({"trailing byte", longer, "saved state"});
  cases.push_back({"empty", {}, "saved state"});
  // Well-formed but wrong.
  auto build = [](auto mutate) {
    StateWriter w(kTypeTpmCrb, TpmCrb::kStateVersion);
    mutate(w);
    return w.finish();
  };
  std::vector<uint8_t> buffer(0xf80, 0);
  TpmPpi ppi;
  auto full = [&](StateWriter &w, uint8_t layout, size_t buffer_size, bool with_ppi) {
    w.put_u8("layout", layout);
    w.put_bool("loc_assigned", true);
    w.put_bool("idle", false);
    w.put_bool("error", false);
    w.put_bytes("buffer", std::span<const uint8_t>(std::vector<uint8_t>(buffer_size, 0x77)));
    if (with_ppi) w.put_section("ppi", ppi.save_state());
  };
  cases.push_back({"other layout", build([&](StateWriter &w) { full(w, 1, 0x1000, true); }),
                   "buffer-layout 'page-aligned'"});
  cases.push_back({"unknown layout", build([&](StateWriter &w) { full(w, 9, 0xf80, true); }),
                   "'unknown'"});
  cases.push_back({"short buffer", build([&](StateWriter &w) { full(w, 0, 0xf7f, true); }),
                   "buffer of 3967 bytes"});
  cases.push_back({"long buffer", build([&](StateWriter &w) { full(w, 0, 0x1000, true); }),
                   "at most 3968"});
  cases.push_back({"ppi missing", build([&](StateWriter &w) { full(w, 0, 0xf80, false); }),
                   "ppi=off"});
  cases.push_back({"missing field", build([&](StateWriter &w) { w.put_u8("layout", 0); }),
                   "loc_assigned"});
  cases.push_back({"wrong type", build([&](StateWriter &w) {
                     w.put_u32("layout", 0);
                   }),
                   "layout"});
  cases.push_back({"bad ppi section", build([&](StateWriter &w) {
                     full(w, 0, 0xf80, false);
                     StateWriter bad("tpm-ppi", 1);
                     bad.put_bytes("memory", std::vector<uint8_t>(0x3ff, 0));
                     w.put_section("ppi", bad);
                   }),
                   "memory"});
  cases.push_back({"newer version", [&] {
                     StateWriter w(kTypeTpmCrb, TpmCrb::kStateVersion + 1);
                     full(w, 0, 0xf80, true);
                     return w.finish();
                   }(),
                   "newer"});
  cases.push_back({"other section", [&] {
                     StateWriter w("tpm-tis", 1);
                     full(w, 0, 0xf80, true);
                     return w.finish();
                   }(),
                   "tpm-tis"});
  // Every byte of the good blob flipped in turn must either load (a value change) or be refused;
  // refusal must leave the device unchanged.
  for (const Case &c : cases) {
    Status st = load(*rig.crb, c.blob);
    ck_assert_msg(!st.is_ok(), "%s: accepted", c.what);
    ck_assert_msg(strstr(st.message().c_str(), c.expect), "%s: message '%s'", c.what,
                  st.message().c_str());
    ck_assert_msg(save(*rig.crb) == before, "%s: device changed", c.what);
  }
  for (size_t i = 0; i < good.size(); i += 7) {
    std::vector<uint8_t> flipped = good;
    flipped[i] ^= 0x41;
    Status st = load(*rig.crb, flipped);
    if (!st.is_ok()) {
      ck_assert_msg(save(*rig.crb) == before, "byte %zu: refused but device changed", i);
    } else {
      ck_assert(load(*rig.crb, good).is_ok());  // back to the reference for the next case
    }
  }
}
END_TEST

START_TEST(test_ppi_mismatch) {
  CrbRig with_ppi;
  ck_assert(with_ppi.start().is_ok());
  std::vector<uint8_t> blob = save(*with_ppi.crb);
  CrbRig without({.ppi = false});
  ck_assert(without.start().is_ok());
  Status st = load(*without.crb, blob);
  ck_assert_str_eq(st.message().c_str(),
                   "tpm-crb: the saved device had ppi=on, this one has ppi=off");
}
END_TEST

int main() {
  Suite *s = suite_create("tpm-crb-state");
  TCase *tc = tcase_create("state");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_round_trip_qemu_layout);
  tcase_add_test(tc, test_round_trip_page_aligned_no_ppi);
  tcase_add_test(tc, test_in_flight_command_is_drained);
  tcase_add_test(tc, test_corrupt_blobs_rejected);
  tcase_add_test(tc, test_ppi_mismatch);
  suite_add_tcase(s, tc);
  return run_suite(s);
}
