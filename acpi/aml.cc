// SPDX-License-Identifier: GPL-2.0-or-later
//
// AML builder: terms, blocks and their encodings (ACPI 6.4, chapter 20).  Resource descriptors,
// ToUUID and EisaId are in aml_resources.cc.
#include "acpi/aml.h"

#include <cassert>

namespace qtpm::aml {

// Opcodes (ACPI 6.4, 20.3 "AML Byte Stream Byte Values").
namespace op {
constexpr uint8_t kZero = 0x00, kOne = 0x01, kName = 0x08;
constexpr uint8_t kBytePrefix = 0x0a, kWordPrefix = 0x0b, kDWordPrefix = 0x0c;
constexpr uint8_t kStringPrefix = 0x0d, kQWordPrefix = 0x0e;
constexpr uint8_t kScope = 0x10, kBuffer = 0x11, kPackage = 0x12, kVarPackage = 0x13;
constexpr uint8_t kMethod = 0x14;
constexpr uint8_t kDualNamePrefix = 0x2e, kMultiNamePrefix = 0x2f;
constexpr uint8_t kExtPrefix = 0x5b;
constexpr uint8_t kLocal0 = 0x60, kArg0 = 0x68;
constexpr uint8_t kStore = 0x70, kAdd = 0x72, kConcat = 0x73, kSubtract = 0x74;
constexpr uint8_t kIncrement = 0x75, kDecrement = 0x76, kMultiply = 0x77;
constexpr uint8_t kShiftLeft = 0x79, kShiftRight = 0x7a, kAnd = 0x7b, kOr = 0x7d;
constexpr uint8_t kDerefOf = 0x83, kNotify = 0x86, kSizeOf = 0x87, kIndex = 0x88;
constexpr uint8_t kCreateDWordField = 0x8a, kCreateWordField = 0x8b, kCreateByteField = 0x8c;
constexpr uint8_t kCreateBitField = 0x8d, kCreateQWordField = 0x8f;
constexpr uint8_t kLAnd = 0x90, kLOr = 0x91, kLNot = 0x92, kLEqual = 0x93, kLGreater = 0x94;
constexpr uint8_t kLLess = 0x95, kToBuffer = 0x96, kToInteger = 0x99;
constexpr uint8_t kNoop = 0xa3, kIf = 0xa0, kElse = 0xa1, kWhile = 0xa2, kReturn = 0xa4;
constexpr uint8_t kBreak = 0xa5, kOnes = 0xff;
// After kExtPrefix:
constexpr uint8_t kExtCreateField = 0x13, kExtDebug = 0x31, kExtOpRegion = 0x80;
constexpr uint8_t kExtField = 0x81, kExtDevice = 0x82;
}  // namespace op

// Builds Aml objects; the only code that touches Aml's representation besides Aml itself.
struct Factory {
  static Aml term(Bytes bytes) {
    Aml a;
    a.framing_ = Aml::Framing::kTerm;
    a.head_ = std::move(bytes);
    return a;
  }
  // A PkgLength-framed block: head PkgLength header children.
  static Aml pkg(Bytes head, Bytes header = {}) {
    return block(Aml::Framing::kPkgLength, std::move(head), std::move(header));
  }
  static Aml buffer() { return block(Aml::Framing::kBuffer, {op::kBuffer}); }
  static Aml resource_template() {
    return block(Aml::Framing::kResourceTemplate, {op::kBuffer});
  }
  static Aml package() { return block(Aml::Framing::kPackage, {op::kPackage}); }

 private:
  static Aml block(Aml::Framing framing, Bytes head, Bytes header = {}) {
    Aml a;
    a.framing_ = framing;
    a.head_ = std::move(head);
    a.header_ = std::move(header);
    return a;
  }
};

namespace {

void put(Bytes *out, const Bytes &bytes) { out->insert(out->end(), bytes.begin(), bytes.end()); }

void put_le(Bytes *out, uint64_t value, unsigned size) {
  for (unsigned i = 0; i < size; i++) out->push_back(static_cast<uint8_t>(value >> (8 * i)));
}

// PkgLength with `length_bytes` bytes holding `value` (ACPI 6.4, 20.2.4): byte 0 carries the
// count of following bytes in bits 7:6; with followers it holds only the low nibble.
Bytes pkg_length_bytes(uint32_t value, unsigned length_bytes) {
  Bytes out;
  if (length_bytes == 1) {
    out.push_back(static_cast<uint8_t>(value));
    return out;
  }
  out.push_back(static_cast<uint8_t>(((length_bytes - 1) << 6) | (value & 0x0f)));
  value >>= 4;
  for (unsigned i = 1; i < length_bytes; i++) {
    out.push_back(static_cast<uint8_t>(value));
    value >>= 8;
  }
  return out;
}

// Largest value each PkgLength size can carry: 6 bits, then 4 + 8k bits.
constexpr uint32_t kPkgMax[5] = {0, 0x3f, 0xfff, 0xfffff, 0xfffffff};

Bytes framed(const Bytes &head, const Bytes &content) {
  Bytes out = head;
  put(&out, encode_pkg_length(content.size()));
  put(&out, content);
  return out;
}

Aml opcode_term(std::initializer_list<uint8_t> opcode, std::initializer_list<const Aml *> args) {
  Bytes bytes(opcode);
  for (const Aml *a : args) put(&bytes, a->encode());
  return Factory::term(std::move(bytes));
}

Aml with_target(uint8_t opcode, const Aml &a, const Aml &b, const Aml &target) {
  return opcode_term({opcode}, {&a, &b, &target});
}

bool is_lead_char(char c) { return (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_name_char(char c) { return is_lead_char(c) || (c >= '0' && c <= '9'); }

// Splits "\\^^A.B.C" into prefix ("\\" or "^^") and segments; false if malformed.
bool split_path(std::string_view path, std::string_view *prefix,
                std::vector<std::string_view> *segs) {
  size_t i = 0;
  if (i < path.size() && path[i] == '\\') {
    i = 1;
  } else {
    while (i < path.size() && path[i] == '^') i++;
  }
  *prefix = path.substr(0, i);
  segs->clear();
  std::string_view rest = path.substr(i);
  if (rest.empty()) return true;
  while (true) {
    size_t dot = rest.find('.');
    std::string_view seg = rest.substr(0, dot);
    if (!is_valid_name_seg(seg)) return false;
    segs->push_back(seg);
    if (dot == std::string_view::npos) return true;
    rest = rest.substr(dot + 1);
  }
}

void put_name_seg(Bytes *out, std::string_view seg) {
  for (size_t i = 0; i < 4; i++) out->push_back(static_cast<uint8_t>(i < seg.size() ? seg[i] : '_'));
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Aml

Aml Aml::raw(Bytes bytes) { return Factory::term(std::move(bytes)); }

Aml &Aml::append(const Aml &child) {
  assert(is_block() && "AML: append to a finished term");
  put(&body_, child.encode());
  child_count_++;
  return *this;
}

Aml &Aml::append(std::initializer_list<Aml> children) {
  for (const Aml &c : children) append(c);
  return *this;
}

Bytes Aml::encode() const {
  switch (framing_) {
    case Framing::kTerm:
      return head_;
    case Framing::kPkgLength: {
      Bytes content = header_;
      put(&content, body_);
      return framed(head_, content);
    }
    case Framing::kBuffer:
    case Framing::kResourceTemplate: {
      Bytes data = body_;
      if (framing_ == Framing::kResourceTemplate) {
        // End Tag (ACPI 6.4, 6.4.2.9); a zero checksum byte means "treat as valid".
        data.push_back(0x79);
        data.push_back(0x00);
      }
      Bytes content = encode_integer(data.size());  // BufferSize, as QEMU encodes it
      put(&content, data);
      return framed(head_, content);
    }
    case Framing::kPackage: {
      Bytes content;
      Bytes head = head_;
      if (child_count_ <= 0xff) {
        content.push_back(static_cast<uint8_t>(child_count_));  // NumElements: a plain byte
      } else {
        head = {op::kVarPackage};  // more than a byte can count: VarNumElements is a TermArg
        content = encode_integer(child_count_);
      }
      put(&content, body_);
      return framed(head, content);
    }
  }
  return {};
}

// ---------------------------------------------------------------------------------------------
// Primitives

Bytes encode_pkg_length(size_t content_length) {
  // The value counts the PkgLength itself, so pick the smallest size whose range holds both.
  for (unsigned n = 1; n <= 4; n++) {
    if (content_length + n <= kPkgMax[n])
      return pkg_length_bytes(static_cast<uint32_t>(content_length + n), n);
  }
  assert(false && "AML: PkgLength beyond 2^28 bytes");
  return {};
}

Bytes encode_field_length(uint32_t bits) {
  for (unsigned n = 1; n <= 4; n++) {
    if (bits <= kPkgMax[n]) return pkg_length_bytes(bits, n);
  }
  assert(false && "AML: field unit beyond 2^28 bits");
  return {};
}

bool is_valid_name_seg(std::string_view seg) {
  if (seg.empty() || seg.size() > 4 || !is_lead_char(seg[0])) return false;
  for (char c : seg)
    if (!is_name_char(c)) return false;
  return true;
}

bool is_valid_name_path(std::string_view path) {
  std::string_view prefix;
  std::vector<std::string_view> segs;
  if (!split_path(path, &prefix, &segs)) return false;
  // A bare "^" names nothing (a root alone is the root object; empty is NullName).
  return !(segs.empty() && !prefix.empty() && prefix[0] == '^') && segs.size() <= 255;
}

Bytes encode_name_string(std::string_view path) {
  std::string_view prefix;
  std::vector<std::string_view> segs;
  bool ok = split_path(path, &prefix, &segs) && is_valid_name_path(path);
  assert(ok && "AML: malformed name path");
  (void)ok;
  Bytes out(prefix.begin(), prefix.end());  // '\\' is 0x5c RootChar, '^' is 0x5e ParentPrefix
  if (segs.empty()) {
    out.push_back(0x00);  // NullName (after a RootChar: the root itself)
  } else if (segs.size() == 2) {
    out.push_back(op::kDualNamePrefix);
  } else if (segs.size() > 2) {
    out.push_back(op::kMultiNamePrefix);
    out.push_back(static_cast<uint8_t>(segs.size()));
  }
  for (std::string_view seg : segs) put_name_seg(&out, seg);
  return out;
}

Bytes encode_integer(uint64_t value) {
  if (value == 0) return {op::kZero};
  if (value == 1) return {op::kOne};
  if (value == UINT64_MAX) return {op::kOnes};
  Bytes out;
  unsigned size;
  if (value <= 0xff) {
    out.push_back(op::kBytePrefix);
    size = 1;
  } else if (value <= 0xffff) {
    out.push_back(op::kWordPrefix);
    size = 2;
  } else if (value <= 0xffffffff) {
    out.push_back(op::kDWordPrefix);
    size = 4;
  } else {
    out.push_back(op::kQWordPrefix);
    size = 8;
  }
  put_le(&out, value, size);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Data objects

Aml zero() { return Factory::term({op::kZero}); }
Aml one() { return Factory::term({op::kOne}); }
Aml ones() { return Factory::term({op::kOnes}); }
Aml integer(uint64_t value) { return Factory::term(encode_integer(value)); }

Aml string(std::string_view text) {
  Bytes out{op::kStringPrefix};
  for (char c : text) {
    assert(c > 0 && static_cast<unsigned char>(c) <= 0x7f && "AML: String is ASCII without NUL");
    out.push_back(static_cast<uint8_t>(c));
  }
  out.push_back(0x00);
  return Factory::term(std::move(out));
}

Aml buffer(const Bytes &data) {
  Aml b = buffer_block();
  b.append(Aml::raw(data));
  return b;
}

Aml buffer_block() { return Factory::buffer(); }
Aml resource_template() {
  return Factory::resource_template();
}
Aml package() { return Factory::package(); }
Aml name_ref(std::string_view path) { return Factory::term(encode_name_string(path)); }

Aml arg(unsigned n) {
  assert(n <= 6);
  return Factory::term({static_cast<uint8_t>(op::kArg0 + n)});
}

Aml local(unsigned n) {
  assert(n <= 7);
  return Factory::term({static_cast<uint8_t>(op::kLocal0 + n)});
}

Aml debug_obj() { return Factory::term({op::kExtPrefix, op::kExtDebug}); }
Aml null_name() { return Factory::term({0x00}); }

// ---------------------------------------------------------------------------------------------
// Named objects and blocks

Aml name(std::string_view path, const Aml &value) {
  Bytes out{op::kName};
  put(&out, encode_name_string(path));
  put(&out, value.encode());
  return Factory::term(std::move(out));
}

Aml scope(std::string_view path) {
  return Factory::pkg({op::kScope}, encode_name_string(path));
}

Aml device(std::string_view path) {
  return Factory::pkg({op::kExtPrefix, op::kExtDevice},
                        encode_name_string(path));
}

Aml method(std::string_view path, unsigned arg_count, MethodSerialize serialize,
           unsigned sync_level) {
  assert(arg_count <= 7 && sync_level <= 15);
  Bytes header = encode_name_string(path);
  // MethodFlags: ArgCount in bits 2:0, SerializeFlag in bit 3, SyncLevel in bits 7:4.
  header.push_back(static_cast<uint8_t>(
      arg_count | (serialize == MethodSerialize::kSerialized ? 0x08 : 0) | (sync_level << 4)));
  return Factory::pkg({op::kMethod}, std::move(header));
}

Aml operation_region(std::string_view name, RegionSpace space, const Aml &offset,
                     const Aml &length) {
  Bytes out{op::kExtPrefix, op::kExtOpRegion};
  put(&out, encode_name_string(name));
  out.push_back(static_cast<uint8_t>(space));
  put(&out, offset.encode());
  put(&out, length.encode());
  return Factory::term(std::move(out));
}

FieldBuilder::FieldBuilder(std::string_view region, FieldAccess access, FieldLock lock,
                           FieldUpdate update) {
  header_ = encode_name_string(region);
  // FieldFlags: AccessType in bits 3:0, LockRule in bit 4, UpdateRule in bits 6:5.
  header_.push_back(static_cast<uint8_t>(static_cast<uint8_t>(access) |
                                         (static_cast<uint8_t>(lock) << 4) |
                                         (static_cast<uint8_t>(update) << 5)));
}

FieldBuilder &FieldBuilder::unit(std::string_view name, uint32_t bits) {
  assert(is_valid_name_seg(name) && bits > 0);
  put_name_seg(&units_, name);
  put(&units_, encode_field_length(bits));
  bit_position_ += bits;
  return *this;
}

FieldBuilder &FieldBuilder::reserved(uint32_t bits) {
  assert(bits > 0);
  units_.push_back(0x00);  // ReservedField
  put(&units_, encode_field_length(bits));
  bit_position_ += bits;
  return *this;
}

FieldBuilder &FieldBuilder::offset(uint32_t byte_offset) {
  uint64_t target = uint64_t{byte_offset} * 8;
  assert(target >= bit_position_ && "AML: Field Offset() moves backwards");
  if (target > bit_position_) reserved(static_cast<uint32_t>(target - bit_position_));
  return *this;
}

Aml FieldBuilder::build() const {
  Aml f = Factory::pkg({op::kExtPrefix, op::kExtField}, header_);
  if (!units_.empty()) f.append(Aml::raw(units_));
  return f;
}

namespace {
Aml create_sized_field(uint8_t opcode, const Aml &source, const Aml &index,
                       std::string_view name) {
  Bytes out{opcode};
  put(&out, source.encode());
  put(&out, index.encode());
  put(&out, encode_name_string(name));
  return Factory::term(std::move(out));
}
}  // namespace

Aml create_bit_field(const Aml &source, const Aml &bit_index, std::string_view name) {
  return create_sized_field(op::kCreateBitField, source, bit_index, name);
}
Aml create_byte_field(const Aml &source, const Aml &byte_index, std::string_view name) {
  return create_sized_field(op::kCreateByteField, source, byte_index, name);
}
Aml create_word_field(const Aml &source, const Aml &byte_index, std::string_view name) {
  return create_sized_field(op::kCreateWordField, source, byte_index, name);
}
Aml create_dword_field(const Aml &source, const Aml &byte_index, std::string_view name) {
  return create_sized_field(op::kCreateDWordField, source, byte_index, name);
}
Aml create_qword_field(const Aml &source, const Aml &byte_index, std::string_view name) {
  return create_sized_field(op::kCreateQWordField, source, byte_index, name);
}

Aml create_field(const Aml &source, const Aml &bit_index, const Aml &num_bits,
                 std::string_view name) {
  Bytes out{op::kExtPrefix, op::kExtCreateField};
  put(&out, source.encode());
  put(&out, bit_index.encode());
  put(&out, num_bits.encode());
  put(&out, encode_name_string(name));
  return Factory::term(std::move(out));
}

// ---------------------------------------------------------------------------------------------
// Control flow

Aml if_(const Aml &predicate) {
  return Factory::pkg({op::kIf}, predicate.encode());
}
Aml else_() { return Factory::pkg({op::kElse}); }
Aml while_(const Aml &predicate) {
  return Factory::pkg({op::kWhile}, predicate.encode());
}
Aml return_(const Aml &value) { return opcode_term({op::kReturn}, {&value}); }
Aml break_() { return Factory::term({op::kBreak}); }
Aml noop() { return Factory::term({op::kNoop}); }

// ---------------------------------------------------------------------------------------------
// Expressions

Aml store(const Aml &source, const Aml &destination) {
  return opcode_term({op::kStore}, {&source, &destination});
}
Aml add(const Aml &a, const Aml &b) { return with_target(op::kAdd, a, b, null_name()); }
Aml add(const Aml &a, const Aml &b, const Aml &t) { return with_target(op::kAdd, a, b, t); }
Aml subtract(const Aml &a, const Aml &b) {
  return with_target(op::kSubtract, a, b, null_name());
}
Aml subtract(const Aml &a, const Aml &b, const Aml &t) {
  return with_target(op::kSubtract, a, b, t);
}
Aml multiply(const Aml &a, const Aml &b) {
  return with_target(op::kMultiply, a, b, null_name());
}
Aml multiply(const Aml &a, const Aml &b, const Aml &t) {
  return with_target(op::kMultiply, a, b, t);
}
Aml and_(const Aml &a, const Aml &b) { return with_target(op::kAnd, a, b, null_name()); }
Aml and_(const Aml &a, const Aml &b, const Aml &t) { return with_target(op::kAnd, a, b, t); }
Aml or_(const Aml &a, const Aml &b) { return with_target(op::kOr, a, b, null_name()); }
Aml or_(const Aml &a, const Aml &b, const Aml &t) { return with_target(op::kOr, a, b, t); }
Aml shift_left(const Aml &a, const Aml &n) {
  return with_target(op::kShiftLeft, a, n, null_name());
}
Aml shift_left(const Aml &a, const Aml &n, const Aml &t) {
  return with_target(op::kShiftLeft, a, n, t);
}
Aml shift_right(const Aml &a, const Aml &n) {
  return with_target(op::kShiftRight, a, n, null_name());
}
Aml shift_right(const Aml &a, const Aml &n, const Aml &t) {
  return with_target(op::kShiftRight, a, n, t);
}
Aml increment(const Aml &target) { return opcode_term({op::kIncrement}, {&target}); }
Aml decrement(const Aml &target) { return opcode_term({op::kDecrement}, {&target}); }
Aml lnot(const Aml &a) { return opcode_term({op::kLNot}, {&a}); }
Aml land(const Aml &a, const Aml &b) { return opcode_term({op::kLAnd}, {&a, &b}); }
Aml lor(const Aml &a, const Aml &b) { return opcode_term({op::kLOr}, {&a, &b}); }
Aml lequal(const Aml &a, const Aml &b) { return opcode_term({op::kLEqual}, {&a, &b}); }
Aml lless(const Aml &a, const Aml &b) { return opcode_term({op::kLLess}, {&a, &b}); }
Aml lgreater(const Aml &a, const Aml &b) { return opcode_term({op::kLGreater}, {&a, &b}); }
Aml lgreater_equal(const Aml &a, const Aml &b) { return lnot(lless(a, b)); }
Aml lless_equal(const Aml &a, const Aml &b) { return lnot(lgreater(a, b)); }
Aml lnot_equal(const Aml &a, const Aml &b) { return lnot(lequal(a, b)); }
Aml deref_of(const Aml &reference) { return opcode_term({op::kDerefOf}, {&reference}); }
Aml index(const Aml &s, const Aml &i) { return with_target(op::kIndex, s, i, null_name()); }
Aml index(const Aml &s, const Aml &i, const Aml &t) { return with_target(op::kIndex, s, i, t); }
Aml size_of(const Aml &object) { return opcode_term({op::kSizeOf}, {&object}); }
Aml to_integer(const Aml &s) { return to_integer(s, null_name()); }
Aml to_integer(const Aml &s, const Aml &t) { return opcode_term({op::kToInteger}, {&s, &t}); }
Aml to_buffer(const Aml &s) { return to_buffer(s, null_name()); }
Aml to_buffer(const Aml &s, const Aml &t) { return opcode_term({op::kToBuffer}, {&s, &t}); }
Aml concatenate(const Aml &a, const Aml &b) {
  return with_target(op::kConcat, a, b, null_name());
}
Aml concatenate(const Aml &a, const Aml &b, const Aml &t) {
  return with_target(op::kConcat, a, b, t);
}
Aml notify(const Aml &object, const Aml &value) {
  return opcode_term({op::kNotify}, {&object, &value});
}

Aml call(std::string_view method_path, std::initializer_list<Aml> args) {
  Bytes out = encode_name_string(method_path);
  for (const Aml &a : args) put(&out, a.encode());
  return Factory::term(std::move(out));
}

}  // namespace qtpm::aml
