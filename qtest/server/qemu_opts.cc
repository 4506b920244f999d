// SPDX-License-Identifier: GPL-2.0-or-later
//
// QEMU option strings and command-line value parsers (see qemu_opts.h).
#include "qtest/server/qemu_opts.h"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>

namespace qtpm::host {

namespace {

// Reads a value up to the next single ',' turning ",," into ','.  Returns the position after
// the value (at the separating ',' or the end).
size_t read_value(std::string_view text, size_t pos, std::string *value) {
  value->clear();
  while (pos < text.size()) {
    if (text[pos] == ',') {
      if (pos + 1 < text.size() && text[pos + 1] == ',') {
        value->push_back(',');
        pos += 2;
        continue;
      }
      break;
    }
    value->push_back(text[pos++]);
  }
  return pos;
}

struct Item {
  std::string name;
  std::string value;
  bool is_help = false;
};

// One "name=value", "flag" or implied item starting at `pos`; returns the position after it
// (past the separating ',').
size_t read_item(std::string_view text, size_t pos, const char *implied_name, Item *item) {
  size_t len = text.substr(pos).find_first_of("=,");
  if (len == std::string_view::npos) len = text.size() - pos;
  if (pos + len < text.size() && text[pos + len] == '=') {
    item->name = std::string(text.substr(pos, len));
    pos = read_value(text, pos + len + 1, &item->value);
  } else if (implied_name) {
    item->name = implied_name;
    pos = read_value(text, pos, &item->value);
  } else {
    // A flag: "foo" means foo=on, "nofoo" means foo=off (QEMU's short-form booleans).
    item->name = std::string(text.substr(pos, len));
    pos += len;
    if (item->name.rfind("no", 0) == 0) {
      item->name.erase(0, 2);
      item->value = "off";
    } else {
      item->value = "on";
      item->is_help = is_help_option(item->name);
    }
  }
  if (pos < text.size() && text[pos] == ',') pos++;
  return pos;
}

}  // namespace

bool is_help_option(std::string_view text) { return text == "help" || text == "?"; }

bool id_wellformed(std::string_view id) {
  if (id.empty() || !std::isalpha(static_cast<unsigned char>(id[0]))) return false;
  for (char c : id.substr(1)) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.' && c != '_') {
      return false;
    }
  }
  return true;
}

Status QemuOpts::parse(std::string_view text, const char *implied_name, QemuOpts *out) {
  *out = QemuOpts();
  size_t pos = 0;
  bool first = true;
  while (pos < text.size()) {
    Item item;
    pos = read_item(text, pos, first ? implied_name : nullptr, &item);
    first = false;
    if (item.is_help) {
      out->help_wanted_ = true;
      continue;
    }
    if (item.name == "id") {
      out->id_ = item.value;
      continue;
    }
    out->items_.emplace_back(std::move(item.name), std::move(item.value));
  }
  if (out->id_ && !id_wellformed(*out->id_)) {
    return Status::error("Parameter 'id' expects an identifier");
  }
  return Status::ok();
}

std::optional<std::string> QemuOpts::get(std::string_view name) const {
  for (auto it = items_.rbegin(); it != items_.rend(); ++it) {
    if (it->first == name) return it->second;
  }
  return std::nullopt;
}

void QemuOpts::erase(std::string_view name) {
  std::erase_if(items_, [name](const auto &item) { return item.first == name; });
}

Status QemuOpts::validate(const std::vector<std::string_view> &allowed) const {
  for (const auto &[name, value] : items_) {
    bool known = false;
    for (std::string_view a : allowed) known = known || a == name;
    if (!known) return Status::errorf("Invalid parameter '%s'", name.c_str());
  }
  return Status::ok();
}

std::optional<uint64_t> parse_size(std::string_view text, uint64_t default_unit) {
  // Digits, an optional fraction, an optional suffix; nothing else (no sign, no spaces).
  size_t i = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) i++;
  if (i == 0) return std::nullopt;
  std::string integer(text.substr(0, i));
  std::string fraction;
  if (i < text.size() && text[i] == '.') {
    size_t start = ++i;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) i++;
    fraction = std::string(text.substr(start, i - start));
    if (fraction.empty()) return std::nullopt;
  }
  uint64_t unit = default_unit;
  if (i < text.size()) {
    static constexpr std::string_view kSuffixes = "bkmgtpe";
    size_t s = kSuffixes.find(static_cast<char>(std::tolower(static_cast<unsigned char>(text[i]))));
    if (s == std::string_view::npos || i + 1 != text.size()) return std::nullopt;
    unit = uint64_t{1} << (10 * s);
  }
  // A fraction of a byte is meaningless (qemu_strtosz refuses "1.5" and "1.5B" alike).
  if (!fraction.empty() && unit == 1) return std::nullopt;
  errno = 0;
  unsigned long long whole = std::strtoull(integer.c_str(), nullptr, 10);
  if (errno == ERANGE || (unit > 1 && whole > UINT64_MAX / unit)) return std::nullopt;
  uint64_t result = whole * unit;
  if (!fraction.empty()) {
    // The fractional part adds less than one unit, so it cannot overflow unless the sum does.
    double part = std::strtod(("0." + fraction).c_str(), nullptr) * static_cast<double>(unit);
    uint64_t extra = static_cast<uint64_t>(part);
    if (result > UINT64_MAX - extra) return std::nullopt;
    result += extra;
  }
  return result;
}

}  // namespace qtpm::host
