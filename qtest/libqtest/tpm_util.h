/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * TPM helpers for qtests: sending a command through the TIS FIFO or the CRB the way a guest
 * driver does (asserting on every register the driver checks), canned TPM 2.0 and TPM 1.2
 * commands, and a real swtpm started for a test (with a minimal client for its control channel).
 *
 * Interfaces: TCG PC Client Platform TPM Profile Specification 1.05 (FIFO, CRB); commands:
 * TPM 2.0 Library Specification rev 1.59 Part 3, TPM 1.2 Main Specification rev 116 Part 3;
 * swtpm control channel: swtpm 0.7 man page swtpm-ioctls / QEMU 7.2 backends/tpm/tpm_ioctl.h.
 *
 * All transmit helpers fail the test (qtest_fail) when the device deviates from the protocol.
 */
#ifndef QTPM_QTEST_TPM_UTIL_H
#define QTPM_QTEST_TPM_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "qtest/libqtest/libqtest.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Where QEMU 7.2 machines put the devices (reference §0, §1.3). */
#define TPM_TIS_ISA_BASE      UINT64_C(0xFED40000)
#define TPM_TIS_ARM_VIRT_BASE UINT64_C(0x0C000000)  /* the only dynamic sysbus device */
#define TPM_CRB_BASE          UINT64_C(0xFED40000)
#define TPM_PPI_BASE          UINT64_C(0xFED45000)

/* ---- transmitting ---- */

/* Requests locality `locty` (if not already active), commandReady, writes the command byte by
 * byte checking STS.Expect and that the burst count drops by one per byte, GO, waits for
 * dataAvail, reads the response byte by byte checking dataAvail and the burst count, then
 * commandReady again.  The command's header size must equal `req_len`.  Returns the response
 * size; the response must fit `rsp_size`. */
size_t tpm_tis_transmit(QTestState *s, uint64_t base, uint8_t locty, const void *req,
                        size_t req_len, void *rsp, size_t rsp_size);
/* Writes activeLocality to give the locality up. */
void tpm_tis_relinquish(QTestState *s, uint64_t base, uint8_t locty);

/* Requests locality 0, cmdReady, copies the command to the buffer at CTRL_CMD_LADDR/HADDR
 * (checking it fits CTRL_CMD_SIZE), START, waits for START to clear, checks CTRL_STS has no
 * fatal error, and reads the response from CTRL_RSP_ADDR (checked against CTRL_RSP_SIZE).
 * Returns the response size. */
size_t tpm_crb_transmit(QTestState *s, uint64_t base, const void *req, size_t req_len, void *rsp,
                        size_t rsp_size);

/* ---- commands and responses (big-endian headers: tag u16, size u32, code u32) ---- */

uint16_t tpm_hdr_tag(const void *msg);
uint32_t tpm_hdr_size(const void *msg);
uint32_t tpm_hdr_code(const void *msg);  /* ordinal of a command, return code of a response */

#define TPM2_ST_NO_SESSIONS 0x8001u
#define TPM2_ST_SESSIONS    0x8002u
#define TPM2_RC_SUCCESS     0x000u
#define TPM2_RC_INITIALIZE  0x100u  /* TPM not started up */
#define TPM12_TAG_RQU_COMMAND 0x00C1u
#define TPM12_TAG_RSP_COMMAND 0x00C4u

/* TPM 2.0 */
extern const uint8_t tpm2_cmd_startup_clear[12];      /* TPM2_Startup(TPM_SU_CLEAR) */
extern const uint8_t tpm2_cmd_pcr_extend_10[65];      /* TPM2_PCR_Extend(PCR 10, sha256 =
                                                          tpm2_extend_digest), password session */
extern const uint8_t tpm2_extend_digest[32];
extern const uint8_t tpm2_cmd_pcr_read_10[20];        /* TPM2_PCR_Read(sha256, PCR 10) */
extern const uint8_t tpm2_cmd_get_random_16[12];      /* TPM2_GetRandom(16) */
extern const uint8_t tpm2_cmd_get_cap_max_sizes[22];  /* TPM2_GetCapability(TPM_PROPERTIES,
                                                          MAX_COMMAND_SIZE, 2): QEMU's probe */
/* Builders for other PCRs/digests; return the command length (65 and 20). */
size_t tpm2_build_pcr_extend(uint8_t out[65], uint32_t pcr, const uint8_t sha256[32]);
size_t tpm2_build_pcr_read(uint8_t out[20], uint32_t pcr);
/* The sha256 value in a TPM2_PCR_Read response for one selected PCR; false if the response
 * does not have that shape. */
bool tpm2_pcr_read_value(const uint8_t *rsp, size_t len, uint8_t out[32]);

/* TPM 1.2 */
extern const uint8_t tpm12_cmd_startup_clear[12];     /* TPM_Startup(TPM_ST_CLEAR) */
extern const uint8_t tpm12_cmd_continue_selftest[10]; /* TPM_ContinueSelfTest (ordinal 0x53) */
extern const uint8_t tpm12_cmd_pcr_read_10[14];       /* TPM_PCRRead(10) */
extern const uint8_t tpm12_cmd_extend_10[34];         /* TPM_Extend(10, tpm12_extend_digest) */
extern const uint8_t tpm12_extend_digest[20];
extern const uint8_t tpm12_cmd_get_random_16[14];     /* TPM_GetRandom(16) */
extern const uint8_t tpm12_cmd_get_cap_input_buffer[22]; /* TPM_GetCapability(TPM_CAP_PROPERTY,
                                                             TPM_CAP_PROP_INPUT_BUFFER) */

/* ---- a real swtpm ---- */

typedef struct TpmSwtpm {
    char *dir;        /* private temporary directory: state, control socket, log */
    char *ctrl_path;  /* the control channel socket (--ctrl type=unixio,path=...) */
    char *log_path;
    pid_t pid;
    bool tpm2;
    bool reaped;      /* it ended and `wait_status` says how */
    int wait_status;
} TpmSwtpm;

/* Whether `swtpm` is installed and emulates that TPM version. */
bool tpm_swtpm_available(bool tpm2);
/* Starts `swtpm socket --tpmstate dir=D --ctrl type=unixio,path=D/ctrl [--tpm2]` in a new
 * temporary directory and waits until the control socket exists.  No --flags: like QEMU's own
 * tests, the TPM is initialised by the one that connects (CMD_INIT from the emulator backend).
 * Fails the test if swtpm cannot be started. */
void tpm_swtpm_start(TpmSwtpm *sw, bool tpm2);
/* Waits up to `timeout_ms` for swtpm to end by itself (after CMD_SHUTDOWN, say); returns the
 * wait status, or -1 if it is still running. */
int tpm_swtpm_wait_exit(TpmSwtpm *sw, int timeout_ms);
/* Stops it (SIGTERM unless it has already ended), removes the directory.  Returns the wait
 * status. */
int tpm_swtpm_stop(TpmSwtpm *sw);

/* The control channel, for tests that talk to swtpm directly (fault injection, checking the
 * canned commands): one request is a BE32 command code plus payload, the reply has a fixed
 * length per command. */
#define PTM_CMD_GET_CAPABILITY 0x01u
#define PTM_CMD_INIT           0x02u
#define PTM_CMD_SHUTDOWN       0x03u
#define PTM_CMD_GET_TPMESTABLISHED 0x04u
#define PTM_CMD_SET_LOCALITY   0x05u
#define PTM_CMD_STOP           0x0Eu
#define PTM_CMD_SET_DATAFD     0x10u
#define PTM_CMD_SET_BUFFERSIZE 0x11u

int tpm_swtpm_ctrl_connect(const TpmSwtpm *sw);
/* Sends `cmd` with `in`, reads exactly `out_len` bytes (the first 4 are the BE32 result).
 * `pass_fd` >= 0 travels with the request as SCM_RIGHTS.  False on any I/O error. */
bool tpm_swtpm_ctrl(int ctrl_fd, uint32_t cmd, const void *in, size_t in_len, void *out,
                    size_t out_len, int pass_fd);
/* CMD_SET_DATAFD with a new socketpair; returns our end of the data channel, or -1. */
int tpm_swtpm_open_data_channel(int ctrl_fd);
/* Writes a command on the data channel and reads one response (header, then the rest). */
size_t tpm_swtpm_data_transmit(int data_fd, const void *req, size_t req_len, void *rsp,
                               size_t rsp_size);

#ifdef __cplusplus
}
#endif

#endif /* QTPM_QTEST_TPM_UTIL_H */
