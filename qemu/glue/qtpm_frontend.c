/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * qtpm's glue: TPM frontends.  One QOM type per qtpm frontend, registered at QOM init from
 * qtpm_type_list("tpm-if"), under qtpm's type name - which is QEMU's (tpm-tis, tpm-tis-device,
 * tpm-crb), because machine code tests TPM devices by type name (TPM_IS_TIS_ISA, TPM_IS_CRB,
 * TPM_IS_TIS_SYSBUS in the ACPI builders and the Arm platform bus).  The QOM parent follows the
 * qtpm type's bus.  Everything the device does is qtpm's: this file maps its regions, wires its
 * IRQ lines, forwards its properties, resets it and carries its saved state.
 */
#include "qemu/osdep.h"
#include "qemu/error-report.h"
#include "qemu/log.h"
#include "qapi/error.h"
#include "qapi/qapi-types-tpm.h"
#include "qapi/visitor.h"
#include "exec/address-spaces.h"
#include "exec/memory.h"
#include "hw/acpi/acpi_aml_interface.h"
#include "hw/irq.h"
#include "hw/isa/isa.h"
#include "hw/qdev-core.h"
#include "hw/sysbus.h"
#include "migration/vmstate.h"
#include "sysemu/reset.h"
#include "sysemu/tpm.h"
#include "sysemu/tpm_backend.h"
#include "qtpm_acpi.h"
#include "qtpm_glue.h"
#include CONFIG_DEVICES

#define QTPM_GLUE_MAX_REGIONS 8
#define QTPM_GLUE_MAX_IRQS 4

/* ---- per-type and per-instance data ------------------------------------------------------ */

typedef enum GlueBus { GLUE_BUS_NONE, GLUE_BUS_ISA, GLUE_BUS_SYSBUS } GlueBus;

typedef struct GlueType {
    char *name;           /* qtpm's and QEMU's type name */
    GlueBus bus;
    size_t state_offset;  /* where GlueState sits in the instance */
} GlueType;

typedef struct GlueRegion {
    MemoryRegion mr;
    QtpmDevice *dev;
    size_t index;
} GlueRegion;

typedef struct GlueState {
    QtpmDevice *dev;
    GlueRegion regions[QTPM_GLUE_MAX_REGIONS];
    size_t n_regions;
    qemu_irq irqs[QTPM_GLUE_MAX_IRQS];
    size_t n_irqs;
    bool reset_registered;
    QtpmGlueBlobs blobs;   /* the device's and its backend's saved state while migrating */
    Error *blocker;        /* set when the backend's state cannot migrate (passthrough) */
} GlueState;

typedef struct GlueIsa {
    ISADevice parent;
    GlueState s;
} GlueIsa;

typedef struct GlueSysbus {
    SysBusDevice parent;
    GlueState s;
} GlueSysbus;

typedef struct GluePlain {
    DeviceState parent;
    GlueState s;
} GluePlain;

static GHashTable *glue_types; /* type name -> GlueType */

static GlueType *glue_type_of(Object *obj)
{
    return glue_types ? g_hash_table_lookup(glue_types, object_get_typename(obj)) : NULL;
}

static GlueState *glue_state(Object *obj)
{
    GlueType *t = glue_type_of(obj);

    return t ? (GlueState *)((char *)obj + t->state_offset) : NULL;
}

QtpmDevice *qtpm_glue_frontend_device(Object *fe)
{
    GlueState *s = fe ? glue_state(fe) : NULL;

#ifdef CONFIG_TPM_SPAPR
    if (!s) {
        return qtpm_glue_spapr_device(fe);
    }
#endif
    return s && qtpm_device_realized(s->dev) ? s->dev : NULL;
}

/* ---- MMIO -------------------------------------------------------------------------------- */

static void log_outcome(GlueRegion *r, const char *what, hwaddr addr, unsigned size,
                        QtpmAccessOutcome o)
{
    if (o == QTPM_ACCESS_OK) {
        return;
    }
    qemu_log_mask(o == QTPM_ACCESS_UNIMPLEMENTED ? LOG_UNIMP : LOG_GUEST_ERROR,
                  "%s: %s of %u bytes at 0x%" HWADDR_PRIx ": %s\n",
                  memory_region_name(&r->mr), what, size, addr, qtpm_access_outcome_name(o));
}

static uint64_t glue_mmio_read(void *opaque, hwaddr addr, unsigned size)
{
    GlueRegion *r = opaque;
    QtpmAccessOutcome o;
    uint64_t v = qtpm_device_mmio_read(r->dev, r->index, addr, size, &o);

    log_outcome(r, "read", addr, size, o);
    return v;
}

static void glue_mmio_write(void *opaque, hwaddr addr, uint64_t val, unsigned size)
{
    GlueRegion *r = opaque;
    QtpmAccessOutcome o;

    qtpm_device_mmio_write(r->dev, r->index, addr, val, size, &o);
    log_outcome(r, "write", addr, size, o);
}

/* As QEMU's TIS and CRB declared theirs, so the memory core splits accesses as before. */
static const MemoryRegionOps glue_mmio_ops = {
    .read = glue_mmio_read,
    .write = glue_mmio_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = {
        .min_access_size = 1,
        .max_access_size = 4,
    },
};

static void glue_irq(void *opaque, unsigned line, bool level)
{
    GlueState *s = opaque;

    if (line < s->n_irqs) {
        qemu_set_irq(s->irqs[line], level);
    }
}

/* ---- realize ------------------------------------------------------------------------------ */

/* ISA code exists only in targets with an ISA bus (not in aarch64). */
static MemoryRegion *address_space_for(Object *obj, GlueType *t)
{
#ifdef CONFIG_ISA_BUS
    if (t->bus == GLUE_BUS_ISA) {
        return isa_address_space(ISA_DEVICE(obj));
    }
#endif
    return get_system_memory();
}

static qemu_irq isa_line(Object *obj, QtpmDevice *dev)
{
#ifdef CONFIG_ISA_BUS
    /* The ISA line is the device's "irq" property (validated by qtpm's realize). */
    g_autofree char *irq = qtpm_device_get_property(dev, "irq");

    return isa_get_irq(ISA_DEVICE(obj), irq ? atoi(irq) : 0);
#else
    return NULL;
#endif
}

static bool map_regions(Object *obj, GlueType *t, GlueState *s, Error **errp)
{
    size_t n = qtpm_device_region_count(s->dev), i;

    if (n > QTPM_GLUE_MAX_REGIONS) {
        error_setg(errp, "%s: %zu memory regions, the glue maps at most %d", t->name, n,
                   QTPM_GLUE_MAX_REGIONS);
        return false;
    }
    for (i = 0; i < n; i++) {
        GlueRegion *r = &s->regions[i];
        QtpmRegionInfo info;

        qtpm_device_region_info(s->dev, i, &info);
        r->dev = s->dev;
        r->index = i;
        if (info.kind == QTPM_REGION_RAM) {
            /* qtpm's memory, used in place; a RAM device, so RAM migration and the PPI memory
             * clear leave it alone (the device's own state carries it). */
            memory_region_init_ram_device_ptr(&r->mr, obj, info.name, info.size, info.host_ptr);
        } else {
            memory_region_init_io(&r->mr, obj, &glue_mmio_ops, r, info.name, info.size);
        }
        if (info.has_fixed_address) {
            memory_region_add_subregion(address_space_for(obj, t), info.fixed_address, &r->mr);
        } else if (t->bus == GLUE_BUS_SYSBUS) {
            sysbus_init_mmio(SYS_BUS_DEVICE(obj), &r->mr);
        } else {
            error_setg(errp, "%s: region '%s' has no address and no bus places it", t->name,
                       info.name);
            return false;
        }
    }
    s->n_regions = n;
    return true;
}

static bool wire_irqs(Object *obj, GlueType *t, GlueState *s, Error **errp)
{
    size_t n = qtpm_device_irq_count(s->dev), i;
    char *msg = NULL;

    if (n > QTPM_GLUE_MAX_IRQS) {
        error_setg(errp, "%s: %zu IRQ lines, the glue wires at most %d", t->name, n,
                   QTPM_GLUE_MAX_IRQS);
        return false;
    }
    for (i = 0; i < n; i++) {
        if (t->bus == GLUE_BUS_ISA) {
            s->irqs[i] = isa_line(obj, s->dev);
        } else if (t->bus == GLUE_BUS_SYSBUS) {
            sysbus_init_irq(SYS_BUS_DEVICE(obj), &s->irqs[i]);
        }
    }
    s->n_irqs = n;
    for (i = 0; i < n; i++) {
        if (qtpm_device_connect_irq(s->dev, i, glue_irq, s, &msg) != QTPM_OK) {
            qtpm_glue_set_error(errp, msg, t->name);
            return false;
        }
    }
    return true;
}

/* The qtpm backend the device was bound to at realize, or NULL. */
static QtpmBackend *bound_backend(GlueState *s)
{
    g_autofree char *id = qtpm_device_get_property(s->dev, "tpmdev");
    TPMBackend *be = id && *id ? qemu_find_tpm_be(id) : NULL;

    return be ? qtpm_glue_backend(be) : NULL;
}

/* Binds QEMU's side of the backend too: query-tpm lists only backends with a frontend. */
static void bind_qemu_backend(Object *obj, GlueState *s)
{
    g_autofree char *id = qtpm_device_get_property(s->dev, "tpmdev");
    TPMBackend *be = id ? qemu_find_tpm_be(id) : NULL;

    if (be && !be->tpmif) {
        be->tpmif = TPM_IF(obj);
        object_ref(obj);
    }
}

static void glue_reset_handler(void *opaque)
{
    GlueState *s = glue_state(opaque);
    char *msg = NULL;

    /* A backend that fails to start leaves a TPM that fails its commands; qtpm has reported
     * it through the host, and the machine keeps running (QEMU 7.2 exits here). */
    if (qtpm_device_reset(s->dev, &msg) != QTPM_OK) {
        qtpm_free(msg);
    }
}

static void glue_device_reset(DeviceState *dev)
{
    glue_reset_handler(dev);
}

static void glue_realize(DeviceState *dev, Error **errp)
{
    Object *obj = OBJECT(dev);
    GlueType *t = glue_type_of(obj);
    GlueState *s = glue_state(obj);
    Error *err = NULL;
    char *msg = NULL;

    if (qtpm_device_realize(s->dev, &msg) != QTPM_OK) {
        qtpm_glue_set_error(errp, msg, NULL);
        return;
    }
    if (!map_regions(obj, t, s, errp) || !wire_irqs(obj, t, s, errp)) {
        return;
    }
    s->blocker = qtpm_glue_add_blocker(bound_backend(s), &err);
    if (err) {
        error_propagate(errp, err);
        return;
    }
    bind_qemu_backend(obj, s);
    if (t->bus == GLUE_BUS_NONE) {
        /* A device on no bus is not reset with the machine's qdev tree. */
        qemu_register_reset(glue_reset_handler, obj);
        s->reset_registered = true;
    }
}

/* ---- properties: qtpm's, mirrored as class properties -------------------------------------- */

static void prop_get(Object *obj, Visitor *v, const char *name, void *opaque, Error **errp)
{
    GlueState *s = glue_state(obj);
    const char *type = opaque;
    g_autofree char *value = qtpm_device_get_property(s->dev, name);

    if (strcmp(type, "bool") == 0) {
        bool b = value && (strcmp(value, "true") == 0 || strcmp(value, "on") == 0);
        visit_type_bool(v, name, &b, errp);
    } else if (strcmp(type, "uint32") == 0) {
        uint32_t u = value ? (uint32_t)strtoul(value, NULL, 0) : 0;
        visit_type_uint32(v, name, &u, errp);
    } else {
        char *str = value ? value : (char *)"";
        visit_type_str(v, name, &str, errp);
    }
}

static void prop_set(Object *obj, Visitor *v, const char *name, void *opaque, Error **errp)
{
    GlueState *s = glue_state(obj);
    const char *type = opaque;
    g_autofree char *text = NULL;
    char *msg = NULL;

    if (strcmp(type, "bool") == 0) {
        bool b;
        if (!visit_type_bool(v, name, &b, errp)) {
            return;
        }
        text = g_strdup(b ? "on" : "off");
    } else if (strcmp(type, "uint32") == 0) {
        uint32_t u;
        if (!visit_type_uint32(v, name, &u, errp)) {
            return;
        }
        text = g_strdup_printf("%" PRIu32, u);
    } else if (!visit_type_str(v, name, &text, errp)) {
        return;
    }
    if (qtpm_device_set_property(s->dev, name, text, &msg) != QTPM_OK) {
        qtpm_glue_set_error(errp, msg, NULL);
    }
}

static void add_class_properties(ObjectClass *oc, GlueType *t)
{
    QtpmDevice *probe = qtpm_device_new(qtpm_glue_host(), t->name, NULL);
    size_t i, n = qtpm_device_property_count(probe);

    for (i = 0; i < n; i++) {
        QtpmPropertyInfo p;
        ObjectProperty *op;

        qtpm_device_property_info(probe, i, &p);
        op = object_class_property_add(oc, p.name, p.type, prop_get, prop_set, NULL,
                                       g_strdup(p.type));
        object_class_property_set_description(oc, p.name, p.description);
        (void)op;
    }
    qtpm_device_free(probe);
}

/* ---- migration ---------------------------------------------------------------------------- */

static int glue_pre_save(void *opaque)
{
    GlueState *s = glue_state(opaque);

    return qtpm_glue_take_state(s->dev, bound_backend(s), &s->blobs);
}

/* The blobs are in the stream now: give their memory back. */
static int glue_post_save(void *opaque)
{
    qtpm_glue_blobs_clear(&glue_state(opaque)->blobs);
    return 0;
}

static int glue_post_load(void *opaque, int version_id)
{
    GlueState *s = glue_state(opaque);

    return qtpm_glue_apply_state(s->dev, bound_backend(s), object_get_typename(opaque),
                                 &s->blobs);
}

/* ---- types ---------------------------------------------------------------------------------- */

static void glue_instance_init(Object *obj)
{
    GlueType *t = glue_type_of(obj);
    GlueState *s = glue_state(obj);

    /* Only an unknown type fails, and the type was registered from qtpm's own list. */
    s->dev = qtpm_device_new(qtpm_glue_host(), t->name, NULL);
    assert(s->dev);
}

static void glue_instance_finalize(Object *obj)
{
    GlueState *s = glue_state(obj);

    if (s->reset_registered) {
        qemu_unregister_reset(glue_reset_handler, obj);
    }
    qtpm_glue_del_blocker(&s->blocker);
    qtpm_device_free(s->dev);
    qtpm_glue_blobs_clear(&s->blobs);
}

static TPMVersion glue_get_version(TPMIf *ti)
{
    GlueState *s = glue_state(OBJECT(ti));
    int v = qtpm_device_tpm_version(s->dev);

    return v < 0 ? TPM_VERSION_UNSPEC : (TPMVersion)v;
}

/* x86 ISA TIS: the device's AML goes into the ISA bridge scope, as QEMU's device did it. */
static void glue_build_dev_aml(AcpiDevAmlIf *adev, Aml *scope)
{
    qtpm_acpi_build_device(TPM_IF(adev), scope, QTPM_ACPI_FIXED_ADDRESS);
}

static void glue_class_init(ObjectClass *oc, void *data)
{
    GlueType *t = data;
    DeviceClass *dc = DEVICE_CLASS(oc);
    TPMIfClass *tc = TPM_IF_CLASS(oc);
    QtpmDevice *probe = qtpm_device_new(qtpm_glue_host(), t->name, NULL);
    const char *model = qtpm_device_tpm_model(probe);
    QtpmTypeInfo info;
    VMStateDescription *vmsd = g_new0(VMStateDescription, 1);
    VMStateField *fields = g_new0(VMStateField, 2);

    tc->model = qapi_enum_parse(&TpmModel_lookup, model, TPM_MODEL_TPM_TIS, NULL);
    tc->get_version = glue_get_version;
    qtpm_device_free(probe);

    dc->realize = glue_realize;
    dc->user_creatable = true;
    if (t->bus != GLUE_BUS_NONE) {
        dc->reset = glue_device_reset;
    }
    if (qtpm_type_info(t->name, &info, NULL) == QTPM_OK) {
        dc->desc = info.description;
    }
    set_bit(DEVICE_CATEGORY_MISC, dc->categories);
    if (t->bus == GLUE_BUS_ISA) {
        AcpiDevAmlIfClass *adevc = ACPI_DEV_AML_IF_CLASS(oc);
        adevc->build_dev_aml = glue_build_dev_aml;
    }
    add_class_properties(oc, t);

    /* One section per device, one field with the device's and its backend's qtpm blobs.
     * Version 1: QEMU 7.2's own TPM sections are version 0 with other fields, so a stream
     * from (or to) an unmodified QEMU is refused by the version check with QEMU's message. */
    fields[0].name = "qtpm-state";
    fields[0].info = &qtpm_glue_blobs_info;
    fields[0].flags = VMS_SINGLE;
    fields[0].size = sizeof(QtpmGlueBlobs);
    fields[0].offset = t->state_offset + offsetof(GlueState, blobs);
    fields[1] = (VMStateField)VMSTATE_END_OF_LIST();
    vmsd->name = t->name;
    vmsd->version_id = 1;
    vmsd->minimum_version_id = 1;
    vmsd->pre_save = glue_pre_save;
    vmsd->post_save = glue_post_save;
    vmsd->post_load = glue_post_load;
    vmsd->fields = fields;
    dc->vmsd = vmsd;
}

/*
 * Whether this target offers a frontend: QEMU's own TPM devices are chosen per target by
 * Kconfig (tpm-tis on PCs, tpm-tis-device on Arm virt, ...), and the qtests and libvirt look at
 * -device help.  Types QEMU does not know are offered wherever their bus exists.
 */
static bool offered_on_this_target(const char *name)
{
    static const struct {
        const char *name;
        bool configured;
    } known[] = {
#ifdef CONFIG_TPM_TIS_ISA
        { "tpm-tis", true },
#else
        { "tpm-tis", false },
#endif
#ifdef CONFIG_TPM_TIS_SYSBUS
        { "tpm-tis-device", true },
#else
        { "tpm-tis-device", false },
#endif
#ifdef CONFIG_TPM_CRB
        { "tpm-crb", true },
#else
        { "tpm-crb", false },
#endif
#ifdef CONFIG_TPM_SPAPR
        { "tpm-spapr", true },
#else
        { "tpm-spapr", false },
#endif
    };
    size_t i;

    for (i = 0; i < ARRAY_SIZE(known); i++) {
        if (strcmp(known[i].name, name) == 0) {
            return known[i].configured;
        }
    }
    return true;
}

static bool target_has_isa(void)
{
#ifdef CONFIG_ISA_BUS
    return true;
#else
    return false;
#endif
}

void qtpm_glue_register_frontends(void)
{
    char **names, **n;

    qtpm_init();
    glue_types = g_hash_table_new(g_str_hash, g_str_equal);
    names = qtpm_type_list(QTPM_TYPE_FRONTEND);
    for (n = names; n && *n; n++) {
        QtpmTypeInfo info;
        GlueType *t;
        TypeInfo ti = {
            .class_init = glue_class_init,
            .instance_init = glue_instance_init,
            .instance_finalize = glue_instance_finalize,
        };
        InterfaceInfo *ifaces;

        if (!offered_on_this_target(*n) || qtpm_type_info(*n, &info, NULL) != QTPM_OK) {
            continue;
        }
        t = g_new0(GlueType, 1);
        ifaces = g_new0(InterfaceInfo, 3);
        t->name = g_strdup(*n);
        if (strcmp(info.bus, "isa") == 0 && target_has_isa()) {
            t->bus = GLUE_BUS_ISA;
            t->state_offset = offsetof(GlueIsa, s);
            ti.parent = TYPE_ISA_DEVICE;
            ti.instance_size = sizeof(GlueIsa);
        } else if (strcmp(info.bus, "sysbus") == 0) {
            t->bus = GLUE_BUS_SYSBUS;
            t->state_offset = offsetof(GlueSysbus, s);
            ti.parent = TYPE_SYS_BUS_DEVICE;
            ti.instance_size = sizeof(GlueSysbus);
        } else if (info.bus[0] == '\0' || strcmp(info.bus, "pc-system") == 0) {
            /* On no bus: fixed addresses in system memory (tpm-crb on PCs). */
            t->bus = GLUE_BUS_NONE;
            t->state_offset = offsetof(GluePlain, s);
            ti.parent = TYPE_DEVICE;
            ti.instance_size = sizeof(GluePlain);
        } else {
            /* A bus the glue does not know yet (spapr-vio): not offered. */
            g_free(t->name);
            g_free(t);
            g_free(ifaces);
            continue;
        }
        ifaces[0].type = TYPE_TPM_IF;
        if (t->bus == GLUE_BUS_ISA) {
            ifaces[1].type = TYPE_ACPI_DEV_AML_IF;
        }
        ti.name = t->name;
        ti.class_data = t;
        ti.interfaces = ifaces;
        g_hash_table_insert(glue_types, t->name, t);
        type_register(&ti);
    }
    qtpm_strv_free(names);
}

static void qtpm_glue_register_types(void)
{
    qtpm_glue_register_backends();
    qtpm_glue_register_frontends();
}

type_init(qtpm_glue_register_types)
