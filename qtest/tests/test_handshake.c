/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The smallest libqtest-style program: start the host as QEMU 7.2's libqtest starts QEMU (two
 * listening sockets, /bin/sh -c "exec ... -accel qtest", endianness, QMP greeting,
 * qmp_capabilities), ask query-tpm-models, and quit (SIGTERM must give exit status 0).
 */
#include <string.h>

#include "host_test.h"

static const char *const known_models[] = { "tpm-tis", "tpm-crb", "tpm-spapr" };

START_TEST(handshake_query_tpm_models_quit)
{
    QTestState *s = qtest_init(host_test_machine());
    ck_assert(!qtest_big_endian(s));  /* both targets built here are little-endian */

    json_object *models = qtest_qmp_assert_success_ref(s, "{'execute': 'query-tpm-models'}");
    ck_assert(json_object_is_type(models, json_type_array));
    ck_assert_int_gt((int)json_object_array_length(models), 0);
    /* Every entry is a TpmModel enum value (qapi/tpm.json). */
    for (size_t i = 0; i < json_object_array_length(models); i++) {
        const char *m = json_object_get_string(json_object_array_get_idx(models, i));
        bool known = false;
        for (size_t k = 0; k < sizeof(known_models) / sizeof(known_models[0]); k++) {
            known |= strcmp(m, known_models[k]) == 0;
        }
        ck_assert_msg(known, "unknown TPM model '%s'", m);
    }
    /* tpm-tis (ISA) and tpm-crb exist on x86; tpm-tis-device (model tpm-tis) on aarch64. */
    ck_assert(host_test_array_has_string(models, "tpm-tis"));
    if (strcmp(qtest_get_arch(), "x86_64") == 0) {
        ck_assert(host_test_array_has_string(models, "tpm-crb"));
    }
    json_object_put(models);
    qtest_quit(s);
}
END_TEST

int main(void)
{
    host_test_require_binary();
    Suite *suite = suite_create("handshake");
    TCase *tc = tcase_create("handshake");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, handshake_query_tpm_models_quit);
    suite_add_tcase(suite, tc);
    return host_test_run(suite);
}
