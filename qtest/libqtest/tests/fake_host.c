/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The fake qtest host used by the client library's own tests (see fake_host.h).  It follows the
 * qtest wire protocol of QEMU 7.2 (softmmu/qtest.c: replies OK/FAIL/ERR, "OK 0x%016x" for
 * reads) closely enough to exercise every client call, and checks what the client sends.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <glib.h>
#include <json-c/json.h>

#include "fake_host.h"

#define PORT_SPACE (UINT64_C(1) << 40)  /* ports live above guest memory in the byte map */

typedef struct Fake {
    const FakeHostOptions *opt;
    int qtest_fd, qmp_fd;
    GString *qtest_in, *qmp_in;
    GHashTable *bytes;  /* address -> byte (+1, so that 0 means "never written") */
    int64_t clock_ns;
    bool intercepting;
    bool negotiated;    /* qmp_capabilities done */
    FakeTpm *tpm;
} Fake;

int fake_host_connect(const char *path)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof(addr.sun_path)) {
        return -1;
    }
    strcpy(addr.sun_path, path);  /* length checked above */
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        close(fd);
        fd = -1;
    }
    return fd;
}

static void send_all(int fd, const char *p, size_t len, bool trickle)
{
    while (len > 0) {
        ssize_t n = send(fd, p, trickle ? 1 : len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return;  /* the client went away; the serve loop notices */
        }
        p += n;
        len -= (size_t)n;
    }
}

/* ---- memory ---- */

static uint8_t mem_get(Fake *f, uint64_t addr)
{
    gpointer v = g_hash_table_lookup(f->bytes, &addr);
    return v ? (uint8_t)(GPOINTER_TO_UINT(v) - 1) : 0;
}

static void mem_put(Fake *f, uint64_t addr, uint8_t value)
{
    uint64_t *key = g_new(uint64_t, 1);
    *key = addr;
    g_hash_table_replace(f->bytes, key, GUINT_TO_POINTER((guint)value + 1));
}

static uint64_t mem_get_le(Fake *f, uint64_t addr, unsigned size)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++) {
        v |= (uint64_t)mem_get(f, addr + i) << (8 * i);
    }
    return v;
}

static void mem_put_le(Fake *f, uint64_t addr, uint64_t v, unsigned size)
{
    for (unsigned i = 0; i < size; i++) {
        mem_put(f, addr + i, (uint8_t)(v >> (8 * i)));
    }
}

static uint8_t tpm_mem_get(void *opaque, uint64_t addr)
{
    return mem_get(opaque, addr);
}

static void tpm_mem_put(void *opaque, uint64_t addr, uint8_t value)
{
    mem_put(opaque, addr, value);
}

/* ---- qtest ---- */

static bool number(const char *text, uint64_t *out)
{
    char *end;
    if (!text) {
        return false;
    }
    errno = 0;
    *out = g_ascii_strtoull(text, &end, 0);
    return errno == 0 && end != text && *end == '\0';
}

static unsigned access_size(char suffix)
{
    switch (suffix) {
    case 'b': return 1;
    case 'w': return 2;
    case 'l': return 4;
    case 'q': return 8;
    default: return 0;
    }
}

static char *do_irq_trigger(Fake *f, uint64_t value)
{
    if (!f->intercepting) {
        return g_strdup("");
    }
    return g_strdup_printf("IRQ %s %u\n", value & 0x100 ? "raise" : "lower",
                           (unsigned)(value & 0xff));
}

/* Returns the reply line(s) including the final newline. */
static char *qtest_reply(Fake *f, char **w, int n)
{
    uint64_t a, b, c;
    const char *cmd = w[0];
    if (strcmp(cmd, "endianness") == 0) {
        return g_strdup_printf("OK %s\n", f->opt->big_endian ? "big" : "little");
    }
    if (g_str_has_prefix(cmd, "read") && strlen(cmd) == 5 && access_size(cmd[4])) {
        if (n != 2 || !number(w[1], &a)) {
            return g_strdup("ERR bad arguments\n");
        }
        unsigned size = access_size(cmd[4]);
        uint64_t v;
        if (!fake_tpm_read(f->tpm, a, size, &v)) {
            v = mem_get_le(f, a, size);
        }
        return g_strdup_printf("OK 0x%016" PRIx64 "\n", v);
    }
    if (g_str_has_prefix(cmd, "write") && strlen(cmd) == 6 && access_size(cmd[5])) {
        if (n != 3 || !number(w[1], &a) || !number(w[2], &b)) {
            return g_strdup("ERR bad arguments\n");
        }
        char *irq = (a == FAKE_IRQ_TRIGGER) ? do_irq_trigger(f, b) : g_strdup("");
        if (!fake_tpm_write(f->tpm, a, access_size(cmd[5]), b)) {
            mem_put_le(f, a, b, access_size(cmd[5]));
        }
        char *r = g_strconcat(irq, "OK\n", NULL);
        g_free(irq);
        return r;
    }
    if ((g_str_has_prefix(cmd, "in") && strlen(cmd) == 3) ||
        (g_str_has_prefix(cmd, "out") && strlen(cmd) == 4)) {
        bool in = cmd[0] == 'i';
        unsigned size = access_size(cmd[strlen(cmd) - 1]);
        if (!size || size == 8 || n != (in ? 2 : 3) || !number(w[1], &a) || a > 0xffff ||
            (!in && !number(w[2], &b))) {
            return g_strdup("ERR bad arguments\n");
        }
        if (in) {
            return g_strdup_printf("OK 0x%04" PRIx64 "\n", mem_get_le(f, PORT_SPACE + a, size));
        }
        mem_put_le(f, PORT_SPACE + a, b, size);
        return g_strdup("OK\n");
    }
    if (strcmp(cmd, "read") == 0 || strcmp(cmd, "b64read") == 0) {
        if (n != 3 || !number(w[1], &a) || !number(w[2], &b) || b == 0 || b > 1 << 20) {
            return g_strdup("ERR bad arguments\n");
        }
        guchar *data = g_malloc(b);
        for (uint64_t i = 0; i < b; i++) {
            data[i] = mem_get(f, a + i);
        }
        char *r;
        if (cmd[0] == 'b') {
            char *b64 = g_base64_encode(data, b);
            r = g_strdup_printf("OK %s\n", b64);
            g_free(b64);
        } else {
            GString *hex = g_string_new("OK 0x");
            for (uint64_t i = 0; i < b; i++) {
                g_string_append_printf(hex, "%02x", data[i]);
            }
            g_string_append_c(hex, '\n');
            r = g_string_free(hex, FALSE);
        }
        g_free(data);
        return r;
    }
    if (strcmp(cmd, "write") == 0) {
        if (n != 4 || !number(w[1], &a) || !number(w[2], &b) || !g_str_has_prefix(w[3], "0x") ||
            strlen(w[3]) != 2 + 2 * b) {
            return g_strdup("ERR bad arguments\n");
        }
        for (uint64_t i = 0; i < b; i++) {
            int hi = g_ascii_xdigit_value(w[3][2 + 2 * i]), lo = g_ascii_xdigit_value(w[3][3 + 2 * i]);
            if (hi < 0 || lo < 0) {
                return g_strdup("ERR bad hex\n");
            }
            mem_put(f, a + i, (uint8_t)(hi << 4 | lo));
        }
        return g_strdup("OK\n");
    }
    if (strcmp(cmd, "b64write") == 0) {
        gsize len = 0;
        if (n != 4 || !number(w[1], &a) || !number(w[2], &b)) {
            return g_strdup("ERR bad arguments\n");
        }
        guchar *data = g_base64_decode(w[3], &len);
        if (len != b) {
            g_free(data);
            return g_strdup("ERR length mismatch\n");
        }
        for (uint64_t i = 0; i < b; i++) {
            mem_put(f, a + i, data[i]);
        }
        g_free(data);
        return g_strdup("OK\n");
    }
    if (strcmp(cmd, "memset") == 0) {
        if (n != 4 || !number(w[1], &a) || !number(w[2], &b) || !number(w[3], &c)) {
            return g_strdup("ERR bad arguments\n");
        }
        for (uint64_t i = 0; i < b; i++) {
            mem_put(f, a + i, (uint8_t)c);
        }
        return g_strdup("OK\n");
    }
    if (strcmp(cmd, "clock_step") == 0) {
        if (n == 1) {
            f->clock_ns += 1000;  /* "the next deadline" */
        } else if (n == 2 && number(w[1], &a)) {
            f->clock_ns += (int64_t)a;
        } else {
            return g_strdup("ERR bad arguments\n");
        }
        return g_strdup_printf("OK %" PRIi64 "\n", f->clock_ns);
    }
    if (strcmp(cmd, "clock_set") == 0) {
        if (n != 2 || !number(w[1], &a)) {
            return g_strdup("ERR bad arguments\n");
        }
        f->clock_ns = (int64_t)a;
        return g_strdup_printf("OK %" PRIi64 "\n", f->clock_ns);
    }
    if (strcmp(cmd, "irq_intercept_in") == 0 || strcmp(cmd, "irq_intercept_out") == 0) {
        if (n != 2 || strcmp(w[1], FAKE_QOM_DEVICE) != 0) {
            return g_strdup("FAIL Unknown device\n");
        }
        if (f->intercepting) {
            return g_strdup("FAIL IRQ intercept already enabled\n");
        }
        f->intercepting = true;
        return g_strdup("OK\n");
    }
    if (strcmp(cmd, "set_irq_in") == 0) {
        return g_strdup(n == 5 && strcmp(w[1], FAKE_QOM_DEVICE) == 0 ? "OK\n"
                                                                      : "FAIL Unknown device\n");
    }
    return g_strdup_printf("FAIL Unknown command '%s'\n", cmd);
}

static void qtest_lines(Fake *f)
{
    char *nl;
    while ((nl = memchr(f->qtest_in->str, '\n', f->qtest_in->len))) {
        char *line = g_strndup(f->qtest_in->str, nl - f->qtest_in->str);
        g_string_erase(f->qtest_in, 0, nl - f->qtest_in->str + 1);
        char **w = g_strsplit(line, " ", -1);
        int n = (int)g_strv_length(w);
        char *reply = n > 0 && *w[0] ? qtest_reply(f, w, n) : g_strdup("FAIL empty line\n");
        send_all(f->qtest_fd, reply, strlen(reply), false);
        g_free(reply);
        g_strfreev(w);
        g_free(line);
    }
}

/* ---- QMP ---- */

static void append_json(GString *out, json_object *msg)
{
    g_string_append(out, json_object_to_json_string_ext(msg, JSON_C_TO_STRING_PLAIN));
    g_string_append(out, "\r\n");
    json_object_put(msg);
}

static json_object *error_reply(const char *cls, const char *desc)
{
    json_object *err = json_object_new_object();
    json_object_object_add(err, "class", json_object_new_string(cls));
    json_object_object_add(err, "desc", json_object_new_string(desc));
    json_object *r = json_object_new_object();
    json_object_object_add(r, "error", err);
    return r;
}

static json_object *event_message(const char *name)
{
    json_object *ts = json_object_new_object();
    json_object_object_add(ts, "seconds", json_object_new_int(0));
    json_object_object_add(ts, "microseconds", json_object_new_int(0));
    json_object *ev = json_object_new_object();
    json_object_object_add(ev, "event", json_object_new_string(name));
    json_object_object_add(ev, "data", json_object_new_object());
    json_object_object_add(ev, "timestamp", ts);
    return ev;
}

static json_object *ok_reply(json_object *value)
{
    json_object *r = json_object_new_object();
    json_object_object_add(r, "return", value ? value : json_object_new_object());
    return r;
}

static json_object *execute(Fake *f, const char *name, json_object *args, GString *out)
{
    if (strcmp(name, "qmp_capabilities") == 0) {
        f->negotiated = true;
        return ok_reply(NULL);
    }
    if (!f->negotiated) {
        return error_reply("CommandNotFound",
                           "Expecting capabilities negotiation with 'qmp_capabilities'");
    }
    if (strcmp(name, "query-status") == 0) {
        json_object *st = json_object_new_object();
        json_object_object_add(st, "status", json_object_new_string("running"));
        json_object_object_add(st, "singlestep", json_object_new_boolean(0));
        json_object_object_add(st, "running", json_object_new_boolean(1));
        return ok_reply(st);
    }
    if (strcmp(name, "echo") == 0) {
        return ok_reply(args ? json_object_get(args) : NULL);
    }
    if (strcmp(name, "fake-emit") == 0) {
        json_object *events;
        if (args && json_object_object_get_ex(args, "events", &events) &&
            json_object_is_type(events, json_type_array)) {
            for (size_t i = 0; i < json_object_array_length(events); i++) {
                const char *ev = json_object_get_string(json_object_array_get_idx(events, i));
                append_json(out, event_message(ev ? ev : "NULL"));
            }
        }
        return ok_reply(NULL);
    }
    char *desc = g_strdup_printf("The command %s has not been found", name);
    json_object *r = error_reply("CommandNotFound", desc);
    g_free(desc);
    return r;
}

static void qmp_message(Fake *f, json_object *msg, GString *out)
{
    json_object *cmd, *args = NULL, *id = NULL;
    json_object *reply;
    if (!json_object_is_type(msg, json_type_object) ||
        !json_object_object_get_ex(msg, "execute", &cmd) ||
        !json_object_is_type(cmd, json_type_string)) {
        reply = error_reply("GenericError", "QMP input must be an object with 'execute'");
    } else {
        json_object_object_get_ex(msg, "arguments", &args);
        reply = execute(f, json_object_get_string(cmd), args, out);
    }
    if (json_object_object_get_ex(msg, "id", &id)) {
        json_object_object_add(reply, "id", json_object_get(id));
    }
    append_json(out, reply);
}

static void qmp_input(Fake *f)
{
    GString *out = g_string_new(NULL);
    json_tokener *tok = json_tokener_new();
    for (;;) {
        size_t skip = 0;
        while (skip < f->qmp_in->len && g_ascii_isspace(f->qmp_in->str[skip])) {
            skip++;
        }
        g_string_erase(f->qmp_in, 0, skip);
        if (f->qmp_in->len == 0) {
            break;
        }
        json_tokener_reset(tok);
        json_object *msg = json_tokener_parse_ex(tok, f->qmp_in->str, (int)f->qmp_in->len);
        enum json_tokener_error err = json_tokener_get_error(tok);
        if (err == json_tokener_continue) {
            break;
        }
        if (err != json_tokener_success) {
            /* Drop the line, as a lexer resynchronising on a newline would. */
            char *nl = memchr(f->qmp_in->str, '\n', f->qmp_in->len);
            g_string_erase(f->qmp_in, 0, nl ? nl - f->qmp_in->str + 1 : (gssize)f->qmp_in->len);
            append_json(out, error_reply("GenericError", "JSON parse error"));
            continue;
        }
        g_string_erase(f->qmp_in, 0, json_tokener_get_parse_end(tok));
        qmp_message(f, msg, out);
        json_object_put(msg);
    }
    json_tokener_free(tok);
    send_all(f->qmp_fd, out->str, out->len, f->opt->trickle);
    g_string_free(out, TRUE);
}

static void send_greeting(Fake *f)
{
    GString *out = g_string_new(NULL);
    if (f->opt->event_before_greeting) {
        append_json(out, event_message("FAKE_EARLY"));
    }
    json_object *qemu = json_object_new_object();
    json_object_object_add(qemu, "micro", json_object_new_int(0));
    json_object_object_add(qemu, "minor", json_object_new_int(2));
    json_object_object_add(qemu, "major", json_object_new_int(7));
    json_object *version = json_object_new_object();
    json_object_object_add(version, "qemu", qemu);
    json_object_object_add(version, "package", json_object_new_string("fake"));
    json_object *caps = json_object_new_array();
    json_object_array_add(caps, json_object_new_string("oob"));
    json_object *body = json_object_new_object();
    json_object_object_add(body, "version", version);
    json_object_object_add(body, "capabilities", caps);
    json_object *greeting = json_object_new_object();
    json_object_object_add(greeting, "QMP", body);
    append_json(out, greeting);
    send_all(f->qmp_fd, out->str, out->len, f->opt->trickle);
    g_string_free(out, TRUE);
}

/* ---- the loop ---- */

static bool pump(int fd, GString *buf)
{
    char chunk[4096];
    ssize_t n = recv(fd, chunk, sizeof(chunk), 0);
    if (n < 0 && errno == EINTR) {
        return true;
    }
    if (n <= 0) {
        return false;
    }
    g_string_append_len(buf, chunk, n);
    return true;
}

void fake_host_serve(int qtest_fd, int qmp_fd, const FakeHostOptions *opt)
{
    Fake f = {
        .opt = opt, .qtest_fd = qtest_fd, .qmp_fd = qmp_fd,
        .qtest_in = g_string_new(NULL), .qmp_in = g_string_new(NULL),
        .bytes = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL),
    };
    f.tpm = fake_tpm_new(opt->tpm, opt->tpm_fault,
                         (FakeTpmMemory){ tpm_mem_get, tpm_mem_put, &f });
    send_greeting(&f);
    for (;;) {
        struct pollfd pfd[2] = { { .fd = f.qtest_fd, .events = POLLIN },
                                 { .fd = f.qmp_fd, .events = POLLIN } };
        if (poll(pfd, 2, -1) < 0 && errno != EINTR) {
            break;
        }
        if (pfd[0].revents) {
            if (!pump(f.qtest_fd, f.qtest_in)) {
                break;  /* the client is gone: the host's life ends with the qtest link */
            }
            qtest_lines(&f);
        }
        if (pfd[1].revents) {
            if (pump(f.qmp_fd, f.qmp_in)) {
                qmp_input(&f);
            } else {
                close(f.qmp_fd);
                f.qmp_fd = -1;  /* poll ignores negative fds */
            }
        }
    }
    close(f.qtest_fd);
    if (f.qmp_fd >= 0) {
        close(f.qmp_fd);
    }
    g_string_free(f.qtest_in, TRUE);
    g_string_free(f.qmp_in, TRUE);
    g_hash_table_destroy(f.bytes);
    fake_tpm_free(f.tpm);
}

/* ---- thread mode ---- */

typedef struct ThreadArgs {
    int qtest_fd, qmp_fd;
    const FakeHostOptions *opt;
} ThreadArgs;

static gpointer serve_thread(gpointer data)
{
    ThreadArgs *a = data;
    fake_host_serve(a->qtest_fd, a->qmp_fd, a->opt);
    g_free(a);
    return NULL;
}

void fake_host_connector(const char *qtest_path, const char *qmp_path, void *opaque)
{
    FakeHostThread *t = opaque;
    ThreadArgs *a = g_new0(ThreadArgs, 1);
    a->opt = &t->options;
    /* Connecting completes against the listen backlog before the client accepts. */
    a->qtest_fd = fake_host_connect(qtest_path);
    a->qmp_fd = fake_host_connect(qmp_path);
    if (a->qtest_fd < 0 || a->qmp_fd < 0) {
        fprintf(stderr, "fake host: cannot connect: %s\n", strerror(errno));
        abort();
    }
    t->thread = g_thread_new("fake-host", serve_thread, a);
}

void fake_host_join(FakeHostThread *t)
{
    if (t->thread) {
        g_thread_join(t->thread);
        t->thread = NULL;
    }
}
