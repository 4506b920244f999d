// SPDX-License-Identifier: GPL-2.0-or-later
//
// A QMP monitor connection (see qmp_monitor.h).
#include "qtest/server/qmp_monitor.h"

#include <cstring>

#include "qom/trace.h"

namespace qtpm::host {

json_object *qmp_version_info() {
  // QEMU's QMP prints the version triple in this member order.
  json_object *qemu = json_object_new_object();
  json_object_object_add(qemu, "micro", json_object_new_int(0));
  json_object_object_add(qemu, "minor", json_object_new_int(2));
  json_object_object_add(qemu, "major", json_object_new_int(7));
  json_object *info = json_object_new_object();
  json_object_object_add(info, "qemu", qemu);
  json_object_object_add(info, "package", json_object_new_string("qtpm " QTPM_VERSION));
  return info;
}

QmpMonitor::QmpMonitor(QmpDispatcher &dispatcher, bool pretty)
    : dispatcher_(dispatcher), pretty_(pretty), tok_(json_tokener_new_ex(kMaxDepth)) {
  listener_ = dispatcher_.add_event_listener([this](const json_object *event) {
    if (negotiated_) send_json(event);
  });
}

QmpMonitor::~QmpMonitor() {
  dispatcher_.remove_event_listener(listener_);
  json_tokener_free(tok_);
}

void QmpMonitor::send_json(const json_object *message) {
  if (sender_) sender_(json_write(message, pretty_) + "\r\n");
}

void QmpMonitor::start() {
  negotiated_ = false;
  oob_enabled_ = false;
  pending_ = 0;
  skip_to_newline_ = false;
  json_tokener_reset(tok_);
  JsonPtr caps(json_object_new_array());
  json_object_array_add(caps.get(), json_object_new_string("oob"));
  JsonPtr body(json_object_new_object());
  json_object_object_add(body.get(), "version", qmp_version_info());
  json_object_object_add(body.get(), "capabilities", caps.release());
  JsonPtr greeting(json_object_new_object());
  json_object_object_add(greeting.get(), "QMP", body.release());
  send_json(greeting.get());
}

void QmpMonitor::parse_error(const std::string &what) {
  JsonPtr err(json_object_new_object());
  json_object_object_add(err.get(), "class", json_object_new_string("GenericError"));
  json_object_object_add(err.get(), "desc", json_object_new_string(("JSON parse error, " + what).c_str()));
  JsonPtr reply(json_object_new_object());
  json_object_object_add(reply.get(), "error", err.release());
  send_json(reply.get());
  // Resynchronise: drop the rest of the line.
  json_tokener_reset(tok_);
  pending_ = 0;
  skip_to_newline_ = true;
}

void QmpMonitor::feed(std::string_view bytes) {
  while (!bytes.empty()) {
    if (skip_to_newline_) {
      size_t nl = bytes.find('\n');
      if (nl == std::string_view::npos) return;
      bytes.remove_prefix(nl + 1);
      skip_to_newline_ = false;
      continue;
    }
    if (pending_ == 0) {
      // Whitespace between requests is not part of any value (and must not count as one).
      size_t start = bytes.find_first_not_of(" \t\r\n");
      if (start == std::string_view::npos) return;
      bytes.remove_prefix(start);
    }
    // Never hand json-c more than the pending budget allows, so one huge chunk cannot make it
    // buffer more than kMaxPending bytes.
    size_t chunk = std::min(bytes.size(), kMaxPending + 1 - pending_);
    json_object *obj = json_tokener_parse_ex(tok_, bytes.data(), static_cast<int>(chunk));
    json_tokener_error err = json_tokener_get_error(tok_);
    if (err == json_tokener_continue) {
      pending_ += chunk;
      bytes.remove_prefix(chunk);
      if (pending_ > kMaxPending) parse_error("input too long");
      continue;
    }
    if (err != json_tokener_success) {
      size_t end = json_tokener_get_parse_end(tok_);
      bytes.remove_prefix(std::min(end, chunk));
      parse_error(json_tokener_error_desc(err));
      continue;
    }
    size_t used = json_tokener_get_parse_end(tok_);
    bytes.remove_prefix(std::min(used, chunk));
    json_tokener_reset(tok_);
    pending_ = 0;
    JsonPtr request(obj);
    handle(request.get());
  }
}

void QmpMonitor::send_reply(QmpResult result, json_object *id) {
  JsonPtr reply(json_object_new_object());
  if (result.error) {
    json_object *err = json_object_new_object();
    json_object_object_add(err, "class", json_object_new_string(result.error->error_class.c_str()));
    json_object_object_add(err, "desc", json_object_new_string(result.error->desc.c_str()));
    json_object_object_add(reply.get(), "error", err);
  } else {
    json_object *value = result.value ? result.value.release() : json_object_new_object();
    json_object_object_add(reply.get(), "return", value);
  }
  if (id) json_object_object_add(reply.get(), "id", json_object_get(id));
  send_json(reply.get());
}

QmpResult QmpMonitor::negotiate(json_object *args) {
  json_object *enable = nullptr;
  bool oob = false;
  if (json_object_object_get_ex(args, "enable", &enable)) {
    for (size_t i = 0; i < json_object_array_length(enable); i++) {
      std::string cap = json_object_get_string(json_object_array_get_idx(enable, i));
      if (cap != "oob") return QmpResult::fail("Parameter 'enable' does not accept value '" + cap + "'");
      oob = true;
    }
  }
  negotiated_ = true;
  oob_enabled_ = oob;
  return QmpResult::ok();
}

QmpResult QmpMonitor::dispatch(json_object *request) {
  // The checks and messages of QEMU's qmp_dispatch_check_obj().
  if (!json_object_is_type(request, json_type_object)) return QmpResult::fail("QMP input must be a JSON object");
  const char *exec_key = nullptr;
  json_object *args = nullptr;
  json_object_object_foreach(request, key, value) {
    bool is_exec = std::strcmp(key, "execute") == 0 || (oob_enabled_ && std::strcmp(key, "exec-oob") == 0);
    if (is_exec) {
      if (!json_object_is_type(value, json_type_string)) {
        return QmpResult::fail(std::string("QMP input member '") + key + "' must be a string");
      }
      if (exec_key) {
        return QmpResult::fail(std::string("QMP input member '") + key + "' clashes with '" + exec_key + "'");
      }
      exec_key = key;
    } else if (std::strcmp(key, "arguments") == 0) {
      if (!json_object_is_type(value, json_type_object)) {
        return QmpResult::fail("QMP input member 'arguments' must be an object");
      }
      args = value;
    } else if (std::strcmp(key, "id") != 0) {
      return QmpResult::fail(std::string("QMP input member '") + key + "' is unexpected");
    }
  }
  if (!exec_key) return QmpResult::fail("QMP input lacks member 'execute'");
  json_object *name_obj = json_object_object_get(request, exec_key);
  std::string name(json_object_get_string(name_obj), json_object_get_string_len(name_obj));
  QTPM_TRACE("qmp_command", "%s", name.c_str());
  const QmpCommand *cmd = dispatcher_.find(name);
  if (!negotiated_) {
    // Capabilities negotiation mode: qmp_capabilities is the only command.
    if (name != "qmp_capabilities") {
      return QmpResult::fail("Expecting capabilities negotiation with 'qmp_capabilities'", "CommandNotFound");
    }
    QmpCommand caps{"qmp_capabilities",
                    {{"enable", QmpArg::Type::kStringList, false}},
                    [this](json_object *a) { return negotiate(a); }};
    return dispatcher_.execute(caps, args);
  }
  if (!cmd) return QmpResult::fail("The command " + name + " has not been found", "CommandNotFound");
  if (std::strcmp(exec_key, "exec-oob") == 0 && !cmd->allow_oob) {
    return QmpResult::fail("The command " + name + " does not support OOB");
  }
  return dispatcher_.execute(*cmd, args);
}

void QmpMonitor::handle(json_object *request) {
  json_object *id = nullptr;
  if (json_object_is_type(request, json_type_object)) json_object_object_get_ex(request, "id", &id);
  send_reply(dispatch(request), id);
  dispatcher_.run_deferred();
}

}  // namespace qtpm::host
