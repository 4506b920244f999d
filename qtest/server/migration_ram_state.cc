// SPDX-License-Identifier: GPL-2.0-or-later
//
// Guest RAM as migration state (see migration_ram_state.h).
#include "qtest/server/migration_ram_state.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <vector>

namespace qtpm::host {

namespace {

constexpr uint64_t kPageSize = 4096;
constexpr size_t kRecordSize = 8 + kPageSize;
constexpr uint64_t kChunkPages = 65536;  // mincore() in steps of 256 MiB

bool all_zero(const uint8_t *p) {
  static const uint8_t kZero[kPageSize] = {};
  return std::memcmp(p, kZero, kPageSize) == 0;
}

// Calls `fn` with the index of every page that was touched and holds data, in order.  Pages
// never touched are not resident and are never read (reading one would map it).
void for_each_page_with_data(const GuestRam &ram, const std::function<void(uint64_t)> &fn) {
  uint64_t pages = ram.size() / kPageSize;
  std::vector<unsigned char> resident;
  for (uint64_t first = 0; first < pages; first += kChunkPages) {
    uint64_t n = std::min(kChunkPages, pages - first);
    resident.assign(n, 0);
    uint8_t *base = ram.host() + first * kPageSize;
    // On failure (it cannot fail for our own mapping) every page counts as resident.
    if (mincore(base, n * kPageSize, resident.data()) != 0)
      std::fill(resident.begin(), resident.end(), 1);
    for (uint64_t i = 0; i < n; i++) {
      if ((resident[i] & 1) && !all_zero(base + i * kPageSize)) fn(first + i);
    }
  }
}

void put_be64(uint8_t *p, uint64_t v) {
  for (int i = 7; i >= 0; i--, v >>= 8) p[i] = static_cast<uint8_t>(v);
}

uint64_t get_be64(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; i++) v = v << 8 | p[i];
  return v;
}

}  // namespace

Status GuestRamState::prepare_save() {
  uint64_t used = 0;
  for_each_page_with_data(ram_, [&](uint64_t) { used += kPageSize; });
  if (used > kGuestRamStateMax) {
    return Status::errorf(
        "%llu KiB of data, more than the %llu KiB a qtpm migration stream "
        "carries",
        static_cast<unsigned long long>(used / 1024),
        static_cast<unsigned long long>(kGuestRamStateMax / 1024));
  }
  return Status::ok();
}

StateWriter GuestRamState::save_state() const {
  std::vector<uint8_t> records;
  for_each_page_with_data(ram_, [&](uint64_t index) {
    size_t at = records.size();
    records.resize(at + kRecordSize);
    put_be64(&records[at], index);
    // The page lies inside the mapping: index < size / kPageSize.
    std::memcpy(&records[at + 8], ram_.host() + index * kPageSize, kPageSize);
  });
  StateWriter w(kGuestRamSection, 1);
  w.put_u64("size", ram_.size());
  w.put_u32("page-size", kPageSize);
  w.put_bytes("pages", records);
  return w;
}

Status GuestRamState::load_state(const StateReader &state) {
  Status st = state.expect(kGuestRamSection, 1, 1);
  uint64_t size = 0;
  uint32_t page_size = 0;
  std::vector<uint8_t> records;
  if (st) st = state.get_u64("size", &size);
  if (st) st = state.get_u32("page-size", &page_size);
  if (st) st = state.get_bytes("pages", &records, kGuestRamStateMax / kPageSize * kRecordSize);
  if (st && size != ram_.size()) {
    st = Status::errorf(
        "the source has %llu MiB, this machine %llu MiB (give the destination -m %lluM)",
        static_cast<unsigned long long>(size >> 20),
        static_cast<unsigned long long>(ram_.size() >> 20),
        static_cast<unsigned long long>(size >> 20));
  }
  if (st && page_size != kPageSize) st = Status::errorf("page size %u is not 4096", page_size);
  if (st && records.size() % kRecordSize != 0) st = Status::error("the page list is cut off");
  uint64_t pages = ram_.size() / kPageSize;
  for (size_t at = 0; st && at < records.size(); at += kRecordSize) {
    uint64_t index = get_be64(&records[at]);
    uint64_t previous = at ? get_be64(&records[at - kRecordSize]) : 0;
    if (index >= pages || (at && index <= previous)) {
      st = Status::errorf("page %llu is out of order or outside the RAM",
                          static_cast<unsigned long long>(index));
    }
  }
  if (!st) return st;
  // Valid: the RAM becomes exactly the source's.
  ram_.clear();
  for (size_t at = 0; at < records.size(); at += kRecordSize) {
    // index < pages was checked above, so the page lies inside the mapping.
    std::memcpy(ram_.host() + get_be64(&records[at]) * kPageSize, &records[at + 8], kPageSize);
  }
  return Status::ok();
}

}  // namespace qtpm::host
