/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * qtpm's glue: migration and snapshots of a TPM frontend and its backend (docs/qemu-fork.md,
 * "Migration").  qtpm writes both states as self-describing blobs (docs/saved-state.md); QEMU
 * carries them opaquely in the frontend's VMState section as one field:
 *
 *   be32 device_len, device_len bytes, be32 backend_len, backend_len bytes
 *
 * The backend's blob travels in the device's section (not a section of its own, as QEMU's
 * tpm-emulator had) so that one post_load restores both in the right order: the TPM first,
 * then the device whose registers may refer to it (a response waiting to be read).
 */
#include "qemu/osdep.h"
#include "qemu/error-report.h"
#include "migration/blocker.h"
#include "migration/qemu-file-types.h"
#include "migration/vmstate.h"
#include "qtpm_glue.h"

/*
 * The largest blob a stream may announce.  qtpm's backends keep at most three 16 MiB TPM state
 * blobs (swtpm's and libtpms' limits); a device's state is a few pages.  The bound is checked
 * before anything is allocated, so a corrupt stream cannot make QEMU allocate gigabytes.
 */
#define QTPM_GLUE_BLOB_MAX (3 * 16 * 1024 * 1024 + 64 * 1024)

void qtpm_glue_blobs_clear(QtpmGlueBlobs *b)
{
    g_free(b->dev);
    g_free(b->be);
    b->dev = b->be = NULL;
    b->dev_len = b->be_len = 0;
}

static void put_blob(QEMUFile *f, const uint8_t *data, size_t len)
{
    qemu_put_be32(f, len);
    if (len) {
        qemu_put_buffer(f, data, len);
    }
}

static int glue_blobs_put(QEMUFile *f, void *pv, size_t size, const VMStateField *field,
                          JSONWriter *vmdesc)
{
    QtpmGlueBlobs *b = pv;

    put_blob(f, b->dev, b->dev_len);
    put_blob(f, b->be, b->be_len);
    return 0;
}

/* Reads one length-prefixed blob, validating the length before allocating. */
static int get_blob(QEMUFile *f, const char *what, uint8_t **data, size_t *len)
{
    uint32_t n = qemu_get_be32(f);
    uint8_t *buf;

    if (qemu_file_get_error(f)) {
        return -EIO;
    }
    if (n > QTPM_GLUE_BLOB_MAX) {
        error_report("tpm: the migration stream announces a %s state of %" PRIu32
                     " bytes, more than the %d a TPM can have", what, n, QTPM_GLUE_BLOB_MAX);
        return -EINVAL;
    }
    buf = n ? g_try_malloc(n) : NULL;
    if (n && !buf) {
        error_report("tpm: no memory for a %s state of %" PRIu32 " bytes", what, n);
        return -ENOMEM;
    }
    /* buf holds n bytes; qemu_get_buffer reads at most n. */
    if (n && qemu_get_buffer(f, buf, n) != n) {
        g_free(buf);
        error_report("tpm: the migration stream ends inside the %s state", what);
        return -EIO;
    }
    *data = buf;
    *len = n;
    return 0;
}

static int glue_blobs_get(QEMUFile *f, void *pv, size_t size, const VMStateField *field)
{
    QtpmGlueBlobs *b = pv;
    QtpmGlueBlobs in = { 0 };
    int ret = get_blob(f, "device", &in.dev, &in.dev_len);

    if (ret == 0) {
        ret = get_blob(f, "backend", &in.be, &in.be_len);
    }
    qtpm_glue_blobs_clear(b);
    if (ret < 0) {
        qtpm_glue_blobs_clear(&in);
        return ret;
    }
    *b = in;
    return 0;
}

const VMStateInfo qtpm_glue_blobs_info = {
    .name = "qtpm-state",
    .get = glue_blobs_get,
    .put = glue_blobs_put,
};

/* One qtpm blob, copied into glib's memory (what the VMState side frees). */
typedef int (*SaveFn)(void *obj, uint8_t **data, size_t *len, char **errmsg);

static bool take_blob(SaveFn save, void *obj, uint8_t **out, size_t *out_len)
{
    uint8_t *data = NULL;
    size_t len = 0;
    char *msg = NULL;

    if (save(obj, &data, &len, &msg) != QTPM_OK) {
        error_report("%s", msg ? msg : "tpm: saving the state failed");
        qtpm_free(msg);
        return false;
    }
    *out = len ? g_memdup2(data, len) : NULL;
    *out_len = len;
    qtpm_free(data);
    return true;
}

static int save_device(void *obj, uint8_t **data, size_t *len, char **errmsg)
{
    return qtpm_device_save_state(obj, data, len, errmsg);
}

static int save_backend(void *obj, uint8_t **data, size_t *len, char **errmsg)
{
    return qtpm_backend_save_state(obj, data, len, errmsg);
}

int qtpm_glue_take_state(QtpmDevice *dev, QtpmBackend *be, QtpmGlueBlobs *b)
{
    qtpm_glue_blobs_clear(b);
    /* The device first: taking its state finishes a command in flight, so the TPM's state
     * taken next includes that command's effects. */
    if (!take_blob(save_device, dev, &b->dev, &b->dev_len) ||
        (be && !take_blob(save_backend, be, &b->be, &b->be_len))) {
        qtpm_glue_blobs_clear(b);
        return -EINVAL;
    }
    return 0;
}

int qtpm_glue_apply_state(QtpmDevice *dev, QtpmBackend *be, const char *type,
                          QtpmGlueBlobs *b)
{
    char *msg = NULL;
    int ret = 0;

    if (b->be_len && !be) {
        error_report("%s: the migration stream carries a TPM's state, but this %s has no "
                     "TPM backend", type, type);
        ret = -EINVAL;
    } else if (!b->be_len && be) {
        error_report("%s: the migration stream carries no TPM state for the backend '%s'",
                     type, qtpm_backend_id(be));
        ret = -EINVAL;
    } else if (be && qtpm_backend_load_state(be, b->be, b->be_len, &msg) != QTPM_OK) {
        ret = -EINVAL;
    } else if (qtpm_device_load_state(dev, b->dev, b->dev_len, &msg) != QTPM_OK) {
        ret = -EINVAL;
    }
    if (msg) {
        error_report("%s", msg);
        qtpm_free(msg);
    }
    qtpm_glue_blobs_clear(b);
    return ret;
}

Error *qtpm_glue_add_blocker(QtpmBackend *be, Error **errp)
{
    Error *blocker = NULL;
    char *reason = NULL;

    if (!be || qtpm_backend_migration_blocker(be, &reason) != QTPM_NOT_SUPPORTED) {
        qtpm_free(reason);
        return NULL;
    }
    error_setg(&blocker, "%s", reason);
    qtpm_free(reason);
    if (migrate_add_blocker(blocker, errp) < 0) {
        /* --only-migratable, or a migration running: the device is refused, as QEMU refuses
         * any device that cannot migrate then. */
        error_free(blocker);
        return NULL;
    }
    return blocker;
}

void qtpm_glue_del_blocker(Error **blocker)
{
    if (*blocker) {
        migrate_del_blocker(*blocker);
        error_free(*blocker);
        *blocker = NULL;
    }
}
