// SPDX-License-Identifier: GPL-2.0-or-later
//
// AML builder: resource descriptors (ACPI 6.4, 6.4.2 small and 6.4.3 large resource data
// types), ToUUID (ACPI 6.4, 19.6.143) and EisaId (19.6.35).
#include <cassert>

#include "acpi/aml.h"

namespace qtpm::aml {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void put_le(Bytes *out, uint64_t value, unsigned size) {
  for (unsigned i = 0; i < size; i++) out->push_back(static_cast<uint8_t>(value >> (8 * i)));
}

}  // namespace

std::array<uint8_t, 16> uuid_bytes(std::string_view uuid) {
  // "aabbccdd-eeff-gghh-iijj-kkllmmnnoopp": 36 characters, dashes at 8, 13, 18 and 23.
  assert(uuid.size() == 36 && uuid[8] == '-' && uuid[13] == '-' && uuid[18] == '-' &&
         uuid[23] == '-' && "AML: malformed UUID");
  std::array<uint8_t, 16> text_order{};
  size_t n = 0;
  for (size_t i = 0; i < uuid.size(); i++) {
    if (i == 8 || i == 13 || i == 18 || i == 23) continue;
    int hi = hex_value(uuid[i]), lo = hex_value(uuid[i + 1]);
    assert(hi >= 0 && lo >= 0 && "AML: UUID digit");
    text_order[n++] = static_cast<uint8_t>(hi << 4 | lo);
    i++;
  }
  // The first three groups are stored little endian, the last two in the order written.
  static constexpr uint8_t kOrder[16] = {3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15};
  std::array<uint8_t, 16> out{};
  for (size_t i = 0; i < 16; i++) out[i] = text_order[kOrder[i]];
  return out;
}

Aml to_uuid(std::string_view uuid) {
  std::array<uint8_t, 16> b = uuid_bytes(uuid);
  return buffer(Bytes(b.begin(), b.end()));
}

uint32_t eisa_id_value(std::string_view id) {
  // Three uppercase letters compressed to 5 bits each ('A' = 1) and four hex digits; the result
  // is stored big endian, which the DWord constant expresses as the byte-swapped value.
  assert(id.size() == 7 && "AML: EisaId is 7 characters");
  uint32_t compressed = 0;
  for (size_t i = 0; i < 3; i++) {
    assert(id[i] >= 'A' && id[i] <= 'Z' && "AML: EisaId vendor letter");
    compressed = compressed << 5 | static_cast<uint32_t>(id[i] - 0x40);
  }
  for (size_t i = 3; i < 7; i++) {
    int v = hex_value(id[i]);
    assert(v >= 0 && "AML: EisaId product digit");
    compressed = compressed << 4 | static_cast<uint32_t>(v);
  }
  return __builtin_bswap32(compressed);
}

Aml eisa_id(std::string_view id) {
  Bytes out{0x0c};  // DWordPrefix: EisaId is always a DWord constant
  put_le(&out, eisa_id_value(id), 4);
  return Aml::raw(std::move(out));
}

// ---------------------------------------------------------------------------------------------
// Resource templates

Aml memory32_fixed(uint32_t base, uint32_t length, MemoryAccess access) {
  // Large item 0x06 (tag byte 0x86), 9 bytes: information (bit 0: writable), base, length.
  Bytes d{0x86, 0x09, 0x00, static_cast<uint8_t>(access)};
  put_le(&d, base, 4);
  put_le(&d, length, 4);
  return Aml::raw(std::move(d));
}

namespace {
uint16_t irq_mask(std::initializer_list<uint8_t> irqs) {
  uint16_t mask = 0;
  for (uint8_t n : irqs) {
    assert(n <= 15 && "AML: ISA IRQ above 15");
    mask = static_cast<uint16_t>(mask | (1u << n));
  }
  return mask;
}
}  // namespace

Aml irq_no_flags(std::initializer_list<uint8_t> irqs) {
  // Small item 0x04 with 2 bytes (tag 0x22): the IRQ mask; edge, active high, exclusive implied.
  Bytes d{0x22};
  put_le(&d, irq_mask(irqs), 2);
  return Aml::raw(std::move(d));
}

Aml irq(IrqTrigger trigger, IrqPolarity polarity, IrqSharing sharing,
        std::initializer_list<uint8_t> irqs) {
  // Small item 0x04 with 3 bytes (tag 0x23): mask, then flags: bit 0 edge, bit 3 active low,
  // bit 4 shared.
  Bytes d{0x23};
  put_le(&d, irq_mask(irqs), 2);
  d.push_back(static_cast<uint8_t>((trigger == IrqTrigger::kEdge ? 0x01 : 0) |
                                   (polarity == IrqPolarity::kActiveLow ? 0x08 : 0) |
                                   (sharing == IrqSharing::kShared ? 0x10 : 0)));
  return Aml::raw(std::move(d));
}

Aml interrupt(IrqTrigger trigger, IrqPolarity polarity, IrqSharing sharing,
              std::initializer_list<uint32_t> interrupts) {
  // Large item 0x09 (tag 0x89): flags (bit 0 consumer, bit 1 edge, bit 2 active low, bit 3
  // shared), the table length, then one DWord per interrupt; no resource source.
  assert(interrupts.size() >= 1 && interrupts.size() <= 255);
  Bytes d{0x89};
  put_le(&d, 2 + 4 * interrupts.size(), 2);
  d.push_back(static_cast<uint8_t>(0x01 | (trigger == IrqTrigger::kEdge ? 0x02 : 0) |
                                   (polarity == IrqPolarity::kActiveLow ? 0x04 : 0) |
                                   (sharing == IrqSharing::kShared ? 0x08 : 0)));
  d.push_back(static_cast<uint8_t>(interrupts.size()));
  for (uint32_t n : interrupts) put_le(&d, n, 4);
  return Aml::raw(std::move(d));
}

}  // namespace qtpm::aml
