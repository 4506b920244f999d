/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libqtpm: the C API for embedders (the QEMU 7.2 glue in qemu/, other VMMs).
 *
 * The API is generic over qtpm's object model: it knows "a backend of type T with options O" and
 * "a device of type T with properties P, memory regions and IRQ lines", never a particular
 * device, so frontends and backends added later work without a new entry point.
 *
 * Model
 *   QtpmHost     the embedder's side: how to run work on its main loop (QEMU: a bottom half),
 *                how to clear guest RAM, how to report errors; it also keeps the backends and
 *                chardevs by id, which is how a device's "tpmdev=ID" finds its backend.
 *   QtpmBackend  a -tpmdev: created, configured and started in one call (as QEMU does at
 *                option parsing), owned by the embedder, looked up by id.
 *   QtpmDevice   a frontend: new -> set properties -> realize -> (map regions, connect IRQs)
 *                -> reset* -> free.
 *
 * Threads
 *   Every function is called on the embedder's main-loop thread (QEMU: with the BQL held), except
 *   where noted.  MMIO dispatch never blocks: commands run on the backend's worker thread, and
 *   their completion comes back through QtpmHostOps.post, i.e. on the main loop again.
 *
 * Errors
 *   Functions that can fail return 0 on success and a negative QtpmStatus on failure (or NULL for
 *   constructors), and, when `errmsg` is not NULL, store a one-line message in *errmsg that the
 *   caller frees with qtpm_free().  On success *errmsg is set to NULL.  A failed call changes
 *   nothing.
 *
 * Memory
 *   Strings and buffers handed out by the library are freed with qtpm_free() unless the function
 *   says they are borrowed.  Strings passed in are copied; the library keeps no caller pointer
 *   except `opaque` values.
 *
 * Stability
 *   Functions and struct layouts are stable within a major version; structs passed in carry
 *   their size in a `size` member so fields can be added at the end.
 */
#ifndef QTPM_QTPM_H
#define QTPM_QTPM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------------------------- */
/* Library */

/* "MAJOR.MINOR.MICRO" of the library linked in. */
const char *qtpm_version(void);

/* Registers the built-in device and backend types; idempotent, call before anything else. */
void qtpm_init(void);

/* Frees anything the library handed out (strings, buffers, string arrays' elements). */
void qtpm_free(void *p);

/* Frees a NULL-terminated array of strings and its elements. */
void qtpm_strv_free(char **strv);

/* Switches qtpm's trace events on by glob pattern ("tpm_emulator_*"; a leading '-' switches
 * them off; "guest_errors" and "unimp" switch on the guest-error log), one line per event on
 * standard error.  For embedders that map an option or environment variable onto qtpm's events
 * (QEMU glue: QTPM_TRACE="pattern,pattern").  NULL or "" does nothing. */
void qtpm_trace_enable(const char *pattern);

typedef enum QtpmStatus {
  QTPM_OK = 0,
  QTPM_ERROR = -1,         /* invalid input or a failure, described by errmsg */
  QTPM_NOT_SUPPORTED = -2, /* the object or this build cannot do this (e.g. migrate) */
} QtpmStatus;

/* ------------------------------------------------------------------------------------------- */
/* Types */

/* Type families, for qtpm_type_list(). */
#define QTPM_TYPE_FRONTEND "tpm-if"       /* TPM frontends (tpm-tis, tpm-crb, ...) */
#define QTPM_TYPE_BACKEND "tpm-backend"   /* TPM backends (emulator, passthrough, libtpms) */
#define QTPM_TYPE_DEVICE "device"         /* everything with regions and IRQs */

/* Concrete, user-creatable types that are (or implement) `family`, sorted by name, as a
 * NULL-terminated array (free with qtpm_strv_free).  Backend types are listed by their -tpmdev
 * name ("emulator"), not by their internal type name. */
char **qtpm_type_list(const char *family);

typedef struct QtpmTypeInfo {
  /* Borrowed strings, valid for the life of the process. */
  const char *name;        /* "tpm-tis"; for backends the -tpmdev name ("emulator") */
  const char *parent;      /* "device", "tpm-backend", ... */
  const char *description; /* one line, for "-device help" */
  const char *bus;         /* "isa", "sysbus", "spapr-vio", ...; "" when not a device */
  bool is_frontend;        /* implements tpm-if */
  bool is_backend;
} QtpmTypeInfo;

/* Fills *info for a registered type; QTPM_ERROR with "unknown type" otherwise. */
int qtpm_type_info(const char *name, QtpmTypeInfo *info, char **errmsg);

/* The property names of a concrete type (a backend by its -tpmdev name), in declaration order,
 * as a NULL-terminated array (free with qtpm_strv_free); NULL for an unknown type.  For option
 * validation before anything is created (QEMU: TPMBackendClass.opts). */
char **qtpm_type_property_names(const char *type);

/* ------------------------------------------------------------------------------------------- */
/* Host */

typedef struct QtpmHost QtpmHost;

/* Work the library asks the embedder to run on its main loop. */
typedef void (*QtpmWorkFn)(void *work);

typedef struct QtpmHostOps {
  size_t size; /* sizeof(QtpmHostOps) */
  /* Required.  Schedules fn(work) to run soon on the main-loop thread.  May be called from any
   * thread; must not run fn synchronously.  Every scheduled call must eventually run exactly once
   * (the library frees `work` in it), also after qtpm_host_free().  QEMU: a one-shot bottom half
   * (aio_bh_schedule_oneshot). */
  void (*post)(void *opaque, QtpmWorkFn fn, void *work);
  /* Optional.  Zeroes all guest RAM (the PPI "memory overwrite" request at reset). */
  void (*clear_guest_ram)(void *opaque);
  /* Optional.  True while the machine waits for an incoming migration (-incoming): backends
   * then defer starting the TPM until its state is loaded. */
  bool (*incoming_migration_pending)(void *opaque);
  /* Optional.  One-line error with no caller to return it to (a backend failing at reset).
   * QEMU: error_report().  Default: standard error. */
  void (*report_error)(void *opaque, const char *message);
} QtpmHostOps;

/* A host with the embedder's callbacks (copied).  Fails if ops->post is missing. */
QtpmHost *qtpm_host_new(const QtpmHostOps *ops, void *opaque, char **errmsg);

/* Frees the host.  Devices and backends must have been freed first; work already scheduled
 * through post still runs safely (it finds nothing to do). */
void qtpm_host_free(QtpmHost *host);

/* Runs, now, the completions that are waiting for their scheduled post; returns how many ran.
 * For embedders that poll, and for draining before a synchronous step. */
int qtpm_host_run_pending(QtpmHost *host);

/* Chardevs, by id, for backends that name one ("-tpmdev emulator,chardev=ID").  The embedder has
 * usually connected the socket already (QEMU: -chardev socket,...): it passes a connected stream
 * socket, which the library owns and closes once the call succeeded (pass a dup(); on failure
 * the caller keeps it).  Or it passes a UNIX socket
 * path and the library connects.  Fails if the id is taken or the fd/path is unusable. */
int qtpm_host_add_chardev_fd(QtpmHost *host, const char *id, int fd, char **errmsg);
int qtpm_host_add_chardev_path(QtpmHost *host, const char *id, const char *path,
                               char **errmsg);
/* Closes and forgets a chardev that no backend uses; QTPM_ERROR if unknown or in use. */
int qtpm_host_remove_chardev(QtpmHost *host, const char *id, char **errmsg);

/* ------------------------------------------------------------------------------------------- */
/* Options */

typedef struct QtpmKeyValue {
  const char *key;
  const char *value;
} QtpmKeyValue;

/* Option strings are QEMU's: "key=value,key=value"; ",," is a literal comma inside a value; a
 * key with no "=value" means "key=on".  The key "id" names the object; every other key is a
 * property of the type. */

/* ------------------------------------------------------------------------------------------- */
/* Backends */

typedef struct QtpmBackend QtpmBackend;

/* Creates, configures and starts a backend: type is the -tpmdev name ("emulator",
 * "passthrough", "libtpms"), opts its options ("id=tpm0,chardev=chrtpm"), id required.  Errors
 * name the option ("tpm-emulator: ..."), the type ("'foo' is not a valid tpmdev type") or the
 * id ("duplicate ID 'tpm0' for tpmdev"). */
QtpmBackend *qtpm_backend_new(QtpmHost *host, const char *type, const char *opts, char **errmsg);
QtpmBackend *qtpm_backend_new_kv(QtpmHost *host, const char *type, const QtpmKeyValue *opts,
                                 size_t n_opts, char **errmsg);
/* Borrowed; NULL if none. */
QtpmBackend *qtpm_backend_find(QtpmHost *host, const char *id);
const char *qtpm_backend_id(const QtpmBackend *be);   /* borrowed */
const char *qtpm_backend_type(const QtpmBackend *be); /* "emulator"; borrowed */
/* QEMU's TPMVersion values: 0 unspecified, 1 TPM 1.2, 2 TPM 2.0. */
int qtpm_backend_tpm_version(const QtpmBackend *be);
/* Stops the backend (a pending command is finished first) and frees it.  A device still using it
 * must be freed first. */
void qtpm_backend_free(QtpmBackend *be);

/* ------------------------------------------------------------------------------------------- */
/* Devices */

typedef struct QtpmDevice QtpmDevice;

/* A device of a registered, concrete type, not yet realized. */
QtpmDevice *qtpm_device_new(QtpmHost *host, const char *type, char **errmsg);
const char *qtpm_device_type(const QtpmDevice *dev); /* borrowed */

/* Before realize.  Errors: "Property 'tpm-tis.foo' not found", the property's parse error, or
 * "Attempt to set property ... after it was realized".  set_options takes an option string with
 * the same rules as qtpm_backend_new ("tpmdev=tpm0,ppi=off"; "id" sets the id). */
int qtpm_device_set_property(QtpmDevice *dev, const char *name, const char *value,
                             char **errmsg);
int qtpm_device_set_options(QtpmDevice *dev, const char *opts, char **errmsg);
/* Sets the device's "tpmdev" property to the backend's id. */
int qtpm_device_set_backend(QtpmDevice *dev, const QtpmBackend *be, char **errmsg);
/* The current value as text (free with qtpm_free); NULL if there is no such property. */
char *qtpm_device_get_property(const QtpmDevice *dev, const char *name);

typedef struct QtpmPropertyInfo {
  /* Borrowed, valid while the device lives. */
  const char *name;
  const char *type;          /* "bool", "uint32", "str", ... (as qom-list shows) */
  const char *description;
  const char *default_value; /* "" when there is none */
} QtpmPropertyInfo;

/* The properties of the device, in declaration order: for embedders that mirror them as their
 * own (QEMU: class properties of the glue's QOM type). */
size_t qtpm_device_property_count(const QtpmDevice *dev);
int qtpm_device_property_info(const QtpmDevice *dev, size_t index, QtpmPropertyInfo *info);

/* Validates the configuration, binds the backend, declares regions and IRQ lines.  On failure
 * the device stays unrealized (it can be configured again or freed). */
int qtpm_device_realize(QtpmDevice *dev, char **errmsg);
bool qtpm_device_realized(const QtpmDevice *dev);

/* Machine reset: the device returns to its power-on state and restarts its backend.  A backend
 * that fails to start leaves a TPM that answers every command with a failure (the guest sees a
 * broken TPM, the machine keeps running): then QTPM_ERROR and the reason, which the library has
 * also given to report_error. */
int qtpm_device_reset(QtpmDevice *dev, char **errmsg);

/* Unrealizes (finishing a pending command) and frees the device. */
void qtpm_device_free(QtpmDevice *dev);

/* ---- Memory regions (after realize) ---- */

typedef enum QtpmRegionKind {
  QTPM_REGION_MMIO = 0, /* accesses go through qtpm_device_mmio_read/write */
  QTPM_REGION_RAM = 1,  /* device-owned memory the embedder maps directly (CRB buffer, PPI) */
} QtpmRegionKind;

typedef struct QtpmRegionInfo {
  const char *name;       /* "tpm-tis-mmio", "tpm-crb-cmd", "tpm-ppi", ...; borrowed */
  uint64_t size;
  QtpmRegionKind kind;
  bool has_fixed_address; /* the device must sit at fixed_address (ISA TIS, CRB, PPI) */
  uint64_t fixed_address; /* otherwise the machine places it (sysbus devices) */
  unsigned max_access;    /* MMIO: widest access the device handles natively (1..8) */
  uint8_t *host_ptr;      /* RAM: the memory, valid while the device lives; NULL for MMIO */
} QtpmRegionInfo;

size_t qtpm_device_region_count(const QtpmDevice *dev);
int qtpm_device_region_info(const QtpmDevice *dev, size_t index, QtpmRegionInfo *info);

/* What happened to an access; embedders log the non-OK ones as guest errors. */
typedef enum QtpmAccessOutcome {
  QTPM_ACCESS_OK = 0,
  QTPM_ACCESS_UNMAPPED = 1,      /* no register there (reads give the device's "none" value) */
  QTPM_ACCESS_BAD_SIZE = 2,      /* size the register does not take */
  QTPM_ACCESS_IGNORED = 3,       /* write to a read-only register, or refused in this state */
  QTPM_ACCESS_UNIMPLEMENTED = 4, /* known but not modelled */
} QtpmAccessOutcome;

const char *qtpm_access_outcome_name(QtpmAccessOutcome outcome); /* "ok", "unmapped", ... */

/* Dispatches a guest access of `size` bytes (1, 2, 4 or 8) at `offset` into region `index`.
 * Wider-than-max_access accesses are split as QEMU's memory core does.  Accesses outside the
 * region, of another size, or to a region that is not MMIO or RAM are refused with
 * QTPM_ACCESS_UNMAPPED / QTPM_ACCESS_BAD_SIZE (reads then return all ones).  `outcome` may be
 * NULL.  Works for RAM regions too (reads and writes the memory), for embedders that trap them. */
uint64_t qtpm_device_mmio_read(QtpmDevice *dev, size_t index, uint64_t offset, unsigned size,
                               QtpmAccessOutcome *outcome);
void qtpm_device_mmio_write(QtpmDevice *dev, size_t index, uint64_t offset, uint64_t value,
                            unsigned size, QtpmAccessOutcome *outcome);
/* A read without side effects (no FIFO pop, nothing cleared): tracing, monitors, tests. */
uint64_t qtpm_device_mmio_peek(QtpmDevice *dev, size_t index, uint64_t offset, unsigned size,
                               QtpmAccessOutcome *outcome);

/* ---- Interrupts (after realize) ---- */

/* Called with the new level whenever IRQ line `line` changes, on the thread that caused the
 * change: the one dispatching an MMIO access, or the main loop for a completion or a reset
 * (QEMU: both with the BQL held).  QEMU: qemu_set_irq(). */
typedef void (*QtpmIrqHandler)(void *opaque, unsigned line, bool level);

size_t qtpm_device_irq_count(const QtpmDevice *dev);
/* Connects line `line`; the handler is called once at once with the current level.  A NULL
 * handler disconnects. */
int qtpm_device_connect_irq(QtpmDevice *dev, unsigned line, QtpmIrqHandler handler, void *opaque,
                            char **errmsg);
/* The current level of a line (false for a line that does not exist). */
bool qtpm_device_irq_level(const QtpmDevice *dev, unsigned line);

/* ---- TPM frontend queries ---- */

/* QEMU's TPMVersion of the frontend's backend: 0 unspecified (no backend), 1 TPM 1.2, 2 TPM 2.0.
 * QTPM_ERROR if the device is not a TPM frontend. */
int qtpm_device_tpm_version(const QtpmDevice *dev);

/* The frontend's TPM model as QMP names it ("tpm-tis" also for tpm-tis-device, "tpm-crb",
 * "tpm-spapr"); valid before realize.  Borrowed; NULL if the device is not a TPM frontend. */
const char *qtpm_device_tpm_model(const QtpmDevice *dev);

/* The device's "query-tpm" entry as JSON, in QMP's TPMInfo shape:
 *   {"id": "tpm0", "model": "tpm-tis",
 *    "options": {"type": "emulator", "data": {"chardev": "chrtpm"}}}
 * Free with qtpm_free.  Needs a realized TPM frontend with a backend. */
char *qtpm_device_query_tpm_json(const QtpmDevice *dev, char **errmsg);

/* The fw_cfg file "etc/tpm/config" firmware reads to find the PPI page: 6 bytes
 * (le32 PPI address, u8 TPM version, u8 PPI version).  QTPM_NOT_SUPPORTED when the device has
 * no PPI page (then the file must not exist).  *data is freed with qtpm_free. */
int qtpm_device_tpm_config(const QtpmDevice *dev, uint8_t **data, size_t *len, char **errmsg);

/* ---- ACPI ---- */

/* Tells a device whose region the machine placed (no fixed address: tpm-tis-device on a
 * platform bus) where region `index` now is, so its ACPI description and device-tree node name
 * it.  QTPM_NOT_SUPPORTED for devices that do not need to know. */
int qtpm_device_set_mapped_address(QtpmDevice *dev, size_t index, uint64_t address,
                                   char **errmsg);

/* The device's AML, to append inside the scope the embedder's DSDT builder has for it (x86 TIS:
 * the ISA bridge; CRB and Arm virt: \_SB): a complete Device() term, as QEMU 7.2 builds it.
 * Free with qtpm_free.  QTPM_NOT_SUPPORTED when the device has no ACPI description (not a TPM
 * frontend this build can describe); QTPM_ERROR when the description is not valid yet (a
 * sysbus device that was not told its address). */
int qtpm_device_acpi_aml(const QtpmDevice *dev, uint8_t **aml, size_t *len, char **errmsg);

typedef struct QtpmAcpiTable {
  char signature[5];      /* "TPM2" or "TCPA", NUL-terminated */
  uint8_t *data;          /* the whole table, header included, checksum 0: the embedder's table
                             loader fills the checksum (QEMU: bios_linker_loader_add_checksum) */
  size_t len;
  /* The event-log area the table points at: the embedder allocates `log_size` zero bytes
   * (QEMU: the fw_cfg file "etc/tpm/log") and has firmware patch `log_pointer_size` bytes at
   * `log_pointer_offset` with its address (bios_linker_loader_add_pointer). */
  uint32_t log_size;
  uint32_t log_pointer_offset;
  uint8_t log_pointer_size;
} QtpmAcpiTable;

/* The device's TPM table: TPM2 for a TPM 2.0, TCPA for a TPM 1.2 (QEMU builds TCPA on x86
 * only; an Arm embedder skips it).  oem_id (6 characters) and oem_table_id (8) are the
 * machine's (QEMU: "BOCHS ", "BXPC    "); NULL takes those.  Free with qtpm_acpi_table_free.
 * QTPM_NOT_SUPPORTED when the device has no ACPI description or its TPM version is unknown. */
int qtpm_device_acpi_table(const QtpmDevice *dev, const char *oem_id, const char *oem_table_id,
                           QtpmAcpiTable *table, char **errmsg);
void qtpm_acpi_table_free(QtpmAcpiTable *table);

/* ---- Saved state (snapshots, migration) ---- */

/* The state of a device or backend as a self-describing, versioned blob (docs/saved-state.md);
 * the embedder carries it opaquely (QEMU: a VMSTATE_VBUFFER in the device's section).  Save
 * finishes a pending command first.  QTPM_NOT_SUPPORTED when the object has no saved state or
 * refuses migration (passthrough), with the reason (for a migration blocker).  Load validates
 * the whole blob before it changes anything.  *data is freed with qtpm_free. */
int qtpm_device_save_state(QtpmDevice *dev, uint8_t **data, size_t *len, char **errmsg);
int qtpm_device_load_state(QtpmDevice *dev, const uint8_t *data, size_t len, char **errmsg);
int qtpm_backend_save_state(QtpmBackend *be, uint8_t **data, size_t *len, char **errmsg);
int qtpm_backend_load_state(QtpmBackend *be, const uint8_t *data, size_t len, char **errmsg);

/* Whether the backend's TPM state can travel at all, asked without taking it (QEMU: at realize,
 * for migrate_add_blocker).  QTPM_OK when it can; QTPM_NOT_SUPPORTED with the one-line reason
 * in *reason when it cannot (passthrough: a host TPM's state stays on the host; a swtpm without
 * the state-blob commands).  *reason is freed with qtpm_free; NULL on QTPM_OK. */
int qtpm_backend_migration_blocker(const QtpmBackend *be, char **reason);

#ifdef __cplusplus
}
#endif

#endif /* QTPM_QTPM_H */
