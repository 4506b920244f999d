/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * TPM command transmission through the TIS FIFO and the CRB, as a guest driver does it, plus
 * canned TPM 2.0 / TPM 1.2 commands (see tpm_util.h for the specifications followed).
 */
#include <string.h>

#include <glib.h>

#include "qtest/libqtest/tpm_util.h"
#include "qtest/libqtest/tpm_util_regs.h"

/* A command's completion arrives from a backend thread; this bounds the wait so a device that
 * never completes fails the test instead of hanging it.  Not a speed check. */
#define TPM_COMPLETION_TIMEOUT_US (30 * G_USEC_PER_SEC)

#define TPM_HDR_SIZE 10

/* ---- headers ---- */

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

uint16_t tpm_hdr_tag(const void *msg)
{
    const uint8_t *p = msg;
    return (uint16_t)(p[0] << 8 | p[1]);
}

uint32_t tpm_hdr_size(const void *msg)
{
    return be32((const uint8_t *)msg + 2);
}

uint32_t tpm_hdr_code(const void *msg)
{
    return be32((const uint8_t *)msg + 6);
}

static void check_request(const void *req, size_t req_len)
{
    if (req_len < TPM_HDR_SIZE || tpm_hdr_size(req) != req_len) {
        qtest_fail("tpm transmit: the test's command is malformed (length %zu, header says %u)",
                   req_len, req_len >= TPM_HDR_SIZE ? tpm_hdr_size(req) : 0);
    }
}

/* ---- TIS ---- */

static uint64_t tis_reg(uint64_t base, uint8_t locty, uint32_t reg)
{
    return base + (uint64_t)locty * TPM_TIS_LOCALITY_STRIDE + reg;
}

static uint32_t tis_burst(uint32_t sts)
{
    return (sts >> TPM_TIS_STS_BURST_SHIFT) & TPM_TIS_STS_BURST_MASK;
}

static void tis_request_locality(QTestState *s, uint64_t base, uint8_t locty)
{
    uint64_t access = tis_reg(base, locty, TPM_TIS_REG_ACCESS);
    uint8_t v = qtest_readb(s, access);
    if (!(v & TPM_TIS_ACCESS_ACTIVE)) {
        qtest_writeb(s, access, TPM_TIS_ACCESS_REQUEST_USE);
        v = qtest_readb(s, access);
    }
    const uint8_t want = TPM_TIS_ACCESS_REG_VALID | TPM_TIS_ACCESS_ACTIVE;
    if ((v & want) != want) {
        qtest_fail("TIS locality %u: ACCESS reads 0x%02x after requestUse: not granted", locty, v);
    }
}

void tpm_tis_relinquish(QTestState *s, uint64_t base, uint8_t locty)
{
    qtest_writeb(s, tis_reg(base, locty, TPM_TIS_REG_ACCESS), TPM_TIS_ACCESS_ACTIVE);
}

/* commandReady; returns the burst count the device then offers (its buffer size). */
static uint32_t tis_command_ready(QTestState *s, uint64_t sts_addr, uint8_t locty)
{
    qtest_writel(s, sts_addr, TPM_TIS_STS_COMMAND_READY);
    uint32_t sts = qtest_readl(s, sts_addr);
    if (!(sts & TPM_TIS_STS_COMMAND_READY)) {
        qtest_fail("TIS locality %u: STS 0x%08x after commandReady lacks commandReady", locty, sts);
    }
    return tis_burst(sts);
}

static void tis_write_command(QTestState *s, uint64_t base, uint8_t locty, const uint8_t *req,
                              size_t req_len, uint32_t burst0)
{
    uint64_t sts_addr = tis_reg(base, locty, TPM_TIS_REG_STS);
    uint64_t fifo = tis_reg(base, locty, TPM_TIS_REG_DATA_FIFO);
    if (burst0 < req_len) {
        qtest_fail("TIS locality %u: burst count %u after commandReady, command is %zu bytes",
                   locty, burst0, req_len);
    }
    for (size_t i = 0; i < req_len; i++) {
        qtest_writeb(s, fifo, req[i]);
        uint32_t sts = qtest_readl(s, sts_addr);
        bool want_expect = i + 1 < req_len;
        if (!(sts & TPM_TIS_STS_VALID) || !!(sts & TPM_TIS_STS_EXPECT) != want_expect) {
            qtest_fail("TIS locality %u: STS 0x%08x after command byte %zu of %zu: stsValid "
                       "must be set and Expect %s", locty, sts, i + 1, req_len,
                       want_expect ? "set" : "clear");
        }
        if (tis_burst(sts) != burst0 - (i + 1)) {
            qtest_fail("TIS locality %u: burst count %u after %zu bytes, expected %zu", locty,
                       tis_burst(sts), i + 1, burst0 - (i + 1));
        }
    }
}

static uint32_t tis_wait_data_avail(QTestState *s, uint64_t sts_addr, uint8_t locty)
{
    const uint32_t want = TPM_TIS_STS_VALID | TPM_TIS_STS_DATA_AVAIL;
    gint64 deadline = g_get_monotonic_time() + TPM_COMPLETION_TIMEOUT_US;
    uint32_t sts;
    while (((sts = qtest_readl(s, sts_addr)) & want) != want) {
        if (g_get_monotonic_time() > deadline) {
            qtest_fail("TIS locality %u: no response within %d s (STS 0x%08x)", locty,
                       (int)(TPM_COMPLETION_TIMEOUT_US / G_USEC_PER_SEC), sts);
        }
        g_usleep(100);
    }
    return sts;
}

static size_t tis_read_response(QTestState *s, uint64_t base, uint8_t locty, uint8_t *rsp,
                                size_t rsp_size, uint32_t burst0)
{
    uint64_t sts_addr = tis_reg(base, locty, TPM_TIS_REG_STS);
    uint64_t fifo = tis_reg(base, locty, TPM_TIS_REG_DATA_FIFO);
    uint8_t hdr[TPM_HDR_SIZE];
    size_t total = TPM_HDR_SIZE;  /* known once the header is in */
    for (size_t i = 0; i < total; i++) {
        uint8_t byte = qtest_readb(s, fifo);
        if (i < TPM_HDR_SIZE) {
            hdr[i] = byte;
        }
        if (i + 1 == TPM_HDR_SIZE) {
            total = tpm_hdr_size(hdr);
            if (total < TPM_HDR_SIZE || total != burst0 || total > rsp_size) {
                qtest_fail("TIS locality %u: response header size %zu (burst count was %u, "
                           "room for %zu)", locty, total, burst0, rsp_size);
            }
            memcpy(rsp, hdr, TPM_HDR_SIZE);
        } else if (i >= TPM_HDR_SIZE) {
            rsp[i] = byte;  /* i < total <= rsp_size */
        }
        uint32_t sts = qtest_readl(s, sts_addr);
        bool want_avail = i + 1 < total;
        if (!(sts & TPM_TIS_STS_VALID) || !!(sts & TPM_TIS_STS_DATA_AVAIL) != want_avail) {
            qtest_fail("TIS locality %u: STS 0x%08x after response byte %zu: dataAvail must be "
                       "%s", locty, sts, i + 1, want_avail ? "set" : "clear");
        }
        if (want_avail && tis_burst(sts) != burst0 - (i + 1)) {
            qtest_fail("TIS locality %u: burst count %u with %zu response bytes left", locty,
                       tis_burst(sts), (size_t)burst0 - (i + 1));
        }
    }
    return total;
}

size_t tpm_tis_transmit(QTestState *s, uint64_t base, uint8_t locty, const void *req,
                        size_t req_len, void *rsp, size_t rsp_size)
{
    check_request(req, req_len);
    uint64_t sts_addr = tis_reg(base, locty, TPM_TIS_REG_STS);
    tis_request_locality(s, base, locty);
    uint32_t burst0 = tis_command_ready(s, sts_addr, locty);
    tis_write_command(s, base, locty, req, req_len, burst0);

    qtest_writel(s, sts_addr, TPM_TIS_STS_GO);
    uint32_t sts = tis_wait_data_avail(s, sts_addr, locty);
    size_t len = tis_read_response(s, base, locty, rsp, rsp_size, tis_burst(sts));

    /* commandReady after the response: back to READY with the FIFO emptied. */
    qtest_writel(s, sts_addr, TPM_TIS_STS_COMMAND_READY);
    sts = qtest_readl(s, sts_addr);
    if (!(sts & TPM_TIS_STS_COMMAND_READY) || (sts & TPM_TIS_STS_DATA_AVAIL)) {
        qtest_fail("TIS locality %u: STS 0x%08x after the final commandReady", locty, sts);
    }
    return len;
}

/* ---- CRB ---- */

static void crb_request_access(QTestState *s, uint64_t base)
{
    qtest_writel(s, base + TPM_CRB_REG_LOC_CTRL, TPM_CRB_LOC_CTRL_REQUEST_ACCESS);
    uint32_t state = qtest_readl(s, base + TPM_CRB_REG_LOC_STATE);
    uint32_t sts = qtest_readl(s, base + TPM_CRB_REG_LOC_STS);
    const uint32_t want = TPM_CRB_LOC_STATE_REG_VALID | TPM_CRB_LOC_STATE_LOC_ASSIGNED;
    if ((state & want) != want || !(sts & TPM_CRB_LOC_STS_GRANTED)) {
        qtest_fail("CRB: locality 0 not granted (LOC_STATE 0x%08x, LOC_STS 0x%08x)", state, sts);
    }
}

static void crb_command_ready(QTestState *s, uint64_t base)
{
    qtest_writel(s, base + TPM_CRB_REG_CTRL_REQ, TPM_CRB_CTRL_REQ_CMD_READY);
    uint32_t sts = qtest_readl(s, base + TPM_CRB_REG_CTRL_STS);
    if (sts & (TPM_CRB_CTRL_STS_TPM_IDLE | TPM_CRB_CTRL_STS_TPM_STS)) {
        qtest_fail("CRB: CTRL_STS 0x%08x after cmdReady (must be neither idle nor failed)", sts);
    }
}

static void crb_wait_start_clear(QTestState *s, uint64_t base)
{
    gint64 deadline = g_get_monotonic_time() + TPM_COMPLETION_TIMEOUT_US;
    while (qtest_readl(s, base + TPM_CRB_REG_CTRL_START) & TPM_CRB_CTRL_START_START) {
        if (g_get_monotonic_time() > deadline) {
            qtest_fail("CRB: CTRL_START still set after %d s",
                       (int)(TPM_COMPLETION_TIMEOUT_US / G_USEC_PER_SEC));
        }
        g_usleep(100);
    }
}

size_t tpm_crb_transmit(QTestState *s, uint64_t base, const void *req, size_t req_len, void *rsp,
                        size_t rsp_size)
{
    check_request(req, req_len);
    crb_request_access(s, base);
    crb_command_ready(s, base);

    uint64_t cmd_addr = qtest_readl(s, base + TPM_CRB_REG_CTRL_CMD_LADDR) |
                        (uint64_t)qtest_readl(s, base + TPM_CRB_REG_CTRL_CMD_HADDR) << 32;
    uint32_t cmd_size = qtest_readl(s, base + TPM_CRB_REG_CTRL_CMD_SIZE);
    if (req_len > cmd_size) {
        qtest_fail("CRB: command of %zu bytes does not fit CTRL_CMD_SIZE %u", req_len, cmd_size);
    }
    qtest_memwrite(s, cmd_addr, req, req_len);
    qtest_writel(s, base + TPM_CRB_REG_CTRL_START, TPM_CRB_CTRL_START_START);
    crb_wait_start_clear(s, base);

    uint32_t sts = qtest_readl(s, base + TPM_CRB_REG_CTRL_STS);
    if (sts & TPM_CRB_CTRL_STS_TPM_STS) {
        qtest_fail("CRB: CTRL_STS 0x%08x: the TPM reported a fatal error", sts);
    }
    uint64_t rsp_addr = qtest_readl(s, base + TPM_CRB_REG_CTRL_RSP_ADDR) |
                        (uint64_t)qtest_readl(s, base + TPM_CRB_REG_CTRL_RSP_ADDR + 4) << 32;
    uint32_t rsp_max = qtest_readl(s, base + TPM_CRB_REG_CTRL_RSP_SIZE);
    uint8_t hdr[TPM_HDR_SIZE];
    qtest_memread(s, rsp_addr, hdr, sizeof(hdr));
    size_t total = tpm_hdr_size(hdr);
    if (total < TPM_HDR_SIZE || total > rsp_max || total > rsp_size) {
        qtest_fail("CRB: response header size %zu (CTRL_RSP_SIZE %u, room for %zu)", total,
                   rsp_max, rsp_size);
    }
    qtest_memread(s, rsp_addr, rsp, total);  /* total <= rsp_size checked above */
    return total;
}

/* ---- canned commands ---- */

const uint8_t tpm2_cmd_startup_clear[12] = {
    0x80, 0x01, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x00, 0x01, 0x44, /* TPM_CC_Startup */
    0x00, 0x00,                                                 /* TPM_SU_CLEAR */
};

const uint8_t tpm2_extend_digest[32] = {
    0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10,
    0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20,
};

size_t tpm2_build_pcr_extend(uint8_t out[65], uint32_t pcr, const uint8_t sha256[32])
{
    static const uint8_t head[] = {
        0x80, 0x02, 0x00, 0x00, 0x00, 0x41, 0x00, 0x00, 0x01, 0x82, /* sessions, 65, PCR_Extend */
        0x00, 0x00, 0x00, 0x00,                                     /* pcrHandle (set below) */
        0x00, 0x00, 0x00, 0x09,                                     /* authorization size */
        0x40, 0x00, 0x00, 0x09,                                     /* TPM_RS_PW */
        0x00, 0x00, 0x00, 0x00, 0x00,                      /* empty nonce, attributes, hmac */
        0x00, 0x00, 0x00, 0x01, 0x00, 0x0b,                         /* 1 digest, TPM_ALG_SHA256 */
    };
    memcpy(out, head, sizeof(head));
    put_be32(out + 10, pcr);
    memcpy(out + sizeof(head), sha256, 32);
    return sizeof(head) + 32;
}

size_t tpm2_build_pcr_read(uint8_t out[20], uint32_t pcr)
{
    static const uint8_t head[] = {
        0x80, 0x01, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x01, 0x7e, /* PCR_Read */
        0x00, 0x00, 0x00, 0x01, 0x00, 0x0b, 0x03,      /* 1 selection: SHA256, 3 select bytes */
    };
    memcpy(out, head, sizeof(head));
    memset(out + sizeof(head), 0, 3);
    out[sizeof(head) + (pcr / 8) % 3] = (uint8_t)(1u << (pcr % 8));  /* PCRs 0..23 */
    return sizeof(head) + 3;
}

bool tpm2_pcr_read_value(const uint8_t *rsp, size_t len, uint8_t out[32])
{
    /* header, pcrUpdateCounter, TPML_PCR_SELECTION{1, sha256, 3, 3 bytes},
     * TPML_DIGEST{1, TPM2B{32, digest}} */
    const size_t digest_at = TPM_HDR_SIZE + 4 + 4 + 2 + 1 + 3 + 4 + 2;
    if (len != digest_at + 32 || tpm_hdr_size(rsp) != len || tpm_hdr_code(rsp) != 0 ||
        be32(rsp + digest_at - 6) != 1 || rsp[digest_at - 2] != 0 || rsp[digest_at - 1] != 32) {
        return false;
    }
    memcpy(out, rsp + digest_at, 32);
    return true;
}

/* The constant forms of the builders' output for PCR 10. */
const uint8_t tpm2_cmd_pcr_extend_10[65] = {
    0x80, 0x02, 0x00, 0x00, 0x00, 0x41, 0x00, 0x00, 0x01, 0x82, 0x00, 0x00, 0x00, 0x0a,
    0x00, 0x00, 0x00, 0x09, 0x40, 0x00, 0x00, 0x09, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x0b,
    0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10,
    0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20,
};

const uint8_t tpm2_cmd_pcr_read_10[20] = {
    0x80, 0x01, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x01, 0x7e,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x0b, 0x03, 0x00, 0x04, 0x00,
};

const uint8_t tpm2_cmd_get_random_16[12] = {
    0x80, 0x01, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x00, 0x01, 0x7b, 0x00, 0x10,
};

const uint8_t tpm2_cmd_get_cap_max_sizes[22] = {
    0x80, 0x01, 0x00, 0x00, 0x00, 0x16, 0x00, 0x00, 0x01, 0x7a, /* GetCapability */
    0x00, 0x00, 0x00, 0x06,                                     /* TPM_CAP_TPM_PROPERTIES */
    0x00, 0x00, 0x01, 0x1e,                                     /* TPM_PT_MAX_COMMAND_SIZE */
    0x00, 0x00, 0x00, 0x02,                                     /* and the next one */
};

const uint8_t tpm12_cmd_startup_clear[12] = {
    0x00, 0xc1, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x00, 0x00, 0x99, 0x00, 0x01,
};

const uint8_t tpm12_cmd_continue_selftest[10] = {
    0x00, 0xc1, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x00, 0x53,
};

const uint8_t tpm12_cmd_pcr_read_10[14] = {
    0x00, 0xc1, 0x00, 0x00, 0x00, 0x0e, 0x00, 0x00, 0x00, 0x15, 0x00, 0x00, 0x00, 0x0a,
};

const uint8_t tpm12_extend_digest[20] = {
    0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9,
    0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf, 0xb0, 0xb1, 0xb2, 0xb3,
};

const uint8_t tpm12_cmd_extend_10[34] = {
    0x00, 0xc1, 0x00, 0x00, 0x00, 0x22, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x0a,
    0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9,
    0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf, 0xb0, 0xb1, 0xb2, 0xb3,
};

const uint8_t tpm12_cmd_get_random_16[14] = {
    0x00, 0xc1, 0x00, 0x00, 0x00, 0x0e, 0x00, 0x00, 0x00, 0x46, 0x00, 0x00, 0x00, 0x10,
};

const uint8_t tpm12_cmd_get_cap_input_buffer[22] = {
    0x00, 0xc1, 0x00, 0x00, 0x00, 0x16, 0x00, 0x00, 0x00, 0x65, /* TPM_GetCapability */
    0x00, 0x00, 0x00, 0x05,                                     /* TPM_CAP_PROPERTY */
    0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x01, 0x24,             /* PROP_INPUT_BUFFER */
};
