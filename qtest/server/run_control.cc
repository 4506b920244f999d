// SPDX-License-Identifier: GPL-2.0-or-later
//
// Run control (see run_control.h).
#include "qtest/server/run_control.h"

namespace qtpm::host {

namespace {

json_object *cause_data(const char *reason) {
  json_object *data = json_object_new_object();
  json_object_object_add(data, "guest", json_object_new_boolean(false));
  json_object_object_add(data, "reason", json_object_new_string(reason));
  return data;
}

}  // namespace

void RunControl::stop() {
  RunState s = host_.run_state();
  if (s == RunState::kInmigrate) {
    autostart_ = false;
    return;
  }
  if (s != RunState::kRunning) return;  // QEMU's vm_stop does nothing when not running
  host_.set_run_state(RunState::kPaused);
  qmp_.emit_event("STOP");
}

std::string RunControl::cont() {
  RunState s = host_.run_state();
  if (s == RunState::kInternalError || s == RunState::kShutdown || s == RunState::kGuestPanicked) {
    return "Resetting the Virtual Machine is required";
  }
  if (s == RunState::kSuspended) return "";
  if (s == RunState::kInmigrate) {
    autostart_ = true;
    return "";
  }
  if (s == RunState::kRunning) {
    qmp_.emit_event("STOP");
    qmp_.emit_event("RESUME");
    return "";
  }
  host_.set_run_state(RunState::kRunning);
  qmp_.emit_event("RESUME");
  return "";
}

void RunControl::system_reset(const char *reason) {
  host_.reset_devices();
  qmp_.emit_event("RESET", cause_data(reason));
  RunState s = host_.run_state();
  if (s != RunState::kRunning && s != RunState::kInmigrate && s != RunState::kFinishMigrate) {
    host_.set_run_state(RunState::kPrelaunch);
  }
}

void RunControl::shutdown(const char *reason) {
  if (shutting_down_) return;
  shutting_down_ = true;
  qmp_.emit_event("SHUTDOWN", cause_data(reason));
  if (quit_) quit_();
}

}  // namespace qtpm::host
