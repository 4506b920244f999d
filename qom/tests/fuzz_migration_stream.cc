// SPDX-License-Identifier: GPL-2.0-or-later
//
// libFuzzer target for the migration stream (qom/migration_stream.h): a destination reads it
// from an untrusted peer or file.  Every input is decoded twice - as it is, and as the body of a
// correctly signed stream, so that the structural validation behind the checksum is reached -
// and must decode or be refused without reading out of bounds.  Also: incremental reception
// agrees with decoding the whole, and a decoded header is compatible with itself.
#include <glib.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "qom/migration_stream.h"

namespace {

std::vector<uint8_t> signed_stream(const uint8_t *body, size_t size) {
  std::vector<uint8_t> s(qtpm::kMigrationMagic,
                         qtpm::kMigrationMagic + sizeof(qtpm::kMigrationMagic));
  for (uint32_t v : {qtpm::kMigrationFormatVersion, static_cast<uint32_t>(size)})
    for (int shift = 24; shift >= 0; shift -= 8) s.push_back(static_cast<uint8_t>(v >> shift));
  s.insert(s.end(), body, body + size);
  GChecksum *sum = g_checksum_new(G_CHECKSUM_SHA256);
  g_checksum_update(sum, s.data(), static_cast<gssize>(s.size()));
  uint8_t digest[32];
  gsize len = sizeof(digest);
  g_checksum_get_digest(sum, digest, &len);
  g_checksum_free(sum);
  s.insert(s.end(), digest, digest + len);
  return s;
}

void check(std::span<const uint8_t> bytes) {
  qtpm::MigrationStream stream;
  qtpm::Status whole = qtpm::decode_migration_stream(bytes, &stream);
  if (whole) {
    for (size_t i = 0; i < stream.header.objects.size(); i++) {
      const auto &state = stream.states[i];
      if (stream.header.objects[i].has_state != state.has_value()) std::abort();
      if (state && state->section() != stream.header.objects[i].section) std::abort();
    }
    if (!qtpm::check_migration_compat(stream.header, stream.header)) std::abort();
  }
  // Received in two pieces, the stream is accepted exactly when it decodes whole.
  qtpm::MigrationStreamAssembler a;
  size_t half = bytes.size() / 2;
  qtpm::Status st = a.feed(bytes.first(half));
  if (st) st = a.feed(bytes.subspan(half));
  std::vector<uint8_t> out;
  if (st) st = a.finish(&out);
  qtpm::MigrationStream again;
  if (st) st = qtpm::decode_migration_stream(out, &again);
  if (st.is_ok() != whole.is_ok()) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  check(std::span<const uint8_t>(data, size));
  if (size <= qtpm::kMigrationBodyMax) check(signed_stream(data, size));
  return 0;
}
