// SPDX-License-Identifier: GPL-2.0-or-later
//
// Unit tests for the AML builder: each expectation carries the ASL it encodes in a comment, and
// the bytes were checked against what iasl 20200925 compiles that ASL to.
#include "acpi/aml.h"

#include "acpi/tests/aml_test_util.h"
#include "qom/testing.h"

using namespace qtpm::aml;
using qtpm::aml::Bytes;

START_TEST(test_integers) {
  // Zero, One, Ones
  QTPM_ASSERT_BYTES(integer(0).encode(), {0x00});
  QTPM_ASSERT_BYTES(integer(1).encode(), {0x01});
  QTPM_ASSERT_BYTES(integer(UINT64_MAX).encode(), {0xff});
  QTPM_ASSERT_BYTES(ones().encode(), {0xff});
  // 0x02, 0xFF: BytePrefix
  QTPM_ASSERT_BYTES(integer(2).encode(), {0x0a, 0x02});
  QTPM_ASSERT_BYTES(integer(0xff).encode(), {0x0a, 0xff});
  // 0x0100, 0xFFFF: WordPrefix
  QTPM_ASSERT_BYTES(integer(0x100).encode(), {0x0b, 0x00, 0x01});
  QTPM_ASSERT_BYTES(integer(0xffff).encode(), {0x0b, 0xff, 0xff});
  // 0x00010000, 0xFED45000: DWordPrefix
  QTPM_ASSERT_BYTES(integer(0x10000).encode(), {0x0c, 0x00, 0x00, 0x01, 0x00});
  QTPM_ASSERT_BYTES(integer(0xfed45000).encode(), {0x0c, 0x00, 0x50, 0xd4, 0xfe});
  // 0x0000000100000000, 0xFFFFFFFFFFFFFFFE: QWordPrefix
  QTPM_ASSERT_BYTES(integer(0x100000000ull).encode(),
                    {0x0e, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00});
  QTPM_ASSERT_BYTES(integer(0xfffffffffffffffeull).encode(),
                    {0x0e, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff});
}
END_TEST

START_TEST(test_pkg_length_boundaries) {
  // One byte up to a value of 63 (content 62), bits 7:6 = 0.
  QTPM_ASSERT_BYTES(encode_pkg_length(0), {0x01});
  QTPM_ASSERT_BYTES(encode_pkg_length(62), {0x3f});
  // Two bytes from 64 (content 63 + 2 = 65) up to 4095: low nibble in byte 0, then 8 bits.
  QTPM_ASSERT_BYTES(encode_pkg_length(63), {0x41, 0x04});          // 65 = 0x041
  QTPM_ASSERT_BYTES(encode_pkg_length(64), {0x42, 0x04});          // 66
  QTPM_ASSERT_BYTES(encode_pkg_length(4093), {0x4f, 0xff});        // 4095 = 0xfff
  // Three bytes from 4094 + 3 = 4097 up to 2^20 - 1.
  QTPM_ASSERT_BYTES(encode_pkg_length(4094), {0x81, 0x00, 0x01});  // 4097 = 0x01001
  QTPM_ASSERT_BYTES(encode_pkg_length(4095), {0x82, 0x00, 0x01});
  QTPM_ASSERT_BYTES(encode_pkg_length(4096), {0x83, 0x00, 0x01});
  QTPM_ASSERT_BYTES(encode_pkg_length(0xffffc), {0x8f, 0xff, 0xff});  // 0xfffff
  // Four bytes beyond: 0xffffd + 4 = 0x100001.
  QTPM_ASSERT_BYTES(encode_pkg_length(0xffffd), {0xc1, 0x00, 0x00, 0x01});
  QTPM_ASSERT_BYTES(encode_pkg_length(0xffffffb), {0xcf, 0xff, 0xff, 0xff});
  // Field unit lengths do not count their own bytes.
  QTPM_ASSERT_BYTES(encode_field_length(8), {0x08});
  QTPM_ASSERT_BYTES(encode_field_length(63), {0x3f});
  QTPM_ASSERT_BYTES(encode_field_length(64), {0x40, 0x04});
  QTPM_ASSERT_BYTES(encode_field_length(4095), {0x4f, 0xff});
  QTPM_ASSERT_BYTES(encode_field_length(4096), {0x80, 0x00, 0x01});
}
END_TEST

START_TEST(test_pkg_length_in_blocks) {
  // Scope (\_SB) { Name (BUF0, Buffer (n) {...}) } around the 1/2-byte PkgLength boundary: the
  // block's content (name + children) of 62 bytes gives a one-byte PkgLength of 0x3f.
  for (size_t payload : {0u, 47u, 48u, 100u, 4080u, 5000u}) {
    Aml s = scope("\\_SB");
    s.append(Aml::raw(Bytes(payload, 0xa3)));  // Noop padding
    Bytes enc = s.encode();
    size_t content = 5 + payload;  // "\_SB_" + children
    Bytes pkg = encode_pkg_length(content);
    ck_assert_uint_eq(enc.size(), 1 + pkg.size() + content);
    ck_assert_uint_eq(enc[0], 0x10);
    ck_assert(Bytes(enc.begin() + 1, enc.begin() + 1 + pkg.size()) == pkg);
  }
  Aml s = scope("\\_SB");
  s.append(Aml::raw(Bytes(57, 0xa3)));  // content 62: PkgLength 0x3f
  ck_assert_uint_eq(s.encode()[1], 0x3f);
  Aml t = scope("\\_SB");
  t.append(Aml::raw(Bytes(58, 0xa3)));  // content 63: two bytes, value 65
  ck_assert_uint_eq(t.encode()[1], 0x41);
  ck_assert_uint_eq(t.encode()[2], 0x04);
}
END_TEST

START_TEST(test_name_strings) {
  // TPM  -> "TPM_"
  QTPM_ASSERT_BYTES(encode_name_string("TPM"), {'T', 'P', 'M', '_'});
  // \_SB -> RootChar + NameSeg
  QTPM_ASSERT_BYTES(encode_name_string("\\_SB"), {'\\', '_', 'S', 'B', '_'});
  // \_SB.TPM -> RootChar DualNamePrefix
  QTPM_ASSERT_BYTES(encode_name_string("\\_SB.TPM"),
                    {'\\', 0x2e, '_', 'S', 'B', '_', 'T', 'P', 'M', '_'});
  // \_SB.PCI0.SF8 -> RootChar MultiNamePrefix 3
  QTPM_ASSERT_BYTES(encode_name_string("\\_SB.PCI0.SF8"),
                    {'\\', 0x2f, 0x03, '_', 'S', 'B', '_', 'P', 'C', 'I', '0', 'S', 'F', '8', '_'});
  // ^^PCI0 -> two ParentPrefix
  QTPM_ASSERT_BYTES(encode_name_string("^^PCI0"), {'^', '^', 'P', 'C', 'I', '0'});
  // ^A.B -> ParentPrefix DualNamePrefix
  QTPM_ASSERT_BYTES(encode_name_string("^A.B"), {'^', 0x2e, 'A', '_', '_', '_', 'B', '_', '_', '_'});
  // \ (the root) and NullName
  QTPM_ASSERT_BYTES(encode_name_string("\\"), {'\\', 0x00});
  QTPM_ASSERT_BYTES(encode_name_string(""), {0x00});

  ck_assert(is_valid_name_path("\\_SB.PCI0.ISA_.TPM"));
  ck_assert(is_valid_name_path("_DSM"));
  ck_assert(!is_valid_name_path("tpm"));        // lower case
  ck_assert(!is_valid_name_path("0ABC"));       // digit lead
  ck_assert(!is_valid_name_path("ABCDE"));      // five characters
  ck_assert(!is_valid_name_path("A..B"));       // empty segment
  ck_assert(!is_valid_name_path("A."));         // trailing dot
  ck_assert(!is_valid_name_path("\\^A"));       // root then parent
  ck_assert(!is_valid_name_path("^"));          // parent of nothing
  ck_assert(!is_valid_name_path("TP M"));
}
END_TEST

START_TEST(test_data_objects) {
  // "1.3"
  QTPM_ASSERT_BYTES(string("1.3").encode(), {0x0d, '1', '.', '3', 0x00});
  // Buffer (One) { 0x00 }: the size is an integer in its shortest form, as QEMU emits it.
  QTPM_ASSERT_BYTES(buffer({0x00}).encode(), {0x11, 0x03, 0x01, 0x00});
  // Buffer (0x02) { 0xFF, 0x01 }
  QTPM_ASSERT_BYTES(buffer({0xff, 0x01}).encode(), {0x11, 0x05, 0x0a, 0x02, 0xff, 0x01});
  // Package (0x02) { Zero, Zero }
  QTPM_ASSERT_BYTES(package().append({zero(), zero()}).encode(), {0x12, 0x04, 0x02, 0x00, 0x00});
  // Package (0x03) { One, "A", Package () {} }
  QTPM_ASSERT_BYTES(package().append({one(), string("A"), package()}).encode(),
                    {0x12, 0x09, 0x03, 0x01, 0x0d, 'A', 0x00, 0x12, 0x02, 0x00});
  // Name (_UID, One)
  QTPM_ASSERT_BYTES(name("_UID", one()).encode(), {0x08, '_', 'U', 'I', 'D', 0x01});
  // Name (_STA, 0x0F)
  QTPM_ASSERT_BYTES(name("_STA", integer(0x0f)).encode(), {0x08, '_', 'S', 'T', 'A', 0x0a, 0x0f});
  // Arg0..Arg6, Local0..Local7, Debug
  QTPM_ASSERT_BYTES(arg(0).encode(), {0x68});
  QTPM_ASSERT_BYTES(arg(6).encode(), {0x6e});
  QTPM_ASSERT_BYTES(local(0).encode(), {0x60});
  QTPM_ASSERT_BYTES(local(7).encode(), {0x67});
  QTPM_ASSERT_BYTES(debug_obj().encode(), {0x5b, 0x31});
}
END_TEST

START_TEST(test_large_package) {
  // Package () with 256 elements: VarPackage (0x13) with VarNumElements as an integer.
  Aml p = package();
  for (int i = 0; i < 256; i++) p.append(zero());
  Bytes enc = p.encode();
  ck_assert_uint_eq(enc[0], 0x13);
  // 3 bytes of WordPrefix count + 256 elements = 259 + 2 PkgLength bytes = 261 = 0x105
  ck_assert_uint_eq(enc[1], 0x45);
  ck_assert_uint_eq(enc[2], 0x10);
  ck_assert_uint_eq(enc[3], 0x0b);
  ck_assert_uint_eq(enc[4], 0x00);
  ck_assert_uint_eq(enc[5], 0x01);
  ck_assert_uint_eq(enc.size(), 3 + 3 + 256);
}
END_TEST

START_TEST(test_uuid_and_eisaid) {
  // ToUUID ("3DDDFAA6-361B-4EB4-A424-8D10089D1653")
  QTPM_ASSERT_BYTES(to_uuid("3DDDFAA6-361B-4EB4-A424-8D10089D1653").encode(),
                    {0x11, 0x13, 0x0a, 0x10, 0xa6, 0xfa, 0xdd, 0x3d, 0x1b, 0x36, 0xb4, 0x4e,
                     0xa4, 0x24, 0x8d, 0x10, 0x08, 0x9d, 0x16, 0x53});
  // ToUUID ("376054ed-cc13-4675-901c-4756d7f2d45d"): lower case is accepted
  auto u = uuid_bytes("376054ed-cc13-4675-901c-4756d7f2d45d");
  QTPM_ASSERT_BYTES(Bytes(u.begin(), u.end()),
                    {0xed, 0x54, 0x60, 0x37, 0x13, 0xcc, 0x75, 0x46, 0x90, 0x1c, 0x47, 0x56,
                     0xd7, 0xf2, 0xd4, 0x5d});
  // EisaId ("PNP0C31") -> 0x310CD041 (bytes 41 D0 0C 31)
  QTPM_ASSERT_BYTES(eisa_id("PNP0C31").encode(), {0x0c, 0x41, 0xd0, 0x0c, 0x31});
  // EisaId ("PNP0A03") -> 0x030AD041
  ck_assert_uint_eq(eisa_id_value("PNP0A03"), 0x030ad041);
}
END_TEST

START_TEST(test_resource_templates) {
  // ResourceTemplate () { Memory32Fixed (ReadWrite, 0xFED40000, 0x00005000, ) }
  QTPM_ASSERT_BYTES(resource_template()
                        .append(memory32_fixed(0xfed40000, 0x5000, MemoryAccess::kReadWrite))
                        .encode(),
                    {0x11, 0x11, 0x0a, 0x0e, 0x86, 0x09, 0x00, 0x01, 0x00, 0x00, 0xd4, 0xfe,
                     0x00, 0x50, 0x00, 0x00, 0x79, 0x00});
  // ResourceTemplate () { IRQNoFlags () {5} }
  QTPM_ASSERT_BYTES(resource_template().append(irq_no_flags({5})).encode(),
                    {0x11, 0x08, 0x0a, 0x05, 0x22, 0x20, 0x00, 0x79, 0x00});
  // IRQ (Level, ActiveLow, Shared, ) {9, 10}
  QTPM_ASSERT_BYTES(
      irq(IrqTrigger::kLevel, IrqPolarity::kActiveLow, IrqSharing::kShared, {9, 10}).encode(),
      {0x23, 0x00, 0x06, 0x18});
  // IRQ (Edge, ActiveHigh, Exclusive, ) {13}
  QTPM_ASSERT_BYTES(
      irq(IrqTrigger::kEdge, IrqPolarity::kActiveHigh, IrqSharing::kExclusive, {13}).encode(),
      {0x23, 0x00, 0x20, 0x01});
  // Interrupt (ResourceConsumer, Level, ActiveHigh, Exclusive, ,, ) { 0x00000070 }
  QTPM_ASSERT_BYTES(
      interrupt(IrqTrigger::kLevel, IrqPolarity::kActiveHigh, IrqSharing::kExclusive, {0x70})
          .encode(),
      {0x89, 0x06, 0x00, 0x01, 0x01, 0x70, 0x00, 0x00, 0x00});
  // Interrupt (ResourceConsumer, Edge, ActiveLow, Shared, ,, ) { 0x20, 0x21 }
  QTPM_ASSERT_BYTES(
      interrupt(IrqTrigger::kEdge, IrqPolarity::kActiveLow, IrqSharing::kShared, {0x20, 0x21})
          .encode(),
      {0x89, 0x0a, 0x00, 0x0f, 0x02, 0x20, 0x00, 0x00, 0x00, 0x21, 0x00, 0x00, 0x00});
  // ResourceTemplate () {} : only the End Tag
  QTPM_ASSERT_BYTES(resource_template().encode(), {0x11, 0x05, 0x0a, 0x02, 0x79, 0x00});
}
END_TEST

START_TEST(test_regions_and_fields) {
  // OperationRegion (TPP3, SystemMemory, 0xFED4515A, One)
  QTPM_ASSERT_BYTES(
      operation_region("TPP3", RegionSpace::kSystemMemory, integer(0xfed4515a), one()).encode(),
      {0x5b, 0x80, 'T', 'P', 'P', '3', 0x00, 0x0c, 0x5a, 0x51, 0xd4, 0xfe, 0x01});
  // OperationRegion (TPP1, SystemMemory, (0xFED45000 + Arg0), One)  -- dynamic
  QTPM_ASSERT_BYTES(operation_region("TPP1", RegionSpace::kSystemMemory,
                                     add(integer(0xfed45000), arg(0)), one())
                        .encode(),
                    {0x5b, 0x80, 'T', 'P', 'P', '1', 0x00, 0x72, 0x0c, 0x00, 0x50, 0xd4, 0xfe,
                     0x68, 0x00, 0x01});
  // Field (TPP3, ByteAcc, NoLock, Preserve) { MOVV, 8 }
  QTPM_ASSERT_BYTES(FieldBuilder("TPP3", FieldAccess::kByte).unit("MOVV", 8).build().encode(),
                    {0x5b, 0x81, 0x0b, 'T', 'P', 'P', '3', 0x01, 'M', 'O', 'V', 'V', 0x08});
  // Field (REG0, DWordAcc, Lock, WriteAsZeros) { Offset (0x04), F1, 32, , 3, F2, 1 }
  FieldBuilder f("REG0", FieldAccess::kDWord, FieldLock::kLock, FieldUpdate::kWriteAsZeros);
  f.offset(4).unit("F1", 32).reserved(3).unit("F2", 1);
  ck_assert_uint_eq(f.bit_position(), 68);
  QTPM_ASSERT_BYTES(f.build().encode(),
                    {0x5b, 0x81, 0x14, 'R', 'E', 'G', '0', 0x53, 0x00, 0x20, 'F', '1', '_',
                     '_', 0x20, 0x00, 0x03, 'F', '2', '_', '_', 0x01});
  // CreateDWordField (Arg0, 0x04, DW1)
  QTPM_ASSERT_BYTES(create_dword_field(arg(0), integer(4), "DW1").encode(),
                    {0x8a, 0x68, 0x0a, 0x04, 'D', 'W', '1', '_'});
  // CreateField (Arg0, 0x03, 0x05, BITS)
  QTPM_ASSERT_BYTES(create_field(arg(0), integer(3), integer(5), "BITS").encode(),
                    {0x5b, 0x13, 0x68, 0x0a, 0x03, 0x0a, 0x05, 'B', 'I', 'T', 'S'});
  // CreateBitField (Arg0, Zero, B0)
  QTPM_ASSERT_BYTES(create_bit_field(arg(0), zero(), "B0").encode(),
                    {0x8d, 0x68, 0x00, 'B', '0', '_', '_'});
}
END_TEST

START_TEST(test_expressions) {
  // Local0 = DerefOf (Arg3 [Zero])
  QTPM_ASSERT_BYTES(store(deref_of(index(arg(3), zero())), local(0)).encode(),
                    {0x70, 0x83, 0x88, 0x6b, 0x00, 0x00, 0x60});
  // If ((Arg0 >= 0x0100)) { Return (Zero) }
  QTPM_ASSERT_BYTES(if_(lgreater_equal(arg(0), integer(0x100))).append(return_(zero())).encode(),
                    {0xa0, 0x09, 0x92, 0x95, 0x68, 0x0b, 0x00, 0x01, 0xa4, 0x00});
  // ((Local1 & 0x07) == Zero)
  QTPM_ASSERT_BYTES(lequal(and_(local(1), integer(7)), zero()).encode(),
                    {0x93, 0x7b, 0x61, 0x0a, 0x07, 0x00, 0x00});
  // Local1 = TPFN (Local0)
  QTPM_ASSERT_BYTES(store(call("TPFN", {local(0)}), local(1)).encode(),
                    {0x70, 'T', 'P', 'F', 'N', 0x60, 0x61});
  // Local2 = SizeOf (Arg3); Local3 = ToInteger (Arg1); Local3++; Local2--
  QTPM_ASSERT_BYTES(store(size_of(arg(3)), local(2)).encode(), {0x70, 0x87, 0x6b, 0x62});
  QTPM_ASSERT_BYTES(to_integer(arg(1), local(3)).encode(), {0x99, 0x69, 0x63});
  QTPM_ASSERT_BYTES(increment(local(3)).encode(), {0x75, 0x63});
  QTPM_ASSERT_BYTES(decrement(local(2)).encode(), {0x76, 0x62});
  // Add (Local0, One, Local0); Subtract (Local0, One); Or (Local0, 0x10, Local1)
  QTPM_ASSERT_BYTES(add(local(0), one(), local(0)).encode(), {0x72, 0x60, 0x01, 0x60});
  QTPM_ASSERT_BYTES(subtract(local(0), one()).encode(), {0x74, 0x60, 0x01, 0x00});
  QTPM_ASSERT_BYTES(or_(local(0), integer(0x10), local(1)).encode(),
                    {0x7d, 0x60, 0x0a, 0x10, 0x61});
  // ((Local0 < One) && (Local1 > One)) || !Local2;  Local0 != Local1; Local0 <= Local1
  QTPM_ASSERT_BYTES(lor(land(lless(local(0), one()), lgreater(local(1), one())), lnot(local(2)))
                        .encode(),
                    {0x91, 0x90, 0x95, 0x60, 0x01, 0x94, 0x61, 0x01, 0x92, 0x62});
  QTPM_ASSERT_BYTES(lnot_equal(local(0), local(1)).encode(), {0x92, 0x93, 0x60, 0x61});
  QTPM_ASSERT_BYTES(lless_equal(local(0), local(1)).encode(), {0x92, 0x94, 0x60, 0x61});
  // ShiftLeft (One, 0x04); Concatenate (Local0, Local1)
  QTPM_ASSERT_BYTES(shift_left(one(), integer(4)).encode(), {0x79, 0x01, 0x0a, 0x04, 0x00});
  QTPM_ASSERT_BYTES(concatenate(local(0), local(1)).encode(), {0x73, 0x60, 0x61, 0x00});
  // Notify (\_SB.TPM, 0x80)
  QTPM_ASSERT_BYTES(notify(name_ref("\\_SB.TPM"), integer(0x80)).encode(),
                    {0x86, '\\', 0x2e, '_', 'S', 'B', '_', 'T', 'P', 'M', '_', 0x0a, 0x80});
}
END_TEST

START_TEST(test_methods_and_blocks) {
  // Method (TPFN, 1, Serialized) { If ((Arg0 >= 0x0100)) { Return (Zero) } }
  Aml m = method("TPFN", 1, MethodSerialize::kSerialized);
  m.append(if_(lgreater_equal(arg(0), integer(0x100))).append(return_(zero())));
  QTPM_ASSERT_BYTES(m.encode(), {0x14, 0x10, 'T', 'P', 'F', 'N', 0x09, 0xa0, 0x09, 0x92, 0x95,
                                 0x68, 0x0b, 0x00, 0x01, 0xa4, 0x00});
  // Method (_STA, 0, NotSerialized) { Return (0x0F) }
  QTPM_ASSERT_BYTES(method("_STA", 0).append(return_(integer(0x0f))).encode(),
                    {0x14, 0x09, '_', 'S', 'T', 'A', 0x00, 0xa4, 0x0a, 0x0f});
  // Method (SYNC, 7, Serialized, 15) {}
  QTPM_ASSERT_BYTES(method("SYNC", 7, MethodSerialize::kSerialized, 15).encode(),
                    {0x14, 0x06, 'S', 'Y', 'N', 'C', 0xff});
  // If (Arg0) { Return (One) } Else { Return (Zero) }
  Aml d = device("\\_SB.DEV0");
  d.append(if_(arg(0)).append(return_(one())));
  d.append(else_().append(return_(zero())));
  QTPM_ASSERT_BYTES(d.encode(), {0x5b, 0x82, 0x14, '\\', 0x2e, '_', 'S', 'B', '_', 'D', 'E',
                                 'V', '0', 0xa0, 0x04, 0x68, 0xa4, 0x01, 0xa1, 0x03, 0xa4, 0x00});
  // While ((Local0 < 0x04)) { Local0++ \n Break }
  QTPM_ASSERT_BYTES(while_(lless(local(0), integer(4))).append({increment(local(0)), break_()})
                        .encode(),
                    {0xa2, 0x08, 0x95, 0x60, 0x0a, 0x04, 0x75, 0x60, 0xa5});
  // Scope (\) { Noop }
  QTPM_ASSERT_BYTES(scope("\\").append(noop()).encode(), {0x10, 0x04, '\\', 0x00, 0xa3});
  // Device (TPM) { Name (_HID, EisaId ("PNP0C31")) }
  QTPM_ASSERT_BYTES(device("TPM").append(name("_HID", eisa_id("PNP0C31"))).encode(),
                    {0x5b, 0x82, 0x0f, 'T', 'P', 'M', '_', 0x08, '_', 'H', 'I', 'D', 0x0c, 0x41,
                     0xd0, 0x0c, 0x31});
}
END_TEST

int main() {
  Suite *s = suite_create("aml");
  TCase *tc = tcase_create("builder");
  tcase_add_test(tc, test_integers);
  tcase_add_test(tc, test_pkg_length_boundaries);
  tcase_add_test(tc, test_pkg_length_in_blocks);
  tcase_add_test(tc, test_name_strings);
  tcase_add_test(tc, test_data_objects);
  tcase_add_test(tc, test_large_package);
  tcase_add_test(tc, test_uuid_and_eisaid);
  tcase_add_test(tc, test_resource_templates);
  tcase_add_test(tc, test_regions_and_fields);
  tcase_add_test(tc, test_expressions);
  tcase_add_test(tc, test_methods_and_blocks);
  suite_add_tcase(s, tc);
  return qtpm::testing::run_suite(s);
}
