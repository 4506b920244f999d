/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The host's command line, run as a program (no qtest): every bad option ends the process with
 * exit status 1 and exactly one stderr line "PROGRAM: -OPTION ARG: message" naming it (QEMU 7.2
 * error_report with an option location); the help texts have QEMU 7.2's shapes (reference §8,
 * softmmu/qdev-monitor.c, softmmu/tpm.c).
 */
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "host_test.h"

#define RUN_TIMEOUT_MS 20000

static bool is_x86(void)
{
    return strcmp(qtest_get_arch(), "x86_64") == 0;
}

/* The TIS flavour of this target. */
static const char *tis_device(void)
{
    return is_x86() ? "tpm-tis" : "tpm-tis-device";
}

static QTestRunResult run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static QTestRunResult run(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *args = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    char *full = g_strdup_printf("%s -display none %s", host_test_machine(), args);
    QTestRunResult r = qtest_run_binary(full, RUN_TIMEOUT_MS);
    g_free(full);
    g_free(args);
    return r;
}

typedef struct BadOption {
    const char *args;    /* %s is the TIS device of the target */
    const char *option;  /* the option the line must name */
    const char *token;   /* and a word of the offending argument or QEMU's message */
    bool needs_device;   /* only meaningful once the target's TIS device exists */
} BadOption;

static const BadOption bad_options[] = {
    { "-bogus-option", "-bogus-option", "invalid option", false },
    { "-device", "-device", "requires an argument", false },
    { "-device no-such-device", "-device", "no-such-device", false },
    { "-device %s", "-device", "tpmdev", true },
    { "-device %s,tpmdev=nope", "-device", "nope", true },
    { "-device %s,bogus-prop=1", "-device", "bogus-prop", true },
    { "-tpmdev emulator", "-tpmdev", "id", false },
    { "-tpmdev emulator,id=t0,bogus=1", "-tpmdev", "bogus", false },
    { "-tpmdev emulator,id=t0", "-tpmdev", "chardev", false },
    { "-tpmdev emulator,id=t0,chardev=nochr", "-tpmdev", "nochr", false },
    { "-chardev socket,id=c0,path=/nonexistent/qtpm/sock", "-chardev", "/nonexistent/qtpm/sock", false },
};

START_TEST(bad_option_is_one_line_and_exit_1)
{
    const BadOption *c = &bad_options[_i];
    if (c->needs_device && !host_test_has_device(tis_device())) {
        printf("note: %s not checked, the host has no %s yet\n", c->args, tis_device());
        return;
    }
    char *args = g_strdup_printf(c->args, tis_device());
    QTestRunResult r = run("%s", args);
    char *program = g_path_get_basename(getenv("QTEST_QEMU_BINARY"));
    char *prefix = g_strconcat(program, ": ", NULL);
    ck_assert_msg(r.exited && r.status == 1, "%s: expected exit status 1, got %s %d", args,
                  r.exited ? "status" : "signal", r.exited ? r.status : r.signal);
    ck_assert_msg(host_test_count_lines(r.err) == 1, "%s: expected one stderr line, got: %s",
                  args, r.err);
    ck_assert_msg(g_str_has_prefix(r.err, prefix), "%s: line does not start with '%s': %s",
                  args, prefix, r.err);
    ck_assert_msg(strstr(r.err, c->option), "%s: line does not name %s: %s", args, c->option,
                  r.err);
    ck_assert_msg(strstr(r.err, c->token), "%s: line does not mention '%s': %s", args, c->token,
                  r.err);
    qtest_run_result_clear(&r);
    g_free(prefix);
    g_free(program);
    g_free(args);
}
END_TEST

/* The device tests below run once the devices exist (they land room by room). */
static bool have(const char *device)
{
    if (host_test_has_device(device)) {
        return true;
    }
    printf("note: the host has no %s yet; its checks are left out\n", device);
    return false;
}

/* OUT has LINE as one whole line. */
static void expect_line(const char *out, const char *line)
{
    char *wanted = g_strdup_printf("\n%s\n", line);
    char *text = g_strdup_printf("\n%s", out);
    ck_assert_msg(strstr(text, wanted), "no line '%s' in: %s", line, out);
    g_free(text);
    g_free(wanted);
}

START_TEST(device_help_lists_the_tpm_devices)
{
    if (!have(tis_device())) {
        return;
    }
    QTestRunResult r = run("-device help");
    ck_assert_msg(r.exited && r.status == 0, "exit %d, stderr: %s", r.status, r.err);
    /* QEMU 7.2's whole lines (qdev_print_devinfo): none of its TPM devices sets a description. */
    expect_line(r.out, is_x86() ? "name \"tpm-tis\", bus ISA"
                                : "name \"tpm-tis-device\", bus System");
    if (is_x86() && have("tpm-crb")) {
        expect_line(r.out, "name \"tpm-crb\"");
    }
    qtest_run_result_clear(&r);
}
END_TEST

START_TEST(tpmdev_help_lists_the_backends)
{
    QTestRunResult r = run("-tpmdev help");
    /* QEMU 7.2 prints this list on stderr (error_printf) and exits 1 (tpm_config_parse returns
     * -1 for "help"). */
    ck_assert_msg(r.exited && r.status == 1, "exit %d", r.status);
    ck_assert_msg(g_str_has_prefix(r.err, "Supported TPM types (choose only one):\n"), "got: %s",
                  r.err);
    ck_assert_msg(strstr(r.err, "    emulator   TPM emulator backend driver\n"), "got: %s",
                  r.err);
    qtest_run_result_clear(&r);
}
END_TEST

START_TEST(device_property_help)
{
    if (!have(tis_device())) {
        return;
    }
    QTestRunResult r = run("-device %s,help", tis_device());
    ck_assert_msg(r.exited && r.status == 0, "exit %d, stderr: %s", r.status, r.err);
    char *title = g_strdup_printf("%s options:\n", tis_device());
    ck_assert_msg(g_str_has_prefix(r.out, title), "got: %s", r.out);
    ck_assert_msg(strstr(r.out, "tpmdev=<str>"), "got: %s", r.out);
    ck_assert_msg(strstr(r.out, "ID of a tpm to use as a backend"), "got: %s", r.out);
    ck_assert_msg(strstr(r.out, "irq=<uint32>"), "got: %s", r.out);
    if (is_x86()) {
        ck_assert_msg(strstr(r.out, "ppi=<bool>"), "got: %s", r.out);
    } else {
        /* tpm-tis-device lost `ppi` in 7.2.6 (it crashed) */
        ck_assert_msg(!strstr(r.out, "ppi="), "got: %s", r.out);
    }
    g_free(title);
    qtest_run_result_clear(&r);
    if (is_x86() && have("tpm-crb")) {
        r = run("-device tpm-crb,help");
        ck_assert_msg(r.exited && r.status == 0, "exit %d, stderr: %s", r.status, r.err);
        ck_assert_msg(g_str_has_prefix(r.out, "tpm-crb options:\n"), "got: %s", r.out);
        ck_assert_msg(strstr(r.out, "tpmdev=<str>") && strstr(r.out, "ppi=<bool>"), "got: %s",
                      r.out);
        qtest_run_result_clear(&r);
    }
}
END_TEST

int main(void)
{
    host_test_require_binary();
    Suite *suite = suite_create("cli");
    TCase *tc = tcase_create("cli");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, bad_option_is_one_line_and_exit_1, 0,
                        (int)(sizeof(bad_options) / sizeof(bad_options[0])));
    tcase_add_test(tc, device_help_lists_the_tpm_devices);
    tcase_add_test(tc, tpmdev_help_lists_the_backends);
    tcase_add_test(tc, device_property_help);
    suite_add_tcase(suite, tc);
    return host_test_run(suite);
}
