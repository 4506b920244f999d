/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fakehost-system-x86_64: the fake qtest host (fake_host.h) as a program, so that the client
 * library's spawn path (/bin/sh -c "exec ..." with QEMU's command line) is tested for real.
 * The name has "-system-<arch>" because qtest_get_arch() insists on it.
 *
 * It takes the sockets from "-qtest unix:PATH" and "-chardev socket,path=PATH,...", ignores the
 * rest, and is steered by the environment:
 *   FAKE_HOST_ARGV_FILE=F      write its arguments to F, one a line
 *   FAKE_HOST_EXIT_EARLY=N     exit N before connecting
 *   FAKE_HOST_TERM_STATUS=N    on SIGTERM exit N (default 0)
 *   FAKE_HOST_TERM_SIGNAL=N    on SIGTERM die of signal N instead
 * An argument "-bogus-option" makes it print one error line naming it and exit 1, like a host
 * rejecting an option.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fake_host.h"

static volatile sig_atomic_t term_status;
static volatile sig_atomic_t term_signal;

static void on_sigterm(int sig)
{
    (void)sig;
    if (term_signal) {
        signal(term_signal, SIG_DFL);
        raise(term_signal);
    }
    _exit(term_status);
}

static int env_int(const char *name, int fallback)
{
    const char *v = getenv(name);
    return v ? atoi(v) : fallback;
}

static void record_argv(int argc, char **argv)
{
    const char *path = getenv("FAKE_HOST_ARGV_FILE");
    FILE *f = path ? fopen(path, "w") : NULL;
    if (!f) {
        return;
    }
    for (int i = 0; i < argc; i++) {
        fprintf(f, "%s\n", argv[i]);
    }
    fclose(f);
}

int main(int argc, char **argv)
{
    const char *qtest_path = NULL, *qmp_path = NULL;
    record_argv(argc, argv);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-bogus-option") == 0) {
            fprintf(stderr, "fakehost: -bogus-option: invalid option\n");
            return 1;
        }
        if (i + 1 < argc && strcmp(argv[i], "-qtest") == 0 &&
            strncmp(argv[i + 1], "unix:", 5) == 0) {
            qtest_path = argv[i + 1] + 5;
        }
        if (i + 1 < argc && strcmp(argv[i], "-chardev") == 0) {
            const char *p = strstr(argv[i + 1], "path=");
            if (p) {
                static char path[256];
                snprintf(path, sizeof(path), "%.*s", (int)strcspn(p + 5, ","), p + 5);
                qmp_path = path;
            }
        }
    }
    if (getenv("FAKE_HOST_EXIT_EARLY")) {
        return env_int("FAKE_HOST_EXIT_EARLY", 1);
    }
    if (!qtest_path || !qmp_path) {
        fprintf(stderr, "fakehost: -qtest unix:PATH and -chardev socket,path=PATH are required\n");
        return 1;
    }
    term_status = env_int("FAKE_HOST_TERM_STATUS", 0);
    term_signal = env_int("FAKE_HOST_TERM_SIGNAL", 0);
    signal(SIGTERM, on_sigterm);

    int qtest_fd = fake_host_connect(qtest_path);
    int qmp_fd = fake_host_connect(qmp_path);
    if (qtest_fd < 0 || qmp_fd < 0) {
        fprintf(stderr, "fakehost: cannot connect to %s / %s\n", qtest_path, qmp_path);
        return 1;
    }
    FakeHostOptions opt = { 0 };
    fake_host_serve(qtest_fd, qmp_fd, &opt);
    return 0;
}
