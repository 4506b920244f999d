/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * qtpm's glue: the host, i.e. what QEMU gives qtpm's devices and backends (qtpm/qtpm.h,
 * QtpmHostOps): completions run as bottom halves on the main loop, RAM clearing for PPI, error
 * reporting and the incoming-migration state.
 */
#include "qemu/osdep.h"
#include "qemu/error-report.h"
#include "qemu/main-loop.h"
#include "block/aio.h"
#include "exec/ramblock.h"
#include "exec/memory.h"
#include "sysemu/runstate.h"
#include "qtpm_glue.h"

static QtpmHost *host;

/* Thread-safe: backends post from their worker threads.  The bottom half runs with the BQL. */
static void glue_post(void *opaque, QtpmWorkFn fn, void *work)
{
    aio_bh_schedule_oneshot(qemu_get_aio_context(), fn, work);
}

static int clear_one_block(RAMBlock *rb, void *opaque)
{
    /* Only guest RAM: qtpm's own buffers (the PPI page, the CRB buffer) are RAM devices. */
    if (memory_region_is_ram_device(rb->mr)) {
        return 0;
    }
    memset(qemu_ram_get_host_addr(rb), 0, qemu_ram_get_used_length(rb));
    memory_region_set_dirty(rb->mr, 0, qemu_ram_get_used_length(rb));
    return 0;
}

static void glue_clear_guest_ram(void *opaque)
{
    qemu_ram_foreach_block(clear_one_block, NULL);
}

static bool glue_incoming_migration_pending(void *opaque)
{
    return runstate_check(RUN_STATE_INMIGRATE);
}

static void glue_report_error(void *opaque, const char *message)
{
    error_report("%s", message);
}

QtpmHost *qtpm_glue_host(void)
{
    if (!host) {
        QtpmHostOps ops = {
            .size = sizeof(ops),
            .post = glue_post,
            .clear_guest_ram = glue_clear_guest_ram,
            .incoming_migration_pending = glue_incoming_migration_pending,
            .report_error = glue_report_error,
        };
        char *err = NULL;

        qtpm_init();
        host = qtpm_host_new(&ops, NULL, &err);
        /* Only a missing post() fails, and the ops above have one. */
        assert(host);
    }
    return host;
}

void qtpm_glue_set_error(Error **errp, char *msg, const char *prefix)
{
    if (prefix) {
        error_setg(errp, "%s: %s", prefix, msg ? msg : "unknown error");
    } else {
        error_setg(errp, "%s", msg ? msg : "unknown error");
    }
    qtpm_free(msg);
}
