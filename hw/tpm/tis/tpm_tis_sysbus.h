// SPDX-License-Identifier: GPL-2.0-or-later
//
// tpm-tis-device: the TIS as a platform (sysbus) device for Arm, RISC-V and LoongArch `virt`
// machines, as QEMU 7.2.6+'s hw/tpm/tpm_tis_sysbus.c: one 0x5000 MMIO region that the machine
// places on its platform bus, one interrupt output, no PPI.
#pragma once

#include <optional>

#include "hw/tpm/tis/tpm_tis_device.h"

namespace qtpm {

class TpmTisSysbus final : public TpmTisDevice {
 public:
  TpmTisSysbus();

  // The machine tells the device where it mapped region 0 (platform bus base + offset); the
  // ACPI description and the device-tree node need it.
  void set_mapped_address(uint64_t base) { mapped_address_ = base; }
  std::optional<uint64_t> mapped_address() const { return mapped_address_; }

  // \_SB.TPM0, _UID 0, no _STA, the mapped range; empty resources until mapped.
  TpmAcpiDescription acpi_description() const override;
  // compatible "tcg,tpm-tis-mmio", reg <base 0x5000>; empty until mapped.
  std::optional<tis::TisFdtNode> fdt_node() const;

 protected:
  Status do_realize() override;

 private:
  std::optional<uint64_t> mapped_address_;
};

}  // namespace qtpm
