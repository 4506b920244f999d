// SPDX-License-Identifier: GPL-2.0-or-later
//
// The backend types are registered by register_builtin_types() in any program linked against
// libqtpm, even one that names no backend class (as the host program does): the modules'
// registration functions are only weakly referenced, so this fails when the library's objects
// are not all linked in.  Deliberately includes nothing from the backends.
#include "qom/testing.h"

#include "qom/object.h"

using namespace qtpm;

START_TEST(test_types_registered) {
  register_builtin_types();
  const TypeInfo *emu = type_find("tpm-emulator");
  const TypeInfo *pt = type_find("tpm-passthrough");
  ck_assert_msg(emu && pt, "backend types missing: is libqtpm linked whole?");
  ck_assert(emu->parent == "tpm-backend" && pt->parent == "tpm-backend");
  ck_assert(emu->description == "TPM emulator backend driver");
  ck_assert(pt->description == "Passthrough TPM backend driver");
  ck_assert(emu->user_creatable && pt->user_creatable);
  auto obj = object_new("tpm-emulator");
  ck_assert_ptr_nonnull(obj.get());
  ck_assert(obj->find_property("chardev") && obj->find_property("x-timeout-ms"));
  obj = object_new("tpm-passthrough");
  ck_assert(obj->get_property("path") == std::optional<std::string>("/dev/tpm0"));
  ck_assert(obj->find_property("cancel-path"));
}
END_TEST

int main() {
  Suite *s = suite_create("backend-types");
  TCase *tc = tcase_create("types");
  tcase_add_test(tc, test_types_registered);
  suite_add_tcase(s, tc);
  return qtpm::testing::run_suite(s);
}
