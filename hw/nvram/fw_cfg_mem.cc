// SPDX-License-Identifier: GPL-2.0-or-later
//
// fw_cfg on MMIO (see fw_cfg_mem.h).
#include "hw/nvram/fw_cfg_mem.h"

#include "qom/trace.h"

namespace qtpm {

namespace {
constexpr uint64_t kSelectorOffset = 8;
constexpr uint64_t kSelectorSize = 2;
constexpr uint64_t kDmaOffset = 16;
constexpr uint64_t kDmaSize = 8;
}  // namespace

FwCfgMem::FwCfgMem() {
  add_uint32_property("base", &base_, 0x09020000,
                      "guest address of the registers (data +0, selector +8, DMA +16)");
  add_uint32_property("data_width", &data_width_, 8, "widest data register read: 1, 2, 4 or 8");
}

Status FwCfgMem::do_realize() {
  if (data_width_ != 1 && data_width_ != 2 && data_width_ != 4 && data_width_ != 8)
    return Status::errorf("fw_cfg: data_width must be 1, 2, 4 or 8 (got %u)", data_width_);
  return FwCfg::do_realize();
}

void FwCfgMem::declare_regions() {
  MemoryRegion data = MemoryRegion::mmio("fwcfg.data", data_width_, &data_, data_width_);
  data.set_fixed_address(base_);
  add_region(data);
  MemoryRegion ctl = MemoryRegion::mmio("fwcfg.ctl", kSelectorSize, &selector_, 2);
  ctl.set_fixed_address(base_ + kSelectorOffset);
  add_region(ctl);
  if (dma_enabled()) {
    MemoryRegion dma = MemoryRegion::mmio("fwcfg.dma", kDmaSize, dma_register(), 8);
    dma.set_fixed_address(base_ + kDmaOffset);
    add_region(dma);
  }
}

uint64_t FwCfgMem::Data::mmio_read(uint64_t offset, unsigned size, bool peek, AccessOutcome *o) {
  // QEMU accepts data reads at offset 0 only; others read 0.
  if (offset != 0) {
    if (o) *o = AccessOutcome::kBadSize;
    log_guest(LogCategory::kGuestError, "fw_cfg: data read at +%llu",
              static_cast<unsigned long long>(offset));
    return 0;
  }
  if (peek) return 0;
  // The register is big endian and the stream is big endian: the first byte lands at the
  // lowest address, i.e. in the low byte of a little-endian CPU's value.
  std::vector<uint8_t> bytes = dev_->read_data(size);
  uint64_t v = 0;
  for (unsigned i = 0; i < size; i++) v |= static_cast<uint64_t>(bytes[i]) << (8 * i);
  return v;
}

void FwCfgMem::Data::mmio_write(uint64_t offset, uint64_t value, unsigned size,
                                AccessOutcome *o) {
  if (o) *o = AccessOutcome::kIgnored;  // read-only since QEMU 2.4
}

uint64_t FwCfgMem::Selector::mmio_read(uint64_t offset, unsigned size, bool peek,
                                       AccessOutcome *o) {
  if (o) *o = AccessOutcome::kBadSize;  // write-only register
  return 0;
}

void FwCfgMem::Selector::mmio_write(uint64_t offset, uint64_t value, unsigned size,
                                    AccessOutcome *o) {
  if (size != 2 || offset != 0) {
    if (o) *o = AccessOutcome::kBadSize;
    log_guest(LogCategory::kGuestError, "fw_cfg: %u-byte selector write at +%llu", size,
              static_cast<unsigned long long>(offset));
    return;
  }
  dev_->select(static_cast<uint16_t>(from_guest_be(value, 2)));
}

}  // namespace qtpm
