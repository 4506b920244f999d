// SPDX-License-Identifier: GPL-2.0-or-later
//
// ACPI system description tables: the 36-byte header every table starts with (ACPI 6.4, 5.2.6
// "System Description Table Header"), the checksum, and the little-endian field types table
// structs are made of.
//
// Table structs are byte arrays at heart (alignment 1, explicit little-endian fields), so their
// sizes and field offsets are the specification's on any host; each one `static_assert`s its
// size, and the table loader takes pointer offsets from `offsetof` on the same struct.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace qtpm::acpi {

using Bytes = std::vector<uint8_t>;

// A little-endian unsigned field of N bytes.
template <size_t N>
struct LeField {
  uint8_t bytes[N];
  void set(uint64_t v) {
    for (size_t i = 0; i < N; i++) bytes[i] = static_cast<uint8_t>(v >> (8 * i));
  }
  uint64_t get() const {
    uint64_t v = 0;
    for (size_t i = 0; i < N; i++) v |= static_cast<uint64_t>(bytes[i]) << (8 * i);
    return v;
  }
};
using Le16 = LeField<2>;
using Le32 = LeField<4>;
using Le64 = LeField<8>;

// Who made a table.  QEMU's defaults (machine properties x-oem-id / x-oem-table-id; creator
// "BXPC" revision 1), which firmware and guests have long seen.  Shorter ids are padded with
// spaces, as QEMU pads them.
struct AcpiTableIds {
  std::string oem_id = "BOCHS ";          // 6 characters
  std::string oem_table_id = "BXPC    ";  // 8 characters
  uint32_t oem_revision = 1;
  std::string creator_id = "BXPC";  // 4 characters
  uint32_t creator_revision = 1;
};
// True when every id fits its field (6 / 8 / 4 printable ASCII characters at most).
bool acpi_table_ids_valid(const AcpiTableIds &ids);

struct AcpiTableHeader {
  char signature[4];
  Le32 length;
  uint8_t revision;
  uint8_t checksum;
  char oem_id[6];
  char oem_table_id[8];
  Le32 oem_revision;
  char creator_id[4];
  Le32 creator_revision;
};
static_assert(sizeof(AcpiTableHeader) == 36);
static_assert(offsetof(AcpiTableHeader, checksum) == 9);
static_assert(std::is_trivially_copyable_v<AcpiTableHeader>);

// Root System Description Pointer (ACPI 6.4, 5.2.5.3).  Revision 0 uses the first 20 bytes
// (ACPI 1.0: RSDT only); revision 2 all 36 (XSDT and the extended checksum).
struct AcpiRsdp {
  char signature[8];  // "RSD PTR "
  uint8_t checksum;   // over the first 20 bytes
  char oem_id[6];
  uint8_t revision;
  Le32 rsdt_address;
  Le32 length;  // revision 2: 36
  Le64 xsdt_address;
  uint8_t extended_checksum;  // over all 36 bytes
  uint8_t reserved[3];
};
static_assert(sizeof(AcpiRsdp) == 36);
static_assert(offsetof(AcpiRsdp, rsdt_address) == 16);
static_assert(offsetof(AcpiRsdp, xsdt_address) == 24);
static_assert(offsetof(AcpiRsdp, extended_checksum) == 32);
inline constexpr size_t kAcpiRsdpV1Length = 20;

// Fills a header (length and checksum are set by finish_table()).
void fill_table_header(AcpiTableHeader *header, std::string_view signature, uint8_t revision,
                       const AcpiTableIds &ids);
// Sets the header's length to bytes.size() and its checksum so that all bytes sum to 0.
void finish_table(Bytes *table);
// The 8-bit sum of all bytes (0 for a valid table).
uint8_t byte_sum(const uint8_t *data, size_t size);
inline uint8_t byte_sum(const Bytes &b) { return byte_sum(b.data(), b.size()); }

// The bytes of a table struct.
template <typename T>
Bytes struct_bytes(const T &value) {
  static_assert(std::is_trivially_copyable_v<T> && alignof(T) == 1);
  Bytes out(sizeof(T));
  std::memcpy(out.data(), &value, sizeof(T));
  return out;
}

// An RSDP of revision 0 (20 bytes, RSDT at `root`) or 2 (36 bytes, XSDT at `root`), checksums
// set.  `root` is usually an offset the table loader turns into an address.
Bytes build_rsdp(uint8_t revision, const AcpiTableIds &ids, uint64_t root);
// An RSDT (32-bit entries) or XSDT (64-bit entries) listing `entries`.
Bytes build_root_table(bool xsdt, const AcpiTableIds &ids, const std::vector<uint64_t> &entries);

// A definition block (DSDT or SSDT): header followed by AML.
Bytes build_definition_block(std::string_view signature, uint8_t revision,
                             const AcpiTableIds &ids, const Bytes &aml);

}  // namespace qtpm::acpi
