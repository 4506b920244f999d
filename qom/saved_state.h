// SPDX-License-Identifier: GPL-2.0-or-later
//
// Saved state: a versioned, self-describing schema that every device and backend uses for
// snapshots and migration (STYLE.md practices 10-11).  Never a memcpy of a live object.
//
// A state is one *section*: a name, a version, and named fields.  A field is a typed value
// (u8/u16/u32/u64/bool), a byte string, or a nested section (optional parts: write them only when
// needed, and the reader asks has()).  Encoding (big-endian), documented in docs/saved-state.md:
//
//   section := name_len:u16 name version:u32 body_len:u32 body
//   body    := field*
//   field   := type:u8 key_len:u16 key value_len:u32 value
//
// The reader validates the whole structure (every length, nesting, duplicate keys, types) when
// it parses, before a device sees a single value; typed getters then check type, range and size,
// so a device's load_state() only has to check the *meaning* of values (enum ranges, offsets
// within buffers) before it touches its live state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "qom/status.h"

namespace qtpm {

enum class StateFieldType : uint8_t {
  kU8 = 1,
  kU16 = 2,
  kU32 = 3,
  kU64 = 4,
  kBool = 5,
  kBytes = 6,
  kSection = 7,
};

class StateWriter {
 public:
  StateWriter(std::string_view section, uint32_t version);

  void put_u8(std::string_view key, uint8_t v);
  void put_u16(std::string_view key, uint16_t v);
  void put_u32(std::string_view key, uint32_t v);
  void put_u64(std::string_view key, uint64_t v);
  void put_bool(std::string_view key, bool v);
  void put_bytes(std::string_view key, std::span<const uint8_t> bytes);
  // Nests a finished section under `key`.
  void put_section(std::string_view key, const StateWriter &nested);

  // The encoded section.
  std::vector<uint8_t> finish() const;

 private:
  void put_field(StateFieldType type, std::string_view key, std::span<const uint8_t> value);
  std::string section_;
  uint32_t version_;
  std::vector<uint8_t> body_;
};

class StateReader {
 public:
  // Parses and validates a whole encoded section.  Errors say what is wrong and where.
  static Status parse(std::span<const uint8_t> bytes, StateReader *out);

  const std::string &section() const { return section_; }
  uint32_t version() const { return version_; }
  // Checks the section name and that its version is in [min_version, max_version]:
  // "state of 'tpm-tis': version 3 is newer than this build supports (2)".
  Status expect(std::string_view section, uint32_t min_version, uint32_t max_version) const;

  bool has(std::string_view key) const;
  Status get_u8(std::string_view key, uint8_t *v) const;
  Status get_u16(std::string_view key, uint16_t *v) const;
  Status get_u32(std::string_view key, uint32_t *v) const;
  Status get_u64(std::string_view key, uint64_t *v) const;
  Status get_bool(std::string_view key, bool *v) const;
  // Byte strings: at most max_len bytes (larger is an error, nothing is copied).
  Status get_bytes(std::string_view key, std::vector<uint8_t> *v, size_t max_len) const;
  // Exactly `len` bytes into `dst`.
  Status get_bytes_exact(std::string_view key, uint8_t *dst, size_t len) const;
  Status get_section(std::string_view key, StateReader *nested) const;

 private:
  struct FieldRef {
    StateFieldType type;
    std::span<const uint8_t> value;  // into storage_
  };
  Status find(std::string_view key, StateFieldType type, const FieldRef **out) const;
  Status parse_from(std::shared_ptr<const std::vector<uint8_t>> storage, size_t offset,
                    size_t length, int depth);

  std::shared_ptr<const std::vector<uint8_t>> storage_;
  std::string section_;
  uint32_t version_ = 0;
  std::map<std::string, FieldRef, std::less<>> fields_;
};

// What a device or backend with state implements.
class Migratable {
 public:
  virtual ~Migratable() = default;
  // Name of the section this object writes ("tpm-tis", "tpm-emulator", ...).
  virtual const char *state_section() const = 0;
  // Before saving: drain what is in flight (finish_sync); fails if the state cannot be taken
  // (e.g. passthrough refuses migration), with a one-line reason.
  virtual Status prepare_save() { return Status::ok(); }
  virtual StateWriter save_state() const = 0;
  // Validates everything, then applies.  On error the live object is unchanged.
  virtual Status load_state(const StateReader &state) = 0;
};

}  // namespace qtpm
