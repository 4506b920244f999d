/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Tests of the qtest/QMP client library (libqtest.h) against the fake host (fake_host.h): on a
 * thread of the test for the protocol, and as a spawned program for the process model of QEMU
 * 7.2's libqtest (command line, socket handling, exit-status checks, early death).
 *
 * Plain C, so this includes <check.h> directly (qom/testing.h is the C++ wrapper).  Check runs
 * each test in a forked child, which is what lets the failure paths (qtest_fail -> abort) be
 * tested as expected signals.
 */
#include <check.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>

#include "qtest/libqtest/libqtest.h"
#include "fake_host.h"

static FakeHostThread fake;

static QTestState *start_fake(FakeHostOptions opt, bool handshake)
{
    fake = (FakeHostThread){ .options = opt };
    return qtest_init_with_connector(fake_host_connector, &fake, handshake);
}

static void stop_fake(QTestState *s)
{
    qtest_quit(s);
    fake_host_join(&fake);
}

/* ---- the protocol, against the in-process fake ---- */

START_TEST(handshake_reads_greeting_and_endianness)
{
    QTestState *s = start_fake((FakeHostOptions){ 0 }, true);
    json_object *qmp, *version, *qemu, *major;
    ck_assert(json_object_object_get_ex(qtest_qmp_greeting(s), "QMP", &qmp));
    ck_assert(json_object_object_get_ex(qmp, "version", &version));
    ck_assert(json_object_object_get_ex(version, "qemu", &qemu));
    ck_assert(json_object_object_get_ex(qemu, "major", &major));
    ck_assert_int_eq(json_object_get_int(major), 7);
    ck_assert(!qtest_big_endian(s));
    ck_assert_ptr_null(qtest_qmp_event_ref(s, NULL));
    stop_fake(s);
}
END_TEST

START_TEST(big_endian_and_early_event_are_recorded)
{
    QTestState *s = start_fake((FakeHostOptions){ .big_endian = true,
                                                  .event_before_greeting = true }, true);
    ck_assert(qtest_big_endian(s));
    json_object *ev = qtest_qmp_event_ref(s, "FAKE_EARLY");
    ck_assert_ptr_nonnull(ev);
    json_object_put(ev);
    ck_assert_ptr_null(qtest_qmp_event_ref(s, "FAKE_EARLY"));
    stop_fake(s);
}
END_TEST

START_TEST(mmio_accesses_of_every_width)
{
    QTestState *s = start_fake((FakeHostOptions){ 0 }, true);
    qtest_writel(s, 0x1000, 0x11223344);
    ck_assert_uint_eq(qtest_readb(s, 0x1000), 0x44);
    ck_assert_uint_eq(qtest_readw(s, 0x1002), 0x1122);
    ck_assert_uint_eq(qtest_readl(s, 0x1000), 0x11223344);
    qtest_writeq(s, 0x2000, UINT64_C(0x8877665544332211));
    ck_assert_uint_eq(qtest_readq(s, 0x2000), UINT64_C(0x8877665544332211));
    qtest_writeb(s, 0x2007, 0x01);
    qtest_writew(s, 0x2000, 0xbeef);
    ck_assert_uint_eq(qtest_readq(s, 0x2000), UINT64_C(0x017766554433beef));
    /* Addresses above 4 GiB go through unchanged. */
    qtest_writel(s, UINT64_C(0x123456789a0), 0xcafe);
    ck_assert_uint_eq(qtest_readl(s, UINT64_C(0x123456789a0)), 0xcafe);
    stop_fake(s);
}
END_TEST

START_TEST(port_accesses)
{
    QTestState *s = start_fake((FakeHostOptions){ 0 }, true);
    qtest_outl(s, 0x70, 0xa1b2c3d4);
    ck_assert_uint_eq(qtest_inb(s, 0x70), 0xd4);
    ck_assert_uint_eq(qtest_inw(s, 0x72), 0xa1b2);
    qtest_outw(s, 0x70, 0x1234);
    qtest_outb(s, 0x73, 0x99);
    ck_assert_uint_eq(qtest_inl(s, 0x70), 0x99b21234);
    /* Ports and memory are different spaces. */
    ck_assert_uint_eq(qtest_readl(s, 0x70), 0);
    stop_fake(s);
}
END_TEST

START_TEST(bulk_transfers_round_trip)
{
    QTestState *s = start_fake((FakeHostOptions){ 0 }, true);
    uint8_t data[777], back[777];
    for (size_t i = 0; i < sizeof(data); i++) {
        data[i] = (uint8_t)(i * 37 + 5);
    }
    qtest_memwrite(s, 0x10000, data, sizeof(data));
    memset(back, 0, sizeof(back));
    qtest_bufread(s, 0x10000, back, sizeof(back));  /* written as hex, read as base64 */
    ck_assert_mem_eq(back, data, sizeof(data));

    qtest_bufwrite(s, 0x20000, data, 100);
    memset(back, 0, sizeof(back));
    qtest_memread(s, 0x20000, back, 100);
    ck_assert_mem_eq(back, data, 100);

    qtest_memset(s, 0x20010, 0x5a, 8);
    qtest_memread(s, 0x2000f, back, 10);
    ck_assert_uint_eq(back[0], data[15]);
    for (int i = 1; i <= 8; i++) {
        ck_assert_uint_eq(back[i], 0x5a);
    }
    ck_assert_uint_eq(back[9], data[24]);
    /* Size 0 is legal for the caller and sends nothing the protocol would reject. */
    qtest_memread(s, 0x10000, back, 0);
    qtest_memwrite(s, 0x10000, data, 0);
    stop_fake(s);
}
END_TEST

START_TEST(clock_commands)
{
    QTestState *s = start_fake((FakeHostOptions){ 0 }, true);
    ck_assert_int_eq(qtest_clock_step(s, 100), 100);
    ck_assert_int_eq(qtest_clock_step_next(s), 1100);
    ck_assert_int_eq(qtest_clock_set(s, 5), 5);
    stop_fake(s);
}
END_TEST

START_TEST(irq_lines_are_tracked)
{
    QTestState *s = start_fake((FakeHostOptions){ 0 }, true);
    char *r = qtest_command(s, "irq_intercept_in /machine/nothing");
    ck_assert_str_eq(r, "FAIL Unknown device");
    g_free(r);
    qtest_irq_intercept_in(s, FAKE_QOM_DEVICE);
    ck_assert(!qtest_get_irq(s, 3));
    qtest_writel(s, FAKE_IRQ_TRIGGER, 0x103);
    ck_assert(qtest_get_irq(s, 3));
    ck_assert(!qtest_get_irq(s, 4));
    qtest_writel(s, FAKE_IRQ_TRIGGER, 0x1ff);
    ck_assert(qtest_get_irq(s, 255));
    qtest_writel(s, FAKE_IRQ_TRIGGER, 0x003);
    ck_assert(!qtest_get_irq(s, 3));
    ck_assert(qtest_get_irq(s, 255));
    qtest_set_irq_in(s, FAKE_QOM_DEVICE, "unnamed-gpio-in", 0, 1);
    stop_fake(s);
}
END_TEST

START_TEST(raw_lines)
{
    QTestState *s = start_fake((FakeHostOptions){ 0 }, true);
    char *r = qtest_command(s, "frobnicate 1 2");
    ck_assert_str_eq(r, "FAIL Unknown command 'frobnicate'");
    g_free(r);
    /* A request split over two writes is one line to the host. */
    qtest_send_raw(s, "endi", 4);
    qtest_send_raw(s, "anness\nreadb 0x0\n", 17);
    r = qtest_receive_line(s);
    ck_assert_str_eq(r, "OK little");
    g_free(r);
    r = qtest_receive_line(s);
    ck_assert_str_eq(r, "OK 0x0000000000000000");
    g_free(r);
    stop_fake(s);
}
END_TEST

START_TEST(qmp_commands_and_errors)
{
    QTestState *s = start_fake((FakeHostOptions){ 0 }, true);
    json_object *ret = qtest_qmp_assert_success_ref(s, "{'execute': 'query-status'}");
    json_object *status;
    ck_assert(json_object_object_get_ex(ret, "status", &status));
    ck_assert_str_eq(json_object_get_string(status), "running");
    json_object_put(ret);

    qtest_qmp_assert_success(s, "{'execute': '%s'}", "query-status");

    json_object *reply = qtest_qmp(s, "{'execute': 'no-such-%s', 'id': %d}", "thing", 42);
    ck_assert_str_eq(qtest_qmp_error_class(reply), "CommandNotFound");
    json_object *id;
    ck_assert(json_object_object_get_ex(reply, "id", &id));
    ck_assert_int_eq(json_object_get_int(id), 42);
    json_object_put(reply);
    stop_fake(s);
}
END_TEST

START_TEST(single_quoted_strings_become_json)
{
    QTestState *s = start_fake((FakeHostOptions){ 0 }, true);
    json_object *ret = qtest_qmp_assert_success_ref(
        s, "{'execute': 'echo', 'arguments': {'a': 'it\\'s \"quoted\"', \"b\": \"x'y\", 'c': [1, true]}}");
    json_object *a, *b, *c;
    ck_assert(json_object_object_get_ex(ret, "a", &a));
    ck_assert_str_eq(json_object_get_string(a), "it's \"quoted\"");
    ck_assert(json_object_object_get_ex(ret, "b", &b));
    ck_assert_str_eq(json_object_get_string(b), "x'y");
    ck_assert(json_object_object_get_ex(ret, "c", &c));
    ck_assert_int_eq((int)json_object_array_length(c), 2);
    json_object_put(ret);
    stop_fake(s);
}
END_TEST

static void events_are_stashed_body(bool trickle)
{
    QTestState *s = start_fake((FakeHostOptions){ .trickle = trickle }, true);
    json_object *ret = qtest_qmp_assert_success_ref(
        s, "{'execute': 'fake-emit', 'arguments': {'events': ['A', 'B', 'A']}}");
    json_object_put(ret);
    /* All three came before the reply, so they wait in the stash, oldest first. */
    json_object *ev = qtest_qmp_eventwait_ref(s, "B");
    json_object *data;
    ck_assert(json_object_object_get_ex(ev, "data", &data));
    json_object_put(ev);
    qtest_qmp_eventwait(s, "A");
    ev = qtest_qmp_event_ref(s, NULL);
    ck_assert_ptr_nonnull(ev);
    json_object *name;
    ck_assert(json_object_object_get_ex(ev, "event", &name));
    ck_assert_str_eq(json_object_get_string(name), "A");
    json_object_put(ev);
    ck_assert_ptr_null(qtest_qmp_event_ref(s, NULL));
    stop_fake(s);
}

START_TEST(events_are_stashed) { events_are_stashed_body(false); }
END_TEST

START_TEST(events_are_stashed_byte_by_byte) { events_are_stashed_body(true); }
END_TEST

START_TEST(without_handshake_commands_are_refused)
{
    QTestState *s = start_fake((FakeHostOptions){ 0 }, false);
    json_object *reply = qtest_qmp(s, "{'execute': 'query-status'}");
    ck_assert_str_eq(qtest_qmp_error_class(reply), "CommandNotFound");
    json_object_put(reply);
    /* Raw bytes reach the host as they are. */
    const char bad[] = "{\"execute\": }\n";
    qtest_qmp_send_raw(s, bad, strlen(bad));
    reply = qtest_qmp_receive(s);
    ck_assert_str_eq(qtest_qmp_error_class(reply), "GenericError");
    json_object_put(reply);
    stop_fake(s);
}
END_TEST

/* Failures of the test are aborts (checked as SIGABRT by the test case). */
START_TEST(fail_reply_to_a_checked_call_aborts)
{
    QTestState *s = start_fake((FakeHostOptions){ 0 }, true);
    qtest_irq_intercept_in(s, "/machine/nothing");
}
END_TEST

START_TEST(qmp_error_where_success_is_asserted_aborts)
{
    QTestState *s = start_fake((FakeHostOptions){ 0 }, true);
    qtest_qmp_assert_success_ref(s, "{'execute': 'nope'}");
}
END_TEST

START_TEST(invalid_test_json_aborts)
{
    QTestState *s = start_fake((FakeHostOptions){ 0 }, true);
    qtest_qmp_send(s, "{'execute': 'echo'");
}
END_TEST

/* ---- the process model, against fakehost-system-x86_64 ---- */

static char *argv_file;

static void use_fake_binary(void)
{
    const char *bin = getenv("FAKE_HOST_BINARY");
    ck_assert_msg(bin != NULL, "FAKE_HOST_BINARY is not set (run through meson test)");
    setenv("QTEST_QEMU_BINARY", bin, 1);
    unsetenv("QTEST_LOG");
    unsetenv("QTEST_TRACE");
    argv_file = g_build_filename(g_get_tmp_dir(), "fakehost-argv-XXXXXX", NULL);
    int fd = g_mkstemp(argv_file);
    ck_assert_int_ge(fd, 0);
    close(fd);
    setenv("FAKE_HOST_ARGV_FILE", argv_file, 1);
}

static char **recorded_argv(void)
{
    char *text = NULL;
    ck_assert(g_file_get_contents(argv_file, &text, NULL, NULL));
    char **lines = g_strsplit(g_strchomp(text), "\n", -1);
    g_free(text);
    unlink(argv_file);
    return lines;
}

START_TEST(spawned_with_qemus_command_line)
{
    use_fake_binary();
    setenv("QTEST_TRACE", "tpm_*", 1);
    QTestState *s = qtest_init("-machine none  -device 'a b'");
    ck_assert_str_eq(qtest_get_arch(), "x86_64");
    char *sock = g_strdup_printf("%s/qtest-%d.sock", g_get_tmp_dir(), (int)getpid());
    char *qmp = g_strdup_printf("%s/qtest-%d.qmp", g_get_tmp_dir(), (int)getpid());
    struct stat st;
    ck_assert_int_ne(stat(sock, &st), 0);  /* unlinked once accepted */
    ck_assert_int_ne(stat(qmp, &st), 0);
    qtest_quit(s);

    char **argv = recorded_argv();
    char *unix_sock = g_strconcat("unix:", sock, NULL);
    char *chardev = g_strdup_printf("socket,path=%s,id=char0", qmp);
    const char *expect[] = { getenv("FAKE_HOST_BINARY"), "-trace", "tpm_*", "-qtest", unix_sock,
                             "-qtest-log", "/dev/null", "-chardev", chardev, "-mon",
                             "chardev=char0,mode=control", "-display", "none", "-machine", "none",
                             "-device", "a b", "-accel", "qtest", NULL };
    for (int i = 0; expect[i]; i++) {
        ck_assert_ptr_nonnull(argv[i]);
        ck_assert_str_eq(argv[i], expect[i]);
    }
    ck_assert_uint_eq(g_strv_length(argv), G_N_ELEMENTS(expect) - 1);
    g_strfreev(argv);
    g_free(unix_sock);
    g_free(chardev);
    g_free(sock);
    g_free(qmp);
}
END_TEST

START_TEST(qtest_log_sends_the_log_to_stderr)
{
    use_fake_binary();
    setenv("QTEST_LOG", "1", 1);
    QTestState *s = qtest_init(NULL);
    qtest_quit(s);
    char **argv = recorded_argv();
    ck_assert_str_eq(argv[1], "-qtest");
    ck_assert_str_eq(argv[3], "-qtest-log");
    ck_assert_str_eq(argv[4], "/dev/fd/2");
    g_strfreev(argv);
}
END_TEST

START_TEST(expected_exit_status_is_accepted)
{
    use_fake_binary();
    setenv("FAKE_HOST_TERM_STATUS", "1", 1);
    QTestState *s = qtest_init(NULL);
    qtest_set_expected_status(s, 1);
    qtest_quit(s);
}
END_TEST

START_TEST(unexpected_exit_status_aborts)
{
    use_fake_binary();
    setenv("FAKE_HOST_TERM_STATUS", "1", 1);
    qtest_quit(qtest_init(NULL));
}
END_TEST

START_TEST(death_by_signal_aborts)
{
    use_fake_binary();
    setenv("FAKE_HOST_TERM_SIGNAL", "10", 1);  /* SIGUSR1: terminates, no core */
    qtest_quit(qtest_init(NULL));
}
END_TEST

START_TEST(kill_and_wait_reports_the_status)
{
    use_fake_binary();
    setenv("FAKE_HOST_TERM_SIGNAL", "10", 1);
    QTestState *s = qtest_init(NULL);
    int st = qtest_kill_and_wait(s, SIGTERM);
    ck_assert(WIFSIGNALED(st));
    ck_assert_int_eq(WTERMSIG(st), SIGUSR1);
    qtest_free(s);
}
END_TEST

START_TEST(early_exit_aborts_promptly)
{
    use_fake_binary();
    setenv("FAKE_HOST_EXIT_EARLY", "3", 1);
    qtest_init(NULL);
}
END_TEST

START_TEST(dropping_the_qtest_connection_ends_the_host)
{
    use_fake_binary();
    QTestState *s = qtest_init(NULL);
    qtest_close_qtest_socket(s);
    int st = qtest_wait_exit(s, 10000);
    ck_assert_int_ne(st, -1);
    ck_assert(WIFEXITED(st));
    ck_assert_int_eq(WEXITSTATUS(st), 0);
    qtest_free(s);
}
END_TEST

START_TEST(run_binary_captures_the_error_line)
{
    use_fake_binary();
    QTestRunResult r = qtest_run_binary("-machine none -bogus-option", 10000);
    ck_assert(r.exited);
    ck_assert_int_eq(r.status, 1);
    ck_assert_str_eq(r.err, "fakehost: -bogus-option: invalid option\n");
    ck_assert_str_eq(r.out, "");
    qtest_run_result_clear(&r);
}
END_TEST

START_TEST(run_argv_captures_both_streams_and_status)
{
    char *argv[] = { "sh", "-c", "echo out; echo err >&2; exit 4", NULL };
    QTestRunResult r = qtest_run_argv(argv, 10000);
    ck_assert(r.exited && !r.timed_out);
    ck_assert_int_eq(r.status, 4);
    ck_assert_str_eq(r.out, "out\n");
    ck_assert_str_eq(r.err, "err\n");
    qtest_run_result_clear(&r);
}
END_TEST

START_TEST(run_argv_kills_what_does_not_end)
{
    char *argv[] = { "sleep", "30", NULL };
    QTestRunResult r = qtest_run_argv(argv, 200);
    ck_assert(r.timed_out);
    ck_assert(!r.exited);
    ck_assert_int_eq(r.signal, SIGKILL);
    qtest_run_result_clear(&r);
}
END_TEST

START_TEST(arch_needs_a_system_binary_name)
{
    setenv("QTEST_QEMU_BINARY", "/usr/bin/qemu-kvm", 1);
    qtest_get_arch();
}
END_TEST

int main(void)
{
    Suite *suite = suite_create("libqtest");
    TCase *proto = tcase_create("protocol");
    tcase_add_test(proto, handshake_reads_greeting_and_endianness);
    tcase_add_test(proto, big_endian_and_early_event_are_recorded);
    tcase_add_test(proto, mmio_accesses_of_every_width);
    tcase_add_test(proto, port_accesses);
    tcase_add_test(proto, bulk_transfers_round_trip);
    tcase_add_test(proto, clock_commands);
    tcase_add_test(proto, irq_lines_are_tracked);
    tcase_add_test(proto, raw_lines);
    tcase_add_test(proto, qmp_commands_and_errors);
    tcase_add_test(proto, single_quoted_strings_become_json);
    tcase_add_test(proto, events_are_stashed);
    tcase_add_test(proto, events_are_stashed_byte_by_byte);
    tcase_add_test(proto, without_handshake_commands_are_refused);
    tcase_add_test_raise_signal(proto, fail_reply_to_a_checked_call_aborts, SIGABRT);
    tcase_add_test_raise_signal(proto, qmp_error_where_success_is_asserted_aborts, SIGABRT);
    tcase_add_test_raise_signal(proto, invalid_test_json_aborts, SIGABRT);
    suite_add_tcase(suite, proto);

    TCase *proc = tcase_create("process");
    tcase_set_timeout(proc, 60);
    tcase_add_test(proc, spawned_with_qemus_command_line);
    tcase_add_test(proc, qtest_log_sends_the_log_to_stderr);
    tcase_add_test(proc, expected_exit_status_is_accepted);
    tcase_add_test_raise_signal(proc, unexpected_exit_status_aborts, SIGABRT);
    tcase_add_test_raise_signal(proc, death_by_signal_aborts, SIGABRT);
    tcase_add_test(proc, kill_and_wait_reports_the_status);
    tcase_add_test_raise_signal(proc, early_exit_aborts_promptly, SIGABRT);
    tcase_add_test(proc, dropping_the_qtest_connection_ends_the_host);
    tcase_add_test(proc, run_binary_captures_the_error_line);
    tcase_add_test(proc, run_argv_captures_both_streams_and_status);
    tcase_add_test(proc, run_argv_kills_what_does_not_end);
    tcase_add_test_raise_signal(proc, arch_needs_a_system_binary_name, SIGABRT);
    suite_add_tcase(suite, proc);

    SRunner *runner = srunner_create(suite);
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed ? 1 : 0;
}
