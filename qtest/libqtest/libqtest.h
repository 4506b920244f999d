/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A client library for the qtest protocol and QMP, for test programs that drive
 * qtpm-system-<arch> (or QEMU itself) the way QEMU 7.2's tests/qtest/libqtest does.
 *
 * Process model (QEMU 7.2 libqtest behaviour, docs/testing.md):
 *  - the test listens on two UNIX sockets in $TMPDIR (qtest-<pid>.sock and qtest-<pid>.qmp),
 *  - spawns `/bin/sh -c "exec $QTEST_QEMU_BINARY [-trace $QTEST_TRACE ]-qtest unix:<sock>
 *    -qtest-log <log> -chardev socket,path=<qmp>,id=char0 -mon chardev=char0,mode=control
 *    -display none <extra args> -accel qtest"`, the child dying with the test (PDEATHSIG),
 *  - accepts the qtest connection, then QMP (each waits at most 50 s; reads time out after 50 s),
 *    and unlinks both socket files,
 *  - asks `endianness`, reads the QMP greeting and negotiates `qmp_capabilities`.
 * qtest_quit() sends SIGTERM and waits; an exit status other than the expected one (default 0)
 * or death by a signal is a test failure.
 *
 * Errors: a protocol violation, a timeout or a host that died is a test failure: the library
 * prints one line "libqtest: ..." to stderr, kills every host it started and aborts (the test
 * framework reports the aborted test).  Functions that return raw replies never fail on what the
 * host answers, so tests of malformed input can look at the replies themselves.
 */
#ifndef QTPM_QTEST_LIBQTEST_H
#define QTPM_QTEST_LIBQTEST_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <json-c/json.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct QTestState QTestState;

/* Reads and writes on both sockets give up after this long (QEMU's libqtest value). */
#define QTEST_SOCKET_TIMEOUT_S 50

/* ---- lifetime ------------------------------------------------------------------------------ */

/* Starts $QTEST_QEMU_BINARY with `extra_args` (shell syntax, may be NULL) and does the whole
 * handshake. */
QTestState *qtest_init(const char *extra_args);
QTestState *qtest_initf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Same, but stops after reading the QMP greeting: qmp_capabilities is not sent. */
QTestState *qtest_init_without_qmp_handshake(const char *extra_args);

/* For tests of the library itself: instead of spawning a process, `connect` is called with the
 * two socket paths once they listen; it must arrange for something to connect to both (a
 * thread, typically).  There is no process, so quit only closes the sockets. */
typedef void (*QTestConnectFn)(const char *qtest_path, const char *qmp_path, void *opaque);
QTestState *qtest_init_with_connector(QTestConnectFn connect, void *opaque, bool qmp_handshake);

/* SIGTERM, wait, and fail unless the host exited with the expected status (default 0). */
void qtest_quit(QTestState *s);
/* The exit status qtest_quit() and qtest_wait_exit() accept (e.g. 1 for a host that must fail). */
void qtest_set_expected_status(QTestState *s, int status);
/* Sends `sig`, waits, and returns the raw wait status (no expectation applied); frees nothing.
 * Returns -1 if there is no process. */
int qtest_kill_and_wait(QTestState *s, int sig);
/* Waits up to `timeout_ms` for the host to exit on its own; returns the raw wait status, or -1 on
 * timeout (the host is then still running). */
int qtest_wait_exit(QTestState *s, int timeout_ms);
/* Frees the state after the process is gone (qtest_kill_and_wait / qtest_wait_exit). */
void qtest_free(QTestState *s);
pid_t qtest_pid(const QTestState *s);

/* Close one connection (the host should notice and react, e.g. exit). */
void qtest_close_qtest_socket(QTestState *s);
void qtest_close_qmp_socket(QTestState *s);

/* "x86_64" from ".../qtpm-system-x86_64" ($QTEST_QEMU_BINARY); fails if the name has no
 * "-system-". */
const char *qtest_get_arch(void);
/* The target byte order the host reported at the handshake. */
bool qtest_big_endian(const QTestState *s);

/* Reports a test failure (see above).  Never returns. */
void qtest_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* ---- qtest protocol ------------------------------------------------------------------------ */

uint8_t qtest_readb(QTestState *s, uint64_t addr);
uint16_t qtest_readw(QTestState *s, uint64_t addr);
uint32_t qtest_readl(QTestState *s, uint64_t addr);
uint64_t qtest_readq(QTestState *s, uint64_t addr);
void qtest_writeb(QTestState *s, uint64_t addr, uint8_t value);
void qtest_writew(QTestState *s, uint64_t addr, uint16_t value);
void qtest_writel(QTestState *s, uint64_t addr, uint32_t value);
void qtest_writeq(QTestState *s, uint64_t addr, uint64_t value);

uint8_t qtest_inb(QTestState *s, uint16_t port);
uint16_t qtest_inw(QTestState *s, uint16_t port);
uint32_t qtest_inl(QTestState *s, uint16_t port);
void qtest_outb(QTestState *s, uint16_t port, uint8_t value);
void qtest_outw(QTestState *s, uint16_t port, uint16_t value);
void qtest_outl(QTestState *s, uint16_t port, uint32_t value);

/* `read`/`write` (hex on the wire). */
void qtest_memread(QTestState *s, uint64_t addr, void *data, size_t size);
void qtest_memwrite(QTestState *s, uint64_t addr, const void *data, size_t size);
/* `b64read`/`b64write`. */
void qtest_bufread(QTestState *s, uint64_t addr, void *data, size_t size);
void qtest_bufwrite(QTestState *s, uint64_t addr, const void *data, size_t size);
void qtest_memset(QTestState *s, uint64_t addr, uint8_t pattern, size_t size);

/* Virtual clock (qtest accelerator): returns the new time in ns. */
int64_t qtest_clock_step(QTestState *s, int64_t step_ns);
int64_t qtest_clock_step_next(QTestState *s);
int64_t qtest_clock_set(QTestState *s, int64_t ns);

/* IRQ interception; levels are tracked from the asynchronous "IRQ raise|lower N" lines. */
void qtest_irq_intercept_in(QTestState *s, const char *qom_path);
void qtest_irq_intercept_out(QTestState *s, const char *qom_path);
bool qtest_get_irq(QTestState *s, int num);
void qtest_set_irq_in(QTestState *s, const char *qom_path, const char *name, int num, int level);

/* Raw access for malformed-input tests.  qtest_send_raw() writes the bytes as they are (no
 * newline added); qtest_receive_line() returns the next reply line without its newline,
 * consuming IRQ lines on the way (g_free it).  qtest_command() sends one line (a newline is
 * added) and returns the reply line. */
void qtest_send_raw(QTestState *s, const void *data, size_t len);
char *qtest_receive_line(QTestState *s);
char *qtest_command(QTestState *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- QMP ----------------------------------------------------------------------------------- */

/* `fmt` is a printf format producing JSON in which strings may be single-quoted, as in QEMU's
 * tests: "{'execute': 'qom-get', 'arguments': {'path': '%s', 'property': 'tpmdev'}}".  A '%s'
 * argument is inserted as it is, so it must not contain quotes.  The message is checked to be
 * JSON (else: test failure) and sent; the reply (the next message that is not an event; events
 * are stashed) is returned; release it with json_object_put(). */
json_object *qtest_qmp(QTestState *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
json_object *qtest_vqmp(QTestState *s, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/* Send only / receive only. */
void qtest_qmp_send(QTestState *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
json_object *qtest_qmp_receive(QTestState *s);
/* Bytes as they are, for malformed-input tests. */
void qtest_qmp_send_raw(QTestState *s, const void *data, size_t len);

/* Sends the command, fails unless the reply has "return", returns a new reference to it. */
json_object *qtest_qmp_assert_success_ref(QTestState *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The same, discarding the result. */
void qtest_qmp_assert_success(QTestState *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The reply's "error"."class", or NULL if it is not an error reply. */
const char *qtest_qmp_error_class(json_object *reply);

/* Waits for the event `name` (taking it from the stash if it came already); returns it (a new
 * reference). */
json_object *qtest_qmp_eventwait_ref(QTestState *s, const char *name);
void qtest_qmp_eventwait(QTestState *s, const char *name);
/* Takes the oldest stashed event called `name` (any if NULL) without reading; NULL if none. */
json_object *qtest_qmp_event_ref(QTestState *s, const char *name);

/* The QMP greeting as received (borrowed). */
json_object *qtest_qmp_greeting(QTestState *s);

/* ---- running the binary outside the qtest model -------------------------------------------- */

typedef struct QTestRunResult {
    bool exited;    /* exited normally */
    int status;     /* exit status if exited */
    int signal;     /* terminating signal if not exited; SIGKILL if it timed out */
    bool timed_out; /* it did not end within the timeout and was killed */
    char *out;      /* everything it wrote to stdout (NUL-terminated) */
    char *err;      /* everything it wrote to stderr (NUL-terminated) */
} QTestRunResult;

/* Runs $QTEST_QEMU_BINARY with `args` (shell syntax), stdin from /dev/null, capturing both
 * output streams; kills it after `timeout_ms`. */
QTestRunResult qtest_run_binary(const char *args, int timeout_ms);
/* The same for an explicit argv (argv[0] is the program, looked up in PATH). */
QTestRunResult qtest_run_argv(char *const argv[], int timeout_ms);
void qtest_run_result_clear(QTestRunResult *r);

#ifdef __cplusplus
}
#endif

#endif /* QTPM_QTEST_LIBQTEST_H */
