/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Processes for the qtest client: spawning the host the way QEMU 7.2's libqtest does
 * (/bin/sh -c "exec ...", QEMU_AUDIO_DRV=none, parent-death signal SIGKILL), waiting with a
 * bound, and running the binary with captured output for command-line tests.
 */
#define _GNU_SOURCE  /* accept4, pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "qtest/libqtest/libqtest_int.h"

extern char **environ;

/* Runs in the child between fork and exec: only async-signal-safe calls (the test may have
 * threads).  Ties the child's life to the test's, so an aborted test leaves no host behind. */
static void child_die_with_parent(pid_t parent)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) {  /* the parent died before prctl took effect */
        _exit(127);
    }
}

pid_t qtest_process_spawn_shell(const char *command)
{
    /* Everything the child needs is built before fork(): malloc is not safe after it. */
    char **envp = g_environ_setenv(g_get_environ(), "QEMU_AUDIO_DRV", "none", TRUE);
    char *argv[] = { "sh", "-c", (char *)command, NULL };
    pid_t parent = getpid();

    pid_t pid = fork();
    if (pid < 0) {
        qtest_fail("fork: %s", strerror(errno));
    }
    if (pid == 0) {
        child_die_with_parent(parent);
        execve("/bin/sh", argv, envp);
        _exit(127);
    }
    g_strfreev(envp);
    return pid;
}

pid_t qtest_process_spawn_argv(char *const argv[], const char *output_path)
{
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        qtest_fail("fork: %s", strerror(errno));
    }
    if (pid == 0) {
        child_die_with_parent(parent);
        int in = open("/dev/null", O_RDONLY);
        int out = output_path ? open(output_path, O_WRONLY | O_CREAT | O_APPEND, 0600) : -1;
        if (in < 0 || dup2(in, 0) < 0 || (out >= 0 && (dup2(out, 1) < 0 || dup2(out, 2) < 0))) {
            _exit(126);
        }
        execvp(argv[0], argv);
        _exit(127);
    }
    return pid;
}

bool qtest_process_wait(pid_t pid, int timeout_ms, int *wait_status)
{
    const int slice_ms = 10;
    for (int waited = 0;; waited += slice_ms) {
        pid_t r = waitpid(pid, wait_status, WNOHANG);
        if (r == pid) {
            return true;
        }
        if (r < 0 && errno != EINTR) {
            qtest_fail("waitpid(%d): %s", (int)pid, strerror(errno));
        }
        if (timeout_ms >= 0 && waited >= timeout_ms) {
            return false;
        }
        struct timespec ts = { .tv_nsec = slice_ms * 1000000L };
        nanosleep(&ts, NULL);
    }
}

char *qtest_process_describe(int wait_status)
{
    if (WIFEXITED(wait_status)) {
        return g_strdup_printf("exit status %d", WEXITSTATUS(wait_status));
    }
    if (WIFSIGNALED(wait_status)) {
        return g_strdup_printf("signal %d (%s)%s", WTERMSIG(wait_status),
                               strsignal(WTERMSIG(wait_status)),
                               WCOREDUMP(wait_status) ? ", core dumped" : "");
    }
    return g_strdup_printf("wait status 0x%x", wait_status);
}

/* ---- running with captured output ---- */

typedef struct Capture {
    int fd;
    GString *text;
} Capture;

/* Reads what is ready on each open pipe; returns how many are still open. */
static int drain_pipes(Capture *cap, int n, int timeout_ms)
{
    struct pollfd pfd[2];
    int open = 0;
    for (int i = 0; i < n; i++) {
        pfd[i] = (struct pollfd){ .fd = cap[i].fd, .events = POLLIN };
        open += cap[i].fd >= 0;
    }
    if (open == 0) {
        return 0;
    }
    if (poll(pfd, n, timeout_ms) < 0 && errno != EINTR) {
        qtest_fail("poll on output pipes: %s", strerror(errno));
    }
    for (int i = 0; i < n; i++) {
        if (cap[i].fd < 0 || !(pfd[i].revents & (POLLIN | POLLHUP | POLLERR))) {
            continue;
        }
        char chunk[4096];
        ssize_t got = read(cap[i].fd, chunk, sizeof(chunk));
        if (got > 0) {
            g_string_append_len(cap[i].text, chunk, got);
        } else if (got == 0 || errno != EINTR) {
            close(cap[i].fd);
            cap[i].fd = -1;
        }
    }
    open = 0;
    for (int i = 0; i < n; i++) {
        open += cap[i].fd >= 0;
    }
    return open;
}

static void exec_child(char *const argv[], int out_fd, int err_fd, pid_t parent)
{
    child_die_with_parent(parent);
    int null_fd = open("/dev/null", O_RDONLY);
    if (null_fd < 0 || dup2(null_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0) {
        _exit(126);
    }
    execvp(argv[0], argv);
    _exit(127);
}

QTestRunResult qtest_run_argv(char *const argv[], int timeout_ms)
{
    int out_pipe[2], err_pipe[2];
    if (pipe2(out_pipe, O_CLOEXEC) < 0 || pipe2(err_pipe, O_CLOEXEC) < 0) {
        qtest_fail("pipe: %s", strerror(errno));
    }
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        qtest_fail("fork: %s", strerror(errno));
    }
    if (pid == 0) {
        exec_child(argv, out_pipe[1], err_pipe[1], parent);
    }
    close(out_pipe[1]);
    close(err_pipe[1]);

    QTestRunResult r = { 0 };
    Capture cap[2] = { { out_pipe[0], g_string_new(NULL) }, { err_pipe[0], g_string_new(NULL) } };
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    while (drain_pipes(cap, 2, 50) > 0) {
        if (g_get_monotonic_time() > deadline) {
            r.timed_out = true;
            kill(pid, SIGKILL);
            break;
        }
    }
    for (int i = 0; i < 2; i++) {
        if (cap[i].fd >= 0) {
            close(cap[i].fd);
        }
    }
    int st;
    /* Output closed (or the process was killed): it ends promptly now, unless it closed its
     * streams and kept running, which the timeout covers too. */
    gint64 left_ms = (deadline - g_get_monotonic_time()) / 1000;
    if (!qtest_process_wait(pid, left_ms > 0 ? (int)left_ms : 0, &st)) {
        r.timed_out = true;
        kill(pid, SIGKILL);
        qtest_process_wait(pid, -1, &st);
    }
    r.exited = WIFEXITED(st);
    r.status = r.exited ? WEXITSTATUS(st) : -1;
    r.signal = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
    r.out = g_string_free(cap[0].text, FALSE);
    r.err = g_string_free(cap[1].text, FALSE);
    return r;
}

QTestRunResult qtest_run_binary(const char *args, int timeout_ms)
{
    const char *binary = getenv("QTEST_QEMU_BINARY");
    if (!binary) {
        qtest_fail("Environment variable QTEST_QEMU_BINARY required");
    }
    int argc = 0;
    char **parsed = NULL;
    GError *err = NULL;
    if (args && *args && !g_shell_parse_argv(args, &argc, &parsed, &err)) {
        qtest_fail("cannot parse arguments \"%s\": %s", args, err->message);
    }
    char **argv = g_new0(char *, argc + 2);
    argv[0] = (char *)binary;
    for (int i = 0; i < argc; i++) {
        argv[i + 1] = parsed[i];
    }
    QTestRunResult r = qtest_run_argv(argv, timeout_ms);
    g_free(argv);
    g_strfreev(parsed);
    return r;
}

void qtest_run_result_clear(QTestRunResult *r)
{
    g_free(r->out);
    g_free(r->err);
    r->out = r->err = NULL;
}
