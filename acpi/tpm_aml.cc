// SPDX-License-Identifier: GPL-2.0-or-later
//
// TPM device AML: identity and resources per frontend (QEMU 7.2 placement and order, see
// docs/acpi.md).  The PPI objects and _DSM are in tpm_ppi_aml.cc.
#include "acpi/tpm_aml.h"

namespace qtpm::acpi {

using namespace aml;

namespace {

// "TPM 2.0 Device": the friendly name QEMU gives every TPM 2.0 (Windows shows it).
constexpr const char *kTpm2Hid = "MSFT0101";
constexpr const char *kTpm2Str = "TPM 2.0 Device";
constexpr const char *kTpm12EisaId = "PNP0C31";
constexpr uint64_t kStaPresentEnabledShownFunctioning = 0x0f;

bool is_tpm2(const TpmAcpiDescription &d) { return d.version == TpmVersion::k2_0; }

// The TPM 2.0 identity (MSFT0101): every CRB, and a TIS with a TPM 2.0.  A TIS whose backend
// could not tell its version (kUnspec, e.g. it failed to start) is described as TPM 1.2, as
// QEMU does.
bool has_tpm2_identity(const TpmAcpiDescription &d) {
  return d.interface == TpmAcpiDescription::Interface::kCrb || is_tpm2(d);
}

Aml resources(const TpmAcpiDescription &d) {
  Aml crs = resource_template();
  for (const TpmAcpiDescription::Range &r : d.resources)
    crs.append(memory32_fixed(static_cast<uint32_t>(r.address), static_cast<uint32_t>(r.length),
                              MemoryAccess::kReadWrite));
  // Only an interrupt the device really raises is advertised (irq 0: the guest polls).
  if (d.irq != 0) {
    if (d.irq_kind == TpmAcpiDescription::IrqKind::kIsa)
      crs.append(irq_no_flags({static_cast<uint8_t>(d.irq)}));
    else
      crs.append(interrupt(IrqTrigger::kLevel, IrqPolarity::kActiveHigh, IrqSharing::kExclusive,
                           {d.irq}));
  }
  return crs;
}

}  // namespace

Status check_tpm_acpi_description(const TpmAcpiDescription &d) {
  if (!is_valid_name_seg(d.name))
    return Status::errorf("tpm acpi: device name '%s' is not an ACPI NameSeg (1-4 of A-Z, 0-9, _)",
                          d.name.c_str());
  if (d.version != TpmVersion::k1_2 && d.version != TpmVersion::k2_0 &&
      d.version != TpmVersion::kUnspec)
    return Status::error("tpm acpi: unknown TPM version");
  if (d.interface == TpmAcpiDescription::Interface::kCrb && d.version == TpmVersion::k1_2)
    return Status::error("tpm acpi: a CRB interface needs TPM 2.0");
  if (d.resources.empty()) return Status::error("tpm acpi: no memory resource for _CRS");
  for (const TpmAcpiDescription::Range &r : d.resources) {
    if (r.length == 0 || r.length > UINT32_MAX || r.address > UINT32_MAX ||
        r.address + r.length - 1 > UINT32_MAX)
      return Status::errorf("tpm acpi: resource 0x%llx+0x%llx must be non-empty and below 4 GiB",
                            static_cast<unsigned long long>(r.address),
                            static_cast<unsigned long long>(r.length));
  }
  if (d.irq != 0 && d.irq_kind == TpmAcpiDescription::IrqKind::kIsa && d.irq > 15)
    return Status::errorf("tpm acpi: ISA irq %u is above 15", d.irq);
  return Status::ok();
}

Aml tpm_device_aml(const TpmAcpiDescription &d) {
  Aml dev = device(d.name);
  if (has_tpm2_identity(d)) {
    dev.append(name("_HID", string(kTpm2Hid)));
    dev.append(name("_STR", string(kTpm2Str)));
  } else {
    dev.append(name("_HID", eisa_id(kTpm12EisaId)));
  }
  Aml uid = name("_UID", integer(d.uid));
  Aml sta = name("_STA", integer(kStaPresentEnabledShownFunctioning));
  Aml crs = name("_CRS", resources(d));
  // QEMU's CRB (hw/i386/acpi-build.c) lists _CRS before _STA and _UID; its TIS devices list
  // _UID, _STA, _CRS.  Kept as they are: the QEMU glue's DSDT must match QEMU byte for byte.
  if (d.interface == TpmAcpiDescription::Interface::kCrb) {
    dev.append(crs);
    if (d.has_sta) dev.append(sta);
    dev.append(uid);
  } else {
    dev.append(uid);
    if (d.has_sta) dev.append(sta);
    dev.append(crs);
  }
  if (d.ppi) append_tpm_ppi_aml(&dev);
  return dev;
}

Status build_tpm_device_fragment(const TpmAcpiDescription &d, aml::Bytes *out) {
  if (Status s = check_tpm_acpi_description(d); !s) return s;
  *out = tpm_device_aml(d).encode();
  return Status::ok();
}

Status build_tpm_ssdt(const TpmAcpiDescription &d, const TpmSsdtOptions &options, Bytes *out) {
  if (Status s = check_tpm_acpi_description(d); !s) return s;
  if (!is_valid_name_path(options.scope) || options.scope.empty())
    return Status::errorf("tpm acpi: SSDT scope '%s' is not an ACPI name path",
                          options.scope.c_str());
  if (!acpi_table_ids_valid(options.ids))
    return Status::error("tpm acpi: OEM id (6), OEM table id (8) or creator id (4) too long");
  Aml sc = scope(options.scope);
  sc.append(tpm_device_aml(d));
  *out = build_definition_block("SSDT", options.revision, options.ids, sc.encode());
  return Status::ok();
}

}  // namespace qtpm::acpi
