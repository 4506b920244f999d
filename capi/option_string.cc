// SPDX-License-Identifier: GPL-2.0-or-later
//
// QEMU-style option strings (see option_string.h).
#include "capi/option_string.h"

namespace qtpm::capi {

namespace {

// Reads up to the next separator into *out.  Keys end at '=' or ','; values end at a single ','
// (a doubled ",," is a literal comma, which is how QEMU lets a path contain one).
size_t read_token(std::string_view text, size_t pos, bool is_key, std::string *out) {
  out->clear();
  while (pos < text.size()) {
    char c = text[pos];
    if (is_key && c == '=') break;
    if (c == ',') {
      if (!is_key && pos + 1 < text.size() && text[pos + 1] == ',') {
        out->push_back(',');
        pos += 2;
        continue;
      }
      break;
    }
    out->push_back(c);
    pos++;
  }
  return pos;
}

}  // namespace

Status parse_option_string(std::string_view text, OptionList *out) {
  OptionList result;
  size_t pos = 0;
  while (pos < text.size()) {
    std::string key, value = "on";
    pos = read_token(text, pos, true, &key);
    if (pos < text.size() && text[pos] == '=') pos = read_token(text, pos + 1, false, &value);
    if (key.empty()) {
      return Status::errorf("Invalid option string '%.*s': empty parameter name",
                            static_cast<int>(text.size()), text.data());
    }
    for (const auto &kv : result) {
      if (kv.first == key) return Status::errorf("Duplicate option '%s'", key.c_str());
    }
    result.emplace_back(std::move(key), std::move(value));
    if (pos < text.size()) pos++;  // the ',' separator
  }
  *out = std::move(result);
  return Status::ok();
}

}  // namespace qtpm::capi
