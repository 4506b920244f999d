// SPDX-License-Identifier: GPL-2.0-or-later
//
// One QMP monitor connection (QEMU 7.2 monitor/qmp.c): the greeting, capabilities negotiation,
// a streaming JSON parser and replies.
//
//  - The greeting is {"QMP": {"version": {...}, "capabilities": ["oob"]}}.
//  - Until "qmp_capabilities" succeeds, any other command gets CommandNotFound "Expecting
//    capabilities negotiation with 'qmp_capabilities'" and no events are sent.
//  - Requests are JSON objects; "id" (any JSON value) is echoed in the reply.
//  - Every reply or event is one line ending in "\r\n" (QEMU's monitor output turns "\n" into
//    "\r\n").
//
// Untrusted input: any byte sequence gets an error reply or is dropped, never a crash or a
// hang.  A syntax error gets {"error": {"class": "GenericError", "desc": "JSON parse error,
// ..."}} and the parser resynchronises at the next newline; a value still incomplete after
// kMaxPending bytes is refused the same way; nesting is bounded by json-c's depth limit.
#pragma once

#include <json-c/json.h>

#include <functional>
#include <string>
#include <string_view>

#include "qtest/server/qmp_dispatcher.h"

namespace qtpm::host {

class QmpMonitor {
 public:
  static constexpr size_t kMaxPending = 1u << 20;
  static constexpr int kMaxDepth = 64;

  using Sender = std::function<void(std::string_view)>;

  QmpMonitor(QmpDispatcher &dispatcher, bool pretty);
  ~QmpMonitor();
  QmpMonitor(const QmpMonitor &) = delete;
  QmpMonitor &operator=(const QmpMonitor &) = delete;

  void set_sender(Sender sender) { sender_ = std::move(sender); }
  // A new connection: resets negotiation and sends the greeting.
  void start();
  void feed(std::string_view bytes);
  bool negotiated() const { return negotiated_; }

 private:
  void handle(json_object *request);
  QmpResult dispatch(json_object *request);
  QmpResult negotiate(json_object *args);
  void send_json(const json_object *message);
  void send_reply(QmpResult result, json_object *id);
  void parse_error(const std::string &what);

  QmpDispatcher &dispatcher_;
  bool pretty_;
  Sender sender_;
  json_tokener *tok_;
  size_t pending_ = 0;  // bytes of the value being parsed
  bool skip_to_newline_ = false;
  bool negotiated_ = false;
  bool oob_enabled_ = false;
  int listener_ = 0;
};

// The value of query-version, also used in the greeting.
json_object *qmp_version_info();

}  // namespace qtpm::host
