// SPDX-License-Identifier: GPL-2.0-or-later
//
// A TCE table: the IOMMU of a pseries VIO device's DMA window (PAPR+ "Translation Control
// Entries"; QEMU 7.2 hw/ppc/spapr_iommu.c).  The window starts at I/O bus address 0 and is cut
// into 4 KiB pages; entry n maps page n to a guest page and says whether the device may read it,
// write it, or neither (the low two bits).  The guest fills entries with H_PUT_TCE, reads them
// with H_GET_TCE; the device's DMA goes through dma_read/dma_write.
//
// Unlike QEMU, a DMA that fails on some page changes nothing: the whole range is translated and
// checked before the first byte is copied.
//
// The table is a QOM object, a child of its device named "tce-table-<liobn hex>" as in QEMU, and
// saves its entries (section "spapr-tce-table").  It holds no guest memory itself: that comes
// through SpaprGuestMemory, so tests and fuzzers give it a plain buffer.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <vector>

#include "hw/tpm/spapr/spapr_vio_device.h"
#include "qom/object.h"
#include "qom/saved_state.h"

namespace qtpm::host {

inline constexpr const char *kTypeSpaprTceTable = "spapr-tce-table";

// Guest physical memory for DMA (the machine's system memory).
class SpaprGuestMemory {
 public:
  virtual ~SpaprGuestMemory() = default;
  // True when every byte of [gpa, gpa + len) is backed by memory.  len > 0.
  virtual bool accessible(uint64_t gpa, uint64_t len) = 0;
  // Only for accessible ranges.
  virtual void read(uint64_t gpa, uint8_t *buf, uint64_t len) = 0;
  virtual void write(uint64_t gpa, const uint8_t *buf, uint64_t len) = 0;
};

class SpaprTceTable : public Object, public SpaprDmaWindow, public Migratable {
 public:
  static constexpr uint32_t kStateVersion = 1;

  SpaprTceTable() = default;
  // Before use: the window's LIOBN and size (a multiple of the page size), and guest memory.
  void configure(uint32_t liobn, uint64_t window_size, SpaprGuestMemory *memory);

  uint32_t liobn() const { return liobn_; }
  uint64_t window_size() const { return pages_ << spapr::kTcePageShift; }

  // H_PUT_TCE / H_GET_TCE on this table; `ioba` is cut to its page.  H_PARAMETER outside the
  // window.  Entries are stored as given (QEMU does not check them).
  int64_t put_tce(uint64_t ioba, uint64_t tce);
  int64_t get_tce(uint64_t ioba, uint64_t *tce) const;

  // SpaprDmaWindow
  bool dma_read(uint64_t ioba, std::span<uint8_t> out) override;
  bool dma_write(uint64_t ioba, std::span<const uint8_t> in) override;
  void dma_reset() override;

  // Migratable: liobn u32 and window u64 (must match), entries bytes = the mapped entries as
  // (index u32, tce u64) pairs, big-endian, in index order.
  const char *state_section() const override { return kTypeSpaprTceTable; }
  StateWriter save_state() const override;
  Status load_state(const StateReader &state) override;

 private:
  // One contiguous guest range of a DMA.
  struct Segment {
    uint64_t gpa;
    uint64_t len;
  };
  // Translates [ioba, ioba + len) needing `permission` on every page; false if any page fails.
  bool translate(uint64_t ioba, uint64_t len, uint64_t permission, std::vector<Segment> *out) const;

  uint64_t entry(uint64_t index) const {
    auto it = entries_.find(index);
    return it == entries_.end() ? 0 : it->second;
  }

  uint32_t liobn_ = 0;
  uint64_t pages_ = 0;
  // Only the mapped (non-zero) entries: a guest maps a handful of a window's 65536 pages.
  std::map<uint64_t, uint64_t> entries_;
  SpaprGuestMemory *memory_ = nullptr;
};

}  // namespace qtpm::host
