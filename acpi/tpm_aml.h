// SPDX-License-Identifier: GPL-2.0-or-later
//
// The TPM device in the ACPI namespace, built from what the frontend says about itself
// (TpmAcpiDescription): identity (_HID, _STR, _UID, _STA), resources (_CRS) and, when the device
// has the Physical Presence Interface page, the PPI objects and the _DSM methods of
// TCG PPI 1.3 ("TCG Physical Presence Interface Specification", version 1.30) and of the TCG
// Platform Reset Attack Mitigation Specification 1.00 (memory clear, MOR).
//
// The AML is QEMU 7.2's, object for object, so that the QEMU glue produces byte-identical DSDTs
// (QEMU's bios-tables-test compares them): the same emission order per frontend, the same PPI
// operation regions, the Windows workarounds (a dynamic OperationRegion in TPFN because DerefOf
// over SystemMemory fields misbehaves on Windows; global TPM2/TPM3 packages returned instead of
// fresh ones).  Where qtpm deliberately differs, docs/acpi.md says so.
#pragma once

#include <string>

#include "acpi/acpi_table.h"
#include "acpi/aml.h"
#include "hw/tpm/tpm_acpi_info.h"
#include "qom/status.h"

namespace qtpm::acpi {

// _DSM UUIDs.
inline constexpr const char *kPpiDsmUuid = "3DDDFAA6-361B-4EB4-A424-8D10089D1653";  // TCG PPI
inline constexpr const char *kMorDsmUuid = "376054ED-CC13-4675-901C-4756D7F2D45D";  // TCG MOR

// Checks a description before AML is built from it: a valid name, at least one resource, every
// range below 4 GiB (Memory32Fixed), an ISA IRQ within 1..15, a CRB not with TPM 1.2.  The
// message names the field ("tpm acpi: ...").  kUnspec (a backend that did not report its
// version) is accepted: a TIS is then described as TPM 1.2 and gets no TPM2/TCPA table, a CRB
// keeps its TPM 2.0 identity, as in QEMU.
Status check_tpm_acpi_description(const TpmAcpiDescription &d);

// Device (NAME) { _HID ... PPI } for a description that passed the check.
aml::Aml tpm_device_aml(const TpmAcpiDescription &d);

// Appends the PPI operation regions, TPFN, TPM2/TPM3 and _DSM to a TPM device block.
void append_tpm_ppi_aml(aml::Aml *device);

// The Device term's bytes, for an embedder that places it in a scope of its own DSDT (the QEMU
// glue: the ISA bridge on x86, \_SB for CRB and on Arm virt).
Status build_tpm_device_fragment(const TpmAcpiDescription &d, aml::Bytes *out);

// An SSDT holding Scope (scope) { Device (...) }, for embedders that append tables.
struct TpmSsdtOptions {
  std::string scope = "\\_SB";
  uint8_t revision = 2;  // 2: 64-bit integers
  AcpiTableIds ids;
};
Status build_tpm_ssdt(const TpmAcpiDescription &d, const TpmSsdtOptions &options, Bytes *out);

}  // namespace qtpm::acpi
