/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * qtpm's glue: the TPM's ACPI description (qtpm_acpi.h).  qtpm's ACPI builder (acpi/, QEMU
 * 7.2's bytes) makes the Device() term and the TPM2/TCPA table from the device's own
 * description; this file puts them where QEMU's machine builders put theirs and adds the
 * table-loader commands for the event log (TCG ACPI Specification 1.03, TPM2 rev 4 and TCPA
 * rev 2 tables).
 */
#include "qemu/osdep.h"
#include "qemu/error-report.h"
#include "qtpm_acpi.h"
#include "qtpm_glue.h"

/* The ACPI header's checksum byte (ACPI 6.4, 5.2.6 "System Description Table Header"). */
#define ACPI_HEADER_CHECKSUM_OFFSET 9

static QtpmDevice *described_device(TPMIf *tpm)
{
    QtpmDevice *dev = tpm ? qtpm_glue_frontend_device(OBJECT(tpm)) : NULL;

    if (tpm && !dev) {
        warn_report("%s: not a qtpm device, no ACPI description",
                    object_get_typename(OBJECT(tpm)));
    }
    return dev;
}

void qtpm_acpi_build_device(TPMIf *tpm, Aml *scope, hwaddr mapped_base)
{
    QtpmDevice *dev = described_device(tpm);
    uint8_t *aml = NULL;
    size_t len = 0;
    char *msg = NULL;

    if (!dev) {
        return;
    }
    if (mapped_base != QTPM_ACPI_FIXED_ADDRESS &&
        qtpm_device_set_mapped_address(dev, 0, mapped_base, &msg) == QTPM_ERROR) {
        warn_report("%s", msg);
        qtpm_free(msg);
        return;
    }
    qtpm_free(msg);
    msg = NULL;
    if (qtpm_device_acpi_aml(dev, &aml, &len, &msg) != QTPM_OK) {
        warn_report("%s", msg);
        qtpm_free(msg);
        return;
    }
    /* A complete term: appending its bytes is what aml_append() does with a child. */
    g_array_append_vals(scope->buf, aml, len);
    qtpm_free(aml);
}

void qtpm_acpi_add_table(TPMIf *tpm, GArray *table_offsets, GArray *tables, BIOSLinker *linker,
                         GArray *tcpalog, const char *oem_id, const char *oem_table_id,
                         bool tcpa)
{
    QtpmDevice *dev = described_device(tpm);
    QtpmAcpiTable t;
    unsigned start;
    char *msg = NULL;
    int rc;

    if (!dev) {
        return;
    }
    rc = qtpm_device_acpi_table(dev, oem_id, oem_table_id, &t, &msg);
    if (rc == QTPM_NOT_SUPPORTED || (rc == QTPM_OK && !tcpa && strcmp(t.signature, "TPM2"))) {
        /* An unknown TPM version (QEMU builds no table either), or TCPA where the machine has
         * none (Arm virt describes only a TPM 2.0). */
        qtpm_free(msg);
        qtpm_acpi_table_free(&t);
        return;
    }
    if (rc != QTPM_OK) {
        warn_report("%s", msg);
        qtpm_free(msg);
        return;
    }
    /* The pointer must lie inside the table: the loader patches it there. */
    assert(t.len > ACPI_HEADER_CHECKSUM_OFFSET &&
           t.log_pointer_offset + t.log_pointer_size <= t.len);
    acpi_add_table(table_offsets, tables);
    start = tables->len;
    g_array_append_vals(tables, t.data, t.len);
    /* The order QEMU's builders use: allocate the log, point LASA at it, then checksum the
     * table (firmware sums it after patching the pointer). */
    acpi_data_push(tcpalog, t.log_size);
    bios_linker_loader_alloc(linker, ACPI_BUILD_TPMLOG_FILE, tcpalog, 1, false);
    bios_linker_loader_add_pointer(linker, ACPI_BUILD_TABLE_FILE,
                                   start + t.log_pointer_offset, t.log_pointer_size,
                                   ACPI_BUILD_TPMLOG_FILE, 0);
    bios_linker_loader_add_checksum(linker, ACPI_BUILD_TABLE_FILE, start, t.len,
                                    start + ACPI_HEADER_CHECKSUM_OFFSET);
    qtpm_acpi_table_free(&t);
}
