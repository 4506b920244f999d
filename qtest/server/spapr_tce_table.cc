// SPDX-License-Identifier: GPL-2.0-or-later
//
// TCE table: H_PUT_TCE / H_GET_TCE, DMA translation, reset and saved state (see
// spapr_tce_table.h; QEMU 7.2 hw/ppc/spapr_iommu.c for the hcall semantics).
#include "qtest/server/spapr_tce_table.h"

#include <cinttypes>

#include "qom/trace.h"

namespace qtpm::host {

using namespace spapr;

void SpaprTceTable::configure(uint32_t liobn, uint64_t window_size, SpaprGuestMemory *memory) {
  liobn_ = liobn;
  pages_ = window_size >> kTcePageShift;
  entries_.clear();
  memory_ = memory;
}

int64_t SpaprTceTable::put_tce(uint64_t ioba, uint64_t tce) {
  uint64_t index = (ioba & kTcePageMask) >> kTcePageShift;
  if (index >= pages_) {
    log_guest(LogCategory::kGuestError, "H_PUT_TCE: ioba 0x%" PRIx64 " outside window 0x%x", ioba,
              liobn_);
    return kHParameter;
  }
  if (tce) {
    entries_[index] = tce;
  } else {
    entries_.erase(index);
  }
  QTPM_TRACE("spapr_iommu_put", "liobn 0x%x ioba 0x%" PRIx64 " tce 0x%" PRIx64, liobn_,
             ioba & kTcePageMask, tce);
  return kHSuccess;
}

int64_t SpaprTceTable::get_tce(uint64_t ioba, uint64_t *tce) const {
  uint64_t index = (ioba & kTcePageMask) >> kTcePageShift;
  if (index >= pages_) return kHParameter;
  *tce = entry(index);
  return kHSuccess;
}

bool SpaprTceTable::translate(uint64_t ioba, uint64_t len, uint64_t permission,
                              std::vector<Segment> *out) const {
  out->clear();
  if (len == 0) return true;
  // The window is [0, window_size()); a range past it, or wrapping the 64-bit space, fails.
  if (ioba >= window_size() || len > window_size() - ioba || !memory_) return false;
  uint64_t addr = ioba;
  uint64_t end = ioba + len;  // <= window_size(), no overflow
  while (addr < end) {
    uint64_t tce = entry(addr >> kTcePageShift);
    if ((tce & permission) != permission) return false;
    uint64_t in_page = addr & ~kTcePageMask;
    uint64_t chunk = std::min(end - addr, kTcePageSize - in_page);
    uint64_t gpa = (tce & kTcePageMask) | in_page;
    if (!memory_->accessible(gpa, chunk)) return false;
    // Neighbouring pages mapped to neighbouring guest pages make one copy.
    if (!out->empty() && out->back().gpa + out->back().len == gpa) {
      out->back().len += chunk;
    } else {
      out->push_back({gpa, chunk});
    }
    addr += chunk;
  }
  return true;
}

bool SpaprTceTable::dma_read(uint64_t ioba, std::span<uint8_t> out) {
  std::vector<Segment> segments;
  if (!translate(ioba, out.size(), kTceRead, &segments)) {
    QTPM_TRACE("spapr_iommu_fault", "liobn 0x%x read ioba 0x%" PRIx64 " len %zu", liobn_, ioba,
               out.size());
    return false;
  }
  size_t done = 0;
  for (const Segment &s : segments) {
    // The segments add up to out.size(), see translate().
    memory_->read(s.gpa, out.data() + done, s.len);
    done += s.len;
  }
  return true;
}

bool SpaprTceTable::dma_write(uint64_t ioba, std::span<const uint8_t> in) {
  std::vector<Segment> segments;
  if (!translate(ioba, in.size(), kTceWrite, &segments)) {
    QTPM_TRACE("spapr_iommu_fault", "liobn 0x%x write ioba 0x%" PRIx64 " len %zu", liobn_, ioba,
               in.size());
    return false;
  }
  size_t done = 0;
  for (const Segment &s : segments) {
    memory_->write(s.gpa, in.data() + done, s.len);
    done += s.len;
  }
  return true;
}

void SpaprTceTable::dma_reset() { entries_.clear(); }

// ---------------------------------------------------------------------------------------------
// Saved state

StateWriter SpaprTceTable::save_state() const {
  StateWriter w(kTypeSpaprTceTable, kStateVersion);
  w.put_u32("liobn", liobn_);
  w.put_u64("window", window_size());
  std::vector<uint8_t> mapped;
  for (const auto &[index, tce] : entries_) {  // index < 2^32: a VIO window is at most 4 GiB (one dt cell)
    for (int shift = 24; shift >= 0; shift -= 8) mapped.push_back(uint8_t(index >> shift));
    for (int shift = 56; shift >= 0; shift -= 8) mapped.push_back(uint8_t(tce >> shift));
  }
  w.put_bytes("entries", mapped);
  return w;
}

Status SpaprTceTable::load_state(const StateReader &r) {
  constexpr size_t kPair = 12;
  Status st = r.expect(kTypeSpaprTceTable, kStateVersion, kStateVersion);
  uint32_t liobn = 0;
  uint64_t window = 0;
  std::vector<uint8_t> mapped;
  if (st) st = r.get_u32("liobn", &liobn);
  if (st) st = r.get_u64("window", &window);
  if (st && (liobn != liobn_ || window != window_size())) {
    st = Status::errorf("saved window 0x%x/0x%" PRIx64 ", this table is 0x%x/0x%" PRIx64, liobn,
                        window, liobn_, window_size());
  }
  if (st) st = r.get_bytes("entries", &mapped, pages_ * kPair);
  if (st && mapped.size() % kPair) st = Status::errorf("entries of %zu bytes", mapped.size());
  std::map<uint64_t, uint64_t> loaded;
  int64_t previous = -1;
  for (size_t off = 0; st && off < mapped.size(); off += kPair) {
    uint32_t index = 0;
    uint64_t tce = 0;
    for (size_t i = 0; i < 4; i++) index = index << 8 | mapped[off + i];
    for (size_t i = 4; i < kPair; i++) tce = tce << 8 | mapped[off + i];
    if (index >= pages_ || int64_t(index) <= previous || tce == 0) {
      st = Status::errorf("entry %zu (index %u) out of order, range or empty", off / kPair, index);
    } else {
      loaded[index] = tce;
      previous = index;
    }
  }
  if (!st) return st.prefixed("spapr-tce-table: ");
  entries_ = std::move(loaded);
  return Status::ok();
}

}  // namespace qtpm::host
