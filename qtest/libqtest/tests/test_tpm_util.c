/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Tests of the TPM test utilities (tpm_util.h) that need no device: the canned commands are
 * checked against a real swtpm (started for real, driven over its control and data channels as
 * QEMU's emulator backend does), and the swtpm helper's start/stop is checked on the way.
 */
#include <check.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>

#include "qtest/libqtest/tpm_util.h"
#include "fake_host.h"

/* swtpm is a test dependency (scripts/install-deps --tests): missing it is a failure, not a
 * skip, so a machine without it cannot pass these tests by accident. */
#define REQUIRE_SWTPM(tpm2) \
    ck_assert_msg(tpm_swtpm_available(tpm2), "swtpm emulating TPM %s is not installed", \
                  (tpm2) ? "2.0" : "1.2")

START_TEST(canned_commands_have_consistent_headers)
{
    struct { const uint8_t *cmd; size_t len; uint16_t tag; uint32_t code; } cases[] = {
        { tpm2_cmd_startup_clear, sizeof(tpm2_cmd_startup_clear), 0x8001, 0x144 },
        { tpm2_cmd_pcr_extend_10, sizeof(tpm2_cmd_pcr_extend_10), 0x8002, 0x182 },
        { tpm2_cmd_pcr_read_10, sizeof(tpm2_cmd_pcr_read_10), 0x8001, 0x17e },
        { tpm2_cmd_get_random_16, sizeof(tpm2_cmd_get_random_16), 0x8001, 0x17b },
        { tpm2_cmd_get_cap_max_sizes, sizeof(tpm2_cmd_get_cap_max_sizes), 0x8001, 0x17a },
        { tpm12_cmd_startup_clear, sizeof(tpm12_cmd_startup_clear), 0xc1, 0x99 },
        { tpm12_cmd_continue_selftest, sizeof(tpm12_cmd_continue_selftest), 0xc1, 0x53 },
        { tpm12_cmd_pcr_read_10, sizeof(tpm12_cmd_pcr_read_10), 0xc1, 0x15 },
        { tpm12_cmd_extend_10, sizeof(tpm12_cmd_extend_10), 0xc1, 0x14 },
        { tpm12_cmd_get_random_16, sizeof(tpm12_cmd_get_random_16), 0xc1, 0x46 },
        { tpm12_cmd_get_cap_input_buffer, sizeof(tpm12_cmd_get_cap_input_buffer), 0xc1, 0x65 },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        ck_assert_uint_eq(tpm_hdr_size(cases[i].cmd), cases[i].len);
        ck_assert_uint_eq(tpm_hdr_tag(cases[i].cmd), cases[i].tag);
        ck_assert_uint_eq(tpm_hdr_code(cases[i].cmd), cases[i].code);
    }
    ck_assert_mem_eq(tpm12_cmd_extend_10 + 14, tpm12_extend_digest, 20);
}
END_TEST

START_TEST(builders_match_the_canned_pcr10_commands)
{
    uint8_t buf[65];
    ck_assert_uint_eq(tpm2_build_pcr_extend(buf, 10, tpm2_extend_digest), 65);
    ck_assert_mem_eq(buf, tpm2_cmd_pcr_extend_10, 65);
    ck_assert_uint_eq(tpm2_build_pcr_read(buf, 10), 20);
    ck_assert_mem_eq(buf, tpm2_cmd_pcr_read_10, 20);
    tpm2_build_pcr_read(buf, 23);
    ck_assert_uint_eq(buf[17], 0);
    ck_assert_uint_eq(buf[18], 0);
    ck_assert_uint_eq(buf[19], 0x80);
}
END_TEST

/* A started swtpm with the data channel open and CMD_INIT done, as the emulator backend
 * leaves it after machine reset. */
typedef struct Conn {
    TpmSwtpm sw;
    int ctrl, data;
} Conn;

static void connect_and_init(Conn *c, bool tpm2)
{
    tpm_swtpm_start(&c->sw, tpm2);
    ck_assert(g_file_test(c->sw.ctrl_path, G_FILE_TEST_EXISTS));
    c->ctrl = tpm_swtpm_ctrl_connect(&c->sw);
    ck_assert_int_ge(c->ctrl, 0);
    c->data = tpm_swtpm_open_data_channel(c->ctrl);
    ck_assert_int_ge(c->data, 0);
    uint8_t flags[4] = { 0 }, res[4] = { 0xff };
    ck_assert(tpm_swtpm_ctrl(c->ctrl, PTM_CMD_INIT, flags, 4, res, 4, -1));
    ck_assert_mem_eq(res, "\0\0\0\0", 4);
}

/* CMD_SHUTDOWN ends swtpm by itself (shortly after its reply: wait for that, a bound on a hang
 * rather than a speed check); stop then finds it gone and cleans up. */
static void shutdown_and_stop(Conn *c)
{
    uint8_t res[4] = { 0xff };
    ck_assert(tpm_swtpm_ctrl(c->ctrl, PTM_CMD_SHUTDOWN, NULL, 0, res, 4, -1));
    ck_assert_mem_eq(res, "\0\0\0\0", 4);
    close(c->data);
    close(c->ctrl);
    char *dir = g_strdup(c->sw.dir);
    ck_assert_int_ne(tpm_swtpm_wait_exit(&c->sw, 10000), -1);
    int st = tpm_swtpm_stop(&c->sw);
    ck_assert(WIFEXITED(st));
    ck_assert_int_eq(WEXITSTATUS(st), 0);
    ck_assert(!g_file_test(dir, G_FILE_TEST_EXISTS));
    g_free(dir);
}

static size_t run(Conn *c, const uint8_t *cmd, size_t len, uint8_t *rsp)
{
    return tpm_swtpm_data_transmit(c->data, cmd, len, rsp, 4096);
}

START_TEST(tpm2_canned_commands_on_real_swtpm)
{
    REQUIRE_SWTPM(true);
    Conn c;
    uint8_t rsp[4096];
    connect_and_init(&c, true);

    /* Before TPM2_Startup the TPM refuses commands. */
    size_t n = run(&c, tpm2_cmd_get_random_16, sizeof(tpm2_cmd_get_random_16), rsp);
    ck_assert_uint_eq(n, 10);
    ck_assert_uint_eq(tpm_hdr_code(rsp), TPM2_RC_INITIALIZE);

    n = run(&c, tpm2_cmd_startup_clear, sizeof(tpm2_cmd_startup_clear), rsp);
    ck_assert_uint_eq(n, 10);
    ck_assert_uint_eq(tpm_hdr_tag(rsp), TPM2_ST_NO_SESSIONS);
    ck_assert_uint_eq(tpm_hdr_code(rsp), TPM2_RC_SUCCESS);

    uint8_t pcr[32], zeros[32] = { 0 };
    n = run(&c, tpm2_cmd_pcr_read_10, sizeof(tpm2_cmd_pcr_read_10), rsp);
    ck_assert(tpm2_pcr_read_value(rsp, n, pcr));
    ck_assert_mem_eq(pcr, zeros, 32);

    n = run(&c, tpm2_cmd_pcr_extend_10, sizeof(tpm2_cmd_pcr_extend_10), rsp);
    ck_assert_uint_eq(tpm_hdr_code(rsp), TPM2_RC_SUCCESS);
    ck_assert_uint_eq(tpm_hdr_tag(rsp), TPM2_ST_SESSIONS);
    ck_assert_uint_eq(n, 19);  /* header, parameterSize, empty password-session response */

    /* PCR := sha256(old PCR || digest) */
    GChecksum *sum = g_checksum_new(G_CHECKSUM_SHA256);
    g_checksum_update(sum, zeros, 32);
    g_checksum_update(sum, tpm2_extend_digest, 32);
    uint8_t expect[32];
    gsize len = sizeof(expect);
    g_checksum_get_digest(sum, expect, &len);
    g_checksum_free(sum);
    n = run(&c, tpm2_cmd_pcr_read_10, sizeof(tpm2_cmd_pcr_read_10), rsp);
    ck_assert(tpm2_pcr_read_value(rsp, n, pcr));
    ck_assert_mem_eq(pcr, expect, 32);

    n = run(&c, tpm2_cmd_get_random_16, sizeof(tpm2_cmd_get_random_16), rsp);
    ck_assert_uint_eq(tpm_hdr_code(rsp), TPM2_RC_SUCCESS);
    ck_assert_uint_eq(n, 10 + 2 + 16);

    /* The probe QEMU uses for the buffer size: exactly 35 bytes with two properties. */
    n = run(&c, tpm2_cmd_get_cap_max_sizes, sizeof(tpm2_cmd_get_cap_max_sizes), rsp);
    ck_assert_uint_eq(tpm_hdr_code(rsp), TPM2_RC_SUCCESS);
    ck_assert_uint_eq(n, 35);
    ck_assert_uint_eq(rsp[18], 2);  /* TPML_TAGGED_TPM_PROPERTY count (low byte) */

    shutdown_and_stop(&c);
}
END_TEST

START_TEST(tpm12_canned_commands_on_real_swtpm)
{
    REQUIRE_SWTPM(false);
    Conn c;
    uint8_t rsp[4096];
    connect_and_init(&c, false);

    size_t n = run(&c, tpm12_cmd_startup_clear, sizeof(tpm12_cmd_startup_clear), rsp);
    ck_assert_uint_eq(n, 10);
    ck_assert_uint_eq(tpm_hdr_tag(rsp), TPM12_TAG_RSP_COMMAND);
    ck_assert_uint_eq(tpm_hdr_code(rsp), 0);

    n = run(&c, tpm12_cmd_continue_selftest, sizeof(tpm12_cmd_continue_selftest), rsp);
    ck_assert_uint_eq(tpm_hdr_code(rsp), 0);

    /* QEMU's buffer-size probe for 1.2: exactly 18 bytes, a 4-byte value. */
    n = run(&c, tpm12_cmd_get_cap_input_buffer, sizeof(tpm12_cmd_get_cap_input_buffer), rsp);
    ck_assert_uint_eq(tpm_hdr_code(rsp), 0);
    ck_assert_uint_eq(n, 18);

    n = run(&c, tpm12_cmd_pcr_read_10, sizeof(tpm12_cmd_pcr_read_10), rsp);
    ck_assert_uint_eq(tpm_hdr_code(rsp), 0);
    ck_assert_uint_eq(n, 30);
    uint8_t zeros[20] = { 0 };
    ck_assert_mem_eq(rsp + 10, zeros, 20);

    n = run(&c, tpm12_cmd_extend_10, sizeof(tpm12_cmd_extend_10), rsp);
    ck_assert_uint_eq(tpm_hdr_code(rsp), 0);
    ck_assert_uint_eq(n, 30);
    GChecksum *sum = g_checksum_new(G_CHECKSUM_SHA1);
    g_checksum_update(sum, zeros, 20);
    g_checksum_update(sum, tpm12_extend_digest, 20);
    uint8_t expect[20];
    gsize len = sizeof(expect);
    g_checksum_get_digest(sum, expect, &len);
    g_checksum_free(sum);
    ck_assert_mem_eq(rsp + 10, expect, 20);  /* TPM_Extend returns the new value */

    shutdown_and_stop(&c);
}
END_TEST

START_TEST(stop_terminates_a_running_swtpm)
{
    REQUIRE_SWTPM(true);
    TpmSwtpm sw;
    tpm_swtpm_start(&sw, true);
    pid_t pid = sw.pid;
    int st = tpm_swtpm_stop(&sw);
    ck_assert(WIFEXITED(st) || WIFSIGNALED(st));
    ck_assert_int_ne(kill(pid, 0), 0);  /* reaped: the pid is gone */
    ck_assert_ptr_null(sw.dir);
}
END_TEST

/* ---- the transmit helpers against the fake TIS/CRB (fake_tpm.h) ---- */

static FakeHostThread fake;

static QTestState *start_fake_tpm(FakeTpmKind kind, FakeTpmFault fault)
{
    fake = (FakeHostThread){ .options = { .tpm = kind, .tpm_fault = fault } };
    return qtest_init_with_connector(fake_host_connector, &fake, true);
}

static void assert_echo_response(const uint8_t *rsp, size_t n, const uint8_t *cmd)
{
    ck_assert_uint_eq(n, 14);
    ck_assert_uint_eq(tpm_hdr_size(rsp), 14);
    ck_assert_uint_eq(tpm_hdr_code(rsp), 0);
    ck_assert_mem_eq(rsp + 10, cmd + 6, 4);  /* the fake answers with the command's ordinal */
}

START_TEST(tis_transmit_round_trips)
{
    QTestState *s = start_fake_tpm(FAKE_TPM_TIS, FAKE_TPM_OK);
    uint8_t rsp[64];
    size_t n = tpm_tis_transmit(s, FAKE_TPM_BASE, 0, tpm2_cmd_pcr_extend_10,
                                sizeof(tpm2_cmd_pcr_extend_10), rsp, sizeof(rsp));
    assert_echo_response(rsp, n, tpm2_cmd_pcr_extend_10);
    /* Twice: the helper leaves the interface ready for the next command. */
    n = tpm_tis_transmit(s, FAKE_TPM_BASE, 0, tpm12_cmd_startup_clear,
                         sizeof(tpm12_cmd_startup_clear), rsp, sizeof(rsp));
    assert_echo_response(rsp, n, tpm12_cmd_startup_clear);
    tpm_tis_relinquish(s, FAKE_TPM_BASE, 0);
    ck_assert_uint_eq(qtest_readb(s, FAKE_TPM_BASE) & 0x20, 0);
    qtest_quit(s);
    fake_host_join(&fake);
}
END_TEST

START_TEST(crb_transmit_round_trips)
{
    QTestState *s = start_fake_tpm(FAKE_TPM_CRB, FAKE_TPM_OK);
    uint8_t rsp[64];
    size_t n = tpm_crb_transmit(s, FAKE_TPM_BASE, tpm2_cmd_get_cap_max_sizes,
                                sizeof(tpm2_cmd_get_cap_max_sizes), rsp, sizeof(rsp));
    assert_echo_response(rsp, n, tpm2_cmd_get_cap_max_sizes);
    qtest_quit(s);
    fake_host_join(&fake);
}
END_TEST

/* Each of these breaks one rule; the helper must notice (test failure = SIGABRT). */
static void transmit_with_fault(FakeTpmKind kind, FakeTpmFault fault)
{
    QTestState *s = start_fake_tpm(kind, fault);
    uint8_t rsp[64];
    if (kind == FAKE_TPM_TIS) {
        tpm_tis_transmit(s, FAKE_TPM_BASE, 0, tpm2_cmd_startup_clear,
                         sizeof(tpm2_cmd_startup_clear), rsp, sizeof(rsp));
    } else {
        tpm_crb_transmit(s, FAKE_TPM_BASE, tpm2_cmd_startup_clear,
                         sizeof(tpm2_cmd_startup_clear), rsp, sizeof(rsp));
    }
}

START_TEST(tis_expect_stuck_is_caught) { transmit_with_fault(FAKE_TPM_TIS, FAKE_TPM_EXPECT_STUCK); }
END_TEST

START_TEST(tis_burst_stuck_is_caught) { transmit_with_fault(FAKE_TPM_TIS, FAKE_TPM_BURST_STUCK); }
END_TEST

START_TEST(crb_fatal_error_is_caught) { transmit_with_fault(FAKE_TPM_CRB, FAKE_TPM_CRB_FATAL); }
END_TEST

START_TEST(crb_oversized_response_is_caught)
{
    transmit_with_fault(FAKE_TPM_CRB, FAKE_TPM_CRB_OVERSIZE);
}
END_TEST

START_TEST(no_device_is_caught) { transmit_with_fault(FAKE_TPM_NONE, FAKE_TPM_OK); }
END_TEST

START_TEST(malformed_test_command_is_caught)
{
    QTestState *s = start_fake_tpm(FAKE_TPM_TIS, FAKE_TPM_OK);
    uint8_t rsp[64];
    /* 11 bytes whose header says 12 */
    tpm_tis_transmit(s, FAKE_TPM_BASE, 0, tpm2_cmd_startup_clear, 11, rsp, sizeof(rsp));
}
END_TEST

int main(void)
{
    Suite *suite = suite_create("tpm_util");
    TCase *tc = tcase_create("tpm_util");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, canned_commands_have_consistent_headers);
    tcase_add_test(tc, builders_match_the_canned_pcr10_commands);
    tcase_add_test(tc, tpm2_canned_commands_on_real_swtpm);
    tcase_add_test(tc, tpm12_canned_commands_on_real_swtpm);
    tcase_add_test(tc, stop_terminates_a_running_swtpm);
    suite_add_tcase(suite, tc);

    TCase *tx = tcase_create("transmit");
    tcase_add_test(tx, tis_transmit_round_trips);
    tcase_add_test(tx, crb_transmit_round_trips);
    tcase_add_test_raise_signal(tx, tis_expect_stuck_is_caught, SIGABRT);
    tcase_add_test_raise_signal(tx, tis_burst_stuck_is_caught, SIGABRT);
    tcase_add_test_raise_signal(tx, crb_fatal_error_is_caught, SIGABRT);
    tcase_add_test_raise_signal(tx, crb_oversized_response_is_caught, SIGABRT);
    tcase_add_test_raise_signal(tx, no_device_is_caught, SIGABRT);
    tcase_add_test_raise_signal(tx, malformed_test_command_is_caught, SIGABRT);
    suite_add_tcase(suite, tx);
    SRunner *runner = srunner_create(suite);
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed ? 1 : 0;
}
