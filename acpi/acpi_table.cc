// SPDX-License-Identifier: GPL-2.0-or-later
//
// ACPI table header, checksum and definition blocks (ACPI 6.4, 5.2.6 and 5.2.11).
#include "acpi/acpi_table.h"

#include <cassert>

namespace qtpm::acpi {

namespace {

bool id_fits(const std::string &id, size_t width) {
  if (id.size() > width) return false;
  for (char c : id)
    if (c < 0x20 || c > 0x7e) return false;
  return true;
}

// Copies `text` into a fixed-width id field, padded with spaces.
void put_id(char *field, size_t width, std::string_view text) {
  assert(text.size() <= width);
  std::memset(field, ' ', width);
  std::memcpy(field, text.data(), text.size());
}

}  // namespace

bool acpi_table_ids_valid(const AcpiTableIds &ids) {
  return id_fits(ids.oem_id, 6) && id_fits(ids.oem_table_id, 8) && id_fits(ids.creator_id, 4);
}

void fill_table_header(AcpiTableHeader *header, std::string_view signature, uint8_t revision,
                       const AcpiTableIds &ids) {
  assert(signature.size() == 4 && acpi_table_ids_valid(ids));
  std::memcpy(header->signature, signature.data(), 4);
  header->length.set(0);
  header->revision = revision;
  header->checksum = 0;
  put_id(header->oem_id, sizeof header->oem_id, ids.oem_id);
  put_id(header->oem_table_id, sizeof header->oem_table_id, ids.oem_table_id);
  header->oem_revision.set(ids.oem_revision);
  put_id(header->creator_id, sizeof header->creator_id, ids.creator_id);
  header->creator_revision.set(ids.creator_revision);
}

uint8_t byte_sum(const uint8_t *data, size_t size) {
  uint8_t sum = 0;
  for (size_t i = 0; i < size; i++) sum = static_cast<uint8_t>(sum + data[i]);
  return sum;
}

void finish_table(Bytes *table) {
  assert(table->size() >= sizeof(AcpiTableHeader) && table->size() <= UINT32_MAX);
  auto *header = reinterpret_cast<AcpiTableHeader *>(table->data());  // alignment 1, checked size
  header->length.set(table->size());
  header->checksum = 0;
  header->checksum = static_cast<uint8_t>(-byte_sum(*table));
}

Bytes build_definition_block(std::string_view signature, uint8_t revision,
                             const AcpiTableIds &ids, const Bytes &aml) {
  AcpiTableHeader header;
  fill_table_header(&header, signature, revision, ids);
  // Sized once and copied into (GCC 12 misreads vector::insert after a 36-byte vector as an
  // out-of-bounds memcpy under -Warray-bounds).
  Bytes table(sizeof header + aml.size());
  std::memcpy(table.data(), &header, sizeof header);
  if (!aml.empty()) std::memcpy(table.data() + sizeof header, aml.data(), aml.size());
  finish_table(&table);
  return table;
}

Bytes build_rsdp(uint8_t revision, const AcpiTableIds &ids, uint64_t root) {
  assert(revision == 0 || revision == 2);
  AcpiRsdp r{};
  std::memcpy(r.signature, "RSD PTR ", 8);
  put_id(r.oem_id, sizeof r.oem_id, ids.oem_id);
  r.revision = revision;
  if (revision == 0) {
    r.rsdt_address.set(root);
  } else {
    r.length.set(sizeof(AcpiRsdp));
    r.xsdt_address.set(root);
  }
  Bytes out = struct_bytes(r);
  out[offsetof(AcpiRsdp, checksum)] = static_cast<uint8_t>(-byte_sum(out.data(), kAcpiRsdpV1Length));
  if (revision == 0) {
    out.resize(kAcpiRsdpV1Length);
  } else {
    out[offsetof(AcpiRsdp, extended_checksum)] = static_cast<uint8_t>(-byte_sum(out));
  }
  return out;
}

Bytes build_root_table(bool xsdt, const AcpiTableIds &ids, const std::vector<uint64_t> &entries) {
  AcpiTableHeader header;
  fill_table_header(&header, xsdt ? "XSDT" : "RSDT", 1, ids);
  Bytes table = struct_bytes(header);
  unsigned width = xsdt ? 8 : 4;
  for (uint64_t e : entries)
    for (unsigned i = 0; i < width; i++) table.push_back(static_cast<uint8_t>(e >> (8 * i)));
  finish_table(&table);
  return table;
}

}  // namespace qtpm::acpi
