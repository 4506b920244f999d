// SPDX-License-Identifier: GPL-2.0-or-later
//
// The VM run state as QMP's query-status reports it (QEMU 7.2 qapi/run-state.json RunState).
#pragma once

namespace qtpm::host {

enum class RunState {
  kDebug,
  kInmigrate,
  kInternalError,
  kIoError,
  kPaused,
  kPostmigrate,
  kPrelaunch,
  kFinishMigrate,
  kRestoreVm,
  kRunning,
  kSaveVm,
  kShutdown,
  kSuspended,
  kWatchdog,
  kGuestPanicked,
  kColo,
};

inline const char *run_state_name(RunState s) {
  switch (s) {
    case RunState::kDebug: return "debug";
    case RunState::kInmigrate: return "inmigrate";
    case RunState::kInternalError: return "internal-error";
    case RunState::kIoError: return "io-error";
    case RunState::kPaused: return "paused";
    case RunState::kPostmigrate: return "postmigrate";
    case RunState::kPrelaunch: return "prelaunch";
    case RunState::kFinishMigrate: return "finish-migrate";
    case RunState::kRestoreVm: return "restore-vm";
    case RunState::kRunning: return "running";
    case RunState::kSaveVm: return "save-vm";
    case RunState::kShutdown: return "shutdown";
    case RunState::kSuspended: return "suspended";
    case RunState::kWatchdog: return "watchdog";
    case RunState::kGuestPanicked: return "guest-panicked";
    case RunState::kColo: return "colo";
  }
  return "?";
}

}  // namespace qtpm::host
