// SPDX-License-Identifier: GPL-2.0-or-later
//
// tpm-tis-device, the platform-bus variant of the TIS (see tpm_tis_sysbus.h).
#include "hw/tpm/tis/tpm_tis_sysbus.h"

namespace qtpm {

TpmTisSysbus::TpmTisSysbus() {
  // On a platform bus the number only shows in INT_VECTOR: the machine wires the output.
  add_common_properties("value INT_VECTOR reads (the machine wires the interrupt itself)");
}

Status TpmTisSysbus::do_realize() {
  TpmBackend *backend = nullptr;
  Status st = find_backend(&backend);
  if (!st) return st;
  return bind(backend, std::nullopt);
}

TpmAcpiDescription TpmTisSysbus::acpi_description() const {
  TpmAcpiDescription d;
  d.interface = TpmAcpiDescription::Interface::kTis;
  d.version = tpm_version();
  if (mapped_address_) d.resources = {{*mapped_address_, tis::kRegionSize}};
  d.irq = 0;  // QEMU's virt machines describe no TPM interrupt either
  d.ppi = false;
  d.control_area = 0;
  d.start_method = 6;
  d.name = "TPM0";
  d.uid = 0;
  d.has_sta = false;
  return d;
}

std::optional<tis::TisFdtNode> TpmTisSysbus::fdt_node() const {
  if (!mapped_address_) return std::nullopt;
  return tis::tis_fdt_node(*mapped_address_);
}

}  // namespace qtpm
