// SPDX-License-Identifier: GPL-2.0-or-later
//
// Generic register bank: byte lanes, sizes, unaligned accesses (see register_bank.h).
#include "hw/core/register_bank.h"

#include <cassert>

namespace qtpm {

namespace {

uint32_t width_mask(unsigned width) { return width >= 4 ? 0xffffffffu : (1u << (8 * width)) - 1; }

void note(AccessOutcome *outcome, AccessOutcome o) {
  if (outcome && *outcome == AccessOutcome::kOk) *outcome = o;
}

}  // namespace

RegisterBank::RegisterBank(std::span<const RegisterSpec> specs, uint32_t window,
                           uint8_t unmapped_byte)
    : specs_(specs), window_(window), unmapped_byte_(unmapped_byte), values_(specs.size()),
      hooks_(specs.size()) {
  for (size_t i = 0; i < specs_.size(); i++) {
    assert(specs_[i].width == 1 || specs_[i].width == 2 || specs_[i].width == 4);
    assert(specs_[i].offset + specs_[i].width <= window_);
  }
  reset();
}

void RegisterBank::set_hooks(size_t index, Hooks hooks) { hooks_.at(index) = std::move(hooks); }

int RegisterBank::find(uint32_t offset) const {
  for (size_t i = 0; i < specs_.size(); i++)
    if (specs_[i].offset == offset) return static_cast<int>(i);
  return -1;
}

void RegisterBank::reset() {
  for (size_t i = 0; i < specs_.size(); i++) values_[i] = specs_[i].reset;
}

uint32_t RegisterBank::read_register(size_t index, uint32_t lanes, bool peek) {
  const RegisterSpec &s = specs_[index];
  if (s.flags & RegisterSpec::kWriteOnly) return 0;
  const Hooks &h = hooks_[index];
  uint32_t v = h.read_lanes ? h.read_lanes(values_[index], lanes, peek)
               : h.read     ? h.read(values_[index], peek)
                            : values_[index];
  return v & width_mask(s.width);
}

uint64_t RegisterBank::mmio_read(uint64_t offset, unsigned size, bool peek,
                                 AccessOutcome *outcome) {
  if (outcome) *outcome = AccessOutcome::kOk;
  uint64_t result = 0;
  unsigned covered = 0;
  // Registers overlapping [offset, offset + size).
  for (size_t i = 0; i < specs_.size(); i++) {
    const RegisterSpec &s = specs_[i];
    if (offset >= s.offset + s.width || offset + size <= s.offset) continue;
    if ((s.flags & RegisterSpec::kStream) && offset >= s.offset) {
      // FIFO semantics: the register decides what every byte of this access is.
      if (hooks_[i].stream_read) return hooks_[i].stream_read(uint32_t(offset - s.offset), size, peek);
    }
    if ((s.flags & RegisterSpec::kAligned) && (offset != s.offset || size != s.width)) {
      note(outcome, AccessOutcome::kBadSize);
      continue;
    }
    uint32_t lanes = 0;
    for (unsigned b = 0; b < size; b++) {
      uint64_t addr = offset + b;
      if (addr >= s.offset && addr < s.offset + s.width) lanes |= 0xffu << (8 * (addr - s.offset));
    }
    uint32_t v = read_register(i, lanes, peek);
    for (unsigned b = 0; b < size; b++) {
      uint64_t addr = offset + b;
      if (addr < s.offset || addr >= s.offset + s.width) continue;
      result |= uint64_t((v >> (8 * (addr - s.offset))) & 0xff) << (8 * b);
      covered |= 1u << b;
    }
  }
  for (unsigned b = 0; b < size; b++) {
    if (!(covered & (1u << b))) result |= uint64_t(unmapped_byte_) << (8 * b);
  }
  if (covered != (1u << size) - 1) note(outcome, AccessOutcome::kUnmapped);
  return result;
}

void RegisterBank::mmio_write(uint64_t offset, uint64_t value, unsigned size,
                              AccessOutcome *outcome) {
  if (outcome) *outcome = AccessOutcome::kOk;
  unsigned covered = 0;
  for (size_t i = 0; i < specs_.size(); i++) {
    const RegisterSpec &s = specs_[i];
    if (offset >= s.offset + s.width || offset + size <= s.offset) continue;
    if ((s.flags & RegisterSpec::kStream) && offset >= s.offset) {
      if (hooks_[i].stream_write) {
        hooks_[i].stream_write(uint32_t(offset - s.offset), value, size);
        return;
      }
    }
    if ((s.flags & RegisterSpec::kAligned) && (offset != s.offset || size != s.width)) {
      note(outcome, AccessOutcome::kBadSize);
      continue;
    }
    // Move the written bytes into the register's lanes.
    uint32_t raw = 0, enable = 0;
    for (unsigned b = 0; b < size; b++) {
      uint64_t addr = offset + b;
      if (addr < s.offset || addr >= s.offset + s.width) continue;
      unsigned lane = unsigned(addr - s.offset);
      raw |= uint32_t((value >> (8 * b)) & 0xff) << (8 * lane);
      enable |= 0xffu << (8 * lane);
      covered |= 1u << b;
    }
    uint32_t old_value = values_[i];
    uint32_t keep = ~(s.writable & enable);
    uint32_t next = (old_value & keep) | (raw & s.writable & enable);
    next &= ~(raw & s.w1c & enable);
    next &= width_mask(s.width);
    values_[i] = next;
    if ((s.writable | s.w1c) == 0 && !hooks_[i].write) note(outcome, AccessOutcome::kIgnored);
    if (hooks_[i].write) hooks_[i].write(old_value, next, raw, enable);
  }
  if (covered != (1u << size) - 1) note(outcome, AccessOutcome::kUnmapped);
}

}  // namespace qtpm
