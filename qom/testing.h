// SPDX-License-Identifier: GPL-2.0-or-later
//
// Check (the unit-test framework) for C++ test files.  check.h defines a function-like macro
// `fail` that breaks libstdc++ headers (basic_ios::fail), so tests include this header instead
// of <check.h>; it removes the macro (ck_assert_* does not use it).
#pragma once

#include <check.h>
#undef fail

namespace qtpm::testing {

// Runs a suite the way every qtpm unit test does; returns the process exit status.
inline int run_suite(Suite *suite) {
  SRunner *runner = srunner_create(suite);
  srunner_run_all(runner, CK_NORMAL);
  int failed = srunner_ntests_failed(runner);
  srunner_free(runner);
  return failed ? 1 : 0;
}

}  // namespace qtpm::testing
