// SPDX-License-Identifier: GPL-2.0-or-later
//
// Access dispatch for device memory regions (see memory.h).
#include "hw/core/memory.h"

#include <cassert>
#include <cstring>

namespace qtpm {

const char *access_outcome_name(AccessOutcome outcome) {
  switch (outcome) {
    case AccessOutcome::kOk: return "ok";
    case AccessOutcome::kUnmapped: return "unmapped";
    case AccessOutcome::kBadSize: return "bad-size";
    case AccessOutcome::kIgnored: return "ignored";
    case AccessOutcome::kUnimplemented: return "unimplemented";
  }
  return "?";
}

namespace {

// Keeps the first non-OK outcome of a split access.
void merge(AccessOutcome *total, AccessOutcome piece) {
  if (total && *total == AccessOutcome::kOk) *total = piece;
}

}  // namespace

uint64_t MemoryRegion::read(uint64_t offset, unsigned size, bool peek,
                            AccessOutcome *outcome) const {
  if (outcome) *outcome = AccessOutcome::kOk;
  assert(size >= 1 && size <= 8 && offset + size <= size_);
  if (kind_ == Kind::kRam) {
    uint64_t v = 0;
    // Little-endian assembly; offset + size <= size_ was checked by the caller (host).
    for (unsigned i = 0; i < size; i++) v |= static_cast<uint64_t>(host_[offset + i]) << (8 * i);
    return v;
  }
  unsigned piece = size <= max_access_ ? size : max_access_;
  uint64_t value = 0;
  for (unsigned done = 0; done < size; done += piece) {
    AccessOutcome o = AccessOutcome::kOk;
    uint64_t part = handler_->mmio_read(offset + done, piece, peek, &o);
    merge(outcome, o);
    if (piece < 8) part &= (uint64_t{1} << (8 * piece)) - 1;
    value |= part << (8 * done);
  }
  return value;
}

void MemoryRegion::write(uint64_t offset, uint64_t value, unsigned size,
                         AccessOutcome *outcome) const {
  if (outcome) *outcome = AccessOutcome::kOk;
  assert(size >= 1 && size <= 8 && offset + size <= size_);
  if (kind_ == Kind::kRam) {
    for (unsigned i = 0; i < size; i++) host_[offset + i] = static_cast<uint8_t>(value >> (8 * i));
    return;
  }
  unsigned piece = size <= max_access_ ? size : max_access_;
  for (unsigned done = 0; done < size; done += piece) {
    uint64_t part = value >> (8 * done);
    if (piece < 8) part &= (uint64_t{1} << (8 * piece)) - 1;
    AccessOutcome o = AccessOutcome::kOk;
    handler_->mmio_write(offset + done, part, piece, &o);
    merge(outcome, o);
  }
}

}  // namespace qtpm
