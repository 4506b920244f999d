/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * qtpm's glue: tpm-spapr, the pSeries virtual TPM (docs/spapr.md, "What the QEMU glue will
 * need").  A TYPE_VIO_SPAPR_DEVICE subclass: QEMU's VIO layer (hw/ppc/spapr_vio.c) keeps the
 * unit address, the interrupt, the TCE table and the Command/Response Queue; qtpm's TpmSpapr
 * speaks the vTPM protocol.  Between them:
 *   guest H_SEND_CRQ -> crq.SendFunc -> qtpm_spapr_h_send_crq(word0, word1)
 *   qtpm's DMA       -> spapr_vio_dma_read/_write (the device's IOMMU address space)
 *   qtpm's responses -> spapr_vio_send_crq (queue + interrupt pulse)
 *   machine reset    -> SpaprVioDeviceClass.reset (after the bus quiesced the device)
 *   migration        -> a "tpm-spapr" section: QEMU's VIO part, then qtpm's device and backend
 *                       state (qtpm_migration.c); a source that resumes delivers its parked
 *                       response; a backend whose state cannot travel blocks migration.
 * Built for targets with CONFIG_TPM_SPAPR only (qemu-system-ppc64).
 */
#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "qemu/error-report.h"
#include "qapi/error.h"
#include "qapi/qapi-types-tpm.h"
#include "qapi/visitor.h"
#include "hw/ppc/spapr.h"
#include "hw/ppc/spapr_vio.h"
#include "hw/qdev-properties.h"
#include "migration/vmstate.h"
#include "sysemu/runstate.h"
#include "sysemu/tpm.h"
#include "sysemu/tpm_backend.h"
#include "qtpm_glue.h"

#define TYPE_QTPM_SPAPR "tpm-spapr"

typedef struct QtpmSpaprState {
    SpaprVioDevice vdev;
    QtpmDevice *dev;
    char *compatible;          /* "IBM,vtpm20" / "IBM,vtpm", from the backend at realize */
    VMChangeStateEntry *vm_change;
    QtpmGlueBlobs blobs;       /* the device's and its backend's state while migrating */
    Error *blocker;            /* the backend's state cannot migrate (passthrough) */
} QtpmSpaprState;

DECLARE_INSTANCE_CHECKER(QtpmSpaprState, QTPM_SPAPR, TYPE_QTPM_SPAPR)

QtpmDevice *qtpm_glue_spapr_device(Object *fe)
{
    QtpmSpaprState *s = fe ? (QtpmSpaprState *)object_dynamic_cast(fe, TYPE_QTPM_SPAPR) : NULL;

    return s && qtpm_device_realized(s->dev) ? s->dev : NULL;
}

/* What qtpm says about the device class (probed once, at class init). */
static QtpmSpaprInfo spapr_info;

/* ---- qtpm -> QEMU: DMA through the TCE window, responses into the guest's CRQ ------------- */

static bool glue_dma_read(void *opaque, uint64_t ioba, void *buf, size_t len)
{
    QtpmSpaprState *s = opaque;

    return len <= UINT32_MAX && spapr_vio_dma_read(&s->vdev, ioba, buf, len) == H_SUCCESS;
}

static bool glue_dma_write(void *opaque, uint64_t ioba, const void *buf, size_t len)
{
    QtpmSpaprState *s = opaque;

    /* All or nothing: QEMU's DMA write stops at the first bad page, after writing the others. */
    return len <= UINT32_MAX &&
           spapr_vio_dma_valid(&s->vdev, ioba, len, DMA_DIRECTION_FROM_DEVICE) &&
           spapr_vio_dma_write(&s->vdev, ioba, buf, len) == H_SUCCESS;
}

static QtpmCrqSendResult glue_send_crq(void *opaque, const uint8_t element[QTPM_CRQ_ELEMENT_SIZE])
{
    QtpmSpaprState *s = opaque;
    uint8_t crq[QTPM_CRQ_ELEMENT_SIZE];
    int rc;

    /* Without a queue spapr_vio_send_crq prints an error for every response: a guest that freed
     * its queue could flood the log.  qtpm logs the loss as a guest error instead. */
    if (!s->vdev.crq.qsize) {
        return QTPM_CRQ_NO_QUEUE;
    }
    memcpy(crq, element, sizeof(crq));
    rc = spapr_vio_send_crq(&s->vdev, crq);
    return rc == 0 ? QTPM_CRQ_SENT : rc > 0 ? QTPM_CRQ_QUEUE_FULL : QTPM_CRQ_DMA_FAILURE;
}

/* ---- QEMU -> qtpm ------------------------------------------------------------------------ */

/* H_SEND_CRQ: QEMU hands over the two argument registers as 16 big-endian bytes. */
static int glue_do_crq(SpaprVioDevice *vdev, uint8_t *crq)
{
    QtpmSpaprState *s = QTPM_SPAPR(vdev);

    return qtpm_spapr_h_send_crq(s->dev, ldq_be_p(crq), ldq_be_p(crq + 8));
}

static void glue_spapr_reset(SpaprVioDevice *vdev)
{
    QtpmSpaprState *s = QTPM_SPAPR(vdev);
    char *msg = NULL;

    /* A backend that fails to start leaves a TPM that fails its commands; qtpm reported it
     * through the host and the machine runs on (QEMU 7.2 exits here). */
    if (qtpm_device_reset(s->dev, &msg) != QTPM_OK) {
        qtpm_free(msg);
    }
}

static const char *glue_dt_compatible(SpaprVioDevice *vdev)
{
    return QTPM_SPAPR(vdev)->compatible;
}

/* A source that resumes after its state was saved (a snapshot, a failed migration) delivers
 * the response it parked; on a destination the load delivered it already. */
static void glue_vm_change(void *opaque, bool running, RunState state)
{
    QtpmSpaprState *s = opaque;

    if (running) {
        qtpm_spapr_deliver_parked_response(s->dev);
    }
}

static QtpmBackend *qtpm_backend_of(QtpmSpaprState *s);

/* query-tpm lists only backends bound to a frontend. */
static void bind_qemu_backend(QtpmSpaprState *s)
{
    g_autofree char *id = qtpm_device_get_property(s->dev, "tpmdev");
    TPMBackend *be = id ? qemu_find_tpm_be(id) : NULL;

    if (be && !be->tpmif) {
        be->tpmif = TPM_IF(s);
        object_ref(OBJECT(s));
    }
}

/* Called by the VIO bus after it chose the unit address and interrupt and made the TCE table. */
static void glue_spapr_realize(SpaprVioDevice *vdev, Error **errp)
{
    QtpmSpaprState *s = QTPM_SPAPR(vdev);
    QtpmSpaprOps ops = {
        .size = sizeof(ops),
        .dma_read = glue_dma_read,
        .dma_write = glue_dma_write,
        .dma_reset = NULL, /* the bus's quiesce resets the TCE table */
        .send_crq = glue_send_crq,
    };
    Error *err = NULL;
    char *msg = NULL;

    if (qtpm_spapr_set_unit(s->dev, vdev->reg, vdev->irq, &msg) != QTPM_OK ||
        qtpm_spapr_attach(s->dev, &ops, s, &msg) != QTPM_OK ||
        qtpm_device_realize(s->dev, &msg) != QTPM_OK) {
        qtpm_glue_set_error(errp, msg, NULL);
        return;
    }
    s->blocker = qtpm_glue_add_blocker(qtpm_backend_of(s), &err);
    if (err) {
        error_propagate(errp, err);
        return;
    }
    vdev->crq.SendFunc = glue_do_crq;
    s->compatible = qtpm_spapr_dt_compatible(s->dev);
    bind_qemu_backend(s);
    s->vm_change = qemu_add_vm_change_state_handler(glue_vm_change, s);
}

/* ---- the tpmdev property: qtpm's, stored in the qtpm device ------------------------------- */

static void glue_get_tpmdev(Object *obj, Visitor *v, const char *name, void *opaque,
                            Error **errp)
{
    g_autofree char *value = qtpm_device_get_property(QTPM_SPAPR(obj)->dev, "tpmdev");
    char *str = value ? value : (char *)"";

    visit_type_str(v, name, &str, errp);
}

static void glue_set_tpmdev(Object *obj, Visitor *v, const char *name, void *opaque,
                            Error **errp)
{
    g_autofree char *text = NULL;
    char *msg = NULL;

    if (DEVICE(obj)->realized) {
        qdev_prop_set_after_realize(DEVICE(obj), name, errp);
        return;
    }
    if (!visit_type_str(v, name, &text, errp)) {
        return;
    }
    if (qtpm_device_set_property(QTPM_SPAPR(obj)->dev, "tpmdev", text, &msg) != QTPM_OK) {
        qtpm_glue_set_error(errp, msg, NULL);
    }
}

/* ---- migration: the shared helpers of qtpm_migration.c ---------------------------------- */

static QtpmBackend *qtpm_backend_of(QtpmSpaprState *s)
{
    g_autofree char *id = qtpm_device_get_property(s->dev, "tpmdev");
    TPMBackend *be = id && *id ? qemu_find_tpm_be(id) : NULL;

    return be ? qtpm_glue_backend(be) : NULL;
}

/* Saving drains a command in flight; its response is parked in the device's blob. */
static int glue_pre_save(void *opaque)
{
    QtpmSpaprState *s = opaque;

    return qtpm_glue_take_state(s->dev, qtpm_backend_of(s), &s->blobs);
}

static int glue_post_save(void *opaque)
{
    qtpm_glue_blobs_clear(&((QtpmSpaprState *)opaque)->blobs);
    return 0;
}

/* QEMU has loaded guest RAM and the TCE table (an earlier section) by now, so the device may
 * deliver its parked response.  The backend first: the TPM must be there to answer. */
static int glue_post_load(void *opaque, int version_id)
{
    QtpmSpaprState *s = opaque;

    return qtpm_glue_apply_state(s->dev, qtpm_backend_of(s), TYPE_QTPM_SPAPR, &s->blobs);
}

static const VMStateDescription vmstate_qtpm_spapr = {
    .name = TYPE_QTPM_SPAPR,
    .version_id = 1,
    .minimum_version_id = 1,
    .pre_save = glue_pre_save,
    .post_save = glue_post_save,
    .post_load = glue_post_load,
    .fields = (VMStateField[]) {
        VMSTATE_SPAPR_VIO(vdev, QtpmSpaprState), /* the queue and signal mode: QEMU's */
        {
            /* be32 length + bytes, device then backend; lengths bounded before allocation */
            .name = "qtpm-state",
            .size = sizeof(QtpmGlueBlobs),
            .info = &qtpm_glue_blobs_info,
            .flags = VMS_SINGLE,
            .offset = offsetof(QtpmSpaprState, blobs),
        },
        VMSTATE_END_OF_LIST()
    },
};

/* ---- type ---------------------------------------------------------------------------------- */

static void glue_spapr_instance_init(Object *obj)
{
    /* Only an unknown type fails, and tpm-spapr is one of libqtpm's. */
    QTPM_SPAPR(obj)->dev = qtpm_device_new(qtpm_glue_host(), TYPE_QTPM_SPAPR, NULL);
    assert(QTPM_SPAPR(obj)->dev);
}

static void glue_spapr_instance_finalize(Object *obj)
{
    QtpmSpaprState *s = QTPM_SPAPR(obj);

    if (s->vm_change) {
        qemu_del_vm_change_state_handler(s->vm_change);
    }
    qtpm_device_free(s->dev);
    qtpm_glue_del_blocker(&s->blocker);
    qtpm_free(s->compatible);
    qtpm_glue_blobs_clear(&s->blobs);
}

static TPMVersion glue_spapr_get_version(TPMIf *ti)
{
    int v = qtpm_device_tpm_version(QTPM_SPAPR(ti)->dev);

    return v < 0 ? TPM_VERSION_UNSPEC : (TPMVersion)v;
}

static Property glue_spapr_properties[] = {
    DEFINE_SPAPR_PROPERTIES(QtpmSpaprState, vdev),
    DEFINE_PROP_END_OF_LIST(),
};

static void glue_spapr_class_init(ObjectClass *oc, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(oc);
    SpaprVioDeviceClass *k = VIO_SPAPR_DEVICE_CLASS(oc);
    TPMIfClass *tc = TPM_IF_CLASS(oc);

    k->realize = glue_spapr_realize;
    k->reset = glue_spapr_reset;
    k->get_dt_compatible = glue_dt_compatible;
    k->dt_name = spapr_info.dt_name;
    k->dt_type = spapr_info.dt_type;
    k->signal_mask = spapr_info.signal_mask;
    k->rtce_window_size = spapr_info.rtce_window_size;
    dc->vmsd = &vmstate_qtpm_spapr;
    device_class_set_props(dc, glue_spapr_properties);
    object_class_property_add(oc, "tpmdev", "str", glue_get_tpmdev, glue_set_tpmdev, NULL, NULL);
    object_class_property_set_description(oc, "tpmdev", "ID of a tpm to use as a backend");
    set_bit(DEVICE_CATEGORY_MISC, dc->categories);
    tc->model = TPM_MODEL_TPM_SPAPR;
    tc->get_version = glue_spapr_get_version;
}

static const TypeInfo glue_spapr_info = {
    .name = TYPE_QTPM_SPAPR,
    .parent = TYPE_VIO_SPAPR_DEVICE,
    .instance_size = sizeof(QtpmSpaprState),
    .instance_init = glue_spapr_instance_init,
    .instance_finalize = glue_spapr_instance_finalize,
    .class_init = glue_spapr_class_init,
    .interfaces = (InterfaceInfo[]) {
        { TYPE_TPM_IF },
        { }
    },
};

/* The class facts come from qtpm; a libqtpm without tpm-spapr offers no device. */
static void qtpm_spapr_register_types(void)
{
    QtpmDevice *probe;
    QtpmSpaprInfo info;

    qtpm_init();
    probe = qtpm_device_new(qtpm_glue_host(), TYPE_QTPM_SPAPR, NULL);
    if (!probe) {
        return;
    }
    if (qtpm_spapr_info(probe, &info, NULL) == QTPM_OK && info.has_crq &&
        info.rtce_window_size <= UINT32_MAX) {
        spapr_info = info;
        /* Class fields outlive the probe. */
        spapr_info.dt_name = g_strdup(info.dt_name);
        spapr_info.dt_type = g_strdup(info.dt_type);
        type_register_static(&glue_spapr_info);
    }
    qtpm_device_free(probe);
}

type_init(qtpm_spapr_register_types)
