// SPDX-License-Identifier: GPL-2.0-or-later
//
// tpm-tis: the TIS on the PC's ISA bus, registers at 0xfed40000, ISA IRQ `irq`, and the PPI page
// at 0xfed45000 (property `ppi`, on by default), as QEMU 7.2's hw/tpm/tpm_tis_isa.c.
#pragma once

#include "hw/tpm/tis/tpm_tis_device.h"

namespace qtpm {

class TpmTisIsa final : public TpmTisDevice {
 public:
  TpmTisIsa();

  // TIS at 0xfed40000 (0x5000), start method 6, PPI if enabled, \_SB...TPM with _UID 1 and
  // _STA; no interrupt advertised (docs/tis.md).
  TpmAcpiDescription acpi_description() const override;
  TpmPpi *ppi() override { return ppi_enabled_ ? &ppi_ : nullptr; }

 protected:
  Status do_realize() override;

 private:
  bool ppi_enabled_ = true;
  TpmPpi ppi_;
};

}  // namespace qtpm
