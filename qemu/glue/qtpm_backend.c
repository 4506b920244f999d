/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * qtpm's glue: TPM backends.  Registers the two QOM types QEMU's hw code and softmmu/tpm.c
 * expect (the abstract "tpm-backend" with TPMBackendClass, the "tpm-if" interface with
 * TPMIfClass) and one "tpm-<name>" backend type per qtpm backend QAPI knows, whose create()
 * hands the -tpmdev options to qtpm_backend_new_kv().  softmmu/tpm.c keeps doing the -tpmdev
 * parsing, "Only one TPM is allowed.", query-tpm and query-tpm-types.
 */
#include "qemu/osdep.h"
#include "qemu/error-report.h"
#include "qemu/option.h"
#include "qapi/error.h"
#include "qapi/qapi-visit-tpm.h"
#include "qapi/qmp/qjson.h"
#include "qapi/qmp/qobject.h"
#include "qapi/qobject-input-visitor.h"
#include "qapi/visitor.h"
#include "qom/object.h"
#include "chardev/char-fe.h"
#include "chardev/char-socket.h"
#include "sysemu/tpm.h"
#include "sysemu/tpm_backend.h"
#include "qtpm_glue.h"

#define TYPE_QTPM_GLUE_BACKEND "qtpm-glue-backend"

typedef struct QtpmGlueBackend {
    TPMBackend parent;
    QtpmBackend *qtpm;
    CharBackend chr; /* claims the -chardev so nothing else reads the socket qtpm now owns */
    char *chardev_id;
} QtpmGlueBackend;

OBJECT_DECLARE_SIMPLE_TYPE(QtpmGlueBackend, QTPM_GLUE_BACKEND)

QtpmBackend *qtpm_glue_backend(TPMBackend *be)
{
    QtpmGlueBackend *g = (QtpmGlueBackend *)object_dynamic_cast(OBJECT(be),
                                                               TYPE_QTPM_GLUE_BACKEND);
    return g ? g->qtpm : NULL;
}

/* ---- create ------------------------------------------------------------------------------ */

typedef struct OptionCollector {
    GPtrArray *keys;
    GPtrArray *values;
} OptionCollector;

static int collect_option(void *opaque, const char *name, const char *value, Error **errp)
{
    OptionCollector *c = opaque;

    if (strcmp(name, "type") != 0) {
        g_ptr_array_add(c->keys, g_strdup(name));
        g_ptr_array_add(c->values, g_strdup(value));
    }
    return 0;
}

/*
 * A backend that names a chardev gets that chardev's connected socket (a dup()): swtpm serves
 * one control connection at a time, so qtpm must not connect a second one.
 */
static bool hand_over_chardev(QtpmGlueBackend *g, const char *prefix, const char *id)
{
    Chardev *chr = qemu_chr_find(id);
    SocketChardev *sock;
    Error *err = NULL;
    char *msg = NULL;
    int fd;

    if (!chr) {
        error_report("%s: tpm chardev '%s' not found", prefix, id);
        return false;
    }
    if (!object_dynamic_cast(OBJECT(chr), TYPE_CHARDEV_SOCKET)) {
        error_report("%s: chardev '%s' is not a socket", prefix, id);
        return false;
    }
    sock = SOCKET_CHARDEV(chr);
    if (!sock->sioc || sock->sioc->fd < 0) {
        error_report("%s: chardev '%s' is not connected", prefix, id);
        return false;
    }
    if (!qemu_chr_fe_init(&g->chr, chr, &err)) {
        error_reportf_err(err, "%s: ", prefix);
        return false;
    }
    fd = dup(sock->sioc->fd);
    if (fd < 0 || qtpm_host_add_chardev_fd(qtpm_glue_host(), id, fd, &msg) != QTPM_OK) {
        error_report("%s: %s", prefix, msg ? msg : g_strerror(errno));
        qtpm_free(msg);
        if (fd >= 0) {
            close(fd);
        }
        qemu_chr_fe_deinit(&g->chr, false);
        return false;
    }
    g->chardev_id = g_strdup(id);
    return true;
}

static TPMBackend *glue_backend_create(QemuOpts *opts)
{
    const char *type = qemu_opt_get(opts, "type");
    g_autofree char *qom_type = g_strdup_printf("tpm-%s", type);
    g_autofree char *prefix = g_strdup_printf("tpm-%s", type);
    const char *chardev = qemu_opt_get(opts, "chardev");
    OptionCollector c = { g_ptr_array_new_with_free_func(g_free),
                          g_ptr_array_new_with_free_func(g_free) };
    QtpmGlueBackend *g = QTPM_GLUE_BACKEND(object_new(qom_type));
    QtpmKeyValue *kv;
    char *msg = NULL;
    guint i;

    g_ptr_array_add(c.keys, g_strdup("id"));
    g_ptr_array_add(c.values, g_strdup(qemu_opts_id(opts)));
    qemu_opt_foreach(opts, collect_option, &c, NULL);
    kv = g_new0(QtpmKeyValue, c.keys->len);
    for (i = 0; i < c.keys->len; i++) {
        kv[i].key = g_ptr_array_index(c.keys, i);
        kv[i].value = g_ptr_array_index(c.values, i);
    }
    if (!chardev || hand_over_chardev(g, prefix, chardev)) {
        g->qtpm = qtpm_backend_new_kv(qtpm_glue_host(), type, kv, c.keys->len, &msg);
        if (!g->qtpm) {
            error_report("%s", msg);
            qtpm_free(msg);
        }
    }
    g_free(kv);
    g_ptr_array_free(c.keys, true);
    g_ptr_array_free(c.values, true);
    if (!g->qtpm) {
        object_unref(OBJECT(g));
        return NULL;
    }
    return TPM_BACKEND(g);
}

static void glue_backend_finalize(Object *obj)
{
    QtpmGlueBackend *g = QTPM_GLUE_BACKEND(obj);

    qtpm_backend_free(g->qtpm);
    if (g->chardev_id) {
        qtpm_host_remove_chardev(qtpm_glue_host(), g->chardev_id, NULL);
        qemu_chr_fe_deinit(&g->chr, false);
        g_free(g->chardev_id);
    }
}

/* ---- query-tpm ------------------------------------------------------------------------- */

/*
 * What query-tpm shows when qtpm's answer does not fit QAPI's TPMInfo (a backend whose options
 * QAPI does not know): the id, the model and the backend type, with empty options.
 */
static TPMInfo *fallback_info(TPMBackend *s)
{
    TPMInfo *info = g_new0(TPMInfo, 1);

    info->id = g_strdup(s->id);
    info->model = TPM_IF_GET_CLASS(s->tpmif)->model;
    info->options = g_new0(TpmTypeOptions, 1);
    info->options->type = TPM_BACKEND_GET_CLASS(s)->type;
    if (info->options->type == TPM_TYPE_EMULATOR) {
        info->options->u.emulator.data = g_new0(TPMEmulatorOptions, 1);
        info->options->u.emulator.data->chardev = g_strdup("");
    } else if (info->options->type == TPM_TYPE_LIBTPMS) {
        info->options->u.libtpms.data = g_new0(TPMLibtpmsOptions, 1);
        info->options->u.libtpms.data->version = g_strdup("");
    } else {
        info->options->u.passthrough.data = g_new0(TPMPassthroughOptions, 1);
    }
    return info;
}

/* softmmu/tpm.c's query-tpm asks for every backend bound to a frontend. */
TPMInfo *tpm_backend_query_tpm(TPMBackend *s)
{
    QtpmDevice *dev = qtpm_glue_frontend_device(OBJECT(s->tpmif));
    g_autofree char *json = dev ? qtpm_device_query_tpm_json(dev, NULL) : NULL;
    TPMInfo *info = NULL;
    Error *err = NULL;
    QObject *obj;
    Visitor *v;

    obj = json ? qobject_from_json(json, &err) : NULL;
    if (obj) {
        v = qobject_input_visitor_new(obj);
        visit_type_TPMInfo(v, NULL, &info, &err);
        visit_free(v);
        qobject_unref(obj);
    }
    if (!info) {
        if (err) {
            warn_report_err(err);
        }
        info = fallback_info(s);
    }
    return info;
}

/* ---- types --------------------------------------------------------------------------- */

static void glue_backend_class_init(ObjectClass *oc, void *data)
{
    TPMBackendClass *bc = TPM_BACKEND_CLASS(oc);
    const char *name = data;
    char **props = qtpm_type_property_names(name);
    QtpmTypeInfo info;
    QemuOptDesc *desc;
    size_t n = props ? g_strv_length(props) : 0, i;

    /* "type" is the implied first option; everything else is a property of the qtpm type. */
    desc = g_new0(QemuOptDesc, n + 2);
    desc[0].name = "type";
    desc[0].type = QEMU_OPT_STRING;
    desc[0].help = "Type of TPM backend";
    for (i = 0; i < n; i++) {
        desc[i + 1].name = g_strdup(props[i]);
        desc[i + 1].type = QEMU_OPT_STRING;
    }
    qtpm_strv_free(props);
    bc->type = qapi_enum_parse(&TpmType_lookup, name, -1, NULL);
    bc->opts = desc;
    bc->desc = qtpm_type_info(name, &info, NULL) == QTPM_OK ? info.description : name;
    bc->create = glue_backend_create;
}

static const TypeInfo glue_types[] = {
    {
        .name = TYPE_TPM_BACKEND,
        .parent = TYPE_OBJECT,
        .instance_size = sizeof(TPMBackend),
        .class_size = sizeof(TPMBackendClass),
        .abstract = true,
    }, {
        .name = TYPE_TPM_IF,
        .parent = TYPE_INTERFACE,
        .class_size = sizeof(TPMIfClass),
    }, {
        .name = TYPE_QTPM_GLUE_BACKEND,
        .parent = TYPE_TPM_BACKEND,
        .instance_size = sizeof(QtpmGlueBackend),
        .instance_finalize = glue_backend_finalize,
        .abstract = true,
    },
};

void qtpm_glue_register_backends(void)
{
    char **names, **n;

    type_register_static_array(glue_types, ARRAY_SIZE(glue_types));
    qtpm_init();
    names = qtpm_type_list(QTPM_TYPE_BACKEND);
    for (n = names; n && *n; n++) {
        /* softmmu/tpm.c only looks up the types QAPI's TpmType enum names. */
        if (qapi_enum_parse(&TpmType_lookup, *n, -1, NULL) < 0) {
            continue;
        }
        TypeInfo ti = {
            .name = g_strdup_printf("tpm-%s", *n),
            .parent = TYPE_QTPM_GLUE_BACKEND,
            .class_init = glue_backend_class_init,
            .class_data = g_strdup(*n),
        };
        type_register(&ti);
    }
    qtpm_strv_free(names);
}
