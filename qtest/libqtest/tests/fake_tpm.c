/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The fake TIS/CRB of the fake qtest host (fake_tpm.h).  Semantics follow what QEMU 7.2's
 * devices show a driver (reference §2.6-2.8, §3): TIS commandReady / Expect / burst count / GO /
 * dataAvail, CRB requestAccess / cmdReady / START.  Only what the transmit helpers touch.
 */
#include <stdlib.h>

#include <glib.h>

#include "fake_tpm.h"
#include "qtest/libqtest/tpm_util_regs.h"

#define BUF_SIZE 4096
#define RSP_LEN 14
#define CRB_BUFFER_SIZE 0xf80u

typedef enum TisState { TIS_IDLE, TIS_READY, TIS_RECEPTION, TIS_COMPLETION } TisState;

struct FakeTpm {
    FakeTpmKind kind;
    FakeTpmFault fault;
    FakeTpmMemory mem;
    /* TIS, locality 0 */
    bool active;
    TisState state;
    uint32_t sts;
    uint8_t buf[BUF_SIZE];
    uint32_t len;      /* command bytes received, or response length */
    uint32_t offset;   /* response bytes read */
    /* CRB */
    bool assigned;
    bool idle;
    bool fatal;
};

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* The "TPM": success, and the command's ordinal as the payload. */
static void respond(uint8_t out[RSP_LEN], uint32_t ordinal, uint32_t claimed_size)
{
    out[0] = 0x80;
    out[1] = 0x01;
    put_be32(out + 2, claimed_size);
    put_be32(out + 6, 0);
    put_be32(out + 10, ordinal);
}

FakeTpm *fake_tpm_new(FakeTpmKind kind, FakeTpmFault fault, FakeTpmMemory mem)
{
    FakeTpm *t = g_new0(FakeTpm, 1);
    t->kind = kind;
    t->fault = fault;
    t->mem = mem;
    t->idle = true;
    return t;
}

void fake_tpm_free(FakeTpm *t)
{
    g_free(t);
}

/* ---- TIS ---- */

static uint32_t tis_sts_value(FakeTpm *t)
{
    uint32_t burst;
    if (t->sts & TPM_TIS_STS_DATA_AVAIL) {
        burst = t->len - t->offset;
    } else if (t->fault == FAKE_TPM_BURST_STUCK && t->state == TIS_RECEPTION) {
        burst = BUF_SIZE;
    } else {
        burst = BUF_SIZE - (t->state == TIS_RECEPTION ? t->len : 0);
    }
    return burst << TPM_TIS_STS_BURST_SHIFT | t->sts;
}

static void tis_fifo_write(FakeTpm *t, uint8_t byte)
{
    if (t->state == TIS_READY) {
        t->state = TIS_RECEPTION;
        t->len = 0;
        t->sts = TPM_TIS_STS_VALID | TPM_TIS_STS_EXPECT;
    }
    if (t->state != TIS_RECEPTION || !(t->sts & TPM_TIS_STS_EXPECT) || t->len >= BUF_SIZE) {
        return;
    }
    t->buf[t->len++] = byte;
    if (t->len >= 6 && be32(t->buf + 2) <= t->len && t->fault != FAKE_TPM_EXPECT_STUCK) {
        t->sts = TPM_TIS_STS_VALID;  /* the whole command is in */
    }
}

static void tis_sts_write(FakeTpm *t, uint32_t v)
{
    if (v == TPM_TIS_STS_COMMAND_READY) {
        t->state = TIS_READY;
        t->sts = TPM_TIS_STS_COMMAND_READY;
        t->len = t->offset = 0;
    } else if (v == TPM_TIS_STS_GO && t->state == TIS_RECEPTION &&
               !(t->sts & TPM_TIS_STS_EXPECT)) {
        uint32_t ordinal = t->len >= 10 ? be32(t->buf + 6) : 0;
        respond(t->buf, ordinal, RSP_LEN);
        t->len = RSP_LEN;
        t->offset = 0;
        t->state = TIS_COMPLETION;
        t->sts = TPM_TIS_STS_VALID | TPM_TIS_STS_DATA_AVAIL;
    }
}

static bool tis_read(FakeTpm *t, uint32_t off, uint64_t *value)
{
    switch (off) {
    case TPM_TIS_REG_ACCESS:
        *value = TPM_TIS_ACCESS_REG_VALID | (t->active ? TPM_TIS_ACCESS_ACTIVE : 0) | 0x01;
        return true;
    case TPM_TIS_REG_STS:
        *value = t->active ? tis_sts_value(t) : 0xffffffffu;
        return true;
    case TPM_TIS_REG_DATA_FIFO:
        *value = 0xff;
        if (t->active && t->state == TIS_COMPLETION && (t->sts & TPM_TIS_STS_DATA_AVAIL)) {
            *value = t->buf[t->offset++];
            if (t->offset >= t->len) {
                t->sts = TPM_TIS_STS_VALID;
            }
        }
        return true;
    default:
        return false;
    }
}

static bool tis_write(FakeTpm *t, uint32_t off, uint64_t v)
{
    switch (off) {
    case TPM_TIS_REG_ACCESS:
        if (v & TPM_TIS_ACCESS_ACTIVE) {
            t->active = false;
        } else if (v & TPM_TIS_ACCESS_REQUEST_USE) {
            t->active = true;
        }
        return true;
    case TPM_TIS_REG_STS:
        if (t->active) {
            tis_sts_write(t, (uint32_t)v);
        }
        return true;
    case TPM_TIS_REG_DATA_FIFO:
        if (t->active) {
            tis_fifo_write(t, (uint8_t)v);
        }
        return true;
    default:
        return false;
    }
}

/* ---- CRB ---- */

static void crb_start(FakeTpm *t)
{
    uint8_t hdr[10];
    uint64_t buf = FAKE_TPM_BASE + 0x80;
    for (int i = 0; i < 10; i++) {
        hdr[i] = t->mem.get(t->mem.opaque, buf + i);
    }
    uint8_t out[RSP_LEN];
    respond(out, be32(hdr + 6), t->fault == FAKE_TPM_CRB_OVERSIZE ? CRB_BUFFER_SIZE + 1 : RSP_LEN);
    for (int i = 0; i < RSP_LEN; i++) {
        t->mem.put(t->mem.opaque, buf + i, out[i]);
    }
    t->fatal = t->fault == FAKE_TPM_CRB_FATAL;
}

static bool crb_read(FakeTpm *t, uint32_t off, uint64_t *value)
{
    switch (off) {
    case TPM_CRB_REG_LOC_STATE:
        *value = TPM_CRB_LOC_STATE_REG_VALID | (t->assigned ? TPM_CRB_LOC_STATE_LOC_ASSIGNED : 0);
        return true;
    case TPM_CRB_REG_LOC_STS:
        *value = t->assigned ? TPM_CRB_LOC_STS_GRANTED : 0;
        return true;
    case TPM_CRB_REG_CTRL_STS:
        *value = (t->idle ? TPM_CRB_CTRL_STS_TPM_IDLE : 0) | (t->fatal ? TPM_CRB_CTRL_STS_TPM_STS : 0);
        return true;
    case TPM_CRB_REG_CTRL_START:
        *value = 0;  /* commands complete at once */
        return true;
    case TPM_CRB_REG_CTRL_CMD_SIZE:
    case TPM_CRB_REG_CTRL_RSP_SIZE:
        *value = CRB_BUFFER_SIZE;
        return true;
    case TPM_CRB_REG_CTRL_CMD_LADDR:
    case TPM_CRB_REG_CTRL_RSP_ADDR:
        *value = FAKE_TPM_BASE + 0x80;
        return true;
    case TPM_CRB_REG_CTRL_CMD_HADDR:
    case TPM_CRB_REG_CTRL_RSP_ADDR + 4:
        *value = 0;
        return true;
    default:
        return false;
    }
}

static bool crb_write(FakeTpm *t, uint32_t off, uint64_t v)
{
    switch (off) {
    case TPM_CRB_REG_LOC_CTRL:
        if (v == TPM_CRB_LOC_CTRL_REQUEST_ACCESS) {
            t->assigned = true;
        } else if (v == TPM_CRB_LOC_CTRL_RELINQUISH) {
            t->assigned = false;
        }
        return true;
    case TPM_CRB_REG_CTRL_REQ:
        if (v == TPM_CRB_CTRL_REQ_CMD_READY || v == TPM_CRB_CTRL_REQ_GO_IDLE) {
            t->idle = v == TPM_CRB_CTRL_REQ_GO_IDLE;
        }
        return true;
    case TPM_CRB_REG_CTRL_START:
        if (v == TPM_CRB_CTRL_START_START && t->assigned) {
            crb_start(t);
        }
        return true;
    default:
        return off < 0x80;  /* the rest of the register file ignores writes */
    }
}

/* ---- dispatch ---- */

static bool in_window(FakeTpm *t, uint64_t addr, uint32_t *off)
{
    uint64_t size = t->kind == FAKE_TPM_CRB ? 0x80 : 0x1000;
    if (t->kind == FAKE_TPM_NONE || addr < FAKE_TPM_BASE || addr >= FAKE_TPM_BASE + size) {
        return false;
    }
    *off = (uint32_t)(addr - FAKE_TPM_BASE);
    return true;
}

bool fake_tpm_read(FakeTpm *t, uint64_t addr, unsigned size, uint64_t *value)
{
    uint32_t off;
    if (!in_window(t, addr, &off)) {
        return false;
    }
    bool handled = t->kind == FAKE_TPM_TIS ? tis_read(t, off, value) : crb_read(t, off, value);
    if (handled && size < 8) {
        *value &= (UINT64_C(1) << (8 * size)) - 1;
    }
    return handled;
}

bool fake_tpm_write(FakeTpm *t, uint64_t addr, unsigned size, uint64_t value)
{
    uint32_t off;
    (void)size;
    if (!in_window(t, addr, &off)) {
        return false;
    }
    return t->kind == FAKE_TPM_TIS ? tis_write(t, off, value) : crb_write(t, off, value);
}
