/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libqtpm: the C API for embedders (QEMU glue, other VMMs).
 *
 * The API grows with the devices; everything here is stable within a minor version.
 */
#ifndef QTPM_QTPM_H
#define QTPM_QTPM_H

#ifdef __cplusplus
extern "C" {
#endif

/* "MAJOR.MINOR.MICRO" of the library linked in. */
const char *qtpm_version(void);

/* Registers the built-in device and backend types; idempotent, call before anything else. */
void qtpm_init(void);

#ifdef __cplusplus
}
#endif

#endif /* QTPM_QTPM_H */
