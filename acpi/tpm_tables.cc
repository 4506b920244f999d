// SPDX-License-Identifier: GPL-2.0-or-later
//
// TPM2 and TCPA tables, and the "etc/tpm/config" file (see tpm_tables.h).
#include "acpi/tpm_tables.h"

namespace qtpm::acpi {

Bytes build_tpm2_table(const TpmAcpiDescription &d, const AcpiTableIds &ids) {
  Tpm2Table t{};
  fill_table_header(&t.header, "TPM2", kTpm2TableRevision, ids);
  t.platform_class.set(kTpmPlatformClassClient);
  t.control_area.set(d.control_area);
  t.start_method.set(d.start_method);
  // LAML/LASA are optional in revision 4, but SeaBIOS finds the log only through them.
  t.log_area_minimum_length.set(kTpmLogAreaMinimumSize);
  t.log_area_start_address.set(0);
  Bytes out = struct_bytes(t);
  finish_table(&out);
  return out;
}

Bytes build_tcpa_table(const AcpiTableIds &ids) {
  TcpaTable t{};
  fill_table_header(&t.header, "TCPA", kTcpaTableRevision, ids);
  t.platform_class.set(kTpmPlatformClassClient);
  t.log_area_minimum_length.set(kTpmLogAreaMinimumSize);
  t.log_area_start_address.set(0);
  Bytes out = struct_bytes(t);
  finish_table(&out);
  return out;
}

TpmLogTable tpm_log_table(const TpmAcpiDescription &d, bool x86) {
  if (d.version == TpmVersion::k2_0) return TpmLogTable::kTpm2;
  if (d.version == TpmVersion::k1_2 && x86) return TpmLogTable::kTcpa;
  return TpmLogTable::kNone;
}

size_t tpm_log_pointer_offset(TpmLogTable table) {
  switch (table) {
    case TpmLogTable::kTpm2: return offsetof(Tpm2Table, log_area_start_address);
    case TpmLogTable::kTcpa: return offsetof(TcpaTable, log_area_start_address);
    case TpmLogTable::kNone: break;
  }
  return 0;
}

}  // namespace qtpm::acpi
