// SPDX-License-Identifier: GPL-2.0-or-later
//
// swtpm's state-blob envelope: golden files from swtpm 0.7.1 decode and re-encode to the same
// bytes; every kind of corrupt or unsupported blob is refused with a message and nothing read
// out of bounds.
#include "qom/testing.h"

#include <cstring>
#include <string>

#include "backends/tpm/tests/swtpm_golden_state.h"
#include "backends/tpm/tests/tpm_test_commands.h"
#include "backends/tpm/tpm_state_blob.h"

using namespace qtpm;
using namespace qtpm::testing;

namespace {

Bytes golden_tpm2() {
  return Bytes(std::begin(kSwtpm071Tpm2Permall), std::end(kSwtpm071Tpm2Permall));
}

// A version-2 blob around `tlvs` with the given flags (totlen computed).
Bytes blob_with(uint16_t flags, const Bytes &tlvs, uint8_t min_version = 1) {
  Bytes b = {2, min_version, 0, 10, static_cast<uint8_t>(flags >> 8),
             static_cast<uint8_t>(flags), 0, 0, 0, 0};
  b.insert(b.end(), tlvs.begin(), tlvs.end());
  const uint32_t n = static_cast<uint32_t>(b.size());
  b[6] = static_cast<uint8_t>(n >> 24);
  b[7] = static_cast<uint8_t>(n >> 16);
  b[8] = static_cast<uint8_t>(n >> 8);
  b[9] = static_cast<uint8_t>(n);
  return b;
}
Bytes tlv(uint16_t tag, const Bytes &value) {
  Bytes t = Cmd::raw().u16(tag).u32(static_cast<uint32_t>(value.size())).finish();
  t.insert(t.end(), value.begin(), value.end());
  return t;
}

bool contains(const Status &st, const char *text) {
  return std::strstr(st.message().c_str(), text) != nullptr;
}

}  // namespace

START_TEST(test_golden_round_trip) {
  for (const Bytes &file :
       {golden_tpm2(),
        Bytes(std::begin(kSwtpm071Tpm12Permall), std::end(kSwtpm071Tpm12Permall))}) {
    // Header as swtpm writes it: version 2, min version 1, header size 10, no flags, total length.
    ck_assert_uint_eq(file[0], 2);
    ck_assert_uint_eq(file[1], 1);
    ck_assert_uint_eq(get16(file, 2), 10);
    ck_assert_uint_eq(get16(file, 4), 0);
    ck_assert_uint_eq(get32(file, 6), file.size());
    Bytes payload;
    ck_assert(swtpm_blob_decode(file, "golden", &payload).is_ok());
    ck_assert_uint_eq(payload.size(), file.size() - 16);
    ck_assert(payload == slice(file, 16, file.size() - 16));
    // Our encoder writes exactly what swtpm writes.
    ck_assert(swtpm_blob_encode(payload) == file);
  }
  // libtpms' own magic sits inside: PERSISTENT_ALL_MAGIC for a TPM 2.0 permall.
  Bytes payload;
  ck_assert(swtpm_blob_decode(golden_tpm2(), "golden", &payload).is_ok());
  ck_assert_uint_eq(get32(payload, 2), 0xab364723);
}
END_TEST

START_TEST(test_encode_layout) {
  Bytes out = swtpm_blob_encode(Bytes{0xaa, 0xbb, 0xcc});
  const Bytes expected = {2, 1, 0, 10, 0, 0, 0, 0, 0, 19, 0, 1, 0, 0, 0, 3, 0xaa, 0xbb, 0xcc};
  ck_assert(out == expected);
  Bytes empty = swtpm_blob_encode({});
  ck_assert_uint_eq(empty.size(), 16);
  Bytes payload = {1};
  ck_assert(swtpm_blob_decode(empty, "x", &payload).is_ok());
  ck_assert_uint_eq(payload.size(), 0);
}
END_TEST

START_TEST(test_other_elements_skipped) {
  // An HMAC element before the data, an unknown one after: the data is found.
  Bytes b = blob_with(0, [] {
    Bytes t = tlv(3, Bytes(32, 0x11));
    Bytes d = tlv(1, Bytes{5, 6, 7});
    Bytes u = tlv(99, Bytes{1});
    t.insert(t.end(), d.begin(), d.end());
    t.insert(t.end(), u.begin(), u.end());
    return t;
  }());
  Bytes payload;
  ck_assert(swtpm_blob_decode(b, "x", &payload).is_ok());
  ck_assert(payload == (Bytes{5, 6, 7}));
  // A migration blob (GET_STATEBLOB) carries MIGRATION_DATA under the MIGRATION_DATA flag.
  Bytes m = blob_with(kSwtpmBlobFlagMigrationData, tlv(4, Bytes{8, 9}));
  ck_assert(swtpm_blob_decode(m, "x", &payload).is_ok());
  ck_assert(payload == (Bytes{8, 9}));
}
END_TEST

START_TEST(test_legacy_forms) {
  // No valid header (the total length does not match): a bare libtpms blob, as swtpm reads it.
  Bytes bare = {0x00, 0x03, 0xab, 0x36, 0x47, 0x23, 0x00, 0x00, 0x00, 0x01, 0x42};
  Bytes payload;
  ck_assert(swtpm_blob_decode(bare, "x", &payload).is_ok());
  ck_assert(payload == bare);
  Bytes tiny = {1, 2, 3};
  ck_assert(swtpm_blob_decode(tiny, "x", &payload).is_ok());
  ck_assert(payload == tiny);
  // A version-1 header: the data follows the header directly.
  Bytes v1 = {1, 1, 0, 10, 0, 0, 0, 0, 0, 12, 0xde, 0xad};
  ck_assert(swtpm_blob_decode(v1, "x", &payload).is_ok());
  ck_assert(payload == (Bytes{0xde, 0xad}));
}
END_TEST

START_TEST(test_refused_blobs) {
  Bytes payload = {7};
  Status st = swtpm_blob_decode({}, "state file 'd/tpm2-00.permall'", &payload);
  ck_assert_str_eq(st.message().c_str(), "state file 'd/tpm2-00.permall' is empty");

  // Encrypted by flag, and by element.
  st = swtpm_blob_decode(blob_with(kSwtpmBlobFlagEncrypted, tlv(6, Bytes(48, 1))), "F", &payload);
  ck_assert_str_eq(st.message().c_str(),
                   "F is encrypted (swtpm --key or --migration-key); the libtpms backend reads "
                   "only unencrypted state");
  st = swtpm_blob_decode(blob_with(0, tlv(2, Bytes(16, 1))), "F", &payload);
  ck_assert(contains(st, "is encrypted"));
  st = swtpm_blob_decode(blob_with(kSwtpmBlobFlagMigrationEncrypted, tlv(5, Bytes(16, 1))), "F",
                         &payload);
  ck_assert(contains(st, "is encrypted"));

  // A format this build does not know.
  st = swtpm_blob_decode(blob_with(0, tlv(1, Bytes{1}), 3), "F", &payload);
  ck_assert_str_eq(st.message().c_str(),
                   "F needs a newer state format (minimum version 3; this build reads up to "
                   "version 2)");

  // Corrupt element lists: truncated header, length past the end, no data element.
  Bytes b = blob_with(0, Bytes{0, 1, 0});
  st = swtpm_blob_decode(b, "F", &payload);
  ck_assert_str_eq(st.message().c_str(), "F is corrupt: truncated element header at offset 10");
  b = blob_with(0, Bytes{0, 1, 0xff, 0xff, 0xff, 0xff, 1, 2});
  st = swtpm_blob_decode(b, "F", &payload);
  ck_assert_str_eq(st.message().c_str(),
                   "F is corrupt: element of 4294967295 bytes at offset 10 overruns the blob");
  b = blob_with(0, tlv(3, Bytes(4, 0)));
  st = swtpm_blob_decode(b, "F", &payload);
  ck_assert_str_eq(st.message().c_str(), "F holds no TPM state (no data element)");
  b = blob_with(0, {});
  ck_assert(contains(swtpm_blob_decode(b, "F", &payload), "no data element"));

  // Header size outside the blob.
  b = blob_with(0, tlv(1, Bytes{1}));
  b[2] = 0x01;  // hdrsize 266 > 17
  st = swtpm_blob_decode(b, "F", &payload);
  ck_assert_str_eq(st.message().c_str(), "F is corrupt: header size 266 for a blob of 17 bytes");
  b[2] = 0;
  b[3] = 4;
  ck_assert(contains(swtpm_blob_decode(b, "F", &payload), "header size 4"));
  // Nothing was written to the output by any refusal.
  ck_assert(payload == (Bytes{7}));
}
END_TEST

START_TEST(test_every_truncation_is_safe) {
  // Each prefix of a golden file either decodes (as a bare blob, since the total length no
  // longer matches) or is refused; none is read past its end (ASan checks the reads).
  const Bytes file = golden_tpm2();
  for (size_t n = 0; n < 64; n++) {
    Bytes part = slice(file, 0, n);
    Bytes payload;
    Status st = swtpm_blob_decode(part, "x", &payload);
    if (st) ck_assert_uint_le(payload.size(), n);
  }
  // And each header length claimed over a shorter blob.
  for (uint32_t claimed = 0; claimed < 40; claimed++) {
    Bytes b = blob_with(0, tlv(1, Bytes(8, 0x33)));
    b[14] = 0;
    b[15] = static_cast<uint8_t>(claimed);  // the DATA length
    Bytes payload;
    Status st = swtpm_blob_decode(b, "x", &payload);
    ck_assert_int_eq(st.is_ok(), claimed <= 8);
  }
}
END_TEST

int main() {
  Suite *s = suite_create("state-blob");
  TCase *tc = tcase_create("blob");
  tcase_add_test(tc, test_golden_round_trip);
  tcase_add_test(tc, test_encode_layout);
  tcase_add_test(tc, test_other_elements_skipped);
  tcase_add_test(tc, test_legacy_forms);
  tcase_add_test(tc, test_refused_blobs);
  tcase_add_test(tc, test_every_truncation_is_safe);
  suite_add_tcase(s, tc);
  return qtpm::testing::run_suite(s);
}
