// SPDX-License-Identifier: GPL-2.0-or-later
//
// Run control: stop/cont, system reset and shutdown with the QMP events and run-state changes
// QEMU 7.2 makes (softmmu/runstate.c, softmmu/cpus.c, monitor/qmp-cmds.c).
//
//  - stop: running -> paused, STOP event; in "inmigrate" it only clears autostart.
//  - cont: prelaunch/paused -> running, RESUME event; in "inmigrate" it sets autostart; when
//    already running QEMU emits STOP and RESUME anyway (vm_prepare_start), and so does qtpm.
//  - system reset: every device resets, RESET event; a VM that was not running is left in
//    "prelaunch" (main_loop_should_exit).
//  - shutdown: SHUTDOWN event, then the embedder's quit hook.
#pragma once

#include <functional>

#include "qtest/server/host.h"
#include "qtest/server/qmp_dispatcher.h"

namespace qtpm::host {

class RunControl {
 public:
  using QuitHook = std::function<void()>;

  RunControl(Host &host, QmpDispatcher &qmp) : host_(host), qmp_(qmp), autostart_(!host.config().start_paused) {}

  void set_quit_hook(QuitHook hook) { quit_ = std::move(hook); }

  void stop();
  // Fails (GenericError text) when the state needs a reset first.
  std::string cont();
  // `reason` is a QAPI ShutdownCause ("host-qmp-system-reset").
  void system_reset(const char *reason);
  // `reason`: "host-qmp-quit", "host-signal".  Emits SHUTDOWN once and calls the quit hook.
  void shutdown(const char *reason);
  bool shutting_down() const { return shutting_down_; }

  // Whether the VM starts running once an incoming migration completes.
  bool autostart() const { return autostart_; }

 private:
  Host &host_;
  QmpDispatcher &qmp_;
  QuitHook quit_;
  bool autostart_;
  bool shutting_down_ = false;
};

}  // namespace qtpm::host
