// SPDX-License-Identifier: GPL-2.0-or-later
//
// fw_cfg on MMIO (QEMU's fw_cfg_mem, as Arm virt maps it at 0x09020000; all registers big
// endian):
//   +0   data, 1..data_width bytes per read (first byte at the lowest address)
//   +8   selector, 16-bit writes
//   +16  DMA address: 32-bit writes at +16 (high) and +20 (low, starts the transfer) or one
//        64-bit write; reads give "QEMU CFG"
#pragma once

#include "hw/nvram/fw_cfg.h"

namespace qtpm {

inline constexpr const char *kTypeFwCfgMem = "fw_cfg_mem";

class FwCfgMem : public FwCfg {
 public:
  FwCfgMem();

 protected:
  Status do_realize() override;
  void declare_regions() override;

 private:
  class Data : public MmioHandler {
   public:
    explicit Data(FwCfgMem *dev) : dev_(dev) {}
    uint64_t mmio_read(uint64_t offset, unsigned size, bool peek, AccessOutcome *o) override;
    void mmio_write(uint64_t offset, uint64_t value, unsigned size, AccessOutcome *o) override;

   private:
    FwCfgMem *dev_;
  };
  class Selector : public MmioHandler {
   public:
    explicit Selector(FwCfgMem *dev) : dev_(dev) {}
    uint64_t mmio_read(uint64_t offset, unsigned size, bool peek, AccessOutcome *o) override;
    void mmio_write(uint64_t offset, uint64_t value, unsigned size, AccessOutcome *o) override;

   private:
    FwCfgMem *dev_;
  };

  uint32_t base_ = 0x09020000;
  uint32_t data_width_ = 8;
  Data data_{this};
  Selector selector_{this};
};

}  // namespace qtpm
