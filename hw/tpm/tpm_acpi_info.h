// SPDX-License-Identifier: GPL-2.0-or-later
//
// What a TPM frontend tells the ACPI builder about itself.  Each frontend fills this from its own
// configuration (interface, version, where its registers and buffers are, whether it has PPI and
// a working interrupt); acpi/ turns it into the device AML, the PPI _DSM and the TPM2/TCPA table,
// the same way for every embedder.  One description per device, so the device decides and the
// machine never guesses.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "backends/tpm/tpm_backend.h"

namespace qtpm {

struct TpmAcpiDescription {
  enum class Interface : uint8_t { kTis, kCrb };
  Interface interface = Interface::kTis;
  TpmVersion version = TpmVersion::k2_0;

  // _CRS: memory ranges (address, length) in the order they are listed.
  struct Range {
    uint64_t address;
    uint64_t length;
  };
  std::vector<Range> resources;
  // Advertised interrupt (ISA IRQ or GSI); 0 = none advertised (the guest polls).
  uint32_t irq = 0;
  // How `irq` is described in _CRS: an ISA IRQ (IRQNoFlags, x86; 1..15) or a GSI in an extended
  // Interrupt descriptor (ResourceConsumer, Level, ActiveHigh, Exclusive; Arm and RISC-V).
  enum class IrqKind : uint8_t { kIsa, kGsi };
  IrqKind irq_kind = IrqKind::kIsa;

  bool ppi = false;           // PPI region at PpiLayout::kAddress and its _DSM
  uint64_t control_area = 0;  // TPM2 table "control area": 0 for TIS, CTRL_REQ address for CRB
  uint32_t start_method = 6;  // TPM2 table: 6 = TIS/FIFO MMIO, 7 = CRB

  // Device placement in the namespace and identity, as QEMU does per machine:
  // x86 TIS: in the ISA bridge scope, _UID 1; CRB: \_SB.TPM, _UID 1; virt TIS: \_SB.TPM0, _UID 0.
  std::string name = "TPM";
  uint32_t uid = 1;
  bool has_sta = true;
};

// Implemented by every TPM frontend that has an ACPI description (tpm-tis, tpm-tis-device,
// tpm-crb), so an embedder finds the description without knowing the frontend's class.
class TpmAcpiProvider {
 public:
  virtual ~TpmAcpiProvider() = default;
  // Valid after realize (and, for a platform-bus device, after the machine placed it).
  virtual TpmAcpiDescription acpi_description() const = 0;
};

}  // namespace qtpm
