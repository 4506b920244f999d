// SPDX-License-Identifier: GPL-2.0-or-later
//
// Runs a table-loader command list the way firmware does (SeaBIOS src/fw/romfile_loader.c,
// OVMF QemuFwCfgAcpiPlatformDxe): gives each ALLOCATEd file an address, adds addresses into
// pointers, recomputes checksums.  qtpm uses it to check the loader data it produces and to
// show tables as a guest would see them (-dump-acpi); every command is bounds-checked, so it is
// also safe on loader data from elsewhere.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "acpi/firmware_files.h"
#include "qom/status.h"

namespace qtpm::acpi {

struct LinkedFile {
  uint64_t address = 0;
  LoaderZone zone = LoaderZone::kHigh;
  Bytes data;
};

// Where allocations go: high memory grows up from high_base, the F-segment from fseg_base.
struct LinkerLayout {
  uint64_t high_base = 0x07f00000;
  uint64_t fseg_base = 0x000f0000;
  uint64_t fseg_limit = 0x00100000;
};

// Links the files named in `loader` (the etc/table-loader bytes) out of `files`.  Fails, naming
// the command, on a missing or twice-allocated file, a pointer or checksum range outside its
// file, or an F-segment overflow.
Status link_tables(const std::vector<FirmwareFile> &files, const Bytes &loader,
                   const LinkerLayout &layout, std::map<std::string, LinkedFile> *out);

// The tables of a file set as the guest sees them once firmware ran the loader: each table of
// `files.tables`, cut from the linked "etc/acpi/tables" (LASA and root entries are addresses,
// checksums recomputed).  For -dump-acpi and golden comparisons.
Status linked_tables(const FirmwareFiles &files, const LinkerLayout &layout,
                     std::vector<BuiltTable> *out);

}  // namespace qtpm::acpi
