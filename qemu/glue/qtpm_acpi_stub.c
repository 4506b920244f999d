/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * qtpm's glue: the ACPI entry points (qtpm_acpi.h) for targets built without ACPI
 * (qemu-system-ppc64: pseries describes its devices in the device tree).  The generic frontend
 * glue is compiled per target and names qtpm_acpi_build_device for ISA devices, which such
 * targets never create; QEMU's own ACPI functions that qtpm_acpi.c calls do not exist there.
 */
#include "qemu/osdep.h"
#include "qtpm_acpi.h"

void qtpm_acpi_build_device(TPMIf *tpm, Aml *scope, hwaddr mapped_base)
{
}

void qtpm_acpi_add_table(TPMIf *tpm, GArray *table_offsets, GArray *tables, BIOSLinker *linker,
                         GArray *tcpalog, const char *oem_id, const char *oem_table_id,
                         bool tcpa)
{
}
