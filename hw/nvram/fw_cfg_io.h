// SPDX-License-Identifier: GPL-2.0-or-later
//
// fw_cfg on x86 I/O ports (QEMU's fw_cfg_io, pc and q35):
//   0x510  16-bit write: selector (little endian); 8-bit read at 0x510 or 0x511: data
//   0x514  DMA address, big endian: 32-bit writes at 0x514 (high) and 0x518 (low, starts the
//          transfer) or one 64-bit write; reads give "QEMU CFG"
#pragma once

#include "hw/nvram/fw_cfg.h"

namespace qtpm {

inline constexpr const char *kTypeFwCfgIo = "fw_cfg_io";

class FwCfgIo : public FwCfg {
 public:
  FwCfgIo();

 protected:
  void declare_regions() override;

 private:
  class Ports : public MmioHandler {
   public:
    explicit Ports(FwCfgIo *dev) : dev_(dev) {}
    uint64_t mmio_read(uint64_t offset, unsigned size, bool peek, AccessOutcome *o) override;
    void mmio_write(uint64_t offset, uint64_t value, unsigned size, AccessOutcome *o) override;

   private:
    FwCfgIo *dev_;
  };

  uint32_t iobase_ = 0x510;
  uint32_t dma_iobase_ = 0x514;
  Ports ports_{this};
};

}  // namespace qtpm
