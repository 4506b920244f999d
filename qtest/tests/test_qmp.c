/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * QMP as the host speaks it: the shapes of the replies QEMU 7.2 gives to the commands qtests
 * and libvirt use (the qapi schema), errors for unknown commands and arguments, the capabilities
 * negotiation, and "id" echo.  Shapes are asserted member by member with their JSON types.
 */
#include <string.h>

#include <glib.h>

#include "host_test.h"

static QTestState *start(void)
{
    return qtest_init(host_test_machine());
}

START_TEST(greeting_and_query_version_agree)
{
    QTestState *s = start();
    json_object *qmp = host_test_member(qtest_qmp_greeting(s), "QMP", json_type_object);
    json_object *caps = host_test_member(qmp, "capabilities", json_type_array);
    ck_assert(host_test_array_has_string(caps, "oob"));
    json_object *gv = host_test_member(qmp, "version", json_type_object);

    json_object *v = qtest_qmp_assert_success_ref(s, "{'execute': 'query-version'}");
    json_object *qemu = host_test_member(v, "qemu", json_type_object);
    host_test_member(qemu, "major", json_type_int);
    host_test_member(qemu, "minor", json_type_int);
    host_test_member(qemu, "micro", json_type_int);
    host_test_member(v, "package", json_type_string);
    ck_assert_msg(json_object_equal(v, gv), "query-version %s, greeting %s",
                  json_object_to_json_string(v), json_object_to_json_string(gv));
    json_object_put(v);
    qtest_quit(s);
}
END_TEST

START_TEST(query_status_shape)
{
    QTestState *s = start();
    json_object *st = qtest_qmp_assert_success_ref(s, "{'execute': 'query-status'}");
    ck_assert_str_eq(json_object_get_string(host_test_member(st, "status", json_type_string)),
                     "running");
    ck_assert(json_object_get_boolean(host_test_member(st, "running", json_type_boolean)));
    host_test_member(st, "singlestep", json_type_boolean);
    json_object_put(st);
    qtest_quit(s);
}
END_TEST

START_TEST(query_commands_lists_what_tests_use)
{
    static const char *const needed[] = {
        "qmp_capabilities", "query-status", "query-version", "query-commands", "query-tpm",
        "query-tpm-models", "query-tpm-types", "qom-list", "qom-get",
    };
    QTestState *s = start();
    json_object *cmds = qtest_qmp_assert_success_ref(s, "{'execute': 'query-commands'}");
    ck_assert(json_object_is_type(cmds, json_type_array));
    for (size_t k = 0; k < sizeof(needed) / sizeof(needed[0]); k++) {
        bool found = false;
        for (size_t i = 0; i < json_object_array_length(cmds); i++) {
            json_object *name = host_test_member(json_object_array_get_idx(cmds, i), "name",
                                                 json_type_string);
            found |= strcmp(json_object_get_string(name), needed[k]) == 0;
        }
        ck_assert_msg(found, "query-commands lacks %s", needed[k]);
    }
    json_object_put(cmds);
    qtest_quit(s);
}
END_TEST

START_TEST(query_tpm_types_and_empty_query_tpm)
{
    QTestState *s = start();
    json_object *types = qtest_qmp_assert_success_ref(s, "{'execute': 'query-tpm-types'}");
    ck_assert(host_test_array_has_string(types, "emulator"));
    for (size_t i = 0; i < json_object_array_length(types); i++) {
        const char *t = json_object_get_string(json_object_array_get_idx(types, i));
        ck_assert_msg(strcmp(t, "emulator") == 0 || strcmp(t, "passthrough") == 0 ||
                      strcmp(t, "libtpms") == 0, "unexpected TPM type %s", t);
    }
    json_object_put(types);
    /* Without -tpmdev there is nothing bound. */
    json_object *tpms = qtest_qmp_assert_success_ref(s, "{'execute': 'query-tpm'}");
    ck_assert(json_object_is_type(tpms, json_type_array));
    ck_assert_int_eq((int)json_object_array_length(tpms), 0);
    json_object_put(tpms);
    qtest_quit(s);
}
END_TEST

START_TEST(qom_list_and_get_on_the_machine)
{
    QTestState *s = start();
    json_object *props = qtest_qmp_assert_success_ref(
        s, "{'execute': 'qom-list', 'arguments': {'path': '/machine'}}");
    ck_assert(json_object_is_type(props, json_type_array));
    bool has_type = false;
    for (size_t i = 0; i < json_object_array_length(props); i++) {
        json_object *p = json_object_array_get_idx(props, i);
        const char *name = json_object_get_string(host_test_member(p, "name", json_type_string));
        const char *type = json_object_get_string(host_test_member(p, "type", json_type_string));
        has_type |= strcmp(name, "type") == 0 && strcmp(type, "string") == 0;
    }
    ck_assert_msg(has_type, "/machine has no 'type' string property: %s",
                  json_object_to_json_string(props));
    json_object_put(props);

    json_object *type = qtest_qmp_assert_success_ref(
        s, "{'execute': 'qom-get', 'arguments': {'path': '/machine', 'property': 'type'}}");
    ck_assert(json_object_is_type(type, json_type_string));
    ck_assert_msg(g_str_has_suffix(json_object_get_string(type), "-machine"), "type %s",
                  json_object_get_string(type));
    json_object_put(type);

    json_object *r = qtest_qmp(
        s, "{'execute': 'qom-get', 'arguments': {'path': '/no/such/object', 'property': 'type'}}");
    ck_assert_str_eq(qtest_qmp_error_class(r), "DeviceNotFound");
    json_object_put(r);
    r = qtest_qmp(s, "{'execute': 'qom-get', 'arguments': {'path': '/machine', 'property': 'nope'}}");
    ck_assert_str_eq(qtest_qmp_error_class(r), "GenericError");
    json_object_put(r);
    qtest_quit(s);
}
END_TEST

START_TEST(unknown_command_and_bad_arguments)
{
    QTestState *s = start();
    json_object *r = qtest_qmp(s, "{'execute': 'no-such-command'}");
    ck_assert_str_eq(qtest_qmp_error_class(r), "CommandNotFound");
    json_object *err = host_test_member(r, "error", json_type_object);
    ck_assert_str_eq(json_object_get_string(host_test_member(err, "desc", json_type_string)),
                     "The command no-such-command has not been found");
    json_object_put(r);

    r = qtest_qmp(s, "{'execute': 'qom-list'}");  /* 'path' missing */
    ck_assert_str_eq(qtest_qmp_error_class(r), "GenericError");
    json_object_put(r);
    r = qtest_qmp(s, "{'execute': 'qom-list', 'arguments': {'path': 5}}");
    ck_assert_str_eq(qtest_qmp_error_class(r), "GenericError");
    json_object_put(r);
    r = qtest_qmp(s, "{'execute': 'query-status', 'arguments': {'bogus': 1}}");
    ck_assert_str_eq(qtest_qmp_error_class(r), "GenericError");
    json_object_put(r);
    qtest_quit(s);
}
END_TEST

START_TEST(id_is_echoed)
{
    QTestState *s = start();
    json_object *r = qtest_qmp(s, "{'execute': 'query-status', 'id': 'abc'}");
    ck_assert_str_eq(json_object_get_string(host_test_member(r, "id", json_type_string)), "abc");
    host_test_member(r, "return", json_type_object);
    json_object_put(r);
    r = qtest_qmp(s, "{'execute': 'no-such-command', 'id': {'n': [1, 2]}}");
    json_object *id = host_test_member(r, "id", json_type_object);
    ck_assert_str_eq(json_object_to_json_string_ext(id, JSON_C_TO_STRING_PLAIN), "{\"n\":[1,2]}");
    json_object_put(r);
    qtest_quit(s);
}
END_TEST

START_TEST(commands_need_capabilities_negotiation)
{
    QTestState *s = qtest_init_without_qmp_handshake(host_test_machine());
    json_object *r = qtest_qmp(s, "{'execute': 'query-status'}");
    ck_assert_str_eq(qtest_qmp_error_class(r), "CommandNotFound");
    json_object *err = host_test_member(r, "error", json_type_object);
    ck_assert_str_eq(json_object_get_string(host_test_member(err, "desc", json_type_string)),
                     "Expecting capabilities negotiation with 'qmp_capabilities'");
    json_object_put(r);

    json_object_put(qtest_qmp_assert_success_ref(s, "{'execute': 'qmp_capabilities'}"));
    json_object_put(qtest_qmp_assert_success_ref(s, "{'execute': 'query-status'}"));
    /* A second negotiation is refused. */
    r = qtest_qmp(s, "{'execute': 'qmp_capabilities'}");
    ck_assert_str_eq(qtest_qmp_error_class(r), "CommandNotFound");
    json_object_put(r);
    qtest_quit(s);
}
END_TEST

int main(void)
{
    host_test_require_binary();
    Suite *suite = suite_create("qmp");
    TCase *tc = tcase_create("qmp");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, greeting_and_query_version_agree);
    tcase_add_test(tc, query_status_shape);
    tcase_add_test(tc, query_commands_lists_what_tests_use);
    tcase_add_test(tc, query_tpm_types_and_empty_query_tpm);
    tcase_add_test(tc, qom_list_and_get_on_the_machine);
    tcase_add_test(tc, unknown_command_and_bad_arguments);
    tcase_add_test(tc, id_is_echoed);
    tcase_add_test(tc, commands_need_capabilities_negotiation);
    suite_add_tcase(suite, tc);
    return host_test_run(suite);
}
