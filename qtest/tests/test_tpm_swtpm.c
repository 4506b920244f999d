/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * End to end through the whole stack: a real swtpm, the emulator backend, one TPM frontend
 * (QTPM_TEST_DEVICE: tpm-tis, tpm-crb or tpm-tis-device) in qtpm-system, and commands sent
 * through the device's registers as a guest driver sends them (tpm_util.h).  Also the
 * query-tpm shape with a bound backend (qapi TPMInfo, reference §8).
 *
 * Exits 77 (skip) while the host, the device or the emulator backend is not built.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "host_test.h"
#include "qtest/libqtest/tpm_util.h"

static const char *device(void)
{
    return getenv("QTPM_TEST_DEVICE");
}

static bool is_crb(void)
{
    return strcmp(device(), "tpm-crb") == 0;
}

static uint64_t base(void)
{
    if (strcmp(device(), "tpm-tis-device") == 0) {
        return TPM_TIS_ARM_VIRT_BASE;
    }
    return is_crb() ? TPM_CRB_BASE : TPM_TIS_ISA_BASE;
}

static size_t transmit(QTestState *s, const void *req, size_t len, uint8_t *rsp)
{
    if (is_crb()) {
        return tpm_crb_transmit(s, base(), req, len, rsp, 4096);
    }
    return tpm_tis_transmit(s, base(), 0, req, len, rsp, 4096);
}

static QTestState *start_with_swtpm(TpmSwtpm *sw, bool tpm2)
{
    tpm_swtpm_start(sw, tpm2);
    return qtest_initf("%s -chardev socket,id=chrtpm,path=%s -tpmdev emulator,id=dev0,"
                       "chardev=chrtpm -device %s,tpmdev=dev0",
                       host_test_machine(), sw->ctrl_path, device());
}

START_TEST(query_tpm_shows_the_bound_backend)
{
    TpmSwtpm sw;
    QTestState *s = start_with_swtpm(&sw, true);
    json_object *tpms = qtest_qmp_assert_success_ref(s, "{'execute': 'query-tpm'}");
    ck_assert_int_eq((int)json_object_array_length(tpms), 1);
    json_object *info = json_object_array_get_idx(tpms, 0);
    ck_assert_str_eq(json_object_get_string(host_test_member(info, "id", json_type_string)),
                     "dev0");
    ck_assert_str_eq(json_object_get_string(host_test_member(info, "model", json_type_string)),
                     is_crb() ? "tpm-crb" : "tpm-tis");
    json_object *opts = host_test_member(info, "options", json_type_object);
    ck_assert_str_eq(json_object_get_string(host_test_member(opts, "type", json_type_string)),
                     "emulator");
    json_object *data = host_test_member(opts, "data", json_type_object);
    ck_assert_str_eq(json_object_get_string(host_test_member(data, "chardev", json_type_string)),
                     "chrtpm");
    json_object_put(tpms);
    qtest_quit(s);
    tpm_swtpm_stop(&sw);
}
END_TEST

START_TEST(tpm2_commands_through_the_device)
{
    TpmSwtpm sw;
    uint8_t rsp[4096], pcr[32];
    QTestState *s = start_with_swtpm(&sw, true);

    size_t n = transmit(s, tpm2_cmd_startup_clear, sizeof(tpm2_cmd_startup_clear), rsp);
    ck_assert_uint_eq(n, 10);
    ck_assert_uint_eq(tpm_hdr_code(rsp), TPM2_RC_SUCCESS);

    n = transmit(s, tpm2_cmd_pcr_extend_10, sizeof(tpm2_cmd_pcr_extend_10), rsp);
    ck_assert_uint_eq(tpm_hdr_code(rsp), TPM2_RC_SUCCESS);
    ck_assert_uint_eq(n, 19);

    uint8_t zeros[32] = { 0 }, expect[32];
    gsize len = sizeof(expect);
    GChecksum *sum = g_checksum_new(G_CHECKSUM_SHA256);
    g_checksum_update(sum, zeros, 32);
    g_checksum_update(sum, tpm2_extend_digest, 32);
    g_checksum_get_digest(sum, expect, &len);
    g_checksum_free(sum);
    n = transmit(s, tpm2_cmd_pcr_read_10, sizeof(tpm2_cmd_pcr_read_10), rsp);
    ck_assert(tpm2_pcr_read_value(rsp, n, pcr));
    ck_assert_mem_eq(pcr, expect, 32);

    n = transmit(s, tpm2_cmd_get_random_16, sizeof(tpm2_cmd_get_random_16), rsp);
    ck_assert_uint_eq(tpm_hdr_code(rsp), TPM2_RC_SUCCESS);
    ck_assert_uint_eq(n, 28);
    qtest_quit(s);
    tpm_swtpm_stop(&sw);
}
END_TEST

START_TEST(tpm12_commands_through_the_tis)
{
    if (is_crb()) {
        return;  /* the CRB is a TPM 2.0 interface */
    }
    TpmSwtpm sw;
    uint8_t rsp[4096];
    QTestState *s = start_with_swtpm(&sw, false);
    size_t n = transmit(s, tpm12_cmd_startup_clear, sizeof(tpm12_cmd_startup_clear), rsp);
    ck_assert_uint_eq(n, 10);
    ck_assert_uint_eq(tpm_hdr_tag(rsp), TPM12_TAG_RSP_COMMAND);
    ck_assert_uint_eq(tpm_hdr_code(rsp), 0);
    n = transmit(s, tpm12_cmd_extend_10, sizeof(tpm12_cmd_extend_10), rsp);
    ck_assert_uint_eq(tpm_hdr_code(rsp), 0);
    ck_assert_uint_eq(n, 30);
    qtest_quit(s);
    tpm_swtpm_stop(&sw);
}
END_TEST

/* Skips (77) unless the host lists the device and the emulator backend, and swtpm exists. */
static void require_stack(void)
{
    host_test_require_binary();
    if (!device()) {
        printf("SKIP: QTPM_TEST_DEVICE is not set\n");
        exit(HOST_TEST_SKIP);
    }
    bool has_device = host_test_has_device(device());
    char *args = g_strdup_printf("%s -tpmdev help", host_test_machine());
    QTestRunResult r = qtest_run_binary(args, 20000);
    bool has_emulator = strstr(r.err, " emulator ") != NULL;  /* QEMU prints it on stderr */
    qtest_run_result_clear(&r);
    g_free(args);
    if (!has_device || !has_emulator) {
        printf("SKIP: the host has%s%s%s yet\n", has_device ? "" : " no device ",
               has_device ? "" : device(), has_emulator ? "" : " no emulator backend");
        exit(HOST_TEST_SKIP);
    }
    if (!tpm_swtpm_available(true)) {
        printf("FAIL: swtpm is not installed (scripts/install-deps --tests)\n");
        exit(1);
    }
}

int main(void)
{
    require_stack();
    Suite *suite = suite_create("tpm-swtpm");
    TCase *tc = tcase_create("tpm-swtpm");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, query_tpm_shows_the_bound_backend);
    tcase_add_test(tc, tpm2_commands_through_the_device);
    tcase_add_test(tc, tpm12_commands_through_the_tis);
    suite_add_tcase(suite, tc);
    return host_test_run(suite);
}
