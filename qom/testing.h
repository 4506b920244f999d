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

#include <string>
#include <string_view>
#include <map>

#include "qom/host_services.h"
#include "qom/main_loop.h"
#include "qom/object.h"

namespace qtpm::testing {

// HostServices for unit tests: backends registered by id, a queue loop drained by the test,
// and a counter of guest-RAM clears.
class TestHost : public HostServices {
 public:
  Object *find_tpm_backend(std::string_view id) override {
    auto it = backends.find(std::string(id));
    return it == backends.end() ? nullptr : it->second;
  }
  Chardev *find_chardev(std::string_view id) override {
    auto it = chardevs.find(std::string(id));
    return it == chardevs.end() ? nullptr : it->second;
  }
  CompletionLoop &completion_loop() override { return loop; }
  void clear_guest_ram() override { ram_clears++; }
  bool incoming_migration_pending() const override { return incoming; }

  // Runs posted completions until `done()` or the timeout (ms); returns done().
  template <typename Pred>
  bool run_until(Pred done, int timeout_ms = 5000) {
    for (int waited = 0; !done() && waited < timeout_ms; waited += 10) loop.wait_and_run(10);
    return done();
  }

  std::map<std::string, Object *> backends;
  std::map<std::string, Chardev *> chardevs;
  QueueCompletionLoop loop;
  int ram_clears = 0;
  bool incoming = false;
};

}  // namespace qtpm::testing
