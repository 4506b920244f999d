// SPDX-License-Identifier: GPL-2.0-or-later
//
// Prints what the device tells the ACPI builder (hw/tpm/tpm_acpi_info.h).
#include "qtest/demo/demo_tables.h"

#include <cstdio>

#include "hw/tpm/crb/tpm_crb.h"
#include "hw/tpm/tis/tpm_tis_device.h"

namespace qtpm::demo {

namespace {

bool describe(Device &device, TpmAcpiDescription *d) {
  if (auto *tis = dynamic_cast<TpmTisDevice *>(&device)) {
    *d = tis->acpi_description();
    return true;
  }
  if (auto *crb = dynamic_cast<TpmCrb *>(&device)) {
    *d = crb->acpi_description();
    return true;
  }
  return false;
}

}  // namespace

void print_acpi_tables(Device &device) {
  TpmAcpiDescription d;
  if (!describe(device, &d)) return;
  std::printf("acpi: device %s, _HID %s, _UID %u, start method %u, control area 0x%llx\n",
              d.name.c_str(), d.version == TpmVersion::k2_0 ? "\"MSFT0101\"" : "PNP0C31",
              d.uid, d.start_method, static_cast<unsigned long long>(d.control_area));
  for (const auto &r : d.resources) {
    std::printf("acpi: _CRS Memory32Fixed(ReadWrite, 0x%08llx, 0x%llx)\n",
                static_cast<unsigned long long>(r.address),
                static_cast<unsigned long long>(r.length));
  }
  std::printf("acpi: PPI _DSM %s\n", d.ppi ? "present (PPI 1.3 and memory clear)" : "absent");
}

}  // namespace qtpm::demo
