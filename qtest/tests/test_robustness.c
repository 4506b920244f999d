/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The host under hostile input and at the end of its life.  QEMU 7.2's qtest server aborts on a
 * malformed number (g_assert); qtpm must answer every bad line with an error reply, keep
 * serving, and never crash (docs/testing.md).  Likewise for QMP: malformed JSON and malformed
 * messages give error replies.  Termination: SIGTERM and SIGINT end it with status 0, and so
 * does dropping either connection.
 */
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#include <glib.h>

#include "host_test.h"

static QTestState *start(void)
{
    return qtest_init(host_test_machine());
}

/* The host still answers qtest and QMP. */
static void assert_alive(QTestState *s)
{
    char *r = qtest_command(s, "endianness");
    ck_assert_str_eq(r, "OK little");
    g_free(r);
    json_object_put(qtest_qmp_assert_success_ref(s, "{'execute': 'query-status'}"));
}

static void assert_error_reply(const char *request, const char *reply)
{
    ck_assert_msg(g_str_has_prefix(reply, "ERR") || g_str_has_prefix(reply, "FAIL"),
                  "'%.80s' got '%s'", request, reply);
}

/* ---- qtest ---- */

static const char *const bad_qtest_lines[] = {
    "readb", "readb zzz", "readb 0x", "readl 99999999999999999999999", "readq -",
    "writeb 0x0", "writew 0x0 garbage", "inb 0x10000", "outb 0x1ffff 1",
    "read 0x0 0", "read 0x0 0xffffffffffffffff", "read 0x0", "write 0x0 2 0x",
    "write 0x0 2 0xzz", "write 0x0 0xffffffffffff 0x00",
    "memset 0x0 1", "clock_step abc",
    "clock_set", "irq_intercept_in", "irq_intercept_in /machine/no-such-device",
    "set_irq_in /machine/no-such-device x 0 1", "", " ", "READB 0x0", "module_load",
    "no-such-command",
};

START_TEST(bad_qtest_lines_get_error_replies)
{
    QTestState *s = start();
    for (size_t i = 0; i < G_N_ELEMENTS(bad_qtest_lines); i++) {
        char *r = qtest_command(s, "%s", bad_qtest_lines[i]);
        assert_error_reply(bad_qtest_lines[i], r);
        g_free(r);
    }
    assert_alive(s);
    qtest_quit(s);
}
END_TEST

START_TEST(random_qtest_bytes_get_error_replies)
{
    QTestState *s = start();
    GRand *rand = g_rand_new_with_seed(20261122);
    for (int round = 0; round < 64; round++) {
        char line[200];
        size_t len = (size_t)g_rand_int_range(rand, 1, (int)sizeof(line) - 1);
        for (size_t i = 0; i < len; i++) {
            do {
                line[i] = (char)g_rand_int_range(rand, 0, 256);
            } while (line[i] == '\n');
        }
        line[len] = '\n';
        qtest_send_raw(s, line, len + 1);
        char *r = qtest_receive_line(s);
        assert_error_reply("(random bytes)", r);
        g_free(r);
    }
    g_rand_free(rand);
    assert_alive(s);
    qtest_quit(s);
}
END_TEST

START_TEST(overlong_qtest_line_gets_an_error_reply)
{
    QTestState *s = start();
    size_t len = 4 << 20;
    char *line = g_malloc(len + 1);
    memset(line, 'a', len);
    memcpy(line, "readb ", 6);
    line[len] = '\n';
    qtest_send_raw(s, line, len + 1);
    char *r = qtest_receive_line(s);
    assert_error_reply("(4 MiB line)", r);
    g_free(r);
    g_free(line);
    assert_alive(s);
    qtest_quit(s);
}
END_TEST

/* ---- QMP ---- */

/* Sends `bytes` and then a sentinel command with a fresh id; reads until the sentinel's reply.
 * Everything before it must be error replies, and there must be at least one. */
static void qmp_expect_errors(QTestState *s, const char *bytes, size_t len, int id,
                              bool need_error)
{
    qtest_qmp_send_raw(s, bytes, len);
    qtest_qmp_send(s, "{'execute': 'query-status', 'id': %d}", id);
    int errors = 0;
    for (;;) {
        json_object *r = qtest_qmp_receive(s);
        json_object *rid;
        if (json_object_object_get_ex(r, "id", &rid) && json_object_is_type(rid, json_type_int) &&
            json_object_get_int(rid) == id && !qtest_qmp_error_class(r)) {
            json_object_put(r);
            break;
        }
        ck_assert_msg(qtest_qmp_error_class(r) != NULL, "input %d: a non-error reply %s", id,
                      json_object_to_json_string(r));
        errors++;
        json_object_put(r);
    }
    ck_assert_msg(errors > 0 || !need_error, "input %d got no error reply", id);
}

static const char *const bad_qmp_inputs[] = {
    "}\n",
    "]\n",
    "[]\n",
    "\"just a string\"\n",
    "42\n",
    "{\"execute\": 1}\n",
    "{\"exec\": \"query-status\"}\n",
    "{\"execute\": \"query-status\", \"arguments\": []}\n",
    "{\"execute\": \"query-status\", \"bogus\": 1}\n",
    "{\"execute\": \"qom-get\", \"arguments\": {\"path\": 5, \"property\": \"type\"}}\n",
    "\xc3\x28\xff\xfe\n",
    "{\"execute\": \"query-status\" \"x\"}\n",
    "{\"execute\" \"query-status\"}\n",
    "@#$%^&*\n",
    "nul\n",
};

START_TEST(bad_qmp_inputs_get_error_replies)
{
    QTestState *s = start();
    for (size_t i = 0; i < G_N_ELEMENTS(bad_qmp_inputs); i++) {
        qmp_expect_errors(s, bad_qmp_inputs[i], strlen(bad_qmp_inputs[i]), (int)i + 1, true);
    }
    assert_alive(s);
    qtest_quit(s);
}
END_TEST

START_TEST(random_qmp_bytes_get_error_replies)
{
    QTestState *s = start();
    GRand *rand = g_rand_new_with_seed(4711);
    /* Openers and quotes are left out so that every chunk ends with the parser back at the top
     * level; everything else, including NUL and bytes >= 0x80, is fair game. */
    for (int round = 0; round < 32; round++) {
        char chunk[300];
        size_t len = (size_t)g_rand_int_range(rand, 1, (int)sizeof(chunk) - 1);
        for (size_t i = 0; i < len; i++) {
            do {
                chunk[i] = (char)g_rand_int_range(rand, 0, 256);
            } while (strchr("{[\"'", chunk[i]) && chunk[i] != '\0');
        }
        chunk[len] = '\n';
        qmp_expect_errors(s, chunk, len + 1, 1000 + round, false);
    }
    g_rand_free(rand);
    assert_alive(s);
    qtest_quit(s);
}
END_TEST

START_TEST(overlong_and_deep_qmp_inputs)
{
    QTestState *s = start();
    GString *big = g_string_new("{\"execute\": \"");
    for (int i = 0; i < (1 << 20); i++) {
        g_string_append_c(big, 'a');
    }
    g_string_append(big, "\"}\n");
    qmp_expect_errors(s, big->str, big->len, 1, true);
    g_string_free(big, TRUE);

    GString *deep = g_string_new(NULL);
    for (int i = 0; i < 5000; i++) {
        g_string_append_c(deep, '[');
    }
    for (int i = 0; i < 5000; i++) {
        g_string_append_c(deep, ']');
    }
    g_string_append_c(deep, '\n');
    qmp_expect_errors(s, deep->str, deep->len, 2, true);
    g_string_free(deep, TRUE);
    assert_alive(s);
    qtest_quit(s);
}
END_TEST

/* ---- end of life ---- */

static void assert_signal_gives_status_0(int sig)
{
    QTestState *s = start();
    assert_alive(s);
    int st = qtest_kill_and_wait(s, sig);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "signal %d: ended with status 0x%x", sig,
                  st);
    qtest_free(s);
}

START_TEST(sigterm_exits_0) { assert_signal_gives_status_0(SIGTERM); }
END_TEST

START_TEST(sigint_exits_0) { assert_signal_gives_status_0(SIGINT); }
END_TEST

START_TEST(dropped_qtest_connection_exits_cleanly)
{
    QTestState *s = start();
    assert_alive(s);
    qtest_close_qtest_socket(s);
    int st = qtest_wait_exit(s, 20000);
    ck_assert_msg(st != -1, "the host kept running without its qtest connection");
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "ended with status 0x%x", st);
    qtest_free(s);
}
END_TEST

/* QEMU keeps running when a client-mode monitor connection closes; qtpm ends cleanly, like for
 * the qtest connection, so an abandoned host never lingers (docs/host.md, docs/testing.md). */
START_TEST(dropped_qmp_connection_exits_cleanly)
{
    QTestState *s = start();
    assert_alive(s);
    qtest_close_qmp_socket(s);
    int st = qtest_wait_exit(s, 20000);
    ck_assert_msg(st != -1, "the host kept running without its QMP connection");
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "ended with status 0x%x", st);
    qtest_free(s);
}
END_TEST

int main(void)
{
    host_test_require_binary();
    Suite *suite = suite_create("robustness");
    TCase *tc = tcase_create("robustness");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, bad_qtest_lines_get_error_replies);
    tcase_add_test(tc, random_qtest_bytes_get_error_replies);
    tcase_add_test(tc, overlong_qtest_line_gets_an_error_reply);
    tcase_add_test(tc, bad_qmp_inputs_get_error_replies);
    tcase_add_test(tc, random_qmp_bytes_get_error_replies);
    tcase_add_test(tc, overlong_and_deep_qmp_inputs);
    tcase_add_test(tc, sigterm_exits_0);
    tcase_add_test(tc, sigint_exits_0);
    tcase_add_test(tc, dropped_qtest_connection_exits_cleanly);
    tcase_add_test(tc, dropped_qmp_connection_exits_cleanly);
    suite_add_tcase(suite, tc);
    return host_test_run(suite);
}
