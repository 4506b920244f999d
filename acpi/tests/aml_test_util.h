// SPDX-License-Identifier: GPL-2.0-or-later
//
// Helpers shared by the ACPI unit tests: comparing byte strings with a readable hex diff.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "acpi/aml.h"
#include "qom/testing.h"

namespace qtpm::testing {

inline std::string hex(const std::vector<uint8_t> &bytes) {
  std::string out;
  char buf[4];
  for (size_t i = 0; i < bytes.size(); i++) {
    snprintf(buf, sizeof buf, "%02x", bytes[i]);
    if (i) out += ' ';
    out += buf;
  }
  return out;
}

// Asserts that `got` equals `want`, printing both in hex otherwise.
#define QTPM_ASSERT_BYTES(got_expr, ...)                                                    \
  do {                                                                                    \
    std::vector<uint8_t> got_ = (got_expr);                                               \
    std::vector<uint8_t> want_ = __VA_ARGS__;                                             \
    ck_assert_msg(got_ == want_, "bytes differ\n  got:  %s\n  want: %s",                  \
                  ::qtpm::testing::hex(got_).c_str(), ::qtpm::testing::hex(want_).c_str()); \
  } while (0)

// Asserts that a std::string expression equals `want` (ck_assert_str_eq would keep a pointer into
// a temporary).
#define QTPM_ASSERT_STR(got_expr, want_expr)                                          \
  do {                                                                              \
    std::string got_ = (got_expr);                                                  \
    std::string want_ = (want_expr);                                                \
    ck_assert_msg(got_ == want_, "got '%s', want '%s'", got_.c_str(), want_.c_str()); \
  } while (0)

}  // namespace qtpm::testing
