// SPDX-License-Identifier: GPL-2.0-or-later
//
// CHECK_STR(a, b): string equality for the host's tests.  Check's ck_assert_str_eq keeps only
// the char pointers, which dangle when an argument is a temporary std::string's c_str(); this
// copies both sides first and prints them on failure.
#pragma once

#include <string>

#include "qom/testing.h"

#define CHECK_STR(a, b)                                                                     \
  do {                                                                                      \
    std::string check_str_a_(a);                                                            \
    std::string check_str_b_(b);                                                            \
    ck_assert_msg(check_str_a_ == check_str_b_, "\n  got:      [%s]\n  expected: [%s]",     \
                  check_str_a_.c_str(), check_str_b_.c_str());                              \
  } while (0)
