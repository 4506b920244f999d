/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Shared scaffolding of the process-level qtests: they drive $QTEST_QEMU_BINARY
 * (qtpm-system-<arch>, set by meson) through the client library (qtest/libqtest/libqtest.h)
 * and run their Check suite.  A binary that is not built yet is a skip (exit 77), with a line
 * saying so, not a failure.
 */
#ifndef QTPM_QTEST_TESTS_HOST_TEST_H
#define QTPM_QTEST_TESTS_HOST_TEST_H

#include <check.h>
#include <stdbool.h>

#include "qtest/libqtest/libqtest.h"

#ifdef __cplusplus
extern "C" {
#endif

#define HOST_TEST_SKIP 77  /* meson's "skipped" exit status */

/* Exits HOST_TEST_SKIP if $QTEST_QEMU_BINARY is unset or not an executable file. */
void host_test_require_binary(void);
/* The machine option a test needs on this target: "" on x86_64 (QEMU's default "pc"),
 * "-machine virt" on aarch64 (which has no default machine). */
const char *host_test_machine(void);
/* Whether `-device help` (on this target's machine) lists the device `name`. */
bool host_test_has_device(const char *name);
/* Runs the suite in Check's fork mode; returns the process exit status. */
int host_test_run(Suite *suite);

/* Strings of a JSON array, for membership checks. */
bool host_test_array_has_string(json_object *array, const char *value);
/* json_object_object_get_ex that fails the test if the member is missing or of another type. */
json_object *host_test_member(json_object *obj, const char *key, json_type type);
/* The number of '\n'-terminated lines in `text` (a final unterminated line counts). */
int host_test_count_lines(const char *text);

#ifdef __cplusplus
}
#endif

#endif /* QTPM_QTEST_TESTS_HOST_TEST_H */
