/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared scaffolding of the process-level qtests (host_test.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "host_test.h"

void host_test_require_binary(void)
{
    const char *bin = getenv("QTEST_QEMU_BINARY");
    if (!bin || access(bin, X_OK) != 0) {
        printf("SKIP: the host %s is not built yet (QTEST_QEMU_BINARY)\n", bin ? bin : "(unset)");
        exit(HOST_TEST_SKIP);
    }
}

const char *host_test_machine(void)
{
    return strcmp(qtest_get_arch(), "aarch64") == 0 ? "-machine virt" : "";
}

bool host_test_has_device(const char *name)
{
    char *args = g_strdup_printf("%s -display none -device help", host_test_machine());
    QTestRunResult r = qtest_run_binary(args, 20000);
    char *needle = g_strdup_printf("name \"%s\"", name);
    bool found = r.exited && r.status == 0 && strstr(r.out, needle) != NULL;
    g_free(needle);
    qtest_run_result_clear(&r);
    g_free(args);
    return found;
}

int host_test_run(Suite *suite)
{
    SRunner *runner = srunner_create(suite);
    srunner_set_fork_status(runner, CK_FORK);  /* a failed test aborts only its own child */
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed ? 1 : 0;
}

bool host_test_array_has_string(json_object *array, const char *value)
{
    ck_assert(json_object_is_type(array, json_type_array));
    for (size_t i = 0; i < json_object_array_length(array); i++) {
        json_object *e = json_object_array_get_idx(array, i);
        if (json_object_is_type(e, json_type_string) && strcmp(json_object_get_string(e), value) == 0) {
            return true;
        }
    }
    return false;
}

json_object *host_test_member(json_object *obj, const char *key, json_type type)
{
    json_object *v = NULL;
    ck_assert_msg(json_object_object_get_ex(obj, key, &v), "member '%s' missing in %s", key,
                  json_object_to_json_string(obj));
    ck_assert_msg(json_object_is_type(v, type), "member '%s' has the wrong type in %s", key,
                  json_object_to_json_string(obj));
    return v;
}

int host_test_count_lines(const char *text)
{
    int n = 0;
    for (const char *p = text; *p; p++) {
        n += *p == '\n';
    }
    size_t len = strlen(text);
    return n + (len > 0 && text[len - 1] != '\n');
}
