// SPDX-License-Identifier: GPL-2.0-or-later
//
// The state of one migration, outgoing or incoming, as QMP shows it: query-migrate's
// MigrationInfo (QEMU 7.2 qapi/migration.json, migration.c fill_source_migration_info /
// fill_destination_migration_info) and the MIGRATION event, sent on every status change when
// the "events" capability is on (migrate_generate_event).
//
// Shapes:
//   no migration yet            {}  (plus "blocked-reasons" when something blocks migration)
//   setup                       {"status": "setup"}
//   active                      {"status": "active", "total-time", "expected-downtime",
//                                "setup-time", "ram": {...}}
//   completed                   {"status": "completed", "total-time", "downtime",
//                                "setup-time", "ram": {...}}
//   failed                      {"status": "failed", "error-desc": "..."}
//   cancelling / cancelled      {"status": ...}
// A destination also lists the addresses it listens on ("socket-address").  "ram" counts the
// bytes of the qtpm stream (qtpm moves device state, not guest RAM).
#pragma once

#include <json-c/json.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "qtest/server/migration_transport.h"
#include "qtest/server/qmp_dispatcher.h"

namespace qtpm::host {

enum class MigrationState { kNone, kSetup, kActive, kCancelling, kCancelled, kCompleted, kFailed };

const char *migration_state_name(MigrationState s);  // QAPI MigrationStatus names

class MigrationStatus {
 public:
  // `events`: the capability flag, owned by the caller (shared by both directions).
  MigrationStatus(QmpDispatcher &qmp, const bool &events) : qmp_(qmp), events_(events) {}

  MigrationState state() const { return state_; }
  bool running() const {
    return state_ == MigrationState::kSetup || state_ == MigrationState::kActive ||
           state_ == MigrationState::kCancelling;
  }
  bool finished() const {
    return state_ == MigrationState::kCompleted || state_ == MigrationState::kFailed ||
           state_ == MigrationState::kCancelled;
  }

  // A new migration: status "setup", counters cleared.
  void begin();
  void set(MigrationState state);
  void fail(const std::string &why);
  const std::string &error() const { return error_; }

  // Progress and times (monotonic microseconds; set by the owner as the migration proceeds).
  void mark_active();
  void mark_downtime_start();
  void set_bytes(uint64_t transferred, uint64_t total) {
    transferred_ = transferred;
    total_ = total;
  }
  void set_listen_address(std::optional<ListenAddress> address) { address_ = std::move(address); }

  // Fills a query-migrate MigrationInfo object with this migration's members.
  void fill(json_object *info) const;

 private:
  json_object *ram_info() const;

  QmpDispatcher &qmp_;
  const bool &events_;
  MigrationState state_ = MigrationState::kNone;
  std::string error_;
  int64_t start_us_ = 0, active_us_ = 0, downtime_start_us_ = 0, end_us_ = 0;
  uint64_t transferred_ = 0, total_ = 0;
  std::optional<ListenAddress> address_;
};

}  // namespace qtpm::host
