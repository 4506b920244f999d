/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A tiny stand-in for a qtest host, for testing the client library without qtpm-system:
 * it connects to the two sockets and answers the qtest protocol (over a sparse byte memory and
 * port space) and a handful of QMP commands.  It runs either on a thread of the test
 * (fake_host_connector) or as its own process (fakehost-system-x86_64, fake_host_main.c).
 *
 * Test hooks on the qtest side:
 *  - `writel FAKE_IRQ_TRIGGER V` emits "IRQ raise N" (V = 0x100 | N) or "IRQ lower N" (V = N)
 *    before its OK, once an IRQ intercept is enabled (only "/machine/fake" exists);
 * and on the QMP side:
 *  - `fake-emit {'events': [names]}` sends those events, then the reply, in one write,
 *  - `echo {...}` returns its arguments.
 */
#ifndef QTPM_FAKE_HOST_H
#define QTPM_FAKE_HOST_H

#include <stdbool.h>
#include <stdint.h>

#include "fake_tpm.h"

#define FAKE_IRQ_TRIGGER 0xfee00000u
#define FAKE_QOM_DEVICE "/machine/fake"

typedef struct FakeHostOptions {
    bool big_endian;            /* answer "OK big" to endianness */
    bool event_before_greeting; /* a FAKE_EARLY event precedes the QMP greeting */
    bool trickle;               /* write every QMP reply one byte at a time */
    FakeTpmKind tpm;            /* a fake TIS or CRB at FAKE_TPM_BASE (fake_tpm.h) */
    FakeTpmFault tpm_fault;
} FakeHostOptions;

/* Connects to a listening UNIX socket; -1 on error. */
int fake_host_connect(const char *path);
/* Serves both connections until the qtest one closes; then closes both. */
void fake_host_serve(int qtest_fd, int qmp_fd, const FakeHostOptions *opt);

/* A QTestConnectFn: connects both sockets at once and serves them on a new thread.
 * `opaque` is a FakeHostThread the test owns; join it after qtest_quit(). */
typedef struct FakeHostThread {
    FakeHostOptions options;
    void *thread;  /* GThread */
} FakeHostThread;
void fake_host_connector(const char *qtest_path, const char *qmp_path, void *opaque);
void fake_host_join(FakeHostThread *t);

#endif /* QTPM_FAKE_HOST_H */
