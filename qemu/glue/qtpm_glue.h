/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * qtpm's glue inside QEMU 7.2: what its files share.  The glue is a thin adapter: QEMU's QOM
 * types, options and machine hooks on one side, libqtpm's C API (qtpm/qtpm.h) on the other.
 */
#ifndef HW_TPM_QTPM_GLUE_H
#define HW_TPM_QTPM_GLUE_H

#include "qapi/error.h"
#include "qom/object.h"
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

/* The qtpm backend behind a QEMU TPMBackend object created by the glue. */
typedef struct TPMBackend TPMBackend;
QtpmBackend *qtpm_glue_backend(TPMBackend *be);

#endif
