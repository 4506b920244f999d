/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Internals shared by the pieces of the qtest/QMP client library (libqtest.h): the state of one
 * connection to a host, socket helpers and process helpers.  Not for tests.
 */
#ifndef QTPM_QTEST_LIBQTEST_INT_H
#define QTPM_QTEST_LIBQTEST_INT_H

#include <glib.h>

#include "qtest/libqtest/libqtest.h"

#define QTEST_MAX_IRQ 256

struct QTestState {
    int qtest_fd;
    int qmp_fd;
    pid_t pid;            /* -1 when a connector (no process) was used */
    int wait_status;      /* valid once `reaped` */
    bool reaped;
    int expected_status;
    bool big_endian;
    bool log;             /* QTEST_LOG: echo both conversations to stderr */
    bool irq_level[QTEST_MAX_IRQ];
    GString *qtest_in;    /* bytes received on the qtest socket, not yet consumed */
    GString *qmp_in;      /* the same for QMP */
    GQueue events;        /* stashed QMP events (json_object *), oldest first */
    json_object *greeting;
};

/* ---- sockets (qtest_socket.c) ---- */

/* A listening UNIX stream socket at `path` (stale file removed first); fails the test on error. */
int qtest_socket_listen(const char *path);
/* Accepts one connection, waiting at most `timeout_ms`.  While waiting, a host process `pid`
 * (if > 0) that exits is reaped into *wait_status and -2 is returned; -1 means timeout. */
int qtest_socket_accept(int listen_fd, int timeout_ms, pid_t pid, int *wait_status);
/* Whole buffer or test failure; `what` names the connection in the message. */
void qtest_socket_send(int fd, const void *data, size_t len, const char *what);
/* Reads what is available (blocking up to the socket timeout) and appends it to `buf`.  Returns
 * false at end of stream; fails the test on a timeout or an error. */
bool qtest_socket_fill(int fd, GString *buf, const char *what);

/* ---- processes (qtest_process.c) ---- */

/* fork + execve("/bin/sh", "-c", command) with QEMU_AUDIO_DRV=none and PDEATHSIG=SIGKILL. */
pid_t qtest_process_spawn_shell(const char *command);
/* fork + execvp(argv), stdin from /dev/null, stdout and stderr appended to `output_path` (if not
 * NULL), PDEATHSIG=SIGKILL. */
pid_t qtest_process_spawn_argv(char *const argv[], const char *output_path);
/* waitpid with a timeout; returns true and the status when the process ended. */
bool qtest_process_wait(pid_t pid, int timeout_ms, int *wait_status);
/* One line describing a wait status: "exit status 3", "signal 11 (Segmentation fault)". */
char *qtest_process_describe(int wait_status);

/* ---- failure handling (libqtest.c) ---- */

void qtest_register_live(QTestState *s);
void qtest_unregister_live(QTestState *s);

/* ---- QMP (qmp_client.c) ---- */

/* Reads the greeting (stashing events before it); fails unless it is one. */
void qtest_qmp_read_greeting(QTestState *s);
void qtest_qmp_clear(QTestState *s);

#endif /* QTPM_QTEST_LIBQTEST_INT_H */
