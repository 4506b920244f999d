// SPDX-License-Identifier: GPL-2.0-or-later
//
// JSON text as QEMU's QMP writes it (qobject/qjson.c): `{"a": 1, "b": [1, 2]}` with ": " and
// ", " separators, members in insertion order, every non-ASCII or control character escaped as
// \uXXXX (invalid UTF-8 becomes \uFFFD).  Clients parse JSON, but matching the spelling keeps
// logs and golden transcripts comparable with QEMU's.
#pragma once

#include <json-c/json.h>

#include <memory>
#include <string>
#include <string_view>

namespace qtpm::host {

// `s` as a JSON string literal, quotes included.
std::string json_quote(std::string_view s);
// `value` (may be null: "null") as QEMU's compact or pretty JSON.
std::string json_write(const json_object *value, bool pretty = false);

// Owning handle for json-c objects.
struct JsonDeleter {
  void operator()(json_object *o) const { json_object_put(o); }
};
using JsonPtr = std::unique_ptr<json_object, JsonDeleter>;

}  // namespace qtpm::host
