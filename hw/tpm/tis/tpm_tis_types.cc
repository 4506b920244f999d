// SPDX-License-Identifier: GPL-2.0-or-later
//
// QOM registration of the two TIS devices: "tpm-tis" (ISA) and "tpm-tis-device" (sysbus), both
// implementing "tpm-if".  QEMU gives neither a description.
#include "hw/tpm/tis/tpm_tis_isa.h"
#include "hw/tpm/tis/tpm_tis_sysbus.h"
#include "qom/module_init.h"

namespace qtpm {

void register_tpm_tis_types() {
  TypeInfo isa = make_type<TpmTisIsa>(kTypeTpmTis, kTypeDevice, "");
  isa.bus = "isa";
  isa.interfaces = {kTypeTpmIf};
  type_register(std::move(isa));

  TypeInfo sysbus = make_type<TpmTisSysbus>(kTypeTpmTisDevice, kTypeDevice, "");
  sysbus.bus = "sysbus";
  sysbus.interfaces = {kTypeTpmIf};
  type_register(std::move(sysbus));
}

}  // namespace qtpm
