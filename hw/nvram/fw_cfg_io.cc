// SPDX-License-Identifier: GPL-2.0-or-later
//
// fw_cfg on x86 I/O ports (see fw_cfg_io.h).
#include "hw/nvram/fw_cfg_io.h"

#include "qom/trace.h"

namespace qtpm {

namespace {
// Selector and data share two ports: the 16-bit selector overlaps the 8-bit data port.
constexpr uint64_t kPortsSize = 2;
constexpr uint64_t kDmaSize = 8;
}  // namespace

FwCfgIo::FwCfgIo() {
  add_uint32_property("iobase", &iobase_, 0x510, "I/O port of the selector (data at +1)");
  add_uint32_property("dma_iobase", &dma_iobase_, 0x514, "I/O port of the DMA address register");
}

void FwCfgIo::declare_regions() {
  MemoryRegion ports = MemoryRegion::mmio("fwcfg", kPortsSize, &ports_, 4);
  ports.set_space(MemoryRegion::Space::kIo);
  ports.set_fixed_address(iobase_);
  add_region(ports);
  if (dma_enabled()) {
    MemoryRegion dma = MemoryRegion::mmio("fwcfg.dma", kDmaSize, dma_register(), 8);
    dma.set_space(MemoryRegion::Space::kIo);
    dma.set_fixed_address(dma_iobase_);
    add_region(dma);
  }
}

uint64_t FwCfgIo::Ports::mmio_read(uint64_t offset, unsigned size, bool peek,
                                   AccessOutcome *o) {
  // Byte reads at either port are the data register; QEMU refuses wider reads (they read 0).
  if (size != 1) {
    if (o) *o = AccessOutcome::kBadSize;
    log_guest(LogCategory::kGuestError, "fw_cfg: %u-byte read of port +%llu", size,
              static_cast<unsigned long long>(offset));
    return 0;
  }
  if (peek) return 0;  // a data read advances the offset: nothing to show without it
  return dev_->read_data(1)[0];
}

void FwCfgIo::Ports::mmio_write(uint64_t offset, uint64_t value, unsigned size,
                                AccessOutcome *o) {
  if (size == 2) {
    dev_->select(static_cast<uint16_t>(value));  // little endian on x86
  } else if (size == 1) {
    // The data register was writable before QEMU 2.4; writes are ignored since.
    if (o) *o = AccessOutcome::kIgnored;
  } else {
    if (o) *o = AccessOutcome::kBadSize;
    log_guest(LogCategory::kGuestError, "fw_cfg: %u-byte write of port +%llu", size,
              static_cast<unsigned long long>(offset));
  }
}

}  // namespace qtpm
