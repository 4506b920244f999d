// SPDX-License-Identifier: GPL-2.0-or-later
//
// tpm-tis, the ISA variant of the TIS (see tpm_tis_isa.h).
#include "hw/tpm/tis/tpm_tis_isa.h"

namespace qtpm {

TpmTisIsa::TpmTisIsa() {
  add_common_properties("ISA IRQ of the TPM's interrupt, 0 to 15 (INT_VECTOR reads it)");
  add_bool_property("ppi", &ppi_enabled_, true,
                    "Physical Presence Interface page at 0xfed45000 and its ACPI _DSM");
}

Status TpmTisIsa::do_realize() {
  TpmBackend *backend = nullptr;
  Status st = find_backend(&backend);
  if (!st) return st;
  if (irq_num_ > tis::kMaxIsaIrq) {
    return Status::errorf("IRQ %u is outside valid range of 0 to %u", irq_num_, tis::kMaxIsaIrq);
  }
  st = bind(backend, tis::kIsaBase);
  if (!st) return st;
  if (ppi_enabled_) add_region(ppi_.region());
  return Status::ok();
}

TpmAcpiDescription TpmTisIsa::acpi_description() const {
  TpmAcpiDescription d;
  d.interface = TpmAcpiDescription::Interface::kTis;
  d.version = tpm_version();
  d.resources = {{tis::kIsaBase, tis::kRegionSize}};
  // Not advertised until a guest test shows Linux's tpm_tis.interrupts=1 works with it; QEMU
  // leaves it out too (its _CRS line is commented out).  The guest polls.
  d.irq = 0;
  d.ppi = ppi_enabled_;
  d.control_area = 0;
  d.start_method = 6;
  d.name = "TPM";
  d.uid = 1;
  d.has_sta = true;
  return d;
}

}  // namespace qtpm
