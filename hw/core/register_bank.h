// SPDX-License-Identifier: GPL-2.0-or-later
//
// A generic register bank: the one place that handles byte lanes, access sizes and unaligned
// accesses, so that device code only says what each register does (STYLE.md practices 1-4).
//
// Registers are declared once, as constexpr data (RegisterSpec): offset, width, reset value and
// masks.  The bank keeps a stored value per register and resolves every access into per-register
// operations:
//  - a read of [offset, offset+size) gathers the bytes of every register it touches (a register's
//    value comes from its read hook, or the stored value), bytes no register covers read as the
//    bank's `unmapped_byte`;
//  - a write is split per register into (value, byte-enable mask) pairs in the register's own
//    lane positions; read-only bits and bytes outside the enable mask keep their value, w1c bits
//    clear where 1 is written; then the write hook sees the old and new value.
// Registers flagged kStream (FIFOs) are not lane-merged: their hooks get the access itself
// (offset within the register and size), because each byte has a side effect.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "hw/core/memory.h"

namespace qtpm {

struct RegisterSpec {
  const char *name;
  uint32_t offset;
  uint8_t width;            // bytes: 1, 2 or 4
  uint32_t reset = 0;
  uint32_t writable = 0;    // bits a write may change (others are read-only)
  uint32_t w1c = 0;         // write-1-to-clear bits (subset of nothing else)
  uint32_t flags = 0;

  static constexpr uint32_t kStream = 1u << 0;    // FIFO: hooks see each access unmerged
  static constexpr uint32_t kWriteOnly = 1u << 1; // reads give 0
  static constexpr uint32_t kAligned = 1u << 2;   // only naturally aligned full-width accesses
};

// Bit-field helper: a constexpr description of a field inside a register.
struct Field {
  uint8_t shift;
  uint8_t length;
  constexpr uint32_t mask() const {
    return length >= 32 ? 0xffffffffu : (((1u << length) - 1u) << shift);
  }
  constexpr uint32_t extract(uint32_t reg) const { return (reg & mask()) >> shift; }
  constexpr uint32_t deposit(uint32_t reg, uint32_t value) const {
    return (reg & ~mask()) | ((value << shift) & mask());
  }
};

class RegisterBank : public MmioHandler {
 public:
  struct Hooks {
    // Value of the register for a read; `stored` is the bank's copy.  `peek`: no side effects.
    std::function<uint32_t(uint32_t stored, bool peek)> read;
    // Optional, used instead of `read` when set: also told which bytes of the register this
    // access reads (`lanes`, a byte mask in register position: 0x0000ff00 = the second byte), for
    // registers whose value depends on the access width (TIS STS caps the burst count for
    // 1-byte reads).
    std::function<uint32_t(uint32_t stored, uint32_t lanes, bool peek)> read_lanes;
    // After masking: `old_value` -> `new_value` (already stored).  `enable` marks the bytes the
    // access wrote (lane mask in register position), `raw` the unmasked written bits.
    std::function<void(uint32_t old_value, uint32_t new_value, uint32_t raw, uint32_t enable)> write;
    // kStream registers only: the access as it came (offset inside the register, size).
    std::function<uint64_t(uint32_t offset, unsigned size, bool peek)> stream_read;
    std::function<void(uint32_t offset, uint64_t value, unsigned size)> stream_write;
  };

  // `specs` must outlive the bank (normally a constexpr table).  `window` is the size of one bank
  // instance; `unmapped_byte` is what bytes without a register read as.
  RegisterBank(std::span<const RegisterSpec> specs, uint32_t window, uint8_t unmapped_byte);

  void set_hooks(size_t index, Hooks hooks);
  // Index of the register at exactly `offset`, or -1.
  int find(uint32_t offset) const;
  uint32_t stored(size_t index) const { return values_[index]; }
  void set_stored(size_t index, uint32_t value) { values_[index] = value; }
  void reset();  // every register to its reset value
  const RegisterSpec &spec(size_t index) const { return specs_[index]; }
  size_t count() const { return specs_.size(); }

  // MmioHandler.  Offsets beyond the window are unmapped.
  uint64_t mmio_read(uint64_t offset, unsigned size, bool peek, AccessOutcome *outcome) override;
  void mmio_write(uint64_t offset, uint64_t value, unsigned size, AccessOutcome *outcome) override;

 private:
  uint32_t read_register(size_t index, uint32_t lanes, bool peek);

  std::span<const RegisterSpec> specs_;
  uint32_t window_;
  uint8_t unmapped_byte_;
  std::vector<uint32_t> values_;
  std::vector<Hooks> hooks_;
};

}  // namespace qtpm
