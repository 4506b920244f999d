// SPDX-License-Identifier: GPL-2.0-or-later
//
// Built-in QMP commands (see qmp_commands.h).
#include "qtest/server/qmp_commands.h"

#include "qtest/server/qmp_monitor.h"
#include "qtest/server/type_catalog.h"

namespace qtpm::host {

namespace {

using Arg = QmpArg;

QmpResult query_status(Host &host) {
  json_object *info = json_object_new_object();
  json_object_object_add(info, "status", json_object_new_string(run_state_name(host.run_state())));
  json_object_object_add(info, "singlestep", json_object_new_boolean(false));
  json_object_object_add(info, "running", json_object_new_boolean(host.run_state() == RunState::kRunning));
  return QmpResult::ok(info);
}

QmpResult query_commands(const QmpDispatcher &qmp) {
  json_object *list = json_object_new_array();
  for (const std::string &name : qmp.command_names()) {
    json_object *entry = json_object_new_object();
    json_object_object_add(entry, "name", json_object_new_string(name.c_str()));
    json_object_array_add(list, entry);
  }
  return QmpResult::ok(list);
}

json_object *tpm_info(TpmBackend &backend) {
  json_object *data = json_object_new_object();
  for (const auto &[key, value] : backend.tpm_options()) {
    json_object_object_add(data, key.c_str(), json_object_new_string(value.c_str()));
  }
  json_object *options = json_object_new_object();
  json_object_object_add(options, "type", json_object_new_string(backend.tpm_type().c_str()));
  json_object_object_add(options, "data", data);
  json_object *info = json_object_new_object();
  json_object_object_add(info, "id", json_object_new_string(backend.id().c_str()));
  json_object_object_add(info, "model", json_object_new_string(backend.frontend()->tpm_model()));
  json_object_object_add(info, "options", options);
  return info;
}

QmpResult query_tpm(Host &host) {
  json_object *list = json_object_new_array();
  // As QEMU: only backends a frontend is bound to.
  for (TpmBackend *b : host.backends())
    if (b->frontend()) json_object_array_add(list, tpm_info(*b));
  return QmpResult::ok(list);
}

QmpResult query_tpm_models(Host &host) {
  json_object *list = json_object_new_array();
  for (const TypeInfo *t : tpm_frontend_types(*host.config().arch)) {
    json_object_array_add(list, json_object_new_string(tpm_frontend_model(*t).c_str()));
  }
  return QmpResult::ok(list);
}

QmpResult query_tpm_types() {
  json_object *list = json_object_new_array();
  for (const std::string &t : tpm_backend_types()) json_object_array_add(list, json_object_new_string(t.c_str()));
  return QmpResult::ok(list);
}

// object_resolve_path with QEMU's qom-* error messages.
Object *resolve(Host &host, json_object *args, QmpResult *error) {
  std::string path = json_object_get_string(json_object_object_get(args, "path"));
  bool ambiguous = false;
  Object *o = object_resolve_path(host.root(), path, &ambiguous);
  if (!o) {
    *error = ambiguous ? QmpResult::fail("Path '" + path + "' is ambiguous")
                       : QmpResult::fail("Device '" + path + "' not found", "DeviceNotFound");
  }
  return o;
}

json_object *prop_entry(const std::string &name, const std::string &type) {
  json_object *e = json_object_new_object();
  json_object_object_add(e, "name", json_object_new_string(name.c_str()));
  json_object_object_add(e, "type", json_object_new_string(type.c_str()));
  return e;
}

QmpResult qom_list(Host &host, json_object *args) {
  QmpResult err;
  Object *o = resolve(host, args, &err);
  if (!o) return err;
  json_object *list = json_object_new_array();
  json_object_array_add(list, prop_entry("type", "string"));
  for (const auto &[name, child] : o->children()) {
    json_object_array_add(list, prop_entry(name, "child<" + child->type_name() + ">"));
  }
  for (const auto &[name, target] : o->links()) {
    json_object_array_add(list, prop_entry(name, "link<" + (target ? target->type_name() : std::string("object")) + ">"));
  }
  for (const Property &p : o->properties()) json_object_array_add(list, prop_entry(p.name, p.type));
  return QmpResult::ok(list);
}

json_object *property_json(const Property &p) {
  std::string text = p.get ? p.get() : "";
  if (p.json_kind == "bool") {
    std::optional<bool> b = parse_bool(text);
    if (b) return json_object_new_boolean(*b);
  } else if (p.json_kind == "number") {
    if (std::optional<uint64_t> u = parse_uint(text)) return json_object_new_uint64(*u);
    if (std::optional<int64_t> i = parse_int(text)) return json_object_new_int64(*i);
  }
  return json_object_new_string(text.c_str());
}

QmpResult qom_get(Host &host, json_object *args) {
  QmpResult err;
  Object *o = resolve(host, args, &err);
  if (!o) return err;
  std::string name = json_object_get_string(json_object_object_get(args, "property"));
  if (name == "type") return QmpResult::ok(json_object_new_string(o->type_name().c_str()));
  if (auto it = o->children().find(name); it != o->children().end()) {
    return QmpResult::ok(json_object_new_string(it->second->canonical_path().c_str()));
  }
  if (auto it = o->links().find(name); it != o->links().end()) {
    return QmpResult::ok(json_object_new_string(it->second ? it->second->canonical_path().c_str() : ""));
  }
  if (const Property *p = o->find_property(name)) return QmpResult::ok(property_json(*p));
  return QmpResult::fail("Property '" + o->type_name() + "." + name + "' not found");
}

void add(QmpDispatcher &qmp, const char *name, std::vector<QmpArg> args,
         std::function<QmpResult(json_object *)> fn) {
  qmp.add_command(QmpCommand{name, std::move(args), std::move(fn)});
}

}  // namespace

void register_builtin_commands(QmpDispatcher &qmp, Host &host, RunControl &run) {
  // Reached only after negotiation (the monitor handles it before).
  add(qmp, "qmp_capabilities", {{"enable", Arg::Type::kStringList, false}}, [](json_object *) {
    return QmpResult::fail("Capabilities negotiation is already complete, command ignored", "CommandNotFound");
  });
  add(qmp, "query-status", {}, [&host](json_object *) { return query_status(host); });
  add(qmp, "query-version", {}, [](json_object *) { return QmpResult::ok(qmp_version_info()); });
  add(qmp, "query-commands", {}, [&qmp](json_object *) { return query_commands(qmp); });
  add(qmp, "quit", {}, [&qmp, &run](json_object *) {
    qmp.defer([&run] { run.shutdown("host-qmp-quit"); });
    return QmpResult::ok();
  });
  add(qmp, "system_reset", {}, [&qmp, &run](json_object *) {
    qmp.defer([&run] { run.system_reset("host-qmp-system-reset"); });
    return QmpResult::ok();
  });
  add(qmp, "stop", {}, [&run](json_object *) {
    run.stop();
    return QmpResult::ok();
  });
  add(qmp, "cont", {}, [&run](json_object *) {
    std::string err = run.cont();
    return err.empty() ? QmpResult::ok() : QmpResult::fail(err);
  });
  add(qmp, "query-tpm", {}, [&host](json_object *) { return query_tpm(host); });
  add(qmp, "query-tpm-models", {}, [&host](json_object *) { return query_tpm_models(host); });
  add(qmp, "query-tpm-types", {}, [](json_object *) { return query_tpm_types(); });
  add(qmp, "qom-list", {{"path", Arg::Type::kString}}, [&host](json_object *a) { return qom_list(host, a); });
  add(qmp, "qom-get", {{"path", Arg::Type::kString}, {"property", Arg::Type::kString}},
      [&host](json_object *a) { return qom_get(host, a); });
}

}  // namespace qtpm::host
