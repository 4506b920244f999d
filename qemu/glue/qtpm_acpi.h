/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * qtpm's glue: the TPM's ACPI description for QEMU 7.2's machine ACPI builders (x86 pc/q35 and
 * Arm virt).  qtpm's patch 0002 makes hw/i386/acpi-build.c and hw/arm/virt-acpi-build.c call
 * these instead of building the TPM's Device() and TPM2/TCPA table themselves: the device owns
 * its description (STYLE.md), so what the guest is told matches what the device really has
 * (tpm-crb,buffer-layout=page-aligned puts its buffer in a second page, which the _CRS and the
 * TPM2 table then name).  Only QEMU types here, so the machine code needs no qtpm header.
 */
#ifndef HW_TPM_QTPM_ACPI_H
#define HW_TPM_QTPM_ACPI_H

#include "exec/hwaddr.h"
#include "hw/acpi/aml-build.h"
#include "hw/acpi/bios-linker-loader.h"
#include "sysemu/tpm.h"

/* For a device whose address the machine chose (tpm-tis-device on a platform bus). */
#define QTPM_ACPI_FIXED_ADDRESS ((hwaddr)-1)

/*
 * Appends the TPM's Device() to `scope` (x86 ISA TIS: the ISA bridge; tpm-crb and Arm virt:
 * \_SB).  `mapped_base` is where the machine put region 0 of a platform-bus device, else
 * QTPM_ACPI_FIXED_ADDRESS.  A TPM qtpm cannot describe gets no Device() and a warning.
 */
void qtpm_acpi_build_device(TPMIf *tpm, Aml *scope, hwaddr mapped_base);

/*
 * Appends the TPM's table (TPM2 for a TPM 2.0; TCPA for a TPM 1.2 when `tcpa` is true, as on
 * x86) to `tables` with its entry in `table_offsets`, its log area in `tcpalog` (the fw_cfg
 * file "etc/tpm/log") and the loader commands: allocate the log, point the table's LASA at it,
 * checksum the table.  Nothing when the TPM's version is unknown (a backend that failed), as
 * QEMU 7.2 does.
 */
void qtpm_acpi_add_table(TPMIf *tpm, GArray *table_offsets, GArray *tables, BIOSLinker *linker,
                         GArray *tcpalog, const char *oem_id, const char *oem_table_id,
                         bool tcpa);

#endif
