/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A scripted swtpm for tests, C interface (C qtests use this; C++ tests may use fake_swtpm.h).
 *
 * The fake listens on a UNIX socket like `swtpm socket --ctrl type=unixio,path=PATH`, speaks the
 * control protocol of swtpm_ioctls(3) as swtpm 0.7.1 does (including its 4-byte error replies),
 * takes the data channel with CMD_SET_DATAFD, and answers TPM commands with a minimal canned TPM
 * (enough for a backend's version probe, buffer-size query, TPM2_Startup and GetRandom; other
 * commands get success or a configured response).  On demand it misbehaves: see
 * fake_swtpm_fault.  It records what it received so tests can assert on it.
 */
#ifndef QTPM_FAKE_SWTPM_C_H
#define QTPM_FAKE_SWTPM_C_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum fake_swtpm_fault {
    FAKE_SWTPM_OK = 0,
    /* Faults on TPM commands (data channel). */
    FAKE_SWTPM_DATA_DIE = 1,         /* the process "exits" on receiving the command */
    FAKE_SWTPM_DATA_NO_REPLY = 2,    /* the command is never answered; control still works */
    FAKE_SWTPM_DATA_SHORT = 3,       /* half the response, then silence */
    FAKE_SWTPM_DATA_SHORT_CLOSE = 4, /* half the response, then the data channel closes */
    FAKE_SWTPM_DATA_OVERSIZED = 5,   /* a response larger than any negotiated buffer */
    FAKE_SWTPM_DATA_UNDERSIZED = 6,  /* a header claiming fewer than 10 bytes */
    FAKE_SWTPM_DATA_GARBAGE = 7,     /* bytes that are no TPM response */
    FAKE_SWTPM_DATA_TRAILING = 8,    /* a valid response followed by stray bytes */
    FAKE_SWTPM_DATA_SLOW = 9,        /* answered after delay_ms, or at once (as cancelled) when
                                        CMD_CANCEL_TPM_CMD arrives first */
    /* Faults on control commands. */
    FAKE_SWTPM_CTRL_DIE = 32,        /* the process "exits" on receiving the command */
    FAKE_SWTPM_CTRL_NO_REPLY = 33,   /* the command is never answered */
    FAKE_SWTPM_CTRL_SHORT = 34,      /* part of the reply, then silence */
    FAKE_SWTPM_CTRL_RESULT = 35,     /* a bare 4-byte reply carrying `result` */
    FAKE_SWTPM_CTRL_TRAILING = 36,   /* the reply followed by 4 stray bytes */
    FAKE_SWTPM_CTRL_BAD_BLOB = 37,   /* GET_STATEBLOB: a header announcing an absurd blob */
    /* Either channel: stop reading and answering anything, like a hung process. */
    FAKE_SWTPM_FREEZE = 64
} fake_swtpm_fault;

typedef struct fake_swtpm fake_swtpm;

/* Starts a fake TPM 2.0 (tpm2 != 0) or TPM 1.2 listening on ctrl_path; NULL on failure. */
fake_swtpm *fake_swtpm_start(const char *ctrl_path, int tpm2);
/* Stops the fake (its thread ends, its sockets close, ctrl_path is removed) and frees it. */
void fake_swtpm_free(fake_swtpm *f);
const char *fake_swtpm_ctrl_path(const fake_swtpm *f);

/* Configuration; takes effect for the next command. */
void fake_swtpm_set_caps(fake_swtpm *f, uint32_t caps);
void fake_swtpm_set_buffer_sizes(fake_swtpm *f, uint32_t current, uint32_t min, uint32_t max);
void fake_swtpm_set_established(fake_swtpm *f, int established);
/* Answers TPM commands with this ordinal/command code with `rsp` (copied) while running. */
void fake_swtpm_set_response(fake_swtpm *f, uint32_t ordinal, const uint8_t *rsp, size_t len);

/* Fault injection.  count: how many of the next matching commands misbehave (< 0: all).
 * ctrl_cmd: the control command code to hit (0: any). */
void fake_swtpm_inject_data(fake_swtpm *f, fake_swtpm_fault fault, int count, unsigned delay_ms);
void fake_swtpm_inject_ctrl(fake_swtpm *f, uint32_t ctrl_cmd, fake_swtpm_fault fault, int count,
                            uint32_t result);

/* Records. */
size_t fake_swtpm_data_command_count(const fake_swtpm *f);
/* Copies the n-th TPM command received (0-based) into buf; returns its length (0: none). */
size_t fake_swtpm_data_command(const fake_swtpm *f, size_t n, uint8_t *buf, size_t buf_len,
                               uint8_t *locality);
size_t fake_swtpm_ctrl_count(const fake_swtpm *f, uint32_t ctrl_cmd); /* 0: all commands */
int fake_swtpm_last_locality(const fake_swtpm *f); /* from SET_LOCALITY; -1: never set */
int fake_swtpm_running(const fake_swtpm *f);       /* between INIT and STOP/SHUTDOWN */
int fake_swtpm_alive(const fake_swtpm *f);         /* not dead or shut down */
unsigned fake_swtpm_cancel_count(const fake_swtpm *f);
/* Waits until at least n TPM commands arrived or timeout_ms passed; returns whether they did. */
int fake_swtpm_wait_data_commands(const fake_swtpm *f, size_t n, int timeout_ms);

#ifdef __cplusplus
}
#endif

#endif /* QTPM_FAKE_SWTPM_C_H */
