// SPDX-License-Identifier: GPL-2.0-or-later
//
// Unit tests for the saved-state schema: round trip, versions, and every truncation and byte
// flip of a valid blob either parses or fails with a message - never reads out of bounds.
#include <cstring>

#include "qom/saved_state.h"
#include "qom/testing.h"

using namespace qtpm;

namespace {

std::vector<uint8_t> sample() {
  StateWriter w("tpm-test", 2);
  w.put_u8("state", 3);
  w.put_u16("offset", 0x1234);
  w.put_u32("sts", 0x04000a90);
  w.put_u64("big", 0x0102030405060708ull);
  w.put_bool("ppi", true);
  const uint8_t buf[5] = {1, 2, 3, 4, 5};
  w.put_bytes("buffer", buf);
  StateWriter loc("locality", 1);
  loc.put_u8("access", 0xa1);
  w.put_section("loc0", loc);
  return w.finish();
}

}  // namespace

START_TEST(test_round_trip) {
  std::vector<uint8_t> blob = sample();
  StateReader r;
  Status st = StateReader::parse(blob, &r);
  ck_assert_msg(st.is_ok(), "%s", st.message().c_str());
  ck_assert(r.expect("tpm-test", 1, 2).is_ok());
  uint8_t u8;
  uint16_t u16;
  uint32_t u32;
  uint64_t u64;
  bool b;
  ck_assert(r.get_u8("state", &u8).is_ok() && u8 == 3);
  ck_assert(r.get_u16("offset", &u16).is_ok() && u16 == 0x1234);
  ck_assert(r.get_u32("sts", &u32).is_ok() && u32 == 0x04000a90);
  ck_assert(r.get_u64("big", &u64).is_ok() && u64 == 0x0102030405060708ull);
  ck_assert(r.get_bool("ppi", &b).is_ok() && b);
  std::vector<uint8_t> bytes;
  ck_assert(r.get_bytes("buffer", &bytes, 16).is_ok() && bytes.size() == 5 && bytes[4] == 5);
  ck_assert(!r.get_bytes("buffer", &bytes, 4).is_ok());  // larger than allowed
  uint8_t exact[5];
  ck_assert(r.get_bytes_exact("buffer", exact, 5).is_ok() && exact[0] == 1);
  ck_assert(!r.get_bytes_exact("buffer", exact, 4).is_ok());
  StateReader loc;
  ck_assert(r.get_section("loc0", &loc).is_ok());
  ck_assert(loc.get_u8("access", &u8).is_ok() && u8 == 0xa1);
  // Wrong type and missing field are errors that name the field.
  Status wrong = r.get_u32("state", &u32);
  ck_assert_str_eq(wrong.message().c_str(), "state of 'tpm-test': field 'state' is u8, expected u32");
  ck_assert(!r.get_u8("nope", &u8).is_ok());
  ck_assert(r.has("sts") && !r.has("nope"));
}
END_TEST

START_TEST(test_versions) {
  std::vector<uint8_t> blob = sample();
  StateReader r;
  ck_assert(StateReader::parse(blob, &r).is_ok());
  Status newer = r.expect("tpm-test", 1, 1);
  ck_assert_str_eq(newer.message().c_str(),
                   "state of 'tpm-test': version 2 is newer than this build supports (1)");
  ck_assert(!r.expect("tpm-test", 3, 4).is_ok());
  ck_assert(!r.expect("tpm-crb", 1, 2).is_ok());
}
END_TEST

START_TEST(test_truncations_and_flips) {
  std::vector<uint8_t> blob = sample();
  for (size_t n = 0; n < blob.size(); n++) {
    std::vector<uint8_t> cut(blob.begin(), blob.begin() + n);
    StateReader r;
    ck_assert_msg(!StateReader::parse(cut, &r).is_ok(), "truncation to %zu parsed", n);
  }
  // Every single-byte corruption: parse may succeed (a value changed) or fail, but must be safe
  // (run under ASan in CI) and, when it succeeds, reading every field stays in bounds.
  for (size_t i = 0; i < blob.size(); i++) {
    for (uint8_t x : {0x01, 0x80, 0xff}) {
      std::vector<uint8_t> bad = blob;
      bad[i] ^= x;
      StateReader r;
      if (!StateReader::parse(bad, &r).is_ok()) continue;
      std::vector<uint8_t> bytes;
      (void)r.get_bytes("buffer", &bytes, 1 << 20);
      StateReader loc;
      (void)r.get_section("loc0", &loc);
    }
  }
  // Trailing garbage after a valid section is rejected.
  blob.push_back(0);
  StateReader r;
  ck_assert(!StateReader::parse(blob, &r).is_ok());
}
END_TEST

START_TEST(test_duplicate_key) {
  StateWriter w("dup", 1);
  w.put_u8("a", 1);
  w.put_u8("a", 2);
  std::vector<uint8_t> blob = w.finish();
  StateReader r;
  Status st = StateReader::parse(blob, &r);
  ck_assert_str_eq(st.message().c_str(), "saved state 'dup': field 'a' appears twice");
}
END_TEST

int main() {
  Suite *s = suite_create("saved-state");
  TCase *tc = tcase_create("schema");
  tcase_add_test(tc, test_round_trip);
  tcase_add_test(tc, test_versions);
  tcase_add_test(tc, test_truncations_and_flips);
  tcase_add_test(tc, test_duplicate_key);
  suite_add_tcase(s, tc);
  return qtpm::testing::run_suite(s);
}
