// SPDX-License-Identifier: GPL-2.0-or-later
//
// QEMU's option-string syntax ("QemuOpts", QEMU 7.2 util/qemu-option.c behaviour):
//
//   -device tpm-tis,tpmdev=tpm0,id=tis     key=value pairs separated by ','
//   path=/tmp/a,,b                          ",," stands for a literal ','
//   tpm-tis,...                             a first item without '=' is the "implied" option
//                                           (driver for -device, type for -tpmdev, ...)
//   server,nowait                           a later item without '=' is a flag: "server" means
//                                           server=on, "nowait" means wait=off
//   ...,help  /  ...,?                      asks for help on the option
//
// Also the value parsers QEMU uses on the command line: sizes with k/M/G/T/P/E suffixes and
// identifiers ("id=" values).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "qom/status.h"

namespace qtpm::host {

// name=value pairs in the order given.
using OptionList = std::vector<std::pair<std::string, std::string>>;

class QemuOpts {
 public:
  // Parses `text`.  `implied_name` (may be null) names a first item given without '='.  Fails
  // with QEMU's message ("Parameter 'id' expects an identifier", ...).
  static Status parse(std::string_view text, const char *implied_name, QemuOpts *out);

  // The value of the last `name=` (QEMU's lookup order), or nullopt.
  std::optional<std::string> get(std::string_view name) const;
  bool has(std::string_view name) const { return get(name).has_value(); }
  // All options except "id", in the order given.
  const std::vector<std::pair<std::string, std::string>> &items() const { return items_; }
  // The "id=" value, if any (QEMU keeps it apart from the other options).
  const std::optional<std::string> &id() const { return id_; }
  // True when "help" or "?" appeared as a flag ("tpm-tis,help").
  bool help_wanted() const { return help_wanted_; }

  // Removes every `name=` item.
  void erase(std::string_view name);
  // Rejects any option not in `allowed` with "Invalid parameter 'NAME'".
  Status validate(const std::vector<std::string_view> &allowed) const;

 private:
  std::vector<std::pair<std::string, std::string>> items_;
  std::optional<std::string> id_;
  bool help_wanted_ = false;
};

// "help" or "?", as QEMU's is_help_option().
bool is_help_option(std::string_view text);

// QEMU's id_wellformed(): a letter, then letters, digits, '-', '.', '_'.
bool id_wellformed(std::string_view id);

// Parses a size as qemu_strtosz() does: a decimal number (a fraction is allowed with a suffix),
// then an optional suffix B, K, M, G, T, P or E (either case).  `default_unit` multiplies a
// number without suffix (1 for bytes; -m uses MiB).  nullopt on syntax error or overflow.
std::optional<uint64_t> parse_size(std::string_view text, uint64_t default_unit);

}  // namespace qtpm::host
