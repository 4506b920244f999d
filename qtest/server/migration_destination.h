// SPDX-License-Identifier: GPL-2.0-or-later
//
// The incoming side of a migration (-incoming URI, or -incoming defer and QMP migrate-incoming),
// driven by the GLib main loop:
//
//   setup      from the start: listening (unix:, tcp:) or reading the command (exec:) - so
//              query-migrate has a status from the first moment, unlike QEMU 7.2, whose
//              destination answers {} until the stream begins (the race that crashes QEMU's own
//              TPM migration qtests now and then)
//   active     the source connected (or the command started): the stream arrives; its preamble
//              is checked as soon as it is there, so a wrong stream is refused at once
//   completed  the whole stream was valid for this machine and every device and backend loaded
//              it; the VM runs (RESUME) if the source ran and -S / stop did not say otherwise,
//              else it takes the source's run state (paused)
//   failed     error-desc and one line on stderr say why; nothing was changed (the machine
//              stays in "inmigrate", its TPM not started); migrate-incoming may try again
//
// Over a socket the source learns the outcome: the destination answers "ok" or "error: WHY"
// (docs/migration.md).  A source that connects and then sends nothing fails after the timeout.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "qom/migration_stream.h"
#include "qtest/server/host.h"
#include "qtest/server/migration_status.h"
#include "qtest/server/migration_transport.h"
#include "qtest/server/migration_uri.h"
#include "qtest/server/migration_watch.h"
#include "qtest/server/qmp_dispatcher.h"
#include "qtest/server/run_control.h"

namespace qtpm::host {

class MigrationDestination {
 public:
  MigrationDestination(Host &host, QmpDispatcher &qmp, RunControl &run, MigrationStatus &status,
                       const unsigned &timeout_ms)
      : host_(host), qmp_(qmp), run_(run), status_(status), timeout_ms_(timeout_ms) {}
  ~MigrationDestination();
  MigrationDestination(const MigrationDestination &) = delete;
  MigrationDestination &operator=(const MigrationDestination &) = delete;

  // Starts listening or reading.  Errors are the ones QEMU gives for -incoming / migrate-incoming
  // ("Failed to bind socket to '/x': ..."); the caller locates them.
  Status start(const MigrationUri &uri, const std::string &uri_text);

 private:
  enum class Phase { kIdle, kListening, kReceiving, kDraining };

  bool on_accept();
  void on_connection();
  bool on_readable();
  void on_end_of_input();
  void load();
  void succeed(const std::string &source_run_state);
  void fail(const std::string &why);
  void send_verdict(const std::string &line);
  void arm_timeout();
  void close_connection();
  void close_listener();

  Host &host_;
  QmpDispatcher &qmp_;
  RunControl &run_;
  MigrationStatus &status_;
  const unsigned &timeout_ms_;

  Phase phase_ = Phase::kIdle;
  MigrationUri uri_;
  std::string uri_text_;
  int listen_fd_ = -1;
  int fd_ = -1;
  pid_t child_ = -1;
  MigrationStreamAssembler assembler_;
  FdWatch listen_watch_;
  FdWatch watch_;
  OneShotTimer timer_;
  ChildWatch child_watch_;
};

}  // namespace qtpm::host
