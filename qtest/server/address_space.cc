// SPDX-License-Identifier: GPL-2.0-or-later
//
// Guest address spaces with QEMU's access splitting (see address_space.h).
#include "qtest/server/address_space.h"

#include <cinttypes>
#include <cstring>

#include "qom/trace.h"

namespace qtpm::host {

unsigned mmio_piece_size(unsigned max_access, uint64_t offset, uint64_t remaining) {
  uint64_t limit = max_access ? max_access : 4;  // QEMU's default for regions that say nothing
  if (limit > 8) limit = 8;                       // MemoryRegion accesses are 1..8 bytes
  uint64_t align = offset & (~offset + 1);        // lowest set bit; 0 for offset 0
  if (align != 0 && align < limit) limit = align;
  uint64_t size = remaining < limit ? remaining : limit;
  unsigned pow2 = 1;
  while (pow2 * 2 <= size) pow2 *= 2;
  return pow2;
}

AddressSpace::AddressSpace(std::string name, uint64_t limit, uint8_t unassigned_byte)
    : name_(std::move(name)), limit_(limit), unassigned_(unassigned_byte) {}

Status AddressSpace::map(uint64_t base, const MemoryRegion &region, const void *owner) {
  uint64_t size = region.size();
  uint64_t last = base + size - 1;
  bool outside = size == 0 || last < base || (limit_ != 0 && last >= limit_);
  if (outside) {
    return Status::errorf("memory region '%s' (size 0x%" PRIx64 ") does not fit at 0x%" PRIx64
                          " in %s",
                          region.name().c_str(), size, base, name_.c_str());
  }
  auto next = map_.lower_bound(base);
  const Mapping *clash = nullptr;
  if (next != map_.end() && next->first <= last) clash = &next->second;
  if (next != map_.begin() && std::prev(next)->second.last() >= base) clash = &std::prev(next)->second;
  if (clash) {
    return Status::errorf("memory region '%s' [0x%" PRIx64 ", 0x%" PRIx64 "] overlaps '%s' [0x%" PRIx64
                          ", 0x%" PRIx64 "]",
                          region.name().c_str(), base, last, clash->region.name().c_str(),
                          clash->base, clash->last());
  }
  map_.emplace(base, Mapping{base, region, owner});
  return Status::ok();
}

void AddressSpace::unmap_owner(const void *owner) {
  std::erase_if(map_, [owner](const auto &entry) { return entry.second.owner == owner; });
}

const AddressSpace::Mapping *AddressSpace::lookup(uint64_t addr) const {
  auto it = map_.upper_bound(addr);
  if (it == map_.begin()) return nullptr;
  --it;
  return addr <= it->second.last() ? &it->second : nullptr;
}

std::vector<const AddressSpace::Mapping *> AddressSpace::mappings() const {
  std::vector<const Mapping *> out;
  for (const auto &entry : map_) out.push_back(&entry.second);
  return out;
}

uint64_t AddressSpace::gap_end(uint64_t addr) const {
  auto next = map_.upper_bound(addr);
  return next == map_.end() ? UINT64_MAX : next->first - 1;
}

template <typename Fn>
void AddressSpace::for_each_piece(uint64_t addr, uint64_t len, Fn fn) const {
  uint64_t done = 0;
  while (done < len) {
    uint64_t a = addr + done;
    uint64_t remaining = len - done;
    const Mapping *m = lookup(a);
    if (!m) {
      // Bytes up to the next mapping (never past the access) are unassigned.
      uint64_t run = gap_end(a) - a;  // one less than the run length; cannot overflow
      uint64_t n = run < remaining - 1 ? run + 1 : remaining;
      fn(Piece{nullptr, 0, n, done});
      done += n;
      continue;
    }
    uint64_t offset = a - m->base;
    uint64_t in_region = m->last() - a;  // one less than the bytes left in the region
    uint64_t n = in_region < remaining - 1 ? in_region + 1 : remaining;
    if (m->region.kind() == MemoryRegion::Kind::kMmio) {
      n = mmio_piece_size(m->region.max_access(), offset, n);
    }
    fn(Piece{m, offset, n, done});
    done += n;
  }
}

namespace {

void log_outcome(const MemoryRegion &r, uint64_t offset, uint64_t size, bool write,
                 AccessOutcome outcome) {
  if (outcome == AccessOutcome::kOk) return;
  LogCategory category = outcome == AccessOutcome::kUnimplemented ? LogCategory::kUnimplemented
                                                                  : LogCategory::kGuestError;
  log_guest(category, "%s: %s of %" PRIu64 " bytes at offset 0x%" PRIx64 ": %s", r.name().c_str(),
            write ? "write" : "read", size, offset, access_outcome_name(outcome));
}

}  // namespace

void AddressSpace::read(uint64_t addr, uint8_t *buf, uint64_t len) const {
  for_each_piece(addr, len, [&](const Piece &p) {
    uint8_t *out = buf + p.done;
    if (!p.mapping) {
      std::memset(out, unassigned_, p.size);
      return;
    }
    const MemoryRegion &r = p.mapping->region;
    if (r.kind() == MemoryRegion::Kind::kRam) {
      // p.offset + p.size <= r.size(): for_each_piece never crosses the region's end.
      std::memcpy(out, r.host_ptr() + p.offset, p.size);
      return;
    }
    AccessOutcome outcome = AccessOutcome::kOk;
    uint64_t v = r.read(p.offset, static_cast<unsigned>(p.size), false, &outcome);
    log_outcome(r, p.offset, p.size, false, outcome);
    for (uint64_t i = 0; i < p.size; i++) out[i] = static_cast<uint8_t>(v >> (8 * i));
  });
}

void AddressSpace::write(uint64_t addr, const uint8_t *buf, uint64_t len) const {
  for_each_piece(addr, len, [&](const Piece &p) {
    const uint8_t *in = buf + p.done;
    if (!p.mapping) return;
    const MemoryRegion &r = p.mapping->region;
    if (r.kind() == MemoryRegion::Kind::kRam) {
      std::memcpy(r.host_ptr() + p.offset, in, p.size);
      return;
    }
    uint64_t v = 0;
    for (uint64_t i = 0; i < p.size; i++) v |= static_cast<uint64_t>(in[i]) << (8 * i);
    AccessOutcome outcome = AccessOutcome::kOk;
    r.write(p.offset, v, static_cast<unsigned>(p.size), &outcome);
    log_outcome(r, p.offset, p.size, true, outcome);
  });
}

void AddressSpace::fill(uint64_t addr, uint8_t value, uint64_t len) const {
  for_each_piece(addr, len, [&](const Piece &p) {
    if (!p.mapping) return;
    const MemoryRegion &r = p.mapping->region;
    if (r.kind() == MemoryRegion::Kind::kRam) {
      std::memset(r.host_ptr() + p.offset, value, p.size);
      return;
    }
    uint64_t v = 0;
    for (uint64_t i = 0; i < p.size; i++) v |= static_cast<uint64_t>(value) << (8 * i);
    AccessOutcome outcome = AccessOutcome::kOk;
    r.write(p.offset, v, static_cast<unsigned>(p.size), &outcome);
    log_outcome(r, p.offset, p.size, true, outcome);
  });
}

}  // namespace qtpm::host
