// SPDX-License-Identifier: GPL-2.0-or-later
//
// Everything a machine hands its firmware about the TPM, as fw_cfg files: the ACPI tables
// ("etc/acpi/tables": an SSDT with the TPM device, TPM2 or TCPA, and a root table), the root
// pointer ("etc/acpi/rsdp"), the loader commands that place and link them ("etc/table-loader"),
// the event-log area ("etc/tpm/log") and, on x86 with PPI, "etc/tpm/config".
//
// An embedder with its own ACPI tables (the QEMU glue) uses the pieces instead - the device
// fragment (tpm_aml.h), the TPM2/TCPA table and its loader commands (append_tpm_log_table()) -
// and keeps its own RSDP.  qtpm's host, which has no other tables, serves this whole set.
#pragma once

#include <string>
#include <vector>

#include "acpi/acpi_table.h"
#include "acpi/table_loader.h"
#include "hw/tpm/tpm_acpi_info.h"
#include "qom/status.h"

namespace qtpm::acpi {

// The machines qtpm models: x86 (fw_cfg over I/O ports, RSDP revision 0 with an RSDT, TCPA for
// TPM 1.2, etc/tpm/config) and Arm virt (fw_cfg over MMIO, RSDP revision 2 with an XSDT).
enum class AcpiMachine : uint8_t { kX86Pc, kX86Q35, kArmVirt };
bool acpi_machine_is_x86(AcpiMachine m);

struct FirmwareFile {
  std::string name;
  Bytes data;
};

// One table inside "etc/acpi/tables", as built (pointers hold offsets, not yet addresses).
struct BuiltTable {
  std::string signature;
  size_t offset = 0;  // in etc/acpi/tables
  Bytes data;
};

struct FirmwareFiles {
  std::vector<FirmwareFile> files;  // in the order to add them to fw_cfg
  std::vector<BuiltTable> tables;   // the tables inside etc/acpi/tables
  const FirmwareFile *find(std::string_view name) const;
};

struct FirmwareFilesOptions {
  AcpiTableIds ids;
  std::string ssdt_scope = "\\_SB";  // where the SSDT puts the TPM device
  uint8_t ssdt_revision = 2;
};

// Builds the set for a machine with `tpm` (nullptr: no TPM - the log file is still added, empty,
// as QEMU does).  Fails only on a description that check_tpm_acpi_description() rejects.
Status build_firmware_files(const TpmAcpiDescription *tpm, AcpiMachine machine,
                            const FirmwareFilesOptions &options, FirmwareFiles *out);

// For embedders with their own tables: appends the TPM2 or TCPA table for `tpm` to `tables`
// (their "etc/acpi/tables" blob) and the loader commands it needs (ALLOCATE etc/tpm/log,
// ADD_POINTER for LASA, ADD_CHECKSUM), and returns the log area to serve as etc/tpm/log (empty
// when the machine gets no such table).  `tables` must already be ALLOCATEd by the caller.
Bytes append_tpm_log_table(const TpmAcpiDescription &tpm, bool x86, const AcpiTableIds &ids,
                           Bytes *tables, TableLoader *loader,
                           std::vector<BuiltTable> *built = nullptr);

}  // namespace qtpm::acpi
