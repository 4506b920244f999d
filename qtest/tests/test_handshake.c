/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The smallest libqtest-style program: start the host as QEMU 7.2's libqtest starts QEMU (two
 * listening sockets, /bin/sh -c "exec ... -accel qtest", endianness, QMP greeting,
 * qmp_capabilities), ask query-tpm-models, and quit (SIGTERM must give exit status 0).
 */
#include <stdio.h>
#include <string.h>

#include "host_test.h"

static const char *const known_models[] = { "tpm-tis", "tpm-crb", "tpm-spapr" };

/* The TPM devices `-device help` lists, mapped to their TpmModel (one model per class, so
 * tpm-tis-device reports "tpm-tis", as in QEMU). */
static void expected_models(bool *tis, bool *crb, bool *spapr)
{
    *tis = host_test_has_device("tpm-tis") || host_test_has_device("tpm-tis-device");
    *crb = host_test_has_device("tpm-crb");
    *spapr = host_test_has_device("tpm-spapr");
}

START_TEST(handshake_query_tpm_models_quit)
{
    bool tis, crb, spapr;
    expected_models(&tis, &crb, &spapr);

    QTestState *s = qtest_init(host_test_machine());
    /* QEMU's `endianness` answer is the target's: of the hosts built here only ppc64 is
     * big-endian (TARGET_BIG_ENDIAN). */
    bool big = strcmp(qtest_get_arch(), "ppc64") == 0;
    ck_assert_msg(qtest_big_endian(s) == big, "%s: expected a %s-endian target",
                  qtest_get_arch(), big ? "big" : "little");

    json_object *models = qtest_qmp_assert_success_ref(s, "{'execute': 'query-tpm-models'}");
    ck_assert(json_object_is_type(models, json_type_array));
    /* Every entry is a TpmModel enum value (qapi/tpm.json)... */
    for (size_t i = 0; i < json_object_array_length(models); i++) {
        json_object *m = json_object_array_get_idx(models, i);
        ck_assert(json_object_is_type(m, json_type_string));
        bool known = false;
        for (size_t k = 0; k < sizeof(known_models) / sizeof(known_models[0]); k++) {
            known |= strcmp(json_object_get_string(m), known_models[k]) == 0;
        }
        ck_assert_msg(known, "unknown TPM model '%s'", json_object_get_string(m));
    }
    /* ...and the models are exactly those of the TPM devices the host offers. */
    ck_assert_int_eq(host_test_array_has_string(models, "tpm-tis"), tis);
    ck_assert_int_eq(host_test_array_has_string(models, "tpm-crb"), crb);
    ck_assert_int_eq(host_test_array_has_string(models, "tpm-spapr"), spapr);
    if (!tis && !crb) {
        printf("note: the host offers no TPM device yet; query-tpm-models is []\n");
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
