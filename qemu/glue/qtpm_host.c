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
#include "exec/memory.h"
#include "sysemu/memory_mapping.h"
#include "sysemu/runstate.h"
#include "qtpm_glue.h"

static QtpmHost *host;

/* Thread-safe: backends post from their worker threads.  The bottom half runs with the BQL. */
static void glue_post(void *opaque, QtpmWorkFn fn, void *work)
{
    aio_bh_schedule_oneshot(qemu_get_aio_context(), fn, work);
}

/*
 * The PPI memory clear: every block of guest-physical RAM.  QEMU's list of guest-physical
 * blocks leaves out RAM devices, which is what qtpm's own buffers (PPI page, CRB buffer) are
 * mapped as, so they survive, as the device's memory must.
 */
static void glue_clear_guest_ram(void *opaque)
{
    GuestPhysBlockList blocks;
    GuestPhysBlock *b;

    guest_phys_blocks_init(&blocks);
    guest_phys_blocks_append(&blocks);
    QTAILQ_FOREACH(b, &blocks.head, next) {
        uint64_t len = b->target_end - b->target_start;
        ram_addr_t offset = b->host_addr - (uint8_t *)memory_region_get_ram_ptr(b->mr);

        memset(b->host_addr, 0, len);
        memory_region_set_dirty(b->mr, offset, len);
    }
    guest_phys_blocks_free(&blocks);
}

static bool glue_incoming_migration_pending(void *opaque)
{
    return runstate_check(RUN_STATE_INMIGRATE);
}

static void glue_report_error(void *opaque, const char *message)
{
    error_report("%s", message);
}

/*
 * qtpm's trace events are not QEMU's (-trace does not know them): QTPM_TRACE="pat,pat" in the
 * environment switches them on, e.g. QTPM_TRACE='tpm_emulator_*,guest_errors'.
 */
static void enable_traces(void)
{
    const char *env = g_getenv("QTPM_TRACE");
    g_auto(GStrv) patterns = env ? g_strsplit(env, ",", -1) : NULL;
    char **p;

    for (p = patterns; p && *p; p++) {
        qtpm_trace_enable(g_strstrip(*p));
    }
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
        enable_traces();
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
