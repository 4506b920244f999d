// SPDX-License-Identifier: GPL-2.0-or-later
//
// The qtpm migration stream, format version 1: encoding, validation, decoding, the compatibility
// check and incremental reception (see migration_stream.h and docs/migration.md).
#include "qom/migration_stream.h"

#include <glib.h>

#include <algorithm>
#include <cstring>
#include <set>
#include <utility>

namespace qtpm {

namespace {

constexpr const char *kHeaderSection = "migration-header";
constexpr const char *kObjectSection = "object";
constexpr const char *kStateSection = "object-state";
constexpr uint32_t kSectionVersion = 1;  // of the three sections above
constexpr size_t kMaxStringField = 4096;

void put_be32(std::vector<uint8_t> &out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(v >> shift));
}

uint32_t get_be32(const uint8_t *p) {
  return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3];
}

std::vector<uint8_t> sha256(std::span<const uint8_t> bytes) {
  GChecksum *sum = g_checksum_new(G_CHECKSUM_SHA256);
  g_checksum_update(sum, bytes.data(), static_cast<gssize>(bytes.size()));
  std::vector<uint8_t> digest(kMigrationDigestSize);
  gsize len = digest.size();
  g_checksum_get_digest(sum, digest.data(), &len);
  g_checksum_free(sum);
  return digest;
}

std::string hex_prefix(std::span<const uint8_t> bytes, size_t n) {
  std::string out;
  for (size_t i = 0; i < std::min(n, bytes.size()); i++) {
    out += strprintf("%s%02x", i ? " " : "", bytes[i]);
  }
  return out;
}

std::span<const uint8_t> as_bytes(const std::string &s) {
  return std::span<const uint8_t>(reinterpret_cast<const uint8_t *>(s.data()), s.size());
}

const char *tpm_version_text(uint8_t v) {
  switch (v) {
    case 1:
      return "TPM 1.2";
    case 2:
      return "TPM 2.0";
    default:
      return "no TPM version";
  }
}

// "1 unexpected byte follows", "3 unexpected bytes follow".
std::string count_follow(size_t n, const char *noun, const char *plural) {
  return strprintf("%zu %s follow%s", n, n == 1 ? noun : plural, n == 1 ? "s" : "");
}

std::string object_key(size_t i) { return strprintf("object%zu", i); }

// ---------------------------------------------------------------------------------------------
// Encoding

StateWriter encode_object(const MigrationObject &o) {
  StateWriter w(kObjectSection, kSectionVersion);
  w.put_bytes("path", as_bytes(o.path));
  w.put_bytes("type", as_bytes(o.type));
  w.put_u8("role", static_cast<uint8_t>(o.role));
  w.put_u8("tpm-version", o.tpm_version);
  w.put_bool("has-state", o.has_state);
  if (o.has_state) {
    w.put_bytes("section", as_bytes(o.section));
    w.put_u32("section-version", o.section_version);
  }
  return w;
}

StateWriter encode_header(const MigrationHeader &h) {
  StateWriter w(kHeaderSection, kSectionVersion);
  w.put_bytes("arch", as_bytes(h.arch));
  w.put_bytes("machine", as_bytes(h.machine));
  w.put_bytes("run-state", as_bytes(h.run_state));
  w.put_bytes("producer", as_bytes(h.producer));
  w.put_u32("objects", static_cast<uint32_t>(h.objects.size()));
  for (size_t i = 0; i < h.objects.size(); i++)
    w.put_section(object_key(i), encode_object(h.objects[i]));
  return w;
}

// ---------------------------------------------------------------------------------------------
// Decoding

Status get_string(const StateReader &r, const char *key, std::string *out, bool required = true) {
  std::vector<uint8_t> bytes;
  Status st = r.get_bytes(key, &bytes, kMaxStringField);
  if (!st) return st;
  if (required && bytes.empty()) return Status::errorf("'%s' is empty", key);
  out->assign(bytes.begin(), bytes.end());
  return Status::ok();
}

Status decode_object(const StateReader &r, MigrationObject *o) {
  Status st = r.expect(kObjectSection, kSectionVersion, kSectionVersion);
  uint8_t role = 0;
  if (st) st = get_string(r, "path", &o->path);
  if (st) st = get_string(r, "type", &o->type);
  if (st) st = r.get_u8("role", &role);
  if (st) st = r.get_u8("tpm-version", &o->tpm_version);
  if (st) st = r.get_bool("has-state", &o->has_state);
  if (st && o->has_state) st = get_string(r, "section", &o->section);
  if (st && o->has_state) st = r.get_u32("section-version", &o->section_version);
  if (!st) return st;
  if (role > static_cast<uint8_t>(MigrationRole::kBackend))
    return Status::errorf("role %u is unknown", role);
  if (o->tpm_version > 2) return Status::errorf("TPM version %u is unknown", o->tpm_version);
  o->role = static_cast<MigrationRole>(role);
  return Status::ok();
}

Status decode_header(const StateReader &r, MigrationHeader *h) {
  Status st = r.expect(kHeaderSection, kSectionVersion, kSectionVersion);
  uint32_t count = 0;
  if (st) st = get_string(r, "arch", &h->arch);
  if (st) st = get_string(r, "machine", &h->machine);
  if (st) st = get_string(r, "run-state", &h->run_state);
  if (st) st = get_string(r, "producer", &h->producer, false);
  if (st) st = r.get_u32("objects", &count);
  if (!st) return st;
  if (count > kMigrationObjectsMax) {
    return Status::errorf("%u objects, more than the %zu a stream may hold", count,
                          kMigrationObjectsMax);
  }
  std::set<std::pair<std::string, MigrationRole>> seen;
  h->objects.resize(count);
  for (uint32_t i = 0; i < count; i++) {
    StateReader o;
    st = r.get_section(object_key(i), &o);
    if (st) st = decode_object(o, &h->objects[i]);
    if (!st) return st.prefixed(object_key(i) + ": ");
    const MigrationObject &obj = h->objects[i];
    if (!seen.insert({obj.path, obj.role}).second) {
      return Status::errorf("%s: %s '%s' appears twice", object_key(i).c_str(),
                            migration_role_name(obj.role), obj.path.c_str());
    }
  }
  return Status::ok();
}

// The size of the encoded section at the start of `bytes` (saved_state.h's framing: name_len:u16
// name version:u32 body_len:u32 body), or 0 if it does not fit.
size_t section_size(std::span<const uint8_t> bytes) {
  if (bytes.size() < 2) return 0;
  size_t name_len = size_t{bytes[0]} << 8 | bytes[1];
  size_t fixed = 2 + name_len + 4 + 4;
  if (bytes.size() < fixed) return 0;
  size_t body_len = get_be32(bytes.data() + 2 + name_len + 4);
  if (body_len > bytes.size() - fixed) return 0;
  return fixed + body_len;
}

Status split_sections(std::span<const uint8_t> body, std::vector<std::span<const uint8_t>> *out) {
  while (!body.empty()) {
    size_t n = section_size(body);
    if (n == 0) {
      return Status::errorf("section %zu is cut off (%zu bytes left in the body)", out->size(),
                            body.size());
    }
    out->push_back(body.first(n));
    body = body.subspan(n);
    if (out->size() > kMigrationObjectsMax + 1) return Status::error("too many sections");
  }
  if (out->empty()) return Status::error("the body is empty");
  return Status::ok();
}

Status decode_states(const std::vector<std::span<const uint8_t>> &sections, MigrationStream *out) {
  const std::vector<MigrationObject> &objects = out->header.objects;
  out->states.assign(objects.size(), std::nullopt);
  size_t next = 1;  // sections[0] is the header
  for (size_t i = 0; i < objects.size(); i++) {
    if (!objects[i].has_state) continue;
    const MigrationObject &o = objects[i];
    std::string where = strprintf("state of %s %s", migration_role_name(o.role), o.path.c_str());
    if (next >= sections.size()) return Status::errorf("%s is missing", where.c_str());
    StateReader record;
    Status st = StateReader::parse(sections[next++], &record);
    if (st) st = record.expect(kStateSection, kSectionVersion, kSectionVersion);
    uint32_t index = 0;
    if (st) st = record.get_u32("object", &index);
    if (st && index != i) st = Status::errorf("it is labelled as object %u", index);
    StateReader state;
    if (st) st = record.get_section("state", &state);
    if (st && (state.section() != o.section || state.version() != o.section_version)) {
      st = Status::errorf("its section is '%s' v%u, the summary says '%s' v%u",
                          state.section().c_str(), state.version(), o.section.c_str(),
                          o.section_version);
    }
    if (!st) return st.prefixed(where + ": ");
    out->states[i] = std::move(state);
  }
  if (next != sections.size()) {
    return Status::error(count_follow(sections.size() - next, "section", "sections") +
                         " the last object's state");
  }
  return Status::ok();
}

// The magic, as far as it has arrived.
Status check_magic(std::span<const uint8_t> bytes) {
  if (bytes.empty()) return Status::error("empty stream: the source sent nothing");
  size_t magic_seen = std::min(bytes.size(), sizeof(kMigrationMagic));
  if (std::memcmp(bytes.data(), kMigrationMagic, magic_seen) == 0) return Status::ok();
  static constexpr uint8_t kQemuMagic[4] = {'Q', 'E', 'V', 'M'};
  bool qemu = bytes.size() >= 4 && std::memcmp(bytes.data(), kQemuMagic, 4) == 0;
  return Status::errorf("not a qtpm migration stream: it starts with %s%s",
                        hex_prefix(bytes, 8).c_str(),
                        qemu ? " (\"QEVM\", a QEMU migration stream)" : "");
}

std::string describe(const MigrationObject &o) {
  return strprintf("%s at %s", o.type.c_str(), o.path.c_str());
}

const MigrationObject *find_object(const MigrationHeader &h, const std::string &path,
                                   MigrationRole role) {
  for (const MigrationObject &o : h.objects)
    if (o.path == path && o.role == role) return &o;
  return nullptr;
}

Status compare_object(const MigrationObject &src, const MigrationObject &here) {
  if (src.type != here.type) {
    if (src.role == MigrationRole::kBackend) {
      return Status::errorf(
          "the TPM backend of %s is %s on the source and %s here; one backend "
          "type cannot load another's state",
          src.path.c_str(), src.type.c_str(), here.type.c_str());
    }
    return Status::errorf("the source has %s, this machine has %s there", describe(src).c_str(),
                          here.type.c_str());
  }
  if (src.tpm_version != here.tpm_version) {
    return Status::errorf("the source's %s is a %s, this one is a %s", describe(src).c_str(),
                          tpm_version_text(src.tpm_version), tpm_version_text(here.tpm_version));
  }
  if (src.has_state != here.has_state || (src.has_state && src.section != here.section)) {
    return Status::errorf("the source's %s saves state '%s', this one '%s'", describe(src).c_str(),
                          src.has_state ? src.section.c_str() : "(none)",
                          here.has_state ? here.section.c_str() : "(none)");
  }
  return Status::ok();
}

}  // namespace

const char *migration_role_name(MigrationRole role) {
  return role == MigrationRole::kBackend ? "backend" : "device";
}

Status encode_migration_stream(MigrationHeader header,
                               const std::vector<MigrationObjectState> &objects,
                               std::vector<uint8_t> *out) {
  header.objects.clear();
  std::vector<std::vector<uint8_t>> states;
  for (size_t i = 0; i < objects.size(); i++) {
    MigrationObject o = objects[i].object;
    o.has_state = objects[i].state.has_value();
    o.section.clear();
    o.section_version = 0;
    if (o.has_state) {
      StateReader check;
      Status st = StateReader::parse(objects[i].state->finish(), &check);
      if (!st) return st.prefixed("state of " + o.path + ": ");
      o.section = check.section();
      o.section_version = check.version();
      StateWriter record(kStateSection, kSectionVersion);
      record.put_u32("object", static_cast<uint32_t>(i));
      record.put_section("state", *objects[i].state);
      states.push_back(record.finish());
    }
    header.objects.push_back(std::move(o));
  }
  if (header.objects.size() > kMigrationObjectsMax) {
    return Status::errorf("%zu objects, more than the %zu a stream may hold", header.objects.size(),
                          kMigrationObjectsMax);
  }
  std::vector<uint8_t> body = encode_header(header).finish();
  for (const std::vector<uint8_t> &s : states) body.insert(body.end(), s.begin(), s.end());
  if (body.size() > kMigrationBodyMax) {
    return Status::errorf("the state is %zu bytes, more than the %u a stream may carry",
                          body.size(), kMigrationBodyMax);
  }
  std::vector<uint8_t> stream(kMigrationMagic, kMigrationMagic + sizeof(kMigrationMagic));
  put_be32(stream, kMigrationFormatVersion);
  put_be32(stream, static_cast<uint32_t>(body.size()));
  stream.insert(stream.end(), body.begin(), body.end());
  std::vector<uint8_t> digest = sha256(stream);
  stream.insert(stream.end(), digest.begin(), digest.end());
  *out = std::move(stream);
  return Status::ok();
}

Status check_migration_preamble(std::span<const uint8_t> bytes, size_t *total_size) {
  if (Status st = check_magic(bytes); !st) return st;
  if (bytes.size() < kMigrationPreambleSize) {
    return Status::errorf("truncated stream: %zu bytes, less than the %zu-byte preamble",
                          bytes.size(), kMigrationPreambleSize);
  }
  uint32_t version = get_be32(bytes.data() + 8);
  if (version > kMigrationFormatVersion) {
    return Status::errorf(
        "stream format version %u is newer than this qtpm reads (%u); load it "
        "with the qtpm that wrote it or a newer one",
        version, kMigrationFormatVersion);
  }
  if (version == 0) return Status::error("stream format version 0 does not exist");
  uint32_t body_len = get_be32(bytes.data() + 12);
  if (body_len > kMigrationBodyMax) {
    return Status::errorf(
        "the stream announces %u bytes of state, more than the %u this qtpm "
        "accepts",
        body_len, kMigrationBodyMax);
  }
  *total_size = kMigrationPreambleSize + body_len + kMigrationDigestSize;
  return Status::ok();
}

Status decode_migration_stream(std::span<const uint8_t> bytes, MigrationStream *out) {
  size_t total = 0;
  Status st = check_migration_preamble(bytes, &total);
  if (!st) return st;
  if (bytes.size() < total) {
    return Status::errorf("truncated stream: %zu of %zu bytes", bytes.size(), total);
  }
  if (bytes.size() > total) {
    return Status::error(count_follow(bytes.size() - total, "unexpected byte", "unexpected bytes") +
                         " the end of the stream");
  }
  std::span<const uint8_t> signed_part = bytes.first(total - kMigrationDigestSize);
  std::span<const uint8_t> digest = bytes.subspan(total - kMigrationDigestSize);
  std::vector<uint8_t> expected = sha256(signed_part);
  if (!std::equal(digest.begin(), digest.end(), expected.begin())) {
    return Status::errorf(
        "checksum mismatch: the stream was damaged in transit or in storage "
        "(SHA-256 %s..., the stream says %s...)",
        hex_prefix(expected, 4).c_str(), hex_prefix(digest, 4).c_str());
  }
  std::vector<std::span<const uint8_t>> sections;
  st = split_sections(signed_part.subspan(kMigrationPreambleSize), &sections);
  MigrationStream stream;
  StateReader header;
  if (st) st = StateReader::parse(sections[0], &header).prefixed("header: ");
  if (st) st = decode_header(header, &stream.header).prefixed("header: ");
  if (st) st = decode_states(sections, &stream);
  if (!st) return st.prefixed("malformed stream: ");
  *out = std::move(stream);
  return Status::ok();
}

Status check_migration_compat(const MigrationHeader &source, const MigrationHeader &local) {
  if (source.arch != local.arch) {
    return Status::errorf("the stream is from a %s machine, this is %s", source.arch.c_str(),
                          local.arch.c_str());
  }
  if (source.machine != local.machine) {
    return Status::errorf(
        "the stream is from machine type '%s', this machine is '%s' (start the "
        "destination with -machine %s)",
        source.machine.c_str(), local.machine.c_str(), source.machine.c_str());
  }
  // Devices first, so that a different device is named before its backend.
  for (MigrationRole role : {MigrationRole::kDevice, MigrationRole::kBackend}) {
    for (const MigrationObject &src : source.objects) {
      if (src.role != role) continue;
      const MigrationObject *here = find_object(local, src.path, role);
      if (!here) {
        return Status::errorf("the source has %s %s, this machine has no %s there",
                              migration_role_name(role), describe(src).c_str(),
                              migration_role_name(role));
      }
      if (Status st = compare_object(src, *here); !st) return st;
    }
    for (const MigrationObject &here : local.objects) {
      if (here.role == role && !find_object(source, here.path, role)) {
        return Status::errorf("this machine has %s %s, the source had no %s there",
                              migration_role_name(role), describe(here).c_str(),
                              migration_role_name(role));
      }
    }
  }
  return Status::ok();
}

// ---------------------------------------------------------------------------------------------
// Incremental reception

Status MigrationStreamAssembler::feed(std::span<const uint8_t> bytes) {
  if (total_ == 0) {
    size_t take = std::min(bytes.size(), kMigrationPreambleSize - buffer_.size());
    buffer_.insert(buffer_.end(), bytes.begin(), bytes.begin() + take);
    bytes = bytes.subspan(take);
    // The magic is checked as soon as its first byte arrives: a wrong stream is refused early.
    if (buffer_.size() < kMigrationPreambleSize)
      return buffer_.empty() ? Status::ok() : check_magic(buffer_);
    if (Status st = check_migration_preamble(buffer_, &total_); !st) return st;
    buffer_.reserve(total_);
  }
  if (bytes.size() > total_ - buffer_.size()) {
    size_t extra = bytes.size() - (total_ - buffer_.size());
    return Status::error(count_follow(extra, "unexpected byte", "unexpected bytes") +
                         " the end of the stream");
  }
  buffer_.insert(buffer_.end(), bytes.begin(), bytes.end());
  return Status::ok();
}

Status MigrationStreamAssembler::finish(std::vector<uint8_t> *out) {
  if (total_ == 0) {
    size_t ignored = 0;
    return check_migration_preamble(buffer_, &ignored);  // empty or truncated preamble
  }
  if (buffer_.size() < total_) {
    return Status::errorf("truncated stream: %zu of %zu bytes arrived", buffer_.size(), total_);
  }
  *out = std::move(buffer_);
  buffer_.clear();
  total_ = 0;
  return Status::ok();
}

}  // namespace qtpm
