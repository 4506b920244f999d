// SPDX-License-Identifier: GPL-2.0-or-later
//
// QMP commands and events, shared by all monitors (QEMU 7.2 qapi/qmp-dispatch.c and the
// generated marshallers' argument checks).
//
// A command declares its arguments; the dispatcher checks them as QAPI's input visitor does
// ("Parameter 'path' is missing", "Parameter 'foo' is unexpected", "Invalid parameter type for
// 'path', expected: string") before the handler runs, so handlers only see well-typed input.
// Modules add commands (migrate, query-migrate, ...) with add_command() and emit events with
// emit_event(); actions that must follow the reply (quit, system_reset) go through defer().
#pragma once

#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "qtest/server/json_writer.h"

namespace qtpm::host {

struct QmpError {
  std::string error_class;  // "GenericError", "CommandNotFound", "DeviceNotFound"
  std::string desc;
};

// A command's outcome: a return value (null means {}) or an error.
struct QmpResult {
  JsonPtr value;
  std::optional<QmpError> error;

  static QmpResult ok(json_object *value = nullptr) { return QmpResult{JsonPtr(value), std::nullopt}; }
  static QmpResult fail(std::string desc, std::string error_class = "GenericError") {
    return QmpResult{nullptr, QmpError{std::move(error_class), std::move(desc)}};
  }
};

struct QmpArg {
  enum class Type { kString, kBool, kInt, kStringList, kAny };
  std::string name;
  Type type = Type::kString;
  bool required = true;
};

struct QmpCommand {
  std::string name;
  std::vector<QmpArg> args;
  // `args` is the checked "arguments" object (never null).
  std::function<QmpResult(json_object *args)> handler;
  bool allow_oob = false;
};

class QmpDispatcher {
 public:
  using EventListener = std::function<void(const json_object *event)>;

  // Adds (or replaces) a command; query-commands lists them in the order first added.
  void add_command(QmpCommand command);
  const QmpCommand *find(const std::string &name) const;
  std::vector<std::string> command_names() const;

  // Checks `args` (may be null) against the command's declaration and runs it.
  QmpResult execute(const QmpCommand &command, json_object *args) const;

  // Events: {"timestamp": {"seconds": S, "microseconds": U}, "event": NAME[, "data": DATA]}
  // to every listener (the monitors, which forward once negotiated).  Takes `data` (may be null).
  void emit_event(const std::string &name, json_object *data = nullptr);
  int add_event_listener(EventListener listener);
  void remove_event_listener(int id);

  // Queues an action to run after the current reply is sent; run_deferred() runs them.
  void defer(std::function<void()> action) { deferred_.push_back(std::move(action)); }
  void run_deferred();

 private:
  std::vector<QmpCommand> commands_;
  std::vector<std::pair<int, EventListener>> listeners_;
  int next_listener_ = 1;
  std::deque<std::function<void()>> deferred_;
};

}  // namespace qtpm::host
