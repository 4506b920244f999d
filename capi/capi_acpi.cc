// SPDX-License-Identifier: GPL-2.0-or-later
//
// The C API for ACPI (include/qtpm/qtpm.h): a frontend's description (hw/tpm/tpm_acpi_info.h)
// turned into its Device() AML and its TPM2/TCPA table by the ACPI builder (acpi/), as QEMU 7.2
// builds them, so an embedder's DSDT stays byte-identical.
#include <cstring>

#include "acpi/tpm_aml.h"
#include "acpi/tpm_tables.h"
#include "capi/capi_host.h"
#include "hw/tpm/crb/tpm_crb.h"
#include "hw/tpm/tis/tpm_tis_device.h"
#include "hw/tpm/tis/tpm_tis_sysbus.h"
#include "qtpm/qtpm.h"

using qtpm::capi::fail;
using qtpm::capi::succeed;

namespace {

// The frontends say what they are through acpi_description(); there is no shared interface for
// it yet (TIS has a virtual one, CRB a plain method), so each family is asked by its class.
bool describe(const QtpmDevice *dev, qtpm::TpmAcpiDescription *d) {
  if (!dev) return false;
  if (auto *tis = dynamic_cast<const qtpm::TpmTisDevice *>(dev->object.get())) {
    *d = tis->acpi_description();
    return true;
  }
  if (auto *crb = dynamic_cast<const qtpm::TpmCrb *>(dev->object.get())) {
    *d = crb->acpi_description();
    return true;
  }
  return false;
}

int not_described(const QtpmDevice *dev, char **errmsg) {
  return fail(errmsg, QTPM_NOT_SUPPORTED,
              qtpm::strprintf("%s: no ACPI description",
                              dev ? dev->object->type_name().c_str() : "device"));
}

}  // namespace

extern "C" {

int qtpm_device_set_mapped_address(QtpmDevice *dev, size_t index, uint64_t address,
                                   char **errmsg) {
  auto *sysbus = dev ? dynamic_cast<qtpm::TpmTisSysbus *>(dev->object.get()) : nullptr;
  if (!sysbus) {
    return fail(errmsg, QTPM_NOT_SUPPORTED,
                qtpm::strprintf("%s: its regions are not placed by the machine",
                                dev ? dev->object->type_name().c_str() : "device"));
  }
  if (index != 0) {
    return fail(errmsg, QTPM_ERROR, qtpm::strprintf("tpm-tis-device has no region %zu", index));
  }
  sysbus->set_mapped_address(address);
  return succeed(errmsg);
}

int qtpm_device_acpi_aml(const QtpmDevice *dev, uint8_t **aml, size_t *len, char **errmsg) {
  if (aml) *aml = nullptr;
  if (len) *len = 0;
  if (!aml || !len) return fail(errmsg, QTPM_ERROR, "acpi: no output given");
  qtpm::TpmAcpiDescription d;
  if (!describe(dev, &d)) return not_described(dev, errmsg);
  qtpm::aml::Bytes bytes;
  qtpm::Status st = qtpm::acpi::build_tpm_device_fragment(d, &bytes);
  if (!st) {
    return fail(errmsg, QTPM_ERROR,
                qtpm::strprintf("%s: %s", dev->object->type_name().c_str(),
                                st.message().c_str()));
  }
  *aml = qtpm::capi::dup_bytes(bytes.data(), bytes.size());
  *len = bytes.size();
  return succeed(errmsg);
}

int qtpm_device_acpi_table(const QtpmDevice *dev, const char *oem_id, const char *oem_table_id,
                           QtpmAcpiTable *table, char **errmsg) {
  if (!table) return fail(errmsg, QTPM_ERROR, "acpi: no output given");
  std::memset(table, 0, sizeof *table);
  qtpm::TpmAcpiDescription d;
  if (!describe(dev, &d)) return not_described(dev, errmsg);
  qtpm::acpi::AcpiTableIds ids;
  if (oem_id) ids.oem_id = oem_id;
  if (oem_table_id) ids.oem_table_id = oem_table_id;
  if (!qtpm::acpi::acpi_table_ids_valid(ids)) {
    return fail(errmsg, QTPM_ERROR, "acpi: OEM ids must be at most 6 and 8 printable characters");
  }
  // x86 = true: asked for a TPM 1.2, the caller gets TCPA and decides whether its machine has it.
  qtpm::acpi::TpmLogTable which = qtpm::acpi::tpm_log_table(d, true);
  qtpm::acpi::Bytes bytes;
  if (which == qtpm::acpi::TpmLogTable::kTpm2) {
    bytes = qtpm::acpi::build_tpm2_table(d, ids);
    std::memcpy(table->signature, "TPM2", 5);
  } else if (which == qtpm::acpi::TpmLogTable::kTcpa) {
    bytes = qtpm::acpi::build_tcpa_table(ids);
    std::memcpy(table->signature, "TCPA", 5);
  } else {
    return fail(errmsg, QTPM_NOT_SUPPORTED,
                qtpm::strprintf("%s: no TPM table for an unknown TPM version",
                                dev->object->type_name().c_str()));
  }
  // The blob firmware receives has checksum 0: its loader computes it after patching LASA.
  constexpr size_t kChecksumOffset = 9;
  bytes[kChecksumOffset] = 0;
  table->data = qtpm::capi::dup_bytes(bytes.data(), bytes.size());
  table->len = bytes.size();
  table->log_size = qtpm::acpi::kTpmLogAreaMinimumSize;
  table->log_pointer_offset = static_cast<uint32_t>(qtpm::acpi::tpm_log_pointer_offset(which));
  table->log_pointer_size = 8;
  return succeed(errmsg);
}

void qtpm_acpi_table_free(QtpmAcpiTable *table) {
  if (!table) return;
  qtpm_free(table->data);
  table->data = nullptr;
  table->len = 0;
}

}  // extern "C"
