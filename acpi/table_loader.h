// SPDX-License-Identifier: GPL-2.0-or-later
//
// QEMU's firmware table loader ("etc/table-loader", the BIOS linker/loader): a list of 128-byte
// commands that tell SeaBIOS and OVMF how to place fw_cfg blobs in guest memory and link them -
// allocate a file, add a file's final address to a pointer inside another file, recompute a
// checksum.  Layout (all integers little endian; file names NUL-padded to 56 bytes, the fw_cfg
// name limit):
//
//   u32 command
//   ALLOCATE     (1): char file[56]; u32 align; u8 zone (1 = high memory, 2 = F-segment)
//   ADD_POINTER  (2): char dest_file[56]; char src_file[56]; u32 offset; u8 size (1, 2, 4, 8)
//                     dest[offset..offset+size) += address of src_file, little endian
//   ADD_CHECKSUM (3): char file[56]; u32 offset; u32 start; u32 length
//                     file[offset] -= sum of file[start..start+length)
//   padding to 128 bytes
//
// This class writes commands; `TableLoaderCommand` is also the parsed form, so tests and
// embedders can read a command list back (parse() validates every field).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "acpi/acpi_table.h"
#include "qom/status.h"

namespace qtpm::acpi {

inline constexpr const char *kAcpiTablesFile = "etc/acpi/tables";
inline constexpr const char *kAcpiRsdpFile = "etc/acpi/rsdp";
inline constexpr const char *kTableLoaderFile = "etc/table-loader";
inline constexpr size_t kLoaderFileNameSize = 56;  // FW_CFG_MAX_FILE_PATH, NUL included

enum class LoaderCommandType : uint32_t { kAllocate = 1, kAddPointer = 2, kAddChecksum = 3 };
enum class LoaderZone : uint8_t { kHigh = 1, kFSeg = 2 };

// One loader command as written on the wire.
struct TableLoaderEntry {
  Le32 command;
  union {
    struct {
      char file[kLoaderFileNameSize];
      Le32 align;
      uint8_t zone;
    } allocate;
    struct {
      char dest_file[kLoaderFileNameSize];
      char src_file[kLoaderFileNameSize];
      Le32 offset;
      uint8_t size;
    } pointer;
    struct {
      char file[kLoaderFileNameSize];
      Le32 offset;
      Le32 start;
      Le32 length;
    } checksum;
    uint8_t pad[124];
  };
};
static_assert(sizeof(TableLoaderEntry) == 128);
static_assert(alignof(TableLoaderEntry) == 1);

// A decoded command.
struct TableLoaderCommand {
  LoaderCommandType type;
  std::string file;       // ALLOCATE, ADD_CHECKSUM; the destination for ADD_POINTER
  std::string src_file;   // ADD_POINTER
  uint32_t align = 0;     // ALLOCATE
  LoaderZone zone = LoaderZone::kHigh;
  uint32_t offset = 0;    // ADD_POINTER: pointer offset; ADD_CHECKSUM: checksum byte offset
  uint8_t size = 0;       // ADD_POINTER
  uint32_t start = 0;     // ADD_CHECKSUM
  uint32_t length = 0;    // ADD_CHECKSUM
};

class TableLoader {
 public:
  // `align` must be a power of two; names at most 55 characters (asserted: names are ours).
  void allocate(std::string_view file, uint32_t align, LoaderZone zone);
  // Adds src_file's address to the `size`-byte little-endian pointer at dest_file[offset].
  void add_pointer(std::string_view dest_file, uint32_t offset, uint8_t size,
                   std::string_view src_file);
  // Makes file[start..start+length) sum to zero by adjusting the byte at file[offset].
  void add_checksum(std::string_view file, uint32_t offset, uint32_t start, uint32_t length);

  const Bytes &bytes() const { return bytes_; }
  size_t command_count() const { return bytes_.size() / sizeof(TableLoaderEntry); }

  // Decodes a command list, skipping all-zero padding entries (command 0, which QEMU pads its
  // list with and firmware ignores); fails on a length that is not a multiple of 128, an unknown
  // command, an unterminated or empty name, a bad pointer size or alignment.
  static Status parse(const Bytes &bytes, std::vector<TableLoaderCommand> *out);

 private:
  void push(const TableLoaderEntry &entry);
  Bytes bytes_;
};

}  // namespace qtpm::acpi
