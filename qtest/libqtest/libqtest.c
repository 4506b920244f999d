/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The qtest client: starting and stopping a host and the line-based qtest wire protocol
 * (QEMU 7.2 softmmu/qtest.c semantics: requests split on spaces, replies "OK ...", "FAIL ...",
 * "ERR ...", asynchronous "IRQ raise|lower N" lines before any reply).
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "qtest/libqtest/libqtest_int.h"

/* How long the host gets to exit after SIGTERM before the test calls it hung. */
#define QTEST_QUIT_TIMEOUT_MS 30000

/* ---- failure handling ---------------------------------------------------------------------- */

/* Every state with a process, so that a failure can take the hosts down with the test (the
 * parent-death signal covers a crash of the whole test; this covers an orderly abort, too). */
static GMutex live_lock;
static GList *live_states;

void qtest_register_live(QTestState *s)
{
    g_mutex_lock(&live_lock);
    live_states = g_list_prepend(live_states, s);
    g_mutex_unlock(&live_lock);
}

void qtest_unregister_live(QTestState *s)
{
    g_mutex_lock(&live_lock);
    live_states = g_list_remove(live_states, s);
    g_mutex_unlock(&live_lock);
}

void qtest_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("libqtest: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    /* No lock: we may be failing inside a locked section, and we are about to abort anyway. */
    for (GList *l = live_states; l; l = l->next) {
        QTestState *s = l->data;
        if (s->pid > 0 && !s->reaped) {
            kill(s->pid, SIGKILL);
        }
    }
    abort();
}

/* ---- starting ------------------------------------------------------------------------------ */

const char *qtest_get_arch(void)
{
    const char *binary = getenv("QTEST_QEMU_BINARY");
    if (!binary) {
        qtest_fail("Environment variable QTEST_QEMU_BINARY required");
    }
    if (!strstr(binary, "-system-")) {
        qtest_fail("QTEST_QEMU_BINARY must end with *-system-<arch>: %s", binary);
    }
    return strrchr(binary, '-') + 1;
}

static QTestState *state_new(void)
{
    QTestState *s = g_new0(QTestState, 1);
    s->qtest_fd = s->qmp_fd = -1;
    s->pid = -1;
    s->log = getenv("QTEST_LOG") != NULL;
    s->qtest_in = g_string_new(NULL);
    s->qmp_in = g_string_new(NULL);
    g_queue_init(&s->events);
    return s;
}

static char *host_command_line(const char *qtest_path, const char *qmp_path, const char *extra)
{
    const char *binary = getenv("QTEST_QEMU_BINARY");
    if (!binary) {
        qtest_fail("Environment variable QTEST_QEMU_BINARY required");
    }
    const char *trace = getenv("QTEST_TRACE");
    char *trace_arg = trace ? g_strdup_printf("-trace %s ", trace) : g_strdup("");
    char *cmd = g_strdup_printf("exec %s %s-qtest unix:%s -qtest-log %s "
                                "-chardev socket,path=%s,id=char0 -mon chardev=char0,mode=control "
                                "-display none %s -accel qtest",
                                binary, trace_arg, qtest_path,
                                getenv("QTEST_LOG") ? "/dev/fd/2" : "/dev/null", qmp_path,
                                extra ? extra : "");
    g_free(trace_arg);
    return cmd;
}

static int accept_or_fail(QTestState *s, int listen_fd, const char *what)
{
    int fd = qtest_socket_accept(listen_fd, QTEST_SOCKET_TIMEOUT_S * 1000, s->pid, &s->wait_status);
    if (fd == -2) {
        s->reaped = true;
        char *how = qtest_process_describe(s->wait_status);
        qtest_fail("the host ended before connecting its %s socket (%s)", what, how);
    }
    if (fd < 0) {
        qtest_fail("the host did not connect its %s socket within %d s", what,
                   QTEST_SOCKET_TIMEOUT_S);
    }
    return fd;
}

/* Listens, starts the host (spawn or connector), accepts both, removes the socket files. */
static void connect_host(QTestState *s, const char *extra, QTestConnectFn connect, void *opaque)
{
    const char *tmp = g_get_tmp_dir();
    char *qtest_path = g_strdup_printf("%s/qtest-%d.sock", tmp, (int)getpid());
    char *qmp_path = g_strdup_printf("%s/qtest-%d.qmp", tmp, (int)getpid());
    int qtest_listen = qtest_socket_listen(qtest_path);
    int qmp_listen = qtest_socket_listen(qmp_path);

    if (connect) {
        connect(qtest_path, qmp_path, opaque);
    } else {
        char *cmd = host_command_line(qtest_path, qmp_path, extra);
        if (s->log) {
            fprintf(stderr, "[qtest] starting: %s\n", cmd);
        }
        s->pid = qtest_process_spawn_shell(cmd);
        qtest_register_live(s);
        g_free(cmd);
    }
    s->qtest_fd = accept_or_fail(s, qtest_listen, "qtest");
    s->qmp_fd = accept_or_fail(s, qmp_listen, "QMP");
    close(qtest_listen);
    close(qmp_listen);
    unlink(qtest_path);
    unlink(qmp_path);
    g_free(qtest_path);
    g_free(qmp_path);

    if (s->pid > 0 && getenv("QTEST_STOP")) {
        kill(s->pid, SIGSTOP);  /* for attaching a debugger, as in QEMU's libqtest */
    }
}

static void query_endianness(QTestState *s)
{
    char *reply = qtest_command(s, "endianness");
    if (strcmp(reply, "OK little") == 0) {
        s->big_endian = false;
    } else if (strcmp(reply, "OK big") == 0) {
        s->big_endian = true;
    } else {
        qtest_fail("endianness: unexpected reply '%s'", reply);
    }
    g_free(reply);
}

static QTestState *init_common(const char *extra, QTestConnectFn connect, void *opaque,
                               bool qmp_handshake)
{
    QTestState *s = state_new();
    connect_host(s, extra, connect, opaque);
    query_endianness(s);
    qtest_qmp_read_greeting(s);
    if (qmp_handshake) {
        json_object *ret = qtest_qmp_assert_success_ref(s, "{'execute': 'qmp_capabilities'}");
        json_object_put(ret);
    }
    return s;
}

QTestState *qtest_init(const char *extra_args)
{
    return init_common(extra_args, NULL, NULL, true);
}

QTestState *qtest_initf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *args = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    QTestState *s = qtest_init(args);
    g_free(args);
    return s;
}

QTestState *qtest_init_without_qmp_handshake(const char *extra_args)
{
    return init_common(extra_args, NULL, NULL, false);
}

QTestState *qtest_init_with_connector(QTestConnectFn connect, void *opaque, bool qmp_handshake)
{
    return init_common(NULL, connect, opaque, qmp_handshake);
}

/* ---- stopping ------------------------------------------------------------------------------ */

pid_t qtest_pid(const QTestState *s)
{
    return s->pid;
}

void qtest_set_expected_status(QTestState *s, int status)
{
    s->expected_status = status;
}

int qtest_kill_and_wait(QTestState *s, int sig)
{
    if (s->pid <= 0) {
        return -1;
    }
    if (!s->reaped) {
        kill(s->pid, sig);
        if (!qtest_process_wait(s->pid, QTEST_QUIT_TIMEOUT_MS, &s->wait_status)) {
            qtest_fail("the host did not exit within %d s of signal %d", QTEST_QUIT_TIMEOUT_MS / 1000,
                       sig);
        }
        s->reaped = true;
    }
    return s->wait_status;
}

int qtest_wait_exit(QTestState *s, int timeout_ms)
{
    if (s->pid <= 0) {
        return -1;
    }
    if (!s->reaped) {
        if (!qtest_process_wait(s->pid, timeout_ms, &s->wait_status)) {
            return -1;
        }
        s->reaped = true;
    }
    return s->wait_status;
}

void qtest_close_qtest_socket(QTestState *s)
{
    if (s->qtest_fd >= 0) {
        close(s->qtest_fd);
        s->qtest_fd = -1;
    }
}

void qtest_close_qmp_socket(QTestState *s)
{
    if (s->qmp_fd >= 0) {
        close(s->qmp_fd);
        s->qmp_fd = -1;
    }
}

void qtest_free(QTestState *s)
{
    if (!s) {
        return;
    }
    if (s->pid > 0 && !s->reaped) {
        /* Never leave a process behind, whatever the caller forgot. */
        kill(s->pid, SIGKILL);
        qtest_process_wait(s->pid, -1, &s->wait_status);
        s->reaped = true;
    }
    qtest_unregister_live(s);
    qtest_close_qtest_socket(s);
    qtest_close_qmp_socket(s);
    qtest_qmp_clear(s);
    g_string_free(s->qtest_in, TRUE);
    g_string_free(s->qmp_in, TRUE);
    g_free(s);
}

void qtest_quit(QTestState *s)
{
    if (!s) {
        return;
    }
    if (s->pid > 0) {
        /* The sockets stay open while the host handles SIGTERM, as with QEMU's libqtest. */
        int st = qtest_kill_and_wait(s, SIGTERM);
        if (!WIFEXITED(st) || WEXITSTATUS(st) != s->expected_status) {
            char *how = qtest_process_describe(st);
            qtest_fail("after SIGTERM the host ended with %s (expected exit status %d)", how,
                       s->expected_status);
        }
    }
    qtest_free(s);
}

/* ---- the line protocol --------------------------------------------------------------------- */

static void track_irq_line(QTestState *s, const char *line)
{
    char *end;
    bool raise = g_str_has_prefix(line, "IRQ raise ");
    if (!raise && !g_str_has_prefix(line, "IRQ lower ")) {
        qtest_fail("unexpected asynchronous line '%s'", line);
    }
    const char *num = line + strlen("IRQ raise ");
    errno = 0;
    unsigned long n = strtoul(num, &end, 0);
    if (errno || end == num || *end || n >= QTEST_MAX_IRQ) {
        qtest_fail("bad IRQ number in '%s'", line);
    }
    s->irq_level[n] = raise;
}

char *qtest_receive_line(QTestState *s)
{
    if (s->qtest_fd < 0) {
        qtest_fail("the qtest connection is closed");
    }
    for (;;) {
        char *nl = memchr(s->qtest_in->str, '\n', s->qtest_in->len);
        if (!nl) {
            if (!qtest_socket_fill(s->qtest_fd, s->qtest_in, "qtest")) {
                qtest_fail("the host closed the qtest connection");
            }
            continue;
        }
        char *line = g_strndup(s->qtest_in->str, nl - s->qtest_in->str);
        g_string_erase(s->qtest_in, 0, nl - s->qtest_in->str + 1);
        if (s->log) {
            fprintf(stderr, "[qtest <<<] %s\n", line);
        }
        if (g_str_has_prefix(line, "IRQ ")) {
            track_irq_line(s, line);
            g_free(line);
            continue;
        }
        return line;
    }
}

void qtest_send_raw(QTestState *s, const void *data, size_t len)
{
    if (s->qtest_fd < 0) {
        qtest_fail("the qtest connection is closed");
    }
    if (s->log) {
        fprintf(stderr, "[qtest >>>] %.*s\n", (int)len, (const char *)data);
    }
    qtest_socket_send(s->qtest_fd, data, len, "qtest");
}

char *qtest_command(QTestState *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *line = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    char *framed = g_strconcat(line, "\n", NULL);
    qtest_send_raw(s, framed, strlen(framed));
    g_free(framed);
    g_free(line);
    return qtest_receive_line(s);
}

/* The reply must be "OK" or "OK <value>"; returns the value part (or "") inside `reply`. */
static const char *expect_ok(const char *request, const char *reply)
{
    if (strcmp(reply, "OK") == 0) {
        return reply + 2;
    }
    if (!g_str_has_prefix(reply, "OK ")) {
        qtest_fail("%s: host answered '%s'", request, reply);
    }
    return reply + 3;
}

static uint64_t parse_number(const char *request, const char *text)
{
    char *end;
    errno = 0;
    uint64_t v = g_ascii_strtoull(text, &end, 0);
    if (errno || end == text || *end) {
        qtest_fail("%s: reply '%s' is not a number", request, text);
    }
    return v;
}

/* Sends "<request>" and returns the numeric value of "OK <n>". */
static uint64_t numeric_request(QTestState *s, const char *request)
{
    char *reply = qtest_command(s, "%s", request);
    uint64_t v = parse_number(request, expect_ok(request, reply));
    g_free(reply);
    return v;
}

static void ok_request(QTestState *s, const char *request)
{
    char *reply = qtest_command(s, "%s", request);
    expect_ok(request, reply);
    g_free(reply);
}

static uint64_t mmio_read(QTestState *s, const char *op, uint64_t addr)
{
    char *req = g_strdup_printf("%s 0x%" PRIx64, op, addr);
    uint64_t v = numeric_request(s, req);
    g_free(req);
    return v;
}

static void mmio_write(QTestState *s, const char *op, uint64_t addr, uint64_t value)
{
    char *req = g_strdup_printf("%s 0x%" PRIx64 " 0x%" PRIx64, op, addr, value);
    ok_request(s, req);
    g_free(req);
}

uint8_t qtest_readb(QTestState *s, uint64_t a) { return (uint8_t)mmio_read(s, "readb", a); }
uint16_t qtest_readw(QTestState *s, uint64_t a) { return (uint16_t)mmio_read(s, "readw", a); }
uint32_t qtest_readl(QTestState *s, uint64_t a) { return (uint32_t)mmio_read(s, "readl", a); }
uint64_t qtest_readq(QTestState *s, uint64_t a) { return mmio_read(s, "readq", a); }
void qtest_writeb(QTestState *s, uint64_t a, uint8_t v) { mmio_write(s, "writeb", a, v); }
void qtest_writew(QTestState *s, uint64_t a, uint16_t v) { mmio_write(s, "writew", a, v); }
void qtest_writel(QTestState *s, uint64_t a, uint32_t v) { mmio_write(s, "writel", a, v); }
void qtest_writeq(QTestState *s, uint64_t a, uint64_t v) { mmio_write(s, "writeq", a, v); }
uint8_t qtest_inb(QTestState *s, uint16_t p) { return (uint8_t)mmio_read(s, "inb", p); }
uint16_t qtest_inw(QTestState *s, uint16_t p) { return (uint16_t)mmio_read(s, "inw", p); }
uint32_t qtest_inl(QTestState *s, uint16_t p) { return (uint32_t)mmio_read(s, "inl", p); }
void qtest_outb(QTestState *s, uint16_t p, uint8_t v) { mmio_write(s, "outb", p, v); }
void qtest_outw(QTestState *s, uint16_t p, uint16_t v) { mmio_write(s, "outw", p, v); }
void qtest_outl(QTestState *s, uint16_t p, uint32_t v) { mmio_write(s, "outl", p, v); }

void qtest_memread(QTestState *s, uint64_t addr, void *data, size_t size)
{
    if (size == 0) {
        return;  /* the protocol rejects SIZE 0 */
    }
    char *reply = qtest_command(s, "read 0x%" PRIx64 " 0x%zx", addr, size);
    const char *hex = expect_ok("read", reply);
    if (!g_str_has_prefix(hex, "0x") || strlen(hex + 2) != size * 2) {
        qtest_fail("read of %zu bytes: reply '%s' has the wrong shape", size, reply);
    }
    uint8_t *out = data;
    for (size_t i = 0; i < size; i++) {
        int hi = g_ascii_xdigit_value(hex[2 + 2 * i]);
        int lo = g_ascii_xdigit_value(hex[3 + 2 * i]);
        if (hi < 0 || lo < 0) {
            qtest_fail("read: reply '%s' is not hex", reply);
        }
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    g_free(reply);
}

void qtest_memwrite(QTestState *s, uint64_t addr, const void *data, size_t size)
{
    if (size == 0) {
        return;
    }
    const uint8_t *in = data;
    GString *req = g_string_new(NULL);
    g_string_printf(req, "write 0x%" PRIx64 " 0x%zx 0x", addr, size);
    for (size_t i = 0; i < size; i++) {
        g_string_append_printf(req, "%02x", in[i]);
    }
    ok_request(s, req->str);
    g_string_free(req, TRUE);
}

void qtest_bufread(QTestState *s, uint64_t addr, void *data, size_t size)
{
    if (size == 0) {
        return;
    }
    char *reply = qtest_command(s, "b64read 0x%" PRIx64 " 0x%zx", addr, size);
    const char *b64 = expect_ok("b64read", reply);
    gsize len = 0;
    guchar *bytes = g_base64_decode(b64, &len);
    if (len != size) {
        qtest_fail("b64read of %zu bytes returned %zu", size, (size_t)len);
    }
    memcpy(data, bytes, size);  /* len == size checked above */
    g_free(bytes);
    g_free(reply);
}

void qtest_bufwrite(QTestState *s, uint64_t addr, const void *data, size_t size)
{
    if (size == 0) {
        return;
    }
    char *b64 = g_base64_encode(data, size);
    char *req = g_strdup_printf("b64write 0x%" PRIx64 " 0x%zx %s", addr, size, b64);
    ok_request(s, req);
    g_free(req);
    g_free(b64);
}

void qtest_memset(QTestState *s, uint64_t addr, uint8_t pattern, size_t size)
{
    char *req = g_strdup_printf("memset 0x%" PRIx64 " 0x%zx 0x%02x", addr, size, pattern);
    ok_request(s, req);
    g_free(req);
}

int64_t qtest_clock_step(QTestState *s, int64_t step_ns)
{
    char *req = g_strdup_printf("clock_step %" PRIi64, step_ns);
    int64_t v = (int64_t)numeric_request(s, req);
    g_free(req);
    return v;
}

int64_t qtest_clock_step_next(QTestState *s)
{
    return (int64_t)numeric_request(s, "clock_step");
}

int64_t qtest_clock_set(QTestState *s, int64_t ns)
{
    char *req = g_strdup_printf("clock_set %" PRIi64, ns);
    int64_t v = (int64_t)numeric_request(s, req);
    g_free(req);
    return v;
}

static void irq_intercept(QTestState *s, const char *op, const char *qom_path)
{
    char *req = g_strdup_printf("%s %s", op, qom_path);
    ok_request(s, req);
    g_free(req);
}

void qtest_irq_intercept_in(QTestState *s, const char *p) { irq_intercept(s, "irq_intercept_in", p); }
void qtest_irq_intercept_out(QTestState *s, const char *p) { irq_intercept(s, "irq_intercept_out", p); }

bool qtest_get_irq(QTestState *s, int num)
{
    if (num < 0 || num >= QTEST_MAX_IRQ) {
        qtest_fail("IRQ number %d out of range", num);
    }
    /* IRQ lines arrive before replies; a round trip without side effects picks up any that
     * are pending. */
    char *reply = qtest_command(s, "endianness");
    g_free(reply);
    return s->irq_level[num];
}

void qtest_set_irq_in(QTestState *s, const char *qom_path, const char *name, int num, int level)
{
    char *req = g_strdup_printf("set_irq_in %s %s %d %d", qom_path, name, num, level);
    ok_request(s, req);
    g_free(req);
}

bool qtest_big_endian(const QTestState *s)
{
    return s->big_endian;
}
