// SPDX-License-Identifier: GPL-2.0-or-later
//
// The TPM descriptions the ACPI tests cover, as the frontends fill them in QEMU-compatible
// configurations (qemu-tpm-behaviour.md section 6.1): TIS on x86 (TPM 2.0 and 1.2), CRB, TIS on
// Arm virt; each with and without PPI, plus variants that advertise an interrupt.
#pragma once

#include <string>
#include <vector>

#include "hw/tpm/tpm_acpi_info.h"

namespace qtpm::testing {

struct TpmVariant {
  std::string label;
  TpmAcpiDescription desc;
  std::string device_path;  // where the SSDT (scope \_SB) puts the device
};

inline TpmAcpiDescription tis_description(TpmVersion version, bool ppi) {
  TpmAcpiDescription d;
  d.interface = TpmAcpiDescription::Interface::kTis;
  d.version = version;
  d.resources = {{0xfed40000, 0x5000}};
  d.ppi = ppi;
  d.control_area = 0;
  d.start_method = 6;
  return d;
}

inline TpmAcpiDescription crb_description(bool ppi) {
  TpmAcpiDescription d;
  d.interface = TpmAcpiDescription::Interface::kCrb;
  d.version = TpmVersion::k2_0;
  d.resources = {{0xfed40000, 0x1000}};
  d.ppi = ppi;
  d.control_area = 0xfed40040;
  d.start_method = 7;
  return d;
}

inline TpmAcpiDescription virt_tis_description() {
  TpmAcpiDescription d = tis_description(TpmVersion::k2_0, false);
  d.resources = {{0x0c000000, 0x5000}};
  d.name = "TPM0";
  d.uid = 0;
  d.has_sta = false;
  return d;
}

inline std::vector<TpmVariant> all_tpm_variants() {
  std::vector<TpmVariant> v;
  v.push_back({"tis-tpm2-ppi", tis_description(TpmVersion::k2_0, true), "\\_SB.TPM"});
  v.push_back({"tis-tpm2", tis_description(TpmVersion::k2_0, false), "\\_SB.TPM"});
  v.push_back({"tis-tpm12-ppi", tis_description(TpmVersion::k1_2, true), "\\_SB.TPM"});
  v.push_back({"tis-tpm12", tis_description(TpmVersion::k1_2, false), "\\_SB.TPM"});
  v.push_back({"crb-tpm2-ppi", crb_description(true), "\\_SB.TPM"});
  v.push_back({"crb-tpm2", crb_description(false), "\\_SB.TPM"});
  v.push_back({"virt-tis-tpm2", virt_tis_description(), "\\_SB.TPM0"});
  TpmVariant irq{"tis-tpm2-ppi-irq13", tis_description(TpmVersion::k2_0, true), "\\_SB.TPM"};
  irq.desc.irq = 13;
  v.push_back(irq);
  TpmVariant gsi{"virt-tis-tpm2-gsi", virt_tis_description(), "\\_SB.TPM0"};
  gsi.desc.irq = 0x70;
  gsi.desc.irq_kind = TpmAcpiDescription::IrqKind::kGsi;
  v.push_back(gsi);
  return v;
}

}  // namespace qtpm::testing
