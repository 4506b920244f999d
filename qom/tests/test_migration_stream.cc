// SPDX-License-Identifier: GPL-2.0-or-later
//
// Unit tests for the migration stream (qom/migration_stream.h, docs/migration.md): round trip;
// every truncation and every single-bit flip of a valid stream is refused with the reason that
// applies; wrong format versions; streams whose checksum is right but whose structure is not
// (a broken writer); the compatibility check's messages; incremental reception.
#include <glib.h>

#include <cstring>
#include <string>

#include "qom/migration_stream.h"
#include "qom/testing.h"

using namespace qtpm;

namespace {

StateWriter device_state() {
  StateWriter w("tpm-crb", 1);
  w.put_u8("layout", 0);
  const uint8_t buffer[6] = {0x80, 0x01, 0, 0, 0, 0x0a};
  w.put_bytes("buffer", buffer);
  return w;
}

StateWriter backend_state() {
  StateWriter w("tpm-emulator", 1);
  const uint8_t blob[4] = {2, 1, 0, 10};
  w.put_bytes("permanent", blob);
  return w;
}

MigrationHeader header() {
  MigrationHeader h;
  h.arch = "x86_64";
  h.machine = "pc-i440fx-7.2";
  h.run_state = "running";
  h.producer = "qtpm test";
  return h;
}

MigrationObject object(std::string path, std::string type, MigrationRole role,
                       uint8_t version = 2) {
  MigrationObject o;
  o.path = std::move(path);
  o.type = std::move(type);
  o.role = role;
  o.tpm_version = version;
  return o;
}

std::vector<MigrationObjectState> sample_objects() {
  std::vector<MigrationObjectState> objects;
  objects.push_back(
      {object("/machine/peripheral/tpm0", "tpm-crb", MigrationRole::kDevice), device_state()});
  objects.push_back(
      {object("/machine/peripheral-anon/device[0]", "tpm-fw-cfg", MigrationRole::kDevice, 0),
       std::nullopt});
  objects.push_back(
      {object("/machine/peripheral/tpm0/tpmdev", "tpm-emulator", MigrationRole::kBackend),
       backend_state()});
  return objects;
}

std::vector<uint8_t> sample_stream() {
  std::vector<uint8_t> out;
  Status st = encode_migration_stream(header(), sample_objects(), &out);
  ck_assert_msg(st.is_ok(), "%s", st.message().c_str());
  return out;
}

// A stream around `body` with a correct preamble and digest: what a broken writer would send.
std::vector<uint8_t> signed_stream(const std::vector<uint8_t> &body, uint32_t version = 1) {
  std::vector<uint8_t> s(kMigrationMagic, kMigrationMagic + sizeof(kMigrationMagic));
  for (uint32_t v : {version, static_cast<uint32_t>(body.size())})
    for (int shift = 24; shift >= 0; shift -= 8) s.push_back(static_cast<uint8_t>(v >> shift));
  s.insert(s.end(), body.begin(), body.end());
  GChecksum *sum = g_checksum_new(G_CHECKSUM_SHA256);
  g_checksum_update(sum, s.data(), static_cast<gssize>(s.size()));
  uint8_t digest[32];
  gsize len = sizeof(digest);
  g_checksum_get_digest(sum, digest, &len);
  g_checksum_free(sum);
  s.insert(s.end(), digest, digest + len);
  return s;
}

// The body of a valid stream (between preamble and digest).
std::vector<uint8_t> body_of(const std::vector<uint8_t> &stream) {
  return std::vector<uint8_t>(stream.begin() + kMigrationPreambleSize,
                              stream.end() - kMigrationDigestSize);
}

std::string decode_error(const std::vector<uint8_t> &bytes) {
  MigrationStream s;
  Status st = decode_migration_stream(bytes, &s);
  ck_assert_msg(!st.is_ok(), "a damaged stream of %zu bytes was accepted", bytes.size());
  return st.message();
}

bool starts_with(const std::string &s, const char *prefix) { return s.rfind(prefix, 0) == 0; }

// Compares a message; `got` is held here because Check evaluates its arguments twice.
void expect_message(const std::string &got, const std::string &want) {
  ck_assert_msg(got == want, "got '%s', expected '%s'", got.c_str(), want.c_str());
}

}  // namespace

START_TEST(round_trip) {
  std::vector<uint8_t> bytes = sample_stream();
  ck_assert(std::memcmp(bytes.data(), "QTPM-MIG", 8) == 0);
  MigrationStream s;
  Status st = decode_migration_stream(bytes, &s);
  ck_assert_msg(st.is_ok(), "%s", st.message().c_str());
  ck_assert_str_eq(s.header.arch.c_str(), "x86_64");
  ck_assert_str_eq(s.header.machine.c_str(), "pc-i440fx-7.2");
  ck_assert_str_eq(s.header.run_state.c_str(), "running");
  ck_assert_str_eq(s.header.producer.c_str(), "qtpm test");
  ck_assert_uint_eq(s.header.objects.size(), 3);
  ck_assert_uint_eq(s.states.size(), 3);
  const MigrationObject &crb = s.header.objects[0];
  ck_assert_str_eq(crb.path.c_str(), "/machine/peripheral/tpm0");
  ck_assert(crb.has_state && crb.section == "tpm-crb" && crb.section_version == 1 &&
            crb.tpm_version == 2);
  ck_assert(!s.header.objects[1].has_state && !s.states[1]);
  ck_assert(s.header.objects[2].role == MigrationRole::kBackend);
  // The states are the objects' own sections, readable as they wrote them.
  ck_assert(s.states[0] && s.states[0]->expect("tpm-crb", 1, 1).is_ok());
  std::vector<uint8_t> buffer;
  ck_assert(s.states[0]->get_bytes("buffer", &buffer, 16).is_ok() && buffer.size() == 6);
  ck_assert(s.states[2] && s.states[2]->expect("tpm-emulator", 1, 1).is_ok());
  // Encoding is deterministic.
  ck_assert(sample_stream() == bytes);
}
END_TEST

START_TEST(every_truncation_is_refused) {
  std::vector<uint8_t> bytes = sample_stream();
  for (size_t n = 0; n < bytes.size(); n++) {
    std::string why = decode_error(std::vector<uint8_t>(bytes.begin(), bytes.begin() + n));
    if (n == 0) {
      ck_assert_str_eq(why.c_str(), "empty stream: the source sent nothing");
    } else {
      ck_assert_msg(starts_with(why, "truncated stream: "), "%zu bytes: %s", n, why.c_str());
    }
    // The assembler says the same at the end of the input.
    MigrationStreamAssembler a;
    ck_assert(a.feed(std::span<const uint8_t>(bytes.data(), n)).is_ok());
    ck_assert(!a.complete());
    std::vector<uint8_t> out;
    Status st = a.finish(&out);
    ck_assert(!st.is_ok());
    ck_assert(n == 0 || starts_with(st.message(), "truncated stream: "));
  }
  expect_message(decode_error(std::vector<uint8_t>(bytes.begin(), bytes.begin() + 100)),
                 strprintf("truncated stream: 100 of %zu bytes", bytes.size()).c_str());
}
END_TEST

START_TEST(every_bit_flip_is_refused) {
  const std::vector<uint8_t> good = sample_stream();
  for (size_t i = 0; i < good.size(); i++) {
    for (int bit = 0; bit < 8; bit++) {
      std::vector<uint8_t> bad = good;
      bad[i] ^= static_cast<uint8_t>(1u << bit);
      std::string why = decode_error(bad);
      const char *expected = i < 8    ? "not a qtpm migration stream: "
                             : i < 12 ? "stream format version "
                             : i < 16 ? ""  // the length: too long, truncated or trailing bytes
                                      : "checksum mismatch: ";
      ck_assert_msg(starts_with(why, expected), "byte %zu bit %d: %s", i, bit, why.c_str());
    }
  }
}
END_TEST

START_TEST(wrong_versions_and_magic) {
  std::vector<uint8_t> bytes = sample_stream();
  std::vector<uint8_t> v2 = bytes;
  v2[11] = 2;
  expect_message(decode_error(v2),
                 "stream format version 2 is newer than this qtpm reads (1); load it with the "
                 "qtpm that wrote it or a newer one");
  std::vector<uint8_t> v0 = bytes;
  v0[11] = 0;
  expect_message(decode_error(v0), "stream format version 0 does not exist");
  // A correctly signed stream of another version is still refused by its version.
  ck_assert(starts_with(decode_error(signed_stream(body_of(bytes), 7)),
                        "stream format version 7 is newer"));
  // QEMU's own stream is recognised by its magic.
  std::vector<uint8_t> qemu = {'Q', 'E', 'V', 'M', 0, 0, 0, 3, 1, 0, 0, 0, 0, 0, 0, 0};
  expect_message(decode_error(qemu),
                 "not a qtpm migration stream: it starts with 51 45 56 4d 00 00 00 03 (\"QEVM\", "
                 "a QEMU migration stream)");
  // An absurd length is refused from the preamble alone.
  std::vector<uint8_t> huge = bytes;
  huge[12] = 0x7f;
  ck_assert(starts_with(decode_error(huge), "the stream announces 21"));
  // Bytes after the end.
  std::vector<uint8_t> trailing = bytes;
  trailing.push_back(0);
  expect_message(decode_error(trailing), "1 unexpected byte follows the end of the stream");
}
END_TEST

START_TEST(signed_but_malformed) {
  std::vector<uint8_t> body = body_of(sample_stream());
  // No sections at all; a cut-off section.
  expect_message(decode_error(signed_stream({})), "malformed stream: the body is empty");
  std::vector<uint8_t> cut(body.begin(), body.end() - 1);
  ck_assert(
      starts_with(decode_error(signed_stream(cut)), "malformed stream: section 2 is cut off"));
  // A header of another name.
  StateWriter other("something-else", 1);
  expect_message(decode_error(signed_stream(other.finish())),
                 "malformed stream: header: saved state: expected section "
                 "'migration-header', found 'something-else'");
  // A stateful object whose state is missing; a state section too many.  The header of a
  // stream with one stateful device is the first section of its body.
  std::vector<MigrationObjectState> one = {sample_objects()[0]};
  std::vector<uint8_t> encoded;
  ck_assert(encode_migration_stream(header(), one, &encoded).is_ok());
  std::vector<uint8_t> one_body = body_of(encoded);
  size_t name_len = size_t{one_body[0]} << 8 | one_body[1];
  size_t header_len =
      2 + name_len + 8 +
      (size_t{one_body[2 + name_len + 4]} << 24 | size_t{one_body[2 + name_len + 5]} << 16 |
       size_t{one_body[2 + name_len + 6]} << 8 | one_body[2 + name_len + 7]);
  std::vector<uint8_t> only_header(one_body.begin(), one_body.begin() + header_len);
  expect_message(decode_error(signed_stream(only_header)),
                 "malformed stream: state of device /machine/peripheral/tpm0 is missing");
  // A state section labelled for another object, and one whose section is not the summary's.
  auto with_state = [&](uint32_t index, StateWriter state) {
    StateWriter rec("object-state", 1);
    rec.put_u32("object", index);
    rec.put_section("state", state);
    std::vector<uint8_t> b = only_header;
    std::vector<uint8_t> r = rec.finish();
    b.insert(b.end(), r.begin(), r.end());
    return b;
  };
  expect_message(
      decode_error(signed_stream(with_state(3, device_state()))),
      "malformed stream: state of device /machine/peripheral/tpm0: it is labelled as object 3");
  expect_message(decode_error(signed_stream(with_state(0, backend_state()))),
                 "malformed stream: state of device /machine/peripheral/tpm0: its section is "
                 "'tpm-emulator' v1, the summary says 'tpm-crb' v1");
  std::vector<uint8_t> good = with_state(0, device_state());
  MigrationStream s;
  ck_assert(decode_migration_stream(signed_stream(good), &s).is_ok());
  std::vector<uint8_t> extra = with_state(0, device_state());
  std::vector<uint8_t> again = with_state(0, device_state());
  extra.insert(extra.end(), again.begin() + only_header.size(), again.end());
  expect_message(decode_error(signed_stream(extra)),
                 "malformed stream: 1 section follows the last object's state");
}
END_TEST

START_TEST(header_fields_are_checked) {
  // Duplicate objects, an unknown role: built through the encoder, then patched and re-signed.
  std::vector<MigrationObjectState> objects = sample_objects();
  objects[1].object.path = objects[0].object.path;
  std::vector<uint8_t> out;
  ck_assert(encode_migration_stream(header(), objects, &out).is_ok());
  expect_message(
      decode_error(out),
      "malformed stream: header: object1: device '/machine/peripheral/tpm0' appears twice");
  objects = sample_objects();
  objects[0].object.role = static_cast<MigrationRole>(7);
  ck_assert(encode_migration_stream(header(), objects, &out).is_ok());
  expect_message(decode_error(out), "malformed stream: header: object0: role 7 is unknown");
  MigrationHeader h = header();
  h.arch.clear();
  ck_assert(encode_migration_stream(h, sample_objects(), &out).is_ok());
  expect_message(decode_error(out), "malformed stream: header: 'arch' is empty");
}
END_TEST

START_TEST(encoder_limits) {
  std::vector<MigrationObjectState> objects;
  StateWriter big("tpm-emulator", 1);
  std::vector<uint8_t> blob(kMigrationBodyMax, 0xab);
  big.put_bytes("permanent", blob);
  objects.push_back({object("/b", "tpm-emulator", MigrationRole::kBackend), big});
  std::vector<uint8_t> out;
  Status st = encode_migration_stream(header(), objects, &out);
  ck_assert(!st.is_ok());
  ck_assert_msg(starts_with(st.message(), "the state is "), "%s", st.message().c_str());
  ck_assert(out.empty());
}
END_TEST

START_TEST(compatibility_messages) {
  std::vector<uint8_t> bytes = sample_stream();
  MigrationStream s;
  ck_assert(decode_migration_stream(bytes, &s).is_ok());
  MigrationHeader here = s.header;
  ck_assert(check_migration_compat(s.header, here).is_ok());
  auto why = [&](const MigrationHeader &local) {
    Status st = check_migration_compat(s.header, local);
    ck_assert(!st.is_ok());
    return st.message();
  };
  MigrationHeader h = here;
  h.arch = "aarch64";
  expect_message(why(h), "the stream is from a x86_64 machine, this is aarch64");
  h = here;
  h.machine = "pc-q35-7.2";
  expect_message(why(h),
                 "the stream is from machine type 'pc-i440fx-7.2', this machine is "
                 "'pc-q35-7.2' (start the destination with -machine pc-i440fx-7.2)");
  h = here;
  h.objects[0].type = "tpm-tis";
  h.objects[0].section = "tpm-tis";
  expect_message(why(h),
                 "the source has tpm-crb at /machine/peripheral/tpm0, this machine has "
                 "tpm-tis there");
  h = here;
  h.objects[0].tpm_version = 1;
  expect_message(why(h),
                 "the source's tpm-crb at /machine/peripheral/tpm0 is a TPM 2.0, this "
                 "one is a TPM 1.2");
  h = here;
  h.objects[2].type = "tpm-libtpms";
  expect_message(why(h),
                 "the TPM backend of /machine/peripheral/tpm0/tpmdev is tpm-emulator on "
                 "the source and tpm-libtpms here; one backend type cannot load another's "
                 "state");
  h = here;
  h.objects[0].path = "/machine/peripheral/tpm1";
  expect_message(why(h),
                 "the source has device tpm-crb at /machine/peripheral/tpm0, this machine "
                 "has no device there");
  h = here;
  h.objects.push_back(object("/machine/peripheral/x", "tpm-tis", MigrationRole::kDevice));
  expect_message(why(h),
                 "this machine has device tpm-tis at /machine/peripheral/x, the source had "
                 "no device there");
}
END_TEST

START_TEST(assembler_incremental) {
  std::vector<uint8_t> bytes = sample_stream();
  MigrationStreamAssembler a;
  for (size_t i = 0; i < bytes.size(); i++) {
    ck_assert(!a.complete());
    Status st = a.feed(std::span<const uint8_t>(&bytes[i], 1));
    ck_assert_msg(st.is_ok(), "%s", st.message().c_str());
    ck_assert_uint_eq(a.expected_size(), i + 1 >= kMigrationPreambleSize ? bytes.size() : 0);
  }
  ck_assert(a.complete());
  ck_assert_uint_eq(a.received(), bytes.size());
  // One byte more is refused; the stream itself is intact.
  uint8_t one = 0;
  expect_message(a.feed(std::span<const uint8_t>(&one, 1)).message(),
                 "1 unexpected byte follows the end of the stream");
  std::vector<uint8_t> out;
  ck_assert(a.finish(&out).is_ok());
  ck_assert(out == bytes);
  // A wrong first byte is refused at once, before anything else arrives.
  MigrationStreamAssembler b;
  uint8_t wrong = 'X';
  ck_assert(starts_with(b.feed(std::span<const uint8_t>(&wrong, 1)).message(),
                        "not a qtpm migration stream"));
  // A preamble announcing too much is refused after 16 bytes, nothing buffered beyond them.
  MigrationStreamAssembler c;
  std::vector<uint8_t> huge(bytes.begin(), bytes.begin() + 16);
  huge[12] = 0xff;
  ck_assert(starts_with(c.feed(huge).message(), "the stream announces"));
  ck_assert_uint_eq(c.received(), 16);
}
END_TEST

// Streams saved by qtpm-system (the fuzzer's corpus): a future qtpm must go on reading them.
// The files are found next to this source, through __FILE__ as the compiler saw it (relative to
// the build directory, where meson runs tests).
START_TEST(golden_streams_decode) {
  std::string dir = std::string(__FILE__);
  dir = dir.substr(0, dir.rfind('/')) + "/migration-stream-fuzz/corpus/";
  struct {
    const char *file, *arch, *machine, *device, *backend;
    uint8_t tpm_version;
  } golden[] = {
      {"crb-libtpms", "x86_64", "pc-i440fx-7.2", "tpm-crb", "tpm-libtpms", 2},
      {"tis-libtpms12", "x86_64", "pc-i440fx-7.2", "tpm-tis", "tpm-libtpms", 1},
      {"tisdev-libtpms", "aarch64", "virt-7.2", "tpm-tis-device", "tpm-libtpms", 2},
  };
  for (const auto &g : golden) {
    gchar *data = nullptr;
    gsize len = 0;
    ck_assert_msg(g_file_get_contents((dir + g.file).c_str(), &data, &len, nullptr),
                  "cannot read %s%s", dir.c_str(), g.file);
    std::vector<uint8_t> bytes(data, data + len);
    g_free(data);
    MigrationStream s;
    Status st = decode_migration_stream(bytes, &s);
    ck_assert_msg(st.is_ok(), "%s: %s", g.file, st.message().c_str());
    ck_assert_str_eq(s.header.arch.c_str(), g.arch);
    ck_assert_str_eq(s.header.machine.c_str(), g.machine);
    ck_assert_str_eq(s.header.run_state.c_str(), "running");
    ck_assert_uint_eq(s.header.objects.size(), 2);
    ck_assert_str_eq(s.header.objects[0].type.c_str(), g.device);
    ck_assert(s.header.objects[0].role == MigrationRole::kDevice);
    ck_assert_str_eq(s.header.objects[1].type.c_str(), g.backend);
    ck_assert(s.header.objects[1].role == MigrationRole::kBackend);
    expect_message(s.header.objects[1].path, s.header.objects[0].path + "/tpmdev");
    for (int i = 0; i < 2; i++) {
      ck_assert_uint_eq(s.header.objects[i].tpm_version, g.tpm_version);
      ck_assert(s.states[i].has_value());
    }
    std::vector<uint8_t> permanent;
    ck_assert(s.states[1]->get_bytes("permanent", &permanent, 1 << 20).is_ok());
    ck_assert(!permanent.empty());
  }
}
END_TEST

int main() {
  Suite *s = suite_create("migration-stream");
  TCase *tc = tcase_create("stream");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, round_trip);
  tcase_add_test(tc, every_truncation_is_refused);
  tcase_add_test(tc, every_bit_flip_is_refused);
  tcase_add_test(tc, wrong_versions_and_magic);
  tcase_add_test(tc, signed_but_malformed);
  tcase_add_test(tc, header_fields_are_checked);
  tcase_add_test(tc, encoder_limits);
  tcase_add_test(tc, compatibility_messages);
  tcase_add_test(tc, assembler_incremental);
  tcase_add_test(tc, golden_streams_decode);
  suite_add_tcase(s, tc);
  return qtpm::testing::run_suite(s);
}
