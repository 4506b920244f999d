// SPDX-License-Identifier: GPL-2.0-or-later
//
// A composable builder for AML, the byte code of ACPI definition blocks (ACPI 6.4, chapter 20
// "ACPI Machine Language Specification"; resource descriptors from section 6.4).
//
// An `Aml` is either a finished term (an integer, a name reference, an expression) or a block
// that still takes children (Scope, Device, Method, If, Package, Buffer, ResourceTemplate, ...).
// Blocks are framed - opcode, PkgLength, their own header, then the children - only when they are
// encoded, so a block can be filled in any order and PkgLength always has the shortest form that
// fits.
//
// Encodings follow what QEMU's AML builder emits where the grammar leaves a choice (integers in
// their shortest form with Zero/One, buffer sizes as integers, NullName targets), so that tables
// built here can be byte-identical to QEMU 7.2's.  Names and strings that break the grammar are
// programming errors and assert; callers that take names from configuration check them first with
// `is_valid_name_path()`.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace qtpm::aml {

using Bytes = std::vector<uint8_t>;

class Aml {
 public:
  Aml() = default;  // an empty term: encodes to nothing

  // A finished term made of these exact bytes.
  static Aml raw(Bytes bytes);

  // Appends a child to a block (asserts on finished terms).  Returns *this for chaining.
  Aml &append(const Aml &child);
  Aml &append(std::initializer_list<Aml> children);

  bool is_block() const { return framing_ != Framing::kTerm; }
  // Number of children appended so far (a Package's NumElements).
  size_t child_count() const { return child_count_; }

  // The complete encoding (blocks framed with their PkgLength).
  Bytes encode() const;

 private:
  friend struct Factory;
  enum class Framing : uint8_t {
    kTerm,              // head_ is the whole term
    kPkgLength,         // head PkgLength header body (Scope, Device, Method, If, Field, ...)
    kBuffer,            // head(0x11) PkgLength BufferSize body
    kResourceTemplate,  // a Buffer whose body is closed by an End Tag descriptor
    kPackage,           // Package (0x12 PkgLength NumElements) or VarPackage when > 255 elements
  };
  Framing framing_ = Framing::kTerm;
  Bytes head_;    // opcode bytes in front of the PkgLength (or the whole term)
  Bytes header_;  // after the PkgLength, before the children: name, flags, predicate
  Bytes body_;    // encoded children
  size_t child_count_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Encoding primitives (exposed for tests and for writers that frame AML themselves)

// PkgLength of a term whose content after the PkgLength is `content_length` bytes; the value
// counts the PkgLength bytes themselves (ACPI 6.4, 20.2.4).  At most 2^28 - 1.
Bytes encode_pkg_length(size_t content_length);
// The PkgLength form of a FieldList element's bit length: the value alone, not counting its own
// bytes (ACPI 6.4, 20.2.5.2 NamedField / ReservedField).
Bytes encode_field_length(uint32_t bits);
// A NameString from ASL notation: "TPM", "\\_SB.PCI0", "^^PCI0.ISA", "\\" (the root) or ""
// (NullName).  Segments shorter than four characters are padded with '_'.
Bytes encode_name_string(std::string_view path);
// True if encode_name_string() accepts `path`.
bool is_valid_name_path(std::string_view path);
// True if `seg` is one NameSeg of 1..4 characters: a lead of A-Z or '_', then A-Z, 0-9, '_'.
bool is_valid_name_seg(std::string_view seg);
// An integer in its shortest encoding: ZeroOp, OneOp, OnesOp (all 64 bits set), or the
// Byte/Word/DWord/QWord prefix that fits.
Bytes encode_integer(uint64_t value);

// ---------------------------------------------------------------------------------------------
// Data objects and simple terms

Aml zero();                          // ZeroOp
Aml one();                           // OneOp
Aml ones();                          // OnesOp
Aml integer(uint64_t value);         // shortest encoding (encode_integer)
Aml string(std::string_view text);   // ASCII 0x01..0x7f, NUL terminated
Aml buffer(const Bytes &data);       // Buffer (n) { data }
Aml buffer_block();                  // Buffer whose bytes come from appended raw terms
Aml package();                       // Package {} (NumElements = children appended)
Aml name_ref(std::string_view path); // a NameString used as a term (object reference)
Aml arg(unsigned n);                 // Arg0..Arg6
Aml local(unsigned n);               // Local0..Local7
Aml debug_obj();                     // Debug
Aml null_name();                     // NullName: "no target"

// ToUUID("aabbccdd-eeff-gghh-iijj-kkllmmnnoopp"): a 16-byte Buffer in the mixed-endian order
// the ACPI spec gives (the first three groups little endian, the last two as written).
Aml to_uuid(std::string_view uuid);
// The 16 bytes ToUUID produces; asserts on a malformed UUID string.
std::array<uint8_t, 16> uuid_bytes(std::string_view uuid);
// EisaId("PNP0C31"): the compressed 32-bit EISA id as a DWord constant.
Aml eisa_id(std::string_view id);
// The DWord value EisaId() produces (bytes in memory: 3 compressed letters, then the product).
uint32_t eisa_id_value(std::string_view id);

// ---------------------------------------------------------------------------------------------
// Named objects and blocks

Aml name(std::string_view path, const Aml &value);  // Name (path, value)
Aml scope(std::string_view path);                   // block
Aml device(std::string_view path);                  // block

enum class MethodSerialize : uint8_t { kNotSerialized, kSerialized };
// Method (path, args, serialize, sync_level) block.
Aml method(std::string_view path, unsigned arg_count,
           MethodSerialize serialize = MethodSerialize::kNotSerialized, unsigned sync_level = 0);

enum class RegionSpace : uint8_t {
  kSystemMemory = 0x00,
  kSystemIo = 0x01,
  kPciConfig = 0x02,
  kEmbeddedControl = 0x03,
  kSmBus = 0x04,
  kSystemCmos = 0x05,
  kPciBarTarget = 0x06,
};
// OperationRegion (name, space, offset, length).  Offset and length are terms, so a region may
// be static (integers) or dynamic (an expression over Args, inside a Method).
Aml operation_region(std::string_view name, RegionSpace space, const Aml &offset,
                     const Aml &length);

enum class FieldAccess : uint8_t { kAny = 0, kByte = 1, kWord = 2, kDWord = 3, kQWord = 4, kBuffer = 5 };
enum class FieldLock : uint8_t { kNoLock = 0, kLock = 1 };
enum class FieldUpdate : uint8_t { kPreserve = 0, kWriteAsOnes = 1, kWriteAsZeros = 2 };

// Field (region, access, lock, update) { units }.  Units are laid out in order; offset() skips
// forward like ASL's Offset() (with a ReservedField).
class FieldBuilder {
 public:
  FieldBuilder(std::string_view region, FieldAccess access, FieldLock lock = FieldLock::kNoLock,
               FieldUpdate update = FieldUpdate::kPreserve);
  // A named field unit of `bits` bits at the current position.
  FieldBuilder &unit(std::string_view name, uint32_t bits);
  // Moves to byte `byte_offset` (never backwards: asserts).
  FieldBuilder &offset(uint32_t byte_offset);
  // Skips `bits` bits with a ReservedField.
  FieldBuilder &reserved(uint32_t bits);
  uint64_t bit_position() const { return bit_position_; }
  Aml build() const;

 private:
  Bytes header_;
  Bytes units_;
  uint64_t bit_position_ = 0;
};

// CreateBitField / CreateByteField / CreateWordField / CreateDWordField / CreateQWordField over
// a buffer at `index` (bit index for the bit field, byte index otherwise), and CreateField with
// a bit index and bit count.
Aml create_bit_field(const Aml &source, const Aml &bit_index, std::string_view name);
Aml create_byte_field(const Aml &source, const Aml &byte_index, std::string_view name);
Aml create_word_field(const Aml &source, const Aml &byte_index, std::string_view name);
Aml create_dword_field(const Aml &source, const Aml &byte_index, std::string_view name);
Aml create_qword_field(const Aml &source, const Aml &byte_index, std::string_view name);
Aml create_field(const Aml &source, const Aml &bit_index, const Aml &num_bits,
                 std::string_view name);

// ---------------------------------------------------------------------------------------------
// Control flow (the predicate or value is part of the term)

Aml if_(const Aml &predicate);     // block
Aml else_();                       // block; append it right after its If
Aml while_(const Aml &predicate);  // block
Aml return_(const Aml &value);
Aml break_();
Aml noop();

// ---------------------------------------------------------------------------------------------
// Expressions.  Operators with a Target take an optional one; without it the result is only
// returned (NullName), as in ASL `And (a, b)`.

Aml store(const Aml &source, const Aml &destination);
Aml add(const Aml &a, const Aml &b);
Aml add(const Aml &a, const Aml &b, const Aml &target);
Aml subtract(const Aml &a, const Aml &b);
Aml subtract(const Aml &a, const Aml &b, const Aml &target);
Aml multiply(const Aml &a, const Aml &b);
Aml multiply(const Aml &a, const Aml &b, const Aml &target);
Aml and_(const Aml &a, const Aml &b);
Aml and_(const Aml &a, const Aml &b, const Aml &target);
Aml or_(const Aml &a, const Aml &b);
Aml or_(const Aml &a, const Aml &b, const Aml &target);
Aml shift_left(const Aml &a, const Aml &count);
Aml shift_left(const Aml &a, const Aml &count, const Aml &target);
Aml shift_right(const Aml &a, const Aml &count);
Aml shift_right(const Aml &a, const Aml &count, const Aml &target);
Aml increment(const Aml &target);
Aml decrement(const Aml &target);
Aml lnot(const Aml &a);
Aml land(const Aml &a, const Aml &b);
Aml lor(const Aml &a, const Aml &b);
Aml lequal(const Aml &a, const Aml &b);
Aml lless(const Aml &a, const Aml &b);
Aml lgreater(const Aml &a, const Aml &b);
Aml lgreater_equal(const Aml &a, const Aml &b);  // LNot (LLess (a, b)), as ASL's ">="
Aml lless_equal(const Aml &a, const Aml &b);     // LNot (LGreater (a, b))
Aml lnot_equal(const Aml &a, const Aml &b);      // LNot (LEqual (a, b))
Aml deref_of(const Aml &reference);
Aml index(const Aml &source, const Aml &idx);
Aml index(const Aml &source, const Aml &idx, const Aml &target);
Aml size_of(const Aml &object);
Aml to_integer(const Aml &source);
Aml to_integer(const Aml &source, const Aml &target);
Aml to_buffer(const Aml &source);
Aml to_buffer(const Aml &source, const Aml &target);
Aml concatenate(const Aml &a, const Aml &b);
Aml concatenate(const Aml &a, const Aml &b, const Aml &target);
Aml notify(const Aml &object, const Aml &value);
// A method invocation: the method's NameString followed by its arguments.
Aml call(std::string_view method_path, std::initializer_list<Aml> args = {});

// ---------------------------------------------------------------------------------------------
// Resource templates (ACPI 6.4, 6.4 "Resource Data Types for ACPI")

Aml resource_template();  // block of descriptors; the End Tag is added when encoded

enum class MemoryAccess : uint8_t { kReadOnly = 0, kReadWrite = 1 };
Aml memory32_fixed(uint32_t base, uint32_t length, MemoryAccess access);

enum class IrqTrigger : uint8_t { kLevel, kEdge };
enum class IrqPolarity : uint8_t { kActiveHigh, kActiveLow };
enum class IrqSharing : uint8_t { kExclusive, kShared };
// IRQNoFlags () { irqs }: ISA IRQs 0..15, edge triggered, active high, exclusive.
Aml irq_no_flags(std::initializer_list<uint8_t> irqs);
// IRQ (trigger, polarity, sharing) { irqs }: the 3-byte-body IRQ descriptor.
Aml irq(IrqTrigger trigger, IrqPolarity polarity, IrqSharing sharing,
        std::initializer_list<uint8_t> irqs);
// Interrupt (ResourceConsumer, trigger, polarity, sharing) { interrupts }: the extended
// interrupt descriptor (GSIs), without a resource source.
Aml interrupt(IrqTrigger trigger, IrqPolarity polarity, IrqSharing sharing,
              std::initializer_list<uint32_t> interrupts);

}  // namespace qtpm::aml
