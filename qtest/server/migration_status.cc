// SPDX-License-Identifier: GPL-2.0-or-later
//
// Migration status for query-migrate and MIGRATION events (see migration_status.h).
#include "qtest/server/migration_status.h"

#include <glib.h>

namespace qtpm::host {

namespace {

// QEMU's default downtime limit (ms), which it reports as the expected downtime until it has
// measured the link; qtpm never measures, the device state is tiny.
constexpr int64_t kExpectedDowntimeMs = 300;
constexpr int64_t kPageSize = 4096;

int64_t now_us() { return g_get_monotonic_time(); }

void add_int(json_object *o, const char *key, int64_t v) {
  json_object_object_add(o, key, json_object_new_int64(v));
}

json_object *address_json(const ListenAddress &a) {
  json_object *o = json_object_new_object();
  json_object_object_add(o, "type", json_object_new_string(a.type.c_str()));
  if (a.type == "unix") {
    json_object_object_add(o, "path", json_object_new_string(a.path.c_str()));
  } else {
    json_object_object_add(o, "host", json_object_new_string(a.host.c_str()));
    json_object_object_add(o, "port", json_object_new_string(a.port.c_str()));
  }
  return o;
}

}  // namespace

const char *migration_state_name(MigrationState s) {
  switch (s) {
    case MigrationState::kNone:
      return "none";
    case MigrationState::kSetup:
      return "setup";
    case MigrationState::kActive:
      return "active";
    case MigrationState::kCancelling:
      return "cancelling";
    case MigrationState::kCancelled:
      return "cancelled";
    case MigrationState::kCompleted:
      return "completed";
    case MigrationState::kFailed:
      return "failed";
  }
  return "none";
}

void MigrationStatus::begin() {
  error_.clear();
  start_us_ = now_us();
  active_us_ = downtime_start_us_ = end_us_ = 0;
  transferred_ = total_ = 0;
  set(MigrationState::kSetup);
}

void MigrationStatus::set(MigrationState state) {
  if (state == state_) return;
  state_ = state;
  if (finished()) end_us_ = now_us();
  if (!events_) return;
  json_object *data = json_object_new_object();
  json_object_object_add(data, "status", json_object_new_string(migration_state_name(state)));
  qmp_.emit_event("MIGRATION", data);
}

void MigrationStatus::fail(const std::string &why) {
  error_ = why;
  set(MigrationState::kFailed);
}

void MigrationStatus::mark_active() {
  active_us_ = now_us();
  set(MigrationState::kActive);
}

void MigrationStatus::mark_downtime_start() { downtime_start_us_ = now_us(); }

json_object *MigrationStatus::ram_info() const {
  json_object *ram = json_object_new_object();
  int64_t elapsed_us = (end_us_ ? end_us_ : now_us()) - (active_us_ ? active_us_ : start_us_);
  double mbps = elapsed_us > 0 ? transferred_ * 8.0 / static_cast<double>(elapsed_us) : 0;
  add_int(ram, "transferred", static_cast<int64_t>(transferred_));
  add_int(ram, "remaining", static_cast<int64_t>(total_ - std::min(total_, transferred_)));
  add_int(ram, "total", static_cast<int64_t>(total_));
  for (const char *zero : {"duplicate", "skipped", "normal", "normal-bytes", "dirty-pages-rate"}) {
    add_int(ram, zero, 0);
  }
  json_object_object_add(ram, "mbps", json_object_new_double(mbps));
  add_int(ram, "dirty-sync-count", state_ == MigrationState::kCompleted ? 1 : 0);
  add_int(ram, "postcopy-requests", 0);
  add_int(ram, "page-size", kPageSize);
  add_int(ram, "multifd-bytes", 0);
  add_int(ram, "pages-per-second", 0);
  add_int(ram, "precopy-bytes", 0);
  add_int(ram, "downtime-bytes", static_cast<int64_t>(transferred_));
  add_int(ram, "postcopy-bytes", 0);
  add_int(ram, "dirty-sync-missed-zero-copy", 0);
  return ram;
}

void MigrationStatus::fill(json_object *info) const {
  if (address_) {
    json_object *list = json_object_new_array();
    json_object_array_add(list, address_json(*address_));
    json_object_object_add(info, "socket-address", list);
  }
  if (state_ == MigrationState::kNone) return;
  json_object_object_add(info, "status", json_object_new_string(migration_state_name(state_)));
  int64_t now = end_us_ ? end_us_ : now_us();
  bool timed = state_ == MigrationState::kActive || state_ == MigrationState::kCompleted;
  if (timed) {
    add_int(info, "total-time", (now - start_us_) / 1000);
    if (state_ == MigrationState::kActive) add_int(info, "expected-downtime", kExpectedDowntimeMs);
    if (state_ == MigrationState::kCompleted && downtime_start_us_) {
      add_int(info, "downtime", (end_us_ - downtime_start_us_) / 1000);
    }
    if (active_us_) add_int(info, "setup-time", (active_us_ - start_us_) / 1000);
    json_object_object_add(info, "ram", ram_info());
  }
  if (state_ == MigrationState::kFailed && !error_.empty()) {
    json_object_object_add(info, "error-desc", json_object_new_string(error_.c_str()));
  }
}

}  // namespace qtpm::host
