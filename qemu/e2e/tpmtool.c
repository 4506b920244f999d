/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * tpmtool: the small static helper that runs inside the e2e guest (initramfs), next to
 * tpm2-tools.  It does what tpm2-tools cannot do or must not be trusted to do for a test:
 *
 *   tpmtool bench DEV N            times N each of TPM2_GetRandom(32), TPM2_PCR_Extend(16, sha256)
 *                                  and TPM2_PCR_Read(sha256:16) through DEV (raw command/response
 *                                  writes, as a resource-manager client) and prints the medians
 *   tpmtool getrandom12 DEV        one raw TPM 1.2 TPM_GetRandom(16) through DEV
 *   tpmtool extend12 DEV PCR HEX   one raw TPM 1.2 TPM_Extend of a 20-byte digest; prints the new
 *                                  PCR value
 *   tpmtool replay12 LOG PCRS      replays a TPM 1.2 (TCPA, SHA-1) firmware event log and compares
 *                                  the result with Linux's /sys/class/tpm/tpm0/pcrs
 *   tpmtool sha256cat HEX HEX      SHA-256 of the two byte strings concatenated (the expected value
 *                                  of a PCR after an extend), printed as hex
 *   tpmtool u32le FILE OFFSET      a little-endian 32-bit field of a file (ACPI start method)
 *   tpmtool crbregs BASE           the CRB command/response buffer address and size registers
 *                                  (TCG PC Client PTP 1.05, CRB control area) read through
 *                                  /dev/mem (needs iomem=relaxed: tpm_crb owns the region)
 *
 * Command layouts: TCG TPM 2.0 Library Part 3 (rev 1.59) for GetRandom, PCR_Extend, PCR_Read;
 * TPM 1.2 Main Part 3 (rev 116) for TPM_GetRandom and TPM_Extend; TCG PC Client Specific Implementation
 * Specification for Conventional BIOS 1.21 for the SHA-1 event log (TCG_PCClientPCREventStruct).
 * Hashes: FIPS 180-4.  Every result is one line starting with "E2E-TOOL"; the guest init turns it
 * into its check lines.  Exit status 0 only on success.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

/* ---- hashes (FIPS 180-4), written for this tool; small inputs only ---- */

static uint32_t rol32(uint32_t v, int n) { return (v << n) | (v >> (32 - n)); }
static uint32_t ror32(uint32_t v, int n) { return (v >> n) | (v << (32 - n)); }

/* Pads msg as FIPS 180-4 5.1.1 and calls block() for each 64-byte block. */
static void md_blocks(const uint8_t *msg, size_t len, void (*block)(void *, const uint8_t *),
                      void *state)
{
    uint8_t tail[128];
    size_t full = len / 64 * 64;
    for (size_t off = 0; off < full; off += 64)
        block(state, msg + off);
    size_t rest = len - full;
    memset(tail, 0, sizeof(tail));
    memcpy(tail, msg + full, rest);
    tail[rest] = 0x80;
    size_t tail_len = rest + 1 + 8 <= 64 ? 64 : 128;
    uint64_t bits = (uint64_t)len * 8;
    for (int i = 0; i < 8; i++)
        tail[tail_len - 1 - i] = (uint8_t)(bits >> (8 * i));
    block(state, tail);
    if (tail_len == 128)
        block(state, tail + 64);
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void sha1_block(void *state, const uint8_t *b)
{
    uint32_t *h = state, w[80];
    for (int t = 0; t < 16; t++)
        w[t] = be32(b + 4 * t);
    for (int t = 16; t < 80; t++)
        w[t] = rol32(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], 1);
    uint32_t a = h[0], bb = h[1], c = h[2], d = h[3], e = h[4];
    for (int t = 0; t < 80; t++) {
        uint32_t f, k;
        if (t < 20) { f = (bb & c) | (~bb & d); k = 0x5a827999; }
        else if (t < 40) { f = bb ^ c ^ d; k = 0x6ed9eba1; }
        else if (t < 60) { f = (bb & c) | (bb & d) | (c & d); k = 0x8f1bbcdc; }
        else { f = bb ^ c ^ d; k = 0xca62c1d6; }
        uint32_t tmp = rol32(a, 5) + f + e + k + w[t];
        e = d; d = c; c = rol32(bb, 30); bb = a; a = tmp;
    }
    h[0] += a; h[1] += bb; h[2] += c; h[3] += d; h[4] += e;
}

static const uint32_t k256[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static void sha256_block(void *state, const uint8_t *b)
{
    uint32_t *h = state, w[64], v[8];
    for (int t = 0; t < 16; t++)
        w[t] = be32(b + 4 * t);
    for (int t = 16; t < 64; t++) {
        uint32_t s0 = ror32(w[t - 15], 7) ^ ror32(w[t - 15], 18) ^ (w[t - 15] >> 3);
        uint32_t s1 = ror32(w[t - 2], 17) ^ ror32(w[t - 2], 19) ^ (w[t - 2] >> 10);
        w[t] = w[t - 16] + s0 + w[t - 7] + s1;
    }
    memcpy(v, h, sizeof(v));
    for (int t = 0; t < 64; t++) {
        uint32_t S1 = ror32(v[4], 6) ^ ror32(v[4], 11) ^ ror32(v[4], 25);
        uint32_t ch = (v[4] & v[5]) ^ (~v[4] & v[6]);
        uint32_t t1 = v[7] + S1 + ch + k256[t] + w[t];
        uint32_t S0 = ror32(v[0], 2) ^ ror32(v[0], 13) ^ ror32(v[0], 22);
        uint32_t maj = (v[0] & v[1]) ^ (v[0] & v[2]) ^ (v[1] & v[2]);
        memmove(v + 1, v, 7 * sizeof(uint32_t));
        v[4] += t1;
        v[0] = t1 + S0 + maj;
    }
    for (int i = 0; i < 8; i++)
        h[i] += v[i];
}

static void put_words(const uint32_t *h, int n, uint8_t *out)
{
    for (int i = 0; i < n; i++)
        for (int j = 0; j < 4; j++)
            out[4 * i + j] = (uint8_t)(h[i] >> (24 - 8 * j));
}

static void sha1(const uint8_t *msg, size_t len, uint8_t out[20])
{
    uint32_t h[5] = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0};
    md_blocks(msg, len, sha1_block, h);
    put_words(h, 5, out);
}

static void sha256(const uint8_t *msg, size_t len, uint8_t out[32])
{
    uint32_t h[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                     0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    md_blocks(msg, len, sha256_block, h);
    put_words(h, 8, out);
}

/* ---- helpers ---- */

static int parse_hex(const char *s, uint8_t *out, size_t max)
{
    size_t n = strlen(s);
    if (n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        s += 2;
        n -= 2;
    }
    if (n % 2 || n / 2 > max)
        return -1;
    for (size_t i = 0; i < n / 2; i++) {
        unsigned v;
        if (sscanf(s + 2 * i, "%2x", &v) != 1)
            return -1;
        out[i] = (uint8_t)v;
    }
    return (int)(n / 2);
}

static void print_hex(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        printf("%02x", p[i]);
}

static void put_be16(uint8_t *p, uint16_t v) { p[0] = v >> 8; p[1] = (uint8_t)v; }
static void put_be32(uint8_t *p, uint32_t v) { put_be16(p, v >> 16); put_be16(p + 2, (uint16_t)v); }

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* One command/response round trip through a Linux TPM character device.  Returns the response
 * length, or -1 with errno; *rc gets the response code. */
static int transact(int fd, const uint8_t *cmd, size_t len, uint8_t *rsp, size_t rsp_max,
                    uint32_t *rc)
{
    if (write(fd, cmd, len) != (ssize_t)len)
        return -1;
    ssize_t got = read(fd, rsp, rsp_max);
    if (got < 10) {
        if (got >= 0)
            errno = EPROTO;
        return -1;
    }
    *rc = be32(rsp + 6);
    return (int)got;
}

/* ---- subcommands ---- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, n, sizeof(double), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

struct timing {
    double median, mean, min;
    int fast; /* runs under 500 us: answered before the driver's first 1 ms sleep */
};

/* Times n runs of one command; returns 0, or -1 on a failed command. */
static int time_command(int fd, const uint8_t *cmd, size_t len, int n, const char *name,
                        struct timing *out)
{
    uint8_t rsp[4096];
    double *t = calloc(n, sizeof(double)), sum = 0;
    if (!t)
        return -1;
    for (int i = 0; i < n; i++) {
        uint32_t rc = 0;
        double t0 = now_us();
        int got = transact(fd, cmd, len, rsp, sizeof(rsp), &rc);
        t[i] = now_us() - t0;
        sum += t[i];
        if (got < 0 || rc != 0) {
            printf("E2E-TOOL bench FAIL %s run %d: %s rc=0x%x\n", name, i,
                   got < 0 ? strerror(errno) : "TPM error", rc);
            free(t);
            return -1;
        }
    }
    out->mean = sum / n;
    out->fast = 0;
    for (int i = 0; i < n; i++)
        out->fast += t[i] < 500.0;
    out->median = median(t, n); /* sorts t */
    out->min = t[0];
    free(t);
    return 0;
}

static int cmd_bench(const char *dev, int n)
{
    int fd = open(dev, O_RDWR);
    if (fd < 0) {
        printf("E2E-TOOL bench FAIL open %s: %s\n", dev, strerror(errno));
        return 1;
    }
    /* TPM2_GetRandom(bytesRequested = 32), no sessions. */
    uint8_t getrandom[12];
    put_be16(getrandom, 0x8001);
    put_be32(getrandom + 2, sizeof(getrandom));
    put_be32(getrandom + 6, 0x17b);
    put_be16(getrandom + 10, 32);
    /* TPM2_PCR_Extend(PCR 16) with a password session (TPM_RS_PW, empty auth), one sha256 digest. */
    uint8_t extend[65];
    memset(extend, 0, sizeof(extend));
    put_be16(extend, 0x8002);
    put_be32(extend + 2, sizeof(extend));
    put_be32(extend + 6, 0x182);
    put_be32(extend + 10, 16);
    put_be32(extend + 14, 9);          /* authorizationSize */
    put_be32(extend + 18, 0x40000009); /* TPM_RS_PW; nonce 0, attributes 0, hmac 0 follow */
    put_be32(extend + 27, 1);          /* TPML_DIGEST_VALUES.count */
    put_be16(extend + 31, 0x000b);     /* TPM_ALG_SHA256 */
    memset(extend + 33, 0x5a, 32);
    /* TPM2_PCR_Read(sha256: PCR 16). */
    uint8_t pcrread[20];
    put_be16(pcrread, 0x8001);
    put_be32(pcrread + 2, sizeof(pcrread));
    put_be32(pcrread + 6, 0x17e);
    put_be32(pcrread + 10, 1);
    put_be16(pcrread + 14, 0x000b);
    pcrread[16] = 3;
    pcrread[17] = 0;
    pcrread[18] = 0;
    pcrread[19] = 0x01;

    struct timing g, e, r;
    int bad = time_command(fd, getrandom, sizeof(getrandom), n, "getrandom", &g) ||
              time_command(fd, extend, sizeof(extend), n, "extend", &e) ||
              time_command(fd, pcrread, sizeof(pcrread), n, "pcrread", &r);
    close(fd);
    if (bad)
        return 1;
    /* Medians are the headline; mean and minimum show how much of it is the guest driver's
     * polling sleeps (Linux sleeps ~1 ms whenever a response is not ready at its first look). */
    printf("E2E-TOOL bench PASS n=%d", n);
    const char *names[] = {"getrandom", "extend", "pcrread"};
    const struct timing *all[] = {&g, &e, &r};
    for (int i = 0; i < 3; i++)
        printf(" %s_us=%.1f %s_mean_us=%.1f %s_min_us=%.1f %s_fast=%d", names[i], all[i]->median,
               names[i], all[i]->mean, names[i], all[i]->min, names[i], all[i]->fast);
    printf("\n");
    return 0;
}

static int cmd_getrandom12(const char *dev)
{
    int fd = open(dev, O_RDWR);
    if (fd < 0) {
        printf("E2E-TOOL getrandom12 FAIL open %s: %s\n", dev, strerror(errno));
        return 1;
    }
    /* TPM_GetRandom: TPM_TAG_RQU_COMMAND, size 14, TPM_ORD_GetRandom, bytesRequested 16. */
    uint8_t cmd[14], rsp[256];
    put_be16(cmd, 0x00c1);
    put_be32(cmd + 2, sizeof(cmd));
    put_be32(cmd + 6, 0x46);
    put_be32(cmd + 10, 16);
    uint32_t rc = 0;
    int got = transact(fd, cmd, sizeof(cmd), rsp, sizeof(rsp), &rc);
    close(fd);
    if (got < 0) {
        printf("E2E-TOOL getrandom12 FAIL %s\n", strerror(errno));
        return 1;
    }
    if (rc != 0 || got < 14 || be32(rsp + 10) + 14 > (uint32_t)got || be32(rsp + 10) == 0) {
        printf("E2E-TOOL getrandom12 FAIL rc=0x%x len=%d\n", rc, got);
        return 1;
    }
    printf("E2E-TOOL getrandom12 PASS bytes=%u ", be32(rsp + 10));
    print_hex(rsp + 14, be32(rsp + 10));
    printf("\n");
    return 0;
}

static int cmd_extend12(const char *dev, const char *pcr_arg, const char *hex)
{
    /* TPM_Extend: TPM_TAG_RQU_COMMAND, size 34, TPM_ORD_Extend, pcrNum, inDigest[20]. */
    uint8_t cmd[34], rsp[64];
    put_be16(cmd, 0x00c1);
    put_be32(cmd + 2, sizeof(cmd));
    put_be32(cmd + 6, 0x14);
    put_be32(cmd + 10, (uint32_t)strtoul(pcr_arg, NULL, 0));
    if (parse_hex(hex, cmd + 14, 20) != 20) {
        printf("E2E-TOOL extend12 FAIL digest must be 20 bytes of hex\n");
        return 1;
    }
    int fd = open(dev, O_RDWR);
    if (fd < 0) {
        printf("E2E-TOOL extend12 FAIL open %s: %s\n", dev, strerror(errno));
        return 1;
    }
    uint32_t rc = 0;
    int got = transact(fd, cmd, sizeof(cmd), rsp, sizeof(rsp), &rc);
    close(fd);
    if (got < 30 || rc != 0) {
        printf("E2E-TOOL extend12 FAIL %s rc=0x%x\n", got < 0 ? strerror(errno) : "", rc);
        return 1;
    }
    printf("E2E-TOOL extend12 PASS ");
    print_hex(rsp + 10, 20);
    printf("\n");
    return 0;
}

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 65536, n = 0;
    uint8_t *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap)
            break;
        uint8_t *bigger = realloc(buf, cap * 2);
        if (!bigger) {
            free(buf);
            buf = NULL;
        }
        buf = bigger;
        cap *= 2;
    }
    fclose(f);
    *len = n;
    return buf;
}

/* Reads "PCR-NN: XX XX ..." lines (Linux's TPM 1.2 pcrs attribute). Returns how many were read. */
static int read_pcrs_file(const char *path, uint8_t pcrs[24][20])
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char line[256];
    int count = 0;
    while (fgets(line, sizeof(line), f)) {
        unsigned idx, b[20];
        if (sscanf(line, "PCR-%u: %x %x %x %x %x %x %x %x %x %x %x %x %x %x %x %x %x %x %x %x", &idx,
                   &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &b[6], &b[7], &b[8], &b[9], &b[10],
                   &b[11], &b[12], &b[13], &b[14], &b[15], &b[16], &b[17], &b[18], &b[19]) != 21 ||
            idx >= 24)
            continue;
        for (int i = 0; i < 20; i++)
            pcrs[idx][i] = (uint8_t)b[i];
        count++;
    }
    fclose(f);
    return count;
}

static int cmd_replay12(const char *log_path, const char *pcrs_path)
{
    size_t len = 0;
    uint8_t *log = read_file(log_path, &len);
    if (!log) {
        printf("E2E-TOOL replay12 FAIL cannot read %s: %s\n", log_path, strerror(errno));
        return 1;
    }
    uint8_t actual[24][20];
    int have = read_pcrs_file(pcrs_path, actual);
    if (have < 8) {
        printf("E2E-TOOL replay12 FAIL %s has %d PCR lines\n", pcrs_path, have);
        free(log);
        return 1;
    }
    uint8_t pcr[24][20];
    int used[24] = {0}, events = 0;
    memset(pcr, 0, sizeof(pcr));
    /* TCG_PCClientPCREventStruct: pcrIndex, eventType, digest[20], eventDataSize, event. */
    size_t off = 0;
    while (off + 32 <= len) {
        uint32_t idx = le32(log + off), type = le32(log + off + 4), size = le32(log + off + 28);
        if (size > len - off - 32) {
            printf("E2E-TOOL replay12 FAIL event %d at offset %zu overruns the log\n", events, off);
            free(log);
            return 1;
        }
        if (idx >= 24) {
            printf("E2E-TOOL replay12 FAIL event %d names PCR %u\n", events, idx);
            free(log);
            return 1;
        }
        if (type != 3) { /* EV_NO_ACTION is logged but never extended */
            uint8_t cat[40];
            memcpy(cat, pcr[idx], 20);
            memcpy(cat + 20, log + off + 8, 20);
            sha1(cat, sizeof(cat), pcr[idx]);
            used[idx] = 1;
        }
        events++;
        off += 32 + size;
    }
    free(log);
    int checked = 0, bad = 0;
    for (int i = 0; i < 24; i++) {
        if (!used[i])
            continue;
        checked++;
        if (memcmp(pcr[i], actual[i], 20) != 0) {
            bad++;
            printf("E2E-TOOL replay12-mismatch pcr=%d log=", i);
            print_hex(pcr[i], 20);
            printf(" tpm=");
            print_hex(actual[i], 20);
            printf("\n");
        }
    }
    if (events == 0 || checked == 0) {
        printf("E2E-TOOL replay12 FAIL empty log\n");
        return 1;
    }
    printf("E2E-TOOL replay12 %s events=%d pcrs=%d mismatches=%d\n", bad ? "FAIL" : "PASS", events,
           checked, bad);
    return bad != 0;
}

static int cmd_sha256cat(const char *a, const char *b)
{
    uint8_t buf[128], out[32];
    int la = parse_hex(a, buf, 64);
    int lb = la < 0 ? -1 : parse_hex(b, buf + la, 64);
    if (lb < 0) {
        printf("E2E-TOOL sha256cat FAIL bad hex argument\n");
        return 1;
    }
    sha256(buf, (size_t)(la + lb), out);
    print_hex(out, 32);
    printf("\n");
    return 0;
}

static int cmd_u32le(const char *path, const char *offset)
{
    size_t len = 0;
    uint8_t *data = read_file(path, &len);
    long off = strtol(offset, NULL, 0);
    if (!data || off < 0 || (size_t)off + 4 > len) {
        printf("E2E-TOOL u32le FAIL %s: %s\n", path, data ? "too short" : strerror(errno));
        free(data);
        return 1;
    }
    printf("%u\n", le32(data + off));
    free(data);
    return 0;
}

static int cmd_crbregs(const char *base_arg)
{
    unsigned long base = strtoul(base_arg, NULL, 0);
    int fd = open("/dev/mem", O_RDONLY | O_SYNC);
    if (fd < 0) {
        printf("E2E-TOOL crbregs FAIL /dev/mem: %s\n", strerror(errno));
        return 1;
    }
    void *map = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, (off_t)base);
    close(fd);
    if (map == MAP_FAILED) {
        printf("E2E-TOOL crbregs FAIL mmap 0x%lx: %s\n", base, strerror(errno));
        return 1;
    }
    /* Plain 32-bit reads of registers without side effects. */
    volatile const uint32_t *r = map;
    uint32_t cmd_size = r[0x58 / 4], cmd_lo = r[0x5c / 4], cmd_hi = r[0x60 / 4];
    uint32_t rsp_size = r[0x64 / 4], rsp_lo = r[0x68 / 4], rsp_hi = r[0x6c / 4];
    munmap(map, 4096);
    printf("E2E-TOOL crbregs PASS cmd=0x%llx+0x%x rsp=0x%llx+0x%x\n",
           (unsigned long long)cmd_hi << 32 | cmd_lo, cmd_size,
           (unsigned long long)rsp_hi << 32 | rsp_lo, rsp_size);
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc == 4 && !strcmp(argv[1], "bench"))
        return cmd_bench(argv[2], atoi(argv[3]) > 0 ? atoi(argv[3]) : 1);
    if (argc == 3 && !strcmp(argv[1], "getrandom12"))
        return cmd_getrandom12(argv[2]);
    if (argc == 5 && !strcmp(argv[1], "extend12"))
        return cmd_extend12(argv[2], argv[3], argv[4]);
    if (argc == 4 && !strcmp(argv[1], "replay12"))
        return cmd_replay12(argv[2], argv[3]);
    if (argc == 4 && !strcmp(argv[1], "sha256cat"))
        return cmd_sha256cat(argv[2], argv[3]);
    if (argc == 4 && !strcmp(argv[1], "u32le"))
        return cmd_u32le(argv[2], argv[3]);
    if (argc == 3 && !strcmp(argv[1], "crbregs"))
        return cmd_crbregs(argv[2]);
    fprintf(stderr, "usage: tpmtool bench DEV N | getrandom12 DEV | extend12 DEV PCR HEX | replay12 LOG PCRS | "
                    "sha256cat HEX HEX | u32le FILE OFFSET | crbregs BASE\n");
    return 2;
}
