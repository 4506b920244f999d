// SPDX-License-Identifier: GPL-2.0-or-later
//
// The outgoing side of a migration (QMP `migrate`), as QEMU 7.2's precopy without an iterative
// RAM phase, driven by the GLib main loop and never blocking it:
//
//   setup      connecting (unix:, tcp:) or starting the command (exec:)
//   active     connected: the VM stops (run state finish-migrate, STOP if it was running), every
//              device and backend gives its state (a command in flight completes first), and
//              the stream is written as fast as the peer reads it
//   completed  socket: the destination confirmed it loaded the state; exec: the command exited
//              with status 0.  Run state postmigrate.
//   failed     anything else, with error-desc; the VM runs again if it was running (RESUME), or
//              returns to the state it had, with its TPM untouched
//   cancelled  migrate_cancel in setup or active; the VM as after a failure
//
// Over a socket the destination answers with one line, "ok" or "error: WHY" (docs/migration.md),
// so that a stream it refuses fails the migration here and the source keeps running; QEMU 7.2
// would report "completed" as soon as the stream left and lose the VM.  Every wait is bounded by
// the timeout (migrate-set-parameters x-timeout-ms): a destination that never accepts, stops
// reading or never answers fails the migration instead of hanging it.
//
// After a save, when the VM runs here again (as QEMU's VM state-change handlers do): swtpm's
// storage lock is taken back (CMD_LOCK_STORAGE, swtpm 0.8+), and a vTPM delivers the response it
// parked while the state was taken.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "qtest/server/host.h"
#include "qtest/server/migration_status.h"
#include "qtest/server/migration_transport.h"
#include "qtest/server/migration_uri.h"
#include "qtest/server/migration_watch.h"
#include "qtest/server/qmp_dispatcher.h"
#include "qtest/server/run_state.h"

namespace qtpm::host {

class MigrationSource {
 public:
  MigrationSource(Host &host, QmpDispatcher &qmp, MigrationStatus &status,
                  const unsigned &timeout_ms)
      : host_(host), qmp_(qmp), status_(status), timeout_ms_(timeout_ms) {}
  ~MigrationSource();
  MigrationSource(const MigrationSource &) = delete;
  MigrationSource &operator=(const MigrationSource &) = delete;

  // Starts a migration to a parsed URI (the caller checked that one may start).  Progress and
  // failures are reported through the status; nothing here blocks.
  void start(const MigrationUri &uri, const std::string &uri_text);
  // migrate_cancel: ends a running migration (a no-op otherwise).
  void cancel();
  // The VM runs again after a save (`cont`, or a failed or cancelled migration): a vTPM delivers
  // the response it parked while the state was taken, and swtpm's storage lock is taken back if
  // a save released it.
  void vm_resumed();

 private:
  enum class Phase { kIdle, kConnecting, kWriting, kAwaitingVerdict, kAwaitingExit };

  void begin_transport();
  void connect_next();
  bool on_connect_ready();
  void on_connected();
  Status stop_vm_and_capture();
  bool on_socket_event(GIOCondition condition);
  bool write_some();
  void finished_writing();
  bool read_verdict();
  void judge_verdict(bool eof);
  void on_child_exit(int wait_status);
  void arm_timeout(std::string why);
  void complete();
  void fail(const std::string &why);
  void close_transport();
  void restore_vm();
  void relock_storage();

  Host &host_;
  QmpDispatcher &qmp_;
  MigrationStatus &status_;
  const unsigned &timeout_ms_;

  Phase phase_ = Phase::kIdle;
  MigrationUri uri_;
  std::string uri_text_;
  std::vector<SocketTarget> targets_;
  size_t next_target_ = 0;
  std::string connect_error_;
  int fd_ = -1;
  pid_t child_ = -1;
  std::vector<uint8_t> stream_;
  size_t sent_ = 0;
  std::string verdict_;
  std::string write_error_;
  bool stopped_vm_ = false;  // this migration stopped the VM (finish-migrate)
  RunState run_state_before_ = RunState::kRunning;
  bool relock_pending_ = false;  // a save succeeded; relock swtpm storage when the VM runs
  FdWatch watch_;
  OneShotTimer timer_;
  ChildWatch child_watch_;
};

}  // namespace qtpm::host
