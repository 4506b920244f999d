// SPDX-License-Identifier: GPL-2.0-or-later
//
// The TPM's own ACPI tables and the fw_cfg bytes that go with them:
//  - TPM2 (TCG ACPI Specification, Family 1.2 and 2.0, level 00 revision 00.37, table 7),
//    revision 4, 76 bytes: platform class, control area, start method, log area;
//  - TCPA (same specification, "TCPA Client" table), revision 2, 50 bytes, for TPM 1.2;
//  - the event-log area those tables point at (fw_cfg "etc/tpm/log", 64 KiB of zeros).
// ("etc/tpm/config", which tells SeaBIOS and OVMF where the PPI page is, is hw/tpm/tpm_fw_cfg.h.)
// The log address (LASA) is filled in by firmware through the table loader (table_loader.h).
#pragma once

#include <cstddef>
#include <cstdint>

#include "acpi/acpi_table.h"
#include "hw/tpm/tpm_acpi_info.h"
#include "qom/status.h"

namespace qtpm::acpi {

inline constexpr const char *kTpmLogFile = "etc/tpm/log";
inline constexpr uint32_t kTpmLogAreaMinimumSize = 0x10000;  // 64 KiB

inline constexpr uint16_t kTpmPlatformClassClient = 0;
inline constexpr uint16_t kTpmPlatformClassServer = 1;

struct Tpm2Table {
  AcpiTableHeader header;
  Le16 platform_class;
  Le16 reserved;
  Le64 control_area;  // CRB: address of CTRL_REQ; TIS: 0
  Le32 start_method;  // 6: TIS/FIFO over MMIO, 7: CRB
  uint8_t start_method_params[12];
  Le32 log_area_minimum_length;  // LAML
  Le64 log_area_start_address;   // LASA, patched by the table loader
};
static_assert(sizeof(Tpm2Table) == 76);
static_assert(offsetof(Tpm2Table, control_area) == 40);
static_assert(offsetof(Tpm2Table, start_method) == 48);
static_assert(offsetof(Tpm2Table, log_area_minimum_length) == 64);
static_assert(offsetof(Tpm2Table, log_area_start_address) == 68);

struct TcpaTable {
  AcpiTableHeader header;
  Le16 platform_class;
  Le32 log_area_minimum_length;  // LAML
  Le64 log_area_start_address;   // LASA, patched by the table loader
};
static_assert(sizeof(TcpaTable) == 50);
static_assert(offsetof(TcpaTable, log_area_minimum_length) == 38);
static_assert(offsetof(TcpaTable, log_area_start_address) == 42);

inline constexpr uint8_t kTpm2TableRevision = 4;
inline constexpr uint8_t kTcpaTableRevision = 2;

// The TPM2 table for a TPM 2.0 description (LASA 0: relative to the log, which the loader adds).
Bytes build_tpm2_table(const TpmAcpiDescription &d, const AcpiTableIds &ids);
// The TCPA table for a TPM 1.2 (client class).
Bytes build_tcpa_table(const AcpiTableIds &ids);

// Which table a TPM gets: TPM2 for 2.0; TCPA for 1.2, which QEMU builds on x86 only.
enum class TpmLogTable : uint8_t { kNone, kTpm2, kTcpa };
TpmLogTable tpm_log_table(const TpmAcpiDescription &d, bool x86);
// Offset of LASA inside that table (for the loader's ADD_POINTER).
size_t tpm_log_pointer_offset(TpmLogTable table);

}  // namespace qtpm::acpi
