/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The QMP side of the qtest client: a stream of JSON objects in both directions (QMP spec,
 * docs/interop/qmp-spec in QEMU 7.2), the greeting, command/reply pairs and a stash of the
 * asynchronous events that arrive between them.
 */
#include <stdio.h>
#include <string.h>

#include "qtest/libqtest/libqtest_int.h"

/* ---- reading ------------------------------------------------------------------------------- */

static void skip_whitespace(GString *buf)
{
    size_t n = 0;
    while (n < buf->len && g_ascii_isspace(buf->str[n])) {
        n++;
    }
    g_string_erase(buf, 0, n);
}

/* The next complete JSON value from the QMP stream.  The buffer is parsed from its start each
 * time more bytes arrive: messages are small, and a fresh tokener cannot be confused by an
 * earlier partial parse. */
static json_object *read_message(QTestState *s)
{
    if (s->qmp_fd < 0) {
        qtest_fail("the QMP connection is closed");
    }
    json_tokener *tok = json_tokener_new();
    for (;;) {
        skip_whitespace(s->qmp_in);
        if (s->qmp_in->len > 0) {
            json_tokener_reset(tok);
            json_object *obj = json_tokener_parse_ex(tok, s->qmp_in->str, (int)s->qmp_in->len);
            enum json_tokener_error err = json_tokener_get_error(tok);
            if (err == json_tokener_success) {
                size_t used = json_tokener_get_parse_end(tok);
                if (s->log) {
                    fprintf(stderr, "[qmp <<<] %.*s\n", (int)used, s->qmp_in->str);
                }
                g_string_erase(s->qmp_in, 0, used);
                json_tokener_free(tok);
                if (!json_object_is_type(obj, json_type_object)) {
                    qtest_fail("QMP: the host sent a JSON value that is not an object: %s",
                               json_object_to_json_string(obj));
                }
                return obj;
            }
            if (err != json_tokener_continue) {
                qtest_fail("QMP: the host sent invalid JSON (%s): %.200s",
                           json_tokener_error_desc(err), s->qmp_in->str);
            }
        }
        if (!qtest_socket_fill(s->qmp_fd, s->qmp_in, "QMP")) {
            qtest_fail("the host closed the QMP connection");
        }
    }
}

static bool is_event(json_object *msg)
{
    return json_object_object_get_ex(msg, "event", NULL);
}

void qtest_qmp_read_greeting(QTestState *s)
{
    for (;;) {
        json_object *msg = read_message(s);
        if (is_event(msg)) {
            g_queue_push_tail(&s->events, msg);
            continue;
        }
        json_object *qmp;
        if (!json_object_object_get_ex(msg, "QMP", &qmp) ||
            !json_object_is_type(qmp, json_type_object)) {
            qtest_fail("QMP: expected the greeting, got %s", json_object_to_json_string(msg));
        }
        s->greeting = msg;
        return;
    }
}

json_object *qtest_qmp_greeting(QTestState *s)
{
    return s->greeting;
}

json_object *qtest_qmp_receive(QTestState *s)
{
    for (;;) {
        json_object *msg = read_message(s);
        if (!is_event(msg)) {
            return msg;
        }
        g_queue_push_tail(&s->events, msg);
    }
}

/* ---- sending ------------------------------------------------------------------------------- */

/* QEMU's tests write JSON with single-quoted strings.  Rewrites them as standard JSON: outside
 * double-quoted strings, a single-quoted string becomes a double-quoted one, with inner '"'
 * escaped and "\'" unescaped. */
static char *single_quotes_to_json(const char *in)
{
    GString *out = g_string_sized_new(strlen(in) + 8);
    char quote = 0;  /* the quote that opened the current string, or 0 */
    for (const char *p = in; *p; p++) {
        char c = *p;
        if (!quote) {
            if (c == '\'' || c == '"') {
                quote = c;
                g_string_append_c(out, '"');
            } else {
                g_string_append_c(out, c);
            }
            continue;
        }
        if (c == '\\' && p[1]) {
            if (quote == '\'' && p[1] == '\'') {
                g_string_append_c(out, '\'');
            } else {
                g_string_append_c(out, c);
                g_string_append_c(out, p[1]);
            }
            p++;
        } else if (c == quote) {
            quote = 0;
            g_string_append_c(out, '"');
        } else if (c == '"') {  /* only reachable inside a single-quoted string */
            g_string_append(out, "\\\"");
        } else {
            g_string_append_c(out, c);
        }
    }
    return g_string_free(out, FALSE);
}

void qtest_qmp_send_raw(QTestState *s, const void *data, size_t len)
{
    if (s->qmp_fd < 0) {
        qtest_fail("the QMP connection is closed");
    }
    if (s->log) {
        fprintf(stderr, "[qmp >>>] %.*s\n", (int)len, (const char *)data);
    }
    qtest_socket_send(s->qmp_fd, data, len, "QMP");
}

static void vsend(QTestState *s, const char *fmt, va_list ap)
{
    char *text = g_strdup_vprintf(fmt, ap);
    char *json = g_strstrip(single_quotes_to_json(text));
    json_tokener *tok = json_tokener_new();
    json_object *obj = json_tokener_parse_ex(tok, json, (int)strlen(json));
    if (!obj || json_tokener_get_parse_end(tok) != strlen(json)) {
        qtest_fail("QMP: the test's message is not one JSON value: %s", text);
    }
    json_tokener_free(tok);
    /* Re-serialised, so the host gets plain standard JSON on one line. */
    char *line = g_strconcat(json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN), "\n",
                             NULL);
    qtest_qmp_send_raw(s, line, strlen(line));
    g_free(line);
    json_object_put(obj);
    g_free(json);
    g_free(text);
}

void qtest_qmp_send(QTestState *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsend(s, fmt, ap);
    va_end(ap);
}

json_object *qtest_vqmp(QTestState *s, const char *fmt, va_list ap)
{
    vsend(s, fmt, ap);
    return qtest_qmp_receive(s);
}

json_object *qtest_qmp(QTestState *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    json_object *reply = qtest_vqmp(s, fmt, ap);
    va_end(ap);
    return reply;
}

static json_object *vassert_success(QTestState *s, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
static json_object *vassert_success(QTestState *s, const char *fmt, va_list ap)
{
    json_object *reply = qtest_vqmp(s, fmt, ap);
    json_object *ret;
    if (!json_object_object_get_ex(reply, "return", &ret)) {
        qtest_fail("QMP: expected success, got %s", json_object_to_json_string(reply));
    }
    json_object_get(ret);
    json_object_put(reply);
    return ret;
}

json_object *qtest_qmp_assert_success_ref(QTestState *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    json_object *ret = vassert_success(s, fmt, ap);
    va_end(ap);
    return ret;
}

void qtest_qmp_assert_success(QTestState *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    json_object_put(vassert_success(s, fmt, ap));
    va_end(ap);
}

const char *qtest_qmp_error_class(json_object *reply)
{
    json_object *err, *cls;
    if (!reply || !json_object_object_get_ex(reply, "error", &err) ||
        !json_object_object_get_ex(err, "class", &cls)) {
        return NULL;
    }
    return json_object_get_string(cls);
}

/* ---- events -------------------------------------------------------------------------------- */

static bool event_named(json_object *msg, const char *name)
{
    json_object *ev;
    return !name || (json_object_object_get_ex(msg, "event", &ev) &&
                     g_strcmp0(json_object_get_string(ev), name) == 0);
}

json_object *qtest_qmp_event_ref(QTestState *s, const char *name)
{
    for (GList *l = s->events.head; l; l = l->next) {
        if (event_named(l->data, name)) {
            json_object *msg = l->data;
            g_queue_delete_link(&s->events, l);
            return msg;
        }
    }
    return NULL;
}

json_object *qtest_qmp_eventwait_ref(QTestState *s, const char *name)
{
    json_object *msg = qtest_qmp_event_ref(s, name);
    while (!msg) {
        msg = read_message(s);
        if (!is_event(msg)) {
            qtest_fail("QMP: a reply arrived while waiting for event %s: %s", name,
                       json_object_to_json_string(msg));
        }
        if (!event_named(msg, name)) {
            g_queue_push_tail(&s->events, msg);
            msg = NULL;
        }
    }
    return msg;
}

void qtest_qmp_eventwait(QTestState *s, const char *name)
{
    json_object_put(qtest_qmp_eventwait_ref(s, name));
}

void qtest_qmp_clear(QTestState *s)
{
    json_object *msg;
    while ((msg = g_queue_pop_head(&s->events))) {
        json_object_put(msg);
    }
    if (s->greeting) {
        json_object_put(s->greeting);
        s->greeting = NULL;
    }
}
