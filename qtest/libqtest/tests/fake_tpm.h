/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A deliberately small TPM interface model for the fake qtest host, so that the TIS and CRB
 * transmit helpers (tpm_util.h) are exercised, and their checks shown to fire, without the real
 * devices.  Locality 0 of the TIS FIFO protocol and the CRB start protocol, at 0xFED40000; the
 * "TPM" answers every command with a 14-byte response: success plus the command's ordinal.
 * Faults make it break one rule a guest driver relies on.
 */
#ifndef QTPM_FAKE_TPM_H
#define QTPM_FAKE_TPM_H

#include <stdbool.h>
#include <stdint.h>

typedef enum FakeTpmKind { FAKE_TPM_NONE, FAKE_TPM_TIS, FAKE_TPM_CRB } FakeTpmKind;

typedef enum FakeTpmFault {
    FAKE_TPM_OK,
    FAKE_TPM_EXPECT_STUCK,    /* TIS: STS.Expect never clears */
    FAKE_TPM_BURST_STUCK,     /* TIS: the burst count does not drop while writing */
    FAKE_TPM_CRB_FATAL,       /* CRB: CTRL_STS.tpmSts set after START */
    FAKE_TPM_CRB_OVERSIZE,    /* CRB: response header claims more than CTRL_RSP_SIZE */
} FakeTpmFault;

#define FAKE_TPM_BASE 0xfed40000u

/* Guest memory of the fake host (the CRB buffer lives there). */
typedef struct FakeTpmMemory {
    uint8_t (*get)(void *opaque, uint64_t addr);
    void (*put)(void *opaque, uint64_t addr, uint8_t value);
    void *opaque;
} FakeTpmMemory;

typedef struct FakeTpm FakeTpm;

FakeTpm *fake_tpm_new(FakeTpmKind kind, FakeTpmFault fault, FakeTpmMemory mem);
void fake_tpm_free(FakeTpm *t);
/* A register access; false if `addr` is not one of the model's registers (plain memory). */
bool fake_tpm_read(FakeTpm *t, uint64_t addr, unsigned size, uint64_t *value);
bool fake_tpm_write(FakeTpm *t, uint64_t addr, unsigned size, uint64_t value);

#endif /* QTPM_FAKE_TPM_H */
