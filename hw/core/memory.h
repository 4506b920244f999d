// SPDX-License-Identifier: GPL-2.0-or-later
//
// Memory regions a device exposes to whoever maps it (qtpm's own host, or QEMU through the glue).
//
// A device never maps itself: it declares its regions (MMIO with handlers, or RAM it owns) with
// an optional fixed guest address, and the machine wires them (STYLE.md practice 6: device logic
// is pure).  Access splitting follows QEMU's memory core: an access wider than the region's
// maximum is split into little-endian pieces; narrower or unaligned accesses reach the handler
// as they are, and the handler (normally a RegisterBank) deals with byte lanes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace qtpm {

// What happened to one access; hosts log the non-OK outcomes as guest errors.
enum class AccessOutcome : uint8_t {
  kOk,
  kUnmapped,       // no register at that offset (reads give the device's "no register" value)
  kBadSize,        // access size the register does not support
  kIgnored,        // write to a read-only register, or refused in the current state
  kUnimplemented,  // a register or bit the device knows of but does not model
};

const char *access_outcome_name(AccessOutcome outcome);

class MmioHandler {
 public:
  virtual ~MmioHandler() = default;
  // `size` is 1, 2, 4 or 8 and never exceeds the region's max_access.  `peek` asks for a read
  // without side effects (no FIFO pop, no clear-on-read): for tracing, QMP and tests.
  virtual uint64_t mmio_read(uint64_t offset, unsigned size, bool peek, AccessOutcome *outcome) = 0;
  virtual void mmio_write(uint64_t offset, uint64_t value, unsigned size,
                          AccessOutcome *outcome) = 0;
};

class MemoryRegion {
 public:
  enum class Kind : uint8_t { kMmio, kRam };

  static MemoryRegion mmio(std::string name, uint64_t size, MmioHandler *handler,
                           unsigned max_access = 4) {
    MemoryRegion r;
    r.kind_ = Kind::kMmio;
    r.name_ = std::move(name);
    r.size_ = size;
    r.handler_ = handler;
    r.max_access_ = max_access;
    return r;
  }
  // RAM owned by the device (CRB buffer, PPI page); mapped as plain memory by the machine.
  static MemoryRegion ram(std::string name, uint8_t *host, uint64_t size) {
    MemoryRegion r;
    r.kind_ = Kind::kRam;
    r.name_ = std::move(name);
    r.size_ = size;
    r.host_ = host;
    return r;
  }

  Kind kind() const { return kind_; }
  const std::string &name() const { return name_; }
  uint64_t size() const { return size_; }
  uint8_t *host_ptr() const { return host_; }
  MmioHandler *handler() const { return handler_; }
  unsigned max_access() const { return max_access_; }

  // Where the device must sit in guest physical memory (ISA TIS: 0xfed40000); empty when the
  // machine chooses (sysbus devices on a platform bus).
  std::optional<uint64_t> fixed_address() const { return fixed_address_; }
  void set_fixed_address(uint64_t addr) { fixed_address_ = addr; }

  // The address space the region goes into: guest memory (the default) or x86 port I/O (fw_cfg's
  // ports 0x510/0x511).  A port I/O region needs a fixed address.
  enum class Space : uint8_t { kMemory, kIo };
  Space space() const { return space_; }
  void set_space(Space space) { space_ = space; }

  // Dispatch an access of 1..8 bytes at `offset` (offset + size <= size()).  Accesses wider than
  // max_access are split into max_access pieces, lowest address first, and reassembled little
  // endian, as QEMU's memory core does.  RAM regions read and write the host buffer.
  uint64_t read(uint64_t offset, unsigned size, bool peek = false,
                AccessOutcome *outcome = nullptr) const;
  void write(uint64_t offset, uint64_t value, unsigned size,
             AccessOutcome *outcome = nullptr) const;

 private:
  MemoryRegion() = default;
  Kind kind_ = Kind::kMmio;
  std::string name_;
  uint64_t size_ = 0;
  MmioHandler *handler_ = nullptr;
  uint8_t *host_ = nullptr;
  unsigned max_access_ = 4;
  std::optional<uint64_t> fixed_address_;
  Space space_ = Space::kMemory;
};

}  // namespace qtpm
