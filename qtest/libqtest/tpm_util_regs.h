/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The register offsets and bits the TPM test utilities (tpm_util.c) use — ONLY those, not the
 * register tables.
 *
 * The devices declare their registers once, in C++ constexpr tables (hw/tpm/tis/tpm_tis_regs.h,
 * hw/tpm/crb/tpm_crb_regs.h).  These C helpers cannot include them, so the few values they need
 * are written here, and tpm_util_regs_check.cc static_asserts every one of them against the
 * device headers whenever those are present: a change on either side fails the build.
 *
 * Values: TCG PC Client Platform TPM Profile (PTP) Specification 1.05 (FIFO and CRB interfaces),
 * as QEMU 7.2 implements them (include/hw/acpi/tpm.h).
 */
#ifndef QTPM_QTEST_TPM_UTIL_REGS_H
#define QTPM_QTEST_TPM_UTIL_REGS_H

/* ---- TIS / FIFO interface: per locality L at base + L * TPM_TIS_LOCALITY_STRIDE ---- */
#define TPM_TIS_LOCALITY_STRIDE 0x1000u
#define TPM_TIS_REG_ACCESS      0x00u
#define TPM_TIS_REG_STS         0x18u
#define TPM_TIS_REG_DATA_FIFO   0x24u

#define TPM_TIS_ACCESS_REG_VALID     0x80u  /* tpmRegValidSts */
#define TPM_TIS_ACCESS_ACTIVE        0x20u  /* activeLocality; write 1 = relinquish */
#define TPM_TIS_ACCESS_REQUEST_USE   0x02u

#define TPM_TIS_STS_VALID         0x80u
#define TPM_TIS_STS_COMMAND_READY 0x40u
#define TPM_TIS_STS_GO            0x20u
#define TPM_TIS_STS_DATA_AVAIL    0x10u
#define TPM_TIS_STS_EXPECT        0x08u
#define TPM_TIS_STS_BURST_SHIFT   8
#define TPM_TIS_STS_BURST_MASK    0xffffu   /* after the shift */

/* ---- CRB interface (locality 0 only) ---- */
#define TPM_CRB_REG_LOC_STATE     0x00u
#define TPM_CRB_REG_LOC_CTRL      0x08u
#define TPM_CRB_REG_LOC_STS       0x0cu
#define TPM_CRB_REG_CTRL_REQ      0x40u
#define TPM_CRB_REG_CTRL_STS      0x44u
#define TPM_CRB_REG_CTRL_START    0x4cu
#define TPM_CRB_REG_CTRL_CMD_SIZE 0x58u
#define TPM_CRB_REG_CTRL_CMD_LADDR 0x5cu
#define TPM_CRB_REG_CTRL_CMD_HADDR 0x60u
#define TPM_CRB_REG_CTRL_RSP_SIZE 0x64u
#define TPM_CRB_REG_CTRL_RSP_ADDR 0x68u  /* 64 bits: low half here, high half at +4 */

#define TPM_CRB_LOC_STATE_REG_VALID    0x80u  /* tpmRegValidSts */
#define TPM_CRB_LOC_STATE_LOC_ASSIGNED 0x02u
#define TPM_CRB_LOC_CTRL_REQUEST_ACCESS 0x1u
#define TPM_CRB_LOC_CTRL_RELINQUISH    0x2u
#define TPM_CRB_LOC_STS_GRANTED        0x1u
#define TPM_CRB_CTRL_REQ_CMD_READY     0x1u
#define TPM_CRB_CTRL_REQ_GO_IDLE       0x2u
#define TPM_CRB_CTRL_STS_TPM_STS       0x1u  /* fatal error */
#define TPM_CRB_CTRL_STS_TPM_IDLE      0x2u
#define TPM_CRB_CTRL_START_START       0x1u

#endif /* QTPM_QTEST_TPM_UTIL_REGS_H */
