/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * qtpm's glue inside QEMU 7.2: what its files share.  The glue is a thin adapter: QEMU's QOM
 * types, options and machine hooks on one side, libqtpm's C API (qtpm/qtpm.h) on the other.
 */
#ifndef HW_TPM_QTPM_GLUE_H
#define HW_TPM_QTPM_GLUE_H

#include "qapi/error.h"
#include "qom/object.h"
#include "migration/vmstate.h"
#include "qtpm/qtpm.h"

/* The process's qtpm host (created on first use, with the BQL held). */
QtpmHost *qtpm_glue_host(void);

/* Moves a qtpm error message into *errp (and frees it); `prefix` may be NULL. */
void qtpm_glue_set_error(Error **errp, char *msg, const char *prefix);

/* Registers one QOM type per qtpm frontend / backend type; called at QOM module init. */
void qtpm_glue_register_frontends(void);
void qtpm_glue_register_backends(void);

/* The qtpm device behind a frontend object the glue created (realized), or NULL. */
QtpmDevice *qtpm_glue_frontend_device(Object *fe);

/* The same for tpm-spapr, whose glue (qtpm_spapr.c, ppc64 only) keeps its own state. */
QtpmDevice *qtpm_glue_spapr_device(Object *fe);

/* The qtpm backend behind a QEMU TPMBackend object created by the glue. */
typedef struct TPMBackend TPMBackend;
QtpmBackend *qtpm_glue_backend(TPMBackend *be);

/* ---- migration (qtpm_migration.c) ---- */

/* The saved states of a frontend and its backend while they travel (g_malloc'ed). */
typedef struct QtpmGlueBlobs {
    uint8_t *dev;
    size_t dev_len;
    uint8_t *be;
    size_t be_len;
} QtpmGlueBlobs;

/* A VMState field's info that carries a QtpmGlueBlobs (the field's offset points at one). */
extern const VMStateInfo qtpm_glue_blobs_info;

void qtpm_glue_blobs_clear(QtpmGlueBlobs *b);
/* pre_save: the device's state, then its backend's (`be` may be NULL); -errno after one
 * error_report line. */
int qtpm_glue_take_state(QtpmDevice *dev, QtpmBackend *be, QtpmGlueBlobs *b);
/* post_load: the backend's state, then the device's; -errno after one error_report line.  The
 * blobs are freed either way. */
int qtpm_glue_apply_state(QtpmDevice *dev, QtpmBackend *be, const char *type,
                          QtpmGlueBlobs *b);
/* A migration blocker with qtpm's reason when the backend's state cannot travel
 * (passthrough); NULL when it can, or when adding it failed (then *errp is set). */
Error *qtpm_glue_add_blocker(QtpmBackend *be, Error **errp);
void qtpm_glue_del_blocker(Error **blocker);

#endif
