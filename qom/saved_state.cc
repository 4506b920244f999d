// SPDX-License-Identifier: GPL-2.0-or-later
//
// Saved-state encoding and validation (see saved_state.h).
#include "qom/saved_state.h"

namespace qtpm {

namespace {

constexpr int kMaxDepth = 8;
constexpr size_t kMaxName = 255;

void put_be(std::vector<uint8_t> &out, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; i--) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

uint64_t get_be(const uint8_t *p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; i++) v = v << 8 | p[i];
  return v;
}

size_t type_size(StateFieldType t) {
  switch (t) {
    case StateFieldType::kU8: return 1;
    case StateFieldType::kU16: return 2;
    case StateFieldType::kU32: return 4;
    case StateFieldType::kU64: return 8;
    case StateFieldType::kBool: return 1;
    case StateFieldType::kBytes:
    case StateFieldType::kSection: return SIZE_MAX;  // variable
  }
  return 0;  // unknown type
}

const char *type_name(StateFieldType t) {
  switch (t) {
    case StateFieldType::kU8: return "u8";
    case StateFieldType::kU16: return "u16";
    case StateFieldType::kU32: return "u32";
    case StateFieldType::kU64: return "u64";
    case StateFieldType::kBool: return "bool";
    case StateFieldType::kBytes: return "bytes";
    case StateFieldType::kSection: return "section";
  }
  return "unknown";
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Writer

StateWriter::StateWriter(std::string_view section, uint32_t version)
    : section_(section.substr(0, kMaxName)), version_(version) {}

void StateWriter::put_field(StateFieldType type, std::string_view key,
                            std::span<const uint8_t> value) {
  key = key.substr(0, kMaxName);
  body_.push_back(static_cast<uint8_t>(type));
  put_be(body_, key.size(), 2);
  body_.insert(body_.end(), key.begin(), key.end());
  put_be(body_, value.size(), 4);
  body_.insert(body_.end(), value.begin(), value.end());
}

void StateWriter::put_u8(std::string_view key, uint8_t v) {
  put_field(StateFieldType::kU8, key, std::span<const uint8_t>(&v, 1));
}

void StateWriter::put_u16(std::string_view key, uint16_t v) {
  std::vector<uint8_t> b;
  put_be(b, v, 2);
  put_field(StateFieldType::kU16, key, b);
}

void StateWriter::put_u32(std::string_view key, uint32_t v) {
  std::vector<uint8_t> b;
  put_be(b, v, 4);
  put_field(StateFieldType::kU32, key, b);
}

void StateWriter::put_u64(std::string_view key, uint64_t v) {
  std::vector<uint8_t> b;
  put_be(b, v, 8);
  put_field(StateFieldType::kU64, key, b);
}

void StateWriter::put_bool(std::string_view key, bool v) {
  uint8_t b = v ? 1 : 0;
  put_field(StateFieldType::kBool, key, std::span<const uint8_t>(&b, 1));
}

void StateWriter::put_bytes(std::string_view key, std::span<const uint8_t> bytes) {
  put_field(StateFieldType::kBytes, key, bytes);
}

void StateWriter::put_section(std::string_view key, const StateWriter &nested) {
  std::vector<uint8_t> encoded = nested.finish();
  put_field(StateFieldType::kSection, key, encoded);
}

std::vector<uint8_t> StateWriter::finish() const {
  std::vector<uint8_t> out;
  put_be(out, section_.size(), 2);
  out.insert(out.end(), section_.begin(), section_.end());
  put_be(out, version_, 4);
  put_be(out, body_.size(), 4);
  out.insert(out.end(), body_.begin(), body_.end());
  return out;
}

// ---------------------------------------------------------------------------------------------
// Reader

Status StateReader::parse(std::span<const uint8_t> bytes, StateReader *out) {
  auto storage = std::make_shared<const std::vector<uint8_t>>(bytes.begin(), bytes.end());
  StateReader r;
  Status st = r.parse_from(storage, 0, storage->size(), 0);
  if (st) *out = std::move(r);
  return st;
}

Status StateReader::parse_from(std::shared_ptr<const std::vector<uint8_t>> storage,
                               size_t offset, size_t length, int depth) {
  if (depth > kMaxDepth) return Status::error("saved state: sections nested too deeply");
  const uint8_t *p = storage->data() + offset;
  size_t left = length;
  // Header: every read below is preceded by a check that `left` covers it.
  if (left < 2) return Status::error("saved state: truncated section header");
  size_t name_len = get_be(p, 2);
  p += 2, left -= 2;
  if (name_len == 0 || name_len > kMaxName || left < name_len + 8) {
    return Status::error("saved state: truncated or invalid section name");
  }
  std::string name(reinterpret_cast<const char *>(p), name_len);
  p += name_len, left -= name_len;
  uint32_t version = static_cast<uint32_t>(get_be(p, 4));
  size_t body_len = get_be(p + 4, 4);
  p += 8, left -= 8;
  if (body_len != left) {
    return Status::errorf("saved state '%s': body is %zu bytes but %zu follow", name.c_str(),
                          body_len, left);
  }
  std::map<std::string, FieldRef, std::less<>> fields;
  while (left > 0) {
    if (left < 3) return Status::errorf("saved state '%s': truncated field", name.c_str());
    auto type = static_cast<StateFieldType>(p[0]);
    size_t key_len = get_be(p + 1, 2);
    p += 3, left -= 3;
    if (key_len == 0 || key_len > kMaxName || left < key_len + 4) {
      return Status::errorf("saved state '%s': truncated or invalid field name", name.c_str());
    }
    std::string key(reinterpret_cast<const char *>(p), key_len);
    p += key_len, left -= key_len;
    size_t value_len = get_be(p, 4);
    p += 4, left -= 4;
    if (value_len > left) {
      return Status::errorf("saved state '%s': field '%s' claims %zu bytes, %zu remain",
                            name.c_str(), key.c_str(), value_len, left);
    }
    size_t want = type_size(type);
    if (want == 0) {
      return Status::errorf("saved state '%s': field '%s' has unknown type %u", name.c_str(),
                            key.c_str(), static_cast<unsigned>(type));
    }
    if (want != SIZE_MAX && want != value_len) {
      return Status::errorf("saved state '%s': field '%s' (%s) has %zu bytes", name.c_str(),
                            key.c_str(), type_name(type), value_len);
    }
    if (type == StateFieldType::kBool && p[0] > 1) {
      return Status::errorf("saved state '%s': field '%s' is not a boolean", name.c_str(),
                            key.c_str());
    }
    if (type == StateFieldType::kSection) {
      StateReader nested;  // validate nested sections now, not when first asked for
      Status st = nested.parse_from(storage, static_cast<size_t>(p - storage->data()),
                                    value_len, depth + 1);
      if (!st) return st;
    }
    if (fields.count(key)) {
      return Status::errorf("saved state '%s': field '%s' appears twice", name.c_str(),
                            key.c_str());
    }
    fields.emplace(std::move(key), FieldRef{type, std::span<const uint8_t>(p, value_len)});
    p += value_len, left -= value_len;
  }
  storage_ = std::move(storage);
  section_ = std::move(name);
  version_ = version;
  fields_ = std::move(fields);
  return Status::ok();
}

Status StateReader::expect(std::string_view section, uint32_t min_version,
                           uint32_t max_version) const {
  if (section_ != section) {
    return Status::errorf("saved state: expected section '%.*s', found '%s'",
                          static_cast<int>(section.size()), section.data(), section_.c_str());
  }
  if (version_ > max_version) {
    return Status::errorf("state of '%s': version %u is newer than this build supports (%u)",
                          section_.c_str(), version_, max_version);
  }
  if (version_ < min_version) {
    return Status::errorf("state of '%s': version %u is older than the oldest supported (%u)",
                          section_.c_str(), version_, min_version);
  }
  return Status::ok();
}

bool StateReader::has(std::string_view key) const { return fields_.find(key) != fields_.end(); }

Status StateReader::find(std::string_view key, StateFieldType type, const FieldRef **out) const {
  auto it = fields_.find(key);
  if (it == fields_.end()) {
    return Status::errorf("state of '%s': field '%.*s' is missing", section_.c_str(),
                          static_cast<int>(key.size()), key.data());
  }
  if (it->second.type != type) {
    return Status::errorf("state of '%s': field '%.*s' is %s, expected %s", section_.c_str(),
                          static_cast<int>(key.size()), key.data(), type_name(it->second.type),
                          type_name(type));
  }
  *out = &it->second;
  return Status::ok();
}

Status StateReader::get_u8(std::string_view key, uint8_t *v) const {
  const FieldRef *f;
  Status st = find(key, StateFieldType::kU8, &f);
  if (st) *v = f->value[0];
  return st;
}

Status StateReader::get_u16(std::string_view key, uint16_t *v) const {
  const FieldRef *f;
  Status st = find(key, StateFieldType::kU16, &f);
  if (st) *v = static_cast<uint16_t>(get_be(f->value.data(), 2));
  return st;
}

Status StateReader::get_u32(std::string_view key, uint32_t *v) const {
  const FieldRef *f;
  Status st = find(key, StateFieldType::kU32, &f);
  if (st) *v = static_cast<uint32_t>(get_be(f->value.data(), 4));
  return st;
}

Status StateReader::get_u64(std::string_view key, uint64_t *v) const {
  const FieldRef *f;
  Status st = find(key, StateFieldType::kU64, &f);
  if (st) *v = get_be(f->value.data(), 8);
  return st;
}

Status StateReader::get_bool(std::string_view key, bool *v) const {
  const FieldRef *f;
  Status st = find(key, StateFieldType::kBool, &f);
  if (st) *v = f->value[0] != 0;
  return st;
}

Status StateReader::get_bytes(std::string_view key, std::vector<uint8_t> *v,
                              size_t max_len) const {
  const FieldRef *f;
  Status st = find(key, StateFieldType::kBytes, &f);
  if (!st) return st;
  if (f->value.size() > max_len) {
    return Status::errorf("state of '%s': field '%.*s' has %zu bytes, at most %zu allowed",
                          section_.c_str(), static_cast<int>(key.size()), key.data(),
                          f->value.size(), max_len);
  }
  v->assign(f->value.begin(), f->value.end());
  return Status::ok();
}

Status StateReader::get_bytes_exact(std::string_view key, uint8_t *dst, size_t len) const {
  const FieldRef *f;
  Status st = find(key, StateFieldType::kBytes, &f);
  if (!st) return st;
  if (f->value.size() != len) {
    return Status::errorf("state of '%s': field '%.*s' has %zu bytes, expected %zu",
                          section_.c_str(), static_cast<int>(key.size()), key.data(),
                          f->value.size(), len);
  }
  std::copy(f->value.begin(), f->value.end(), dst);
  return Status::ok();
}

Status StateReader::get_section(std::string_view key, StateReader *nested) const {
  const FieldRef *f;
  Status st = find(key, StateFieldType::kSection, &f);
  if (!st) return st;
  size_t offset = static_cast<size_t>(f->value.data() - storage_->data());
  StateReader r;
  st = r.parse_from(storage_, offset, f->value.size(), 1);
  if (st) *nested = std::move(r);
  return st;
}

}  // namespace qtpm
