// SPDX-License-Identifier: GPL-2.0-or-later
//
// Migration in qtpm-system (docs/migration.md): -incoming, and the QMP commands of QEMU 7.2's
// qapi/migration.json that a migration needs - migrate, migrate_cancel, migrate-incoming,
// query-migrate, migrate-set-capabilities / query-migrate-capabilities (the "events"
// capability turns the MIGRATION event on), migrate-set-parameters / query-migrate-parameters
// (qtpm's x-timeout-ms).  `cont` is wrapped so that a VM resumed after a save takes swtpm's
// storage lock back.
//
// Hooked in through register_migration_host_extension (host_extensions.h).  The state lives as
// long as the QMP dispatcher's commands: they share ownership of it, so it goes when the
// session ends, after the main loop stopped.
#include <json-c/json.h>

#include <memory>
#include <string>

#include "qtest/server/host_extensions.h"
#include "qtest/server/migration_destination.h"
#include "qtest/server/migration_machine_state.h"
#include "qtest/server/migration_source.h"

namespace qtpm::host {

namespace {

constexpr unsigned kDefaultTimeoutMs = 30000;
constexpr int64_t kMinTimeoutMs = 100;
constexpr int64_t kMaxTimeoutMs = 3600000;

// QEMU 7.2's MigrationCapability, in its order.  qtpm acts on "events"; "return-path" is what it
// always does (the destination answers); every other one can only be off.
constexpr const char *kCapabilities[] = {
    "xbzrle",          "rdma-pin-all",  "auto-converge",       "zero-blocks",
    "compress",        "events",        "postcopy-ram",        "x-colo",
    "release-ram",     "block",         "return-path",         "pause-before-switchover",
    "multifd",         "dirty-bitmaps", "postcopy-blocktime",  "late-block-activate",
    "x-ignore-shared", "validate-uuid", "background-snapshot", "zero-copy-send",
    "postcopy-preempt"};

bool capability_known(const std::string &name) {
  for (const char *c : kCapabilities)
    if (name == c) return true;
  return false;
}

class MigrationHost {
 public:
  explicit MigrationHost(HostContext &c)
      : host_(c.host),
        outgoing_(c.qmp, events_),
        incoming_(c.qmp, events_),
        source_(c.host, c.qmp, outgoing_, timeout_ms_),
        destination_(c.host, c.qmp, c.run, incoming_, timeout_ms_) {}

  // -incoming URI (not "defer"): listen or read from the start.
  std::string start_incoming(const std::string &uri) {
    if (uri == "defer") return "";
    Status st = start_destination(uri);
    return st ? "" : host_.config().error("-incoming " + uri + ": " + st.message());
  }

  QmpResult migrate(json_object *args);
  QmpResult migrate_incoming(json_object *args);
  QmpResult query_migrate();
  QmpResult set_capabilities(json_object *args);
  QmpResult query_capabilities();
  QmpResult set_parameters(json_object *args);
  QmpResult query_parameters();
  void cancel() { source_.cancel(); }
  void resumed() {
    if (host_.run_state() == RunState::kRunning) source_.vm_resumed();
  }

 private:
  Status start_destination(const std::string &uri) {
    MigrationUri parsed;
    if (Status st = parse_migration_uri(uri, &parsed); !st) return st;
    Status st = destination_.start(parsed, uri);
    if (st) incoming_started_ = true;
    return st;
  }
  bool migration_running() const { return outgoing_.running() || incoming_.running(); }

  Host &host_;
  bool events_ = false;
  unsigned timeout_ms_ = kDefaultTimeoutMs;
  MigrationStatus outgoing_;
  MigrationStatus incoming_;
  MigrationSource source_;
  MigrationDestination destination_;
  bool incoming_started_ = false;
};

bool flag(json_object *args, const char *key) {
  json_object *v = nullptr;
  return json_object_object_get_ex(args, key, &v) && json_object_get_boolean(v);
}

QmpResult MigrationHost::migrate(json_object *args) {
  // The checks and their order are QEMU 7.2's migrate_prepare() and qmp_migrate().
  if (flag(args, "resume")) return QmpResult::fail("Cannot resume if there is no paused migration");
  if (outgoing_.running()) return QmpResult::fail("There's a migration process in progress");
  RunState state = host_.run_state();
  if (state == RunState::kInmigrate)
    return QmpResult::fail("Guest is waiting for an incoming migration");
  if (state == RunState::kPostmigrate) {
    return QmpResult::fail("Can't migrate the vm that was paused due to previous migration");
  }
  if (std::string reason = migration_blocker(host_); !reason.empty())
    return QmpResult::fail(reason);
  if (flag(args, "blk") || flag(args, "inc")) {
    return QmpResult::fail("qtpm has no block devices: 'blk' and 'inc' cannot be used");
  }
  std::string uri = json_object_get_string(json_object_object_get(args, "uri"));
  if (!migration_uri_known(uri)) {
    return QmpResult::fail("Parameter 'uri' expects a valid migration protocol");
  }
  MigrationUri parsed;
  if (Status st = parse_migration_uri(uri, &parsed); !st) return QmpResult::fail(st.message());
  source_.start(parsed, uri);
  return QmpResult::ok();
}

QmpResult MigrationHost::migrate_incoming(json_object *args) {
  // QEMU 7.2's qmp_migrate_incoming, except that a failed incoming migration may be retried
  // (QEMU's destination exits instead).
  if (!host_.incoming_uri())
    return QmpResult::fail("'-incoming' was not specified on the command line");
  if (incoming_started_ && incoming_.state() != MigrationState::kFailed) {
    return QmpResult::fail("The incoming migration has already been started");
  }
  std::string uri = json_object_get_string(json_object_object_get(args, "uri"));
  if (Status st = start_destination(uri); !st) return QmpResult::fail(st.message());
  return QmpResult::ok();
}

QmpResult MigrationHost::query_migrate() {
  json_object *info = json_object_new_object();
  // As QEMU: the outgoing migration's view once there is one, else the incoming one's.
  if (outgoing_.state() != MigrationState::kNone) {
    outgoing_.fill(info);
  } else {
    incoming_.fill(info);
  }
  if (std::string reason = migration_blocker(host_); !reason.empty()) {
    json_object *list = json_object_new_array();
    json_object_array_add(list, json_object_new_string(reason.c_str()));
    json_object_object_add(info, "blocked-reasons", list);
  }
  return QmpResult::ok(info);
}

// One MigrationCapabilityStatus, {"capability": NAME, "state": BOOL}, checked as QAPI's input
// visitor would; the error text, or empty.
std::string parse_capability(json_object *item, size_t index, std::string *name, bool *on) {
  if (!json_object_is_type(item, json_type_object)) {
    return "Invalid parameter type for 'capabilities[" + std::to_string(index) +
           "]', expected: object";
  }
  json_object *cap = nullptr, *state = nullptr;
  if (!json_object_object_get_ex(item, "capability", &cap))
    return "Parameter 'capability' is missing";
  if (!json_object_object_get_ex(item, "state", &state)) return "Parameter 'state' is missing";
  if (!json_object_is_type(cap, json_type_string)) {
    return "Invalid parameter type for 'capability', expected: string";
  }
  if (!json_object_is_type(state, json_type_boolean)) {
    return "Invalid parameter type for 'state', expected: boolean";
  }
  json_object_object_foreach(item, key, value) {
    (void)value;
    std::string k = key;
    if (k != "capability" && k != "state") return "Parameter '" + k + "' is unexpected";
  }
  *name = json_object_get_string(cap);
  *on = json_object_get_boolean(state);
  if (!capability_known(*name))
    return "Parameter 'capability' does not accept value '" + *name + "'";
  if (*on && *name != "events" && *name != "return-path") {
    return "Migration capability '" + *name + "' is not supported by qtpm";
  }
  return "";
}

QmpResult MigrationHost::set_capabilities(json_object *args) {
  json_object *list = json_object_object_get(args, "capabilities");
  if (!json_object_is_type(list, json_type_array)) {
    return QmpResult::fail("Invalid parameter type for 'capabilities', expected: array");
  }
  if (migration_running()) return QmpResult::fail("There's a migration process in progress");
  // Everything is checked before anything changes.
  bool events = events_;
  for (size_t i = 0; i < json_object_array_length(list); i++) {
    std::string name;
    bool on = false;
    std::string error = parse_capability(json_object_array_get_idx(list, i), i, &name, &on);
    if (!error.empty()) return QmpResult::fail(error);
    if (name == "events") events = on;
  }
  events_ = events;
  return QmpResult::ok();
}

QmpResult MigrationHost::query_capabilities() {
  json_object *list = json_object_new_array();
  for (const char *c : kCapabilities) {
    json_object *entry = json_object_new_object();
    json_object_object_add(entry, "capability", json_object_new_string(c));
    bool on = std::string(c) == "events" ? events_ : std::string(c) == "return-path";
    json_object_object_add(entry, "state", json_object_new_boolean(on));
    json_object_array_add(list, entry);
  }
  return QmpResult::ok(list);
}

QmpResult MigrationHost::set_parameters(json_object *args) {
  json_object *v = nullptr;
  if (!json_object_object_get_ex(args, "x-timeout-ms", &v)) return QmpResult::ok();
  int64_t ms = json_object_get_int64(v);
  if (ms < kMinTimeoutMs || ms > kMaxTimeoutMs) {
    return QmpResult::fail(
        strprintf("Parameter 'x-timeout-ms' expects a value between %lld and "
                  "%lld",
                  static_cast<long long>(kMinTimeoutMs), static_cast<long long>(kMaxTimeoutMs)));
  }
  timeout_ms_ = static_cast<unsigned>(ms);
  return QmpResult::ok();
}

QmpResult MigrationHost::query_parameters() {
  json_object *p = json_object_new_object();
  json_object_object_add(p, "x-timeout-ms", json_object_new_int64(timeout_ms_));
  return QmpResult::ok(p);
}

}  // namespace

void register_migration_host_extension(HostContext &context) {
  auto m = std::make_shared<MigrationHost>(context);
  QmpDispatcher &qmp = context.qmp;
  using Arg = QmpArg;
  qmp.add_command({"migrate",
                   {{"uri", Arg::Type::kString},
                    {"blk", Arg::Type::kBool, false},
                    {"inc", Arg::Type::kBool, false},
                    {"detach", Arg::Type::kBool, false},
                    {"resume", Arg::Type::kBool, false}},
                   [m](json_object *a) { return m->migrate(a); }});
  qmp.add_command({"migrate_cancel", {}, [m](json_object *) {
                     m->cancel();
                     return QmpResult::ok();
                   }});
  qmp.add_command({"migrate-incoming", {{"uri", Arg::Type::kString}}, [m](json_object *a) {
                     return m->migrate_incoming(a);
                   }});
  qmp.add_command({"query-migrate", {}, [m](json_object *) { return m->query_migrate(); }});
  qmp.add_command({"migrate-set-capabilities",
                   {{"capabilities", Arg::Type::kAny}},
                   [m](json_object *a) { return m->set_capabilities(a); }});
  qmp.add_command(
      {"query-migrate-capabilities", {}, [m](json_object *) { return m->query_capabilities(); }});
  qmp.add_command({"migrate-set-parameters",
                   {{"x-timeout-ms", Arg::Type::kInt, false}},
                   [m](json_object *a) { return m->set_parameters(a); }});
  qmp.add_command(
      {"query-migrate-parameters", {}, [m](json_object *) { return m->query_parameters(); }});
  // `cont` as before, then the source's reaction to a VM that runs again.
  if (const QmpCommand *cont = qmp.find("cont")) {
    QmpCommand wrapped = *cont;
    auto inner = cont->handler;
    wrapped.handler = [m, inner](json_object *a) {
      QmpResult r = inner(a);
      if (!r.error) m->resumed();
      return r;
    };
    qmp.add_command(std::move(wrapped));
  }
  if (const std::optional<std::string> &uri = context.host.incoming_uri()) {
    context.startup_error = m->start_incoming(*uri);
  }
}

}  // namespace qtpm::host
