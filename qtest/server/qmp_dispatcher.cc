// SPDX-License-Identifier: GPL-2.0-or-later
//
// QMP command table, argument checks and events (see qmp_dispatcher.h).
#include "qtest/server/qmp_dispatcher.h"

#include <glib.h>

namespace qtpm::host {

void QmpDispatcher::add_command(QmpCommand command) {
  for (auto &c : commands_) {
    if (c.name == command.name) {
      c = std::move(command);
      return;
    }
  }
  commands_.push_back(std::move(command));
}

const QmpCommand *QmpDispatcher::find(const std::string &name) const {
  for (const auto &c : commands_)
    if (c.name == name) return &c;
  return nullptr;
}

std::vector<std::string> QmpDispatcher::command_names() const {
  std::vector<std::string> out;
  for (const auto &c : commands_) out.push_back(c.name);
  return out;
}

namespace {

bool type_matches(QmpArg::Type type, const json_object *v) {
  switch (type) {
    case QmpArg::Type::kString: return json_object_is_type(v, json_type_string);
    case QmpArg::Type::kBool: return json_object_is_type(v, json_type_boolean);
    case QmpArg::Type::kInt: return json_object_is_type(v, json_type_int);
    case QmpArg::Type::kAny: return true;
    case QmpArg::Type::kStringList: {
      if (!json_object_is_type(v, json_type_array)) return false;
      for (size_t i = 0; i < json_object_array_length(v); i++) {
        if (!json_object_is_type(json_object_array_get_idx(v, i), json_type_string)) return false;
      }
      return true;
    }
  }
  return false;
}

const char *type_name(QmpArg::Type type) {
  switch (type) {
    case QmpArg::Type::kString: return "string";
    case QmpArg::Type::kBool: return "boolean";
    case QmpArg::Type::kInt: return "integer";
    case QmpArg::Type::kStringList: return "array";
    case QmpArg::Type::kAny: return "any";
  }
  return "?";
}

}  // namespace

QmpResult QmpDispatcher::execute(const QmpCommand &command, json_object *args) const {
  JsonPtr empty;
  if (!args) {
    empty.reset(json_object_new_object());
    args = empty.get();
  }
  for (const QmpArg &a : command.args) {
    json_object *v = nullptr;
    if (!json_object_object_get_ex(args, a.name.c_str(), &v)) {
      if (a.required) return QmpResult::fail("Parameter '" + a.name + "' is missing");
      continue;
    }
    if (!type_matches(a.type, v)) {
      return QmpResult::fail("Invalid parameter type for '" + a.name + "', expected: " + type_name(a.type));
    }
  }
  json_object_object_foreach(args, key, value) {
    (void)value;
    bool known = false;
    for (const QmpArg &a : command.args) known = known || a.name == key;
    if (!known) return QmpResult::fail(std::string("Parameter '") + key + "' is unexpected");
  }
  return command.handler(args);
}

void QmpDispatcher::emit_event(const std::string &name, json_object *data) {
  JsonPtr owned_data(data);
  gint64 now = g_get_real_time();
  JsonPtr event(json_object_new_object());
  json_object *ts = json_object_new_object();
  json_object_object_add(ts, "seconds", json_object_new_int64(now / G_USEC_PER_SEC));
  json_object_object_add(ts, "microseconds", json_object_new_int64(now % G_USEC_PER_SEC));
  json_object_object_add(event.get(), "timestamp", ts);
  json_object_object_add(event.get(), "event", json_object_new_string(name.c_str()));
  if (owned_data) json_object_object_add(event.get(), "data", owned_data.release());
  // A listener may remove itself (a monitor whose peer went away): iterate over a copy.
  auto listeners = listeners_;
  for (auto &entry : listeners) entry.second(event.get());
}

int QmpDispatcher::add_event_listener(EventListener listener) {
  int id = next_listener_++;
  listeners_.emplace_back(id, std::move(listener));
  return id;
}

void QmpDispatcher::remove_event_listener(int id) {
  std::erase_if(listeners_, [id](const auto &entry) { return entry.first == id; });
}

void QmpDispatcher::run_deferred() {
  while (!deferred_.empty()) {
    std::function<void()> action = std::move(deferred_.front());
    deferred_.pop_front();
    action();
  }
}

}  // namespace qtpm::host
