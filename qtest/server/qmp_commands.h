// SPDX-License-Identifier: GPL-2.0-or-later
//
// The host's built-in QMP commands, with the reply shapes of QEMU 7.2's QAPI schema:
//
//   qmp_capabilities  (after negotiation: CommandNotFound "Capabilities negotiation is already
//                      complete, command ignored")
//   query-status      {"status": RunState, "singlestep": false, "running": bool}
//   query-version     {"qemu": {"micro", "minor", "major"}, "package"}
//   query-commands    [{"name": ...}]
//   quit, system_reset, stop, cont
//   query-tpm         [TPMInfo {"id", "model", "options": {"type", "data": {...}}}]
//                     (qapi/tpm.json; backends bound to a frontend only)
//   query-tpm-models  ["tpm-tis", "tpm-crb", ...]  one per frontend type of this target
//   query-tpm-types   ["passthrough", "emulator", ...]
//   qom-list {path}   [{"name", "type"}]: "type", children "child<T>", links "link<T>", properties
//   qom-get {path, property}
#pragma once

#include "qtest/server/host.h"
#include "qtest/server/qmp_dispatcher.h"
#include "qtest/server/run_control.h"

namespace qtpm::host {

void register_builtin_commands(QmpDispatcher &qmp, Host &host, RunControl &run);

}  // namespace qtpm::host
