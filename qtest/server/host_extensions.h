// SPDX-License-Identifier: GPL-2.0-or-later
//
// Extension points of qtpm-system for other modules: QMP commands and events (migration:
// migrate, query-migrate, MIGRATION), qtest commands (pseries: rtas), incoming migration.
//
// A module defines its hook (strong symbol) in its own source file linked into the program;
// hooks that are not defined are skipped, as with qom/module_init.h.  The hooks run once, after
// the built-in commands are registered and the qtest server exists, before any monitor sends
// its greeting.
#pragma once

#include <string>

#include "qtest/server/host.h"
#include "qtest/server/qmp_dispatcher.h"
#include "qtest/server/qtest_server.h"
#include "qtest/server/run_control.h"

namespace qtpm::host {

struct HostContext {
  Host &host;
  QmpDispatcher &qmp;
  RunControl &run;
  QtestServer *qtest;  // null without -qtest
  // A hook that cannot do what the command line asks (-incoming with an address it cannot
  // listen on) sets this to a complete located line; the program prints it and exits 1.
  std::string startup_error = {};
};

void register_migration_host_extension(HostContext &context) __attribute__((weak));
void register_spapr_host_extension(HostContext &context) __attribute__((weak));

using HostExtensionFn = void (*)(HostContext &);

inline HostExtensionFn const kHostExtensions[] = {
    register_migration_host_extension,
    register_spapr_host_extension,
};

}  // namespace qtpm::host
