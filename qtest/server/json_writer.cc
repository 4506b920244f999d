// SPDX-License-Identifier: GPL-2.0-or-later
//
// QEMU-style JSON output (see json_writer.h).
#include "qtest/server/json_writer.h"

#include <cstdio>

namespace qtpm::host {

namespace {

// Decodes one UTF-8 sequence at s[*i]; returns the code point, or -1 for an invalid or
// overlong sequence (then *i skips one byte).
long decode_utf8(std::string_view s, size_t *i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = byte(*i);
  int len = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
  if (len == 0 || *i + len > s.size()) {
    (*i)++;
    return -1;
  }
  long cp = len == 1 ? c : c & (0x7f >> len);
  for (int k = 1; k < len; k++) {
    if ((byte(*i + k) & 0xc0) != 0x80) {
      (*i)++;
      return -1;
    }
    cp = (cp << 6) | (byte(*i + k) & 0x3f);
  }
  static constexpr long kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
    (*i)++;
    return -1;
  }
  *i += len;
  return cp;
}

void append_escaped(std::string *out, long cp) {
  // cp <= 0x10ffff (decode_utf8 rejects more), so each unit is 4 hex digits.
  char buf[32];
  if (cp > 0xffff) {
    unsigned v = static_cast<unsigned>(cp - 0x10000);
    std::snprintf(buf, sizeof buf, "\\u%04X\\u%04X", (0xd800 + (v >> 10)) & 0xffff, (0xdc00 + (v & 0x3ff)) & 0xffff);
  } else {
    std::snprintf(buf, sizeof buf, "\\u%04X", static_cast<unsigned>(cp) & 0xffff);
  }
  *out += buf;
}

void write_value(std::string *out, const json_object *v, bool pretty, int indent);

void newline(std::string *out, bool pretty, int indent) {
  if (!pretty) return;
  *out += '\n';
  out->append(static_cast<size_t>(indent) * 4, ' ');
}

void write_object(std::string *out, const json_object *v, bool pretty, int indent) {
  *out += '{';
  bool first = true;
  // json-c keeps object members in insertion order.
  json_object_object_foreach(const_cast<json_object *>(v), key, member) {
    if (!first) *out += pretty ? "," : ", ";
    first = false;
    newline(out, pretty, indent + 1);
    *out += json_quote(key);
    *out += ": ";
    write_value(out, member, pretty, indent + 1);
  }
  newline(out, pretty, indent);
  *out += '}';
}

void write_array(std::string *out, const json_object *v, bool pretty, int indent) {
  *out += '[';
  size_t n = json_object_array_length(v);
  for (size_t i = 0; i < n; i++) {
    if (i) *out += pretty ? "," : ", ";
    newline(out, pretty, indent + 1);
    write_value(out, json_object_array_get_idx(v, i), pretty, indent + 1);
  }
  newline(out, pretty, indent);
  *out += ']';
}

void write_value(std::string *out, const json_object *v, bool pretty, int indent) {
  switch (json_object_get_type(v)) {
    case json_type_null: *out += "null"; break;
    case json_type_boolean: *out += json_object_get_boolean(v) ? "true" : "false"; break;
    case json_type_string:
      *out += json_quote(std::string_view(json_object_get_string(const_cast<json_object *>(v)),
                                          json_object_get_string_len(v)));
      break;
    case json_type_object: write_object(out, v, pretty, indent); break;
    case json_type_array: write_array(out, v, pretty, indent); break;
    case json_type_int:
    case json_type_double:
      // json-c prints integers (signed or unsigned 64-bit) and doubles exactly.
      *out += json_object_to_json_string_ext(const_cast<json_object *>(v), JSON_C_TO_STRING_PLAIN);
      break;
  }
}

}  // namespace

std::string json_quote(std::string_view s) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size();) {
    long cp = decode_utf8(s, &i);
    switch (cp) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (cp < 0) {
          append_escaped(&out, 0xfffd);
        } else if (cp < 0x20 || cp >= 0x7f) {
          append_escaped(&out, cp);
        } else {
          out += static_cast<char>(cp);
        }
    }
  }
  return out + "\"";
}

std::string json_write(const json_object *value, bool pretty) {
  std::string out;
  write_value(&out, value, pretty, 0);
  return out;
}

}  // namespace qtpm::host
