// SPDX-License-Identifier: GPL-2.0-or-later
//
// A guest address space (system memory, or x86 port I/O) as byte-addressed storage over mapped
// MemoryRegions, with QEMU's access splitting (softmmu/physmem.c flatview_read/write_continue,
// memory_access_size):
//  - an access is cut at region boundaries;
//  - inside an MMIO region each piece is at most the region's maximum access size, no larger
//    than the alignment of its offset, and a power of two - so an unaligned 2-byte read at
//    +0x19 reaches the device as two 1-byte reads, and an 8-byte read of a 4-byte region as
//    two 4-byte reads;
//  - RAM regions are copied directly;
//  - bytes where nothing is mapped read as the space's "unassigned" value (0 for memory, 0xff
//    for port I/O, as QEMU's unassigned handlers answer) and writes there are dropped.
// Device registers are little-endian: a piece's value is stored least significant byte first.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "hw/core/memory.h"
#include "qom/status.h"

namespace qtpm::host {

class AddressSpace {
 public:
  // `limit`: the size of the space, 0 meaning the full 64-bit range.
  AddressSpace(std::string name, uint64_t limit, uint8_t unassigned_byte);

  struct Mapping {
    uint64_t base;
    MemoryRegion region;
    const void *owner;  // who mapped it (a device), for unmap_owner
    uint64_t last() const { return base + region.size() - 1; }
  };

  // Fails when the region is empty, leaves the space, or overlaps a mapped region (the message
  // names both regions and their ranges).
  Status map(uint64_t base, const MemoryRegion &region, const void *owner);
  void unmap_owner(const void *owner);
  const Mapping *lookup(uint64_t addr) const;
  std::vector<const Mapping *> mappings() const;

  // True when [addr, addr + len) does not wrap around the end of the 64-bit range.
  static bool range_ok(uint64_t addr, uint64_t len) { return len == 0 || addr + (len - 1) >= addr; }

  // Callers check range_ok() first.
  void read(uint64_t addr, uint8_t *buf, uint64_t len) const;
  void write(uint64_t addr, const uint8_t *buf, uint64_t len) const;
  void fill(uint64_t addr, uint8_t value, uint64_t len) const;

  const std::string &name() const { return name_; }

 private:
  // One piece of an access: a gap, a RAM range, or one MMIO access.
  struct Piece {
    const Mapping *mapping;  // null for a gap
    uint64_t offset;         // into the region
    uint64_t size;
    uint64_t done;           // bytes of the access before this piece
  };
  template <typename Fn>
  void for_each_piece(uint64_t addr, uint64_t len, Fn fn) const;
  uint64_t gap_end(uint64_t addr) const;  // last byte of the unmapped run at addr

  std::string name_;
  uint64_t limit_;
  uint8_t unassigned_;
  std::map<uint64_t, Mapping> map_;
};

// QEMU's memory_access_size(): the size of the next access to an MMIO region.
unsigned mmio_piece_size(unsigned max_access, uint64_t offset, uint64_t remaining);

}  // namespace qtpm::host
