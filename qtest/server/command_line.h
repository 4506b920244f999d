// SPDX-License-Identifier: GPL-2.0-or-later
//
// The qtpm-system command line: QEMU 7.2's options for this domain, parsed into a Config.
//
// Parsing has no side effects: it returns what to run, or what to print and the exit status
// (help, version, errors).  Errors are one line in QEMU's format, "PROGRAM: -OPTION ARG: text",
// with QEMU's wording where it has one.  Checks that need the object model (unknown device
// properties, realize errors) happen later, when the host creates the objects, and use the same
// format through OptionLocation.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "qtest/server/arch.h"
#include "qtest/server/qemu_opts.h"

namespace qtpm::host {

// Where an option came from, for messages: "-device tpm-tis,tpmdev=x".
struct OptionLocation {
  std::string option;  // "-device"
  std::string arg;     // "tpm-tis,tpmdev=x"; empty for options without argument
  bool has_arg = false;
  std::string text() const { return has_arg ? option + " " + arg : option; }
};

struct ChardevConfig {
  OptionLocation loc;
  std::string id;
  std::string backend;  // "socket"
  OptionList props;     // path, server, wait
};

struct TpmdevConfig {
  OptionLocation loc;
  std::string id;
  std::string type;  // "emulator"; the QOM type is "tpm-" + type
  OptionList props;  // backend options (chardev, path, cancel-path, ...)
};

// A device property value; JSON -device keeps the JSON kind for QEMU's type checks.
struct DeviceProp {
  enum class Kind { kText, kString, kBool, kNumber, kOther };
  std::string name;
  std::string value;
  Kind kind = Kind::kText;
};

struct DeviceConfig {
  OptionLocation loc;
  std::string driver;
  std::optional<std::string> id;
  std::vector<DeviceProp> props;
  bool help = false;  // "-device TYPE,help"
};

struct MonitorConfig {
  OptionLocation loc;
  std::string chardev;
  bool pretty = false;
};

struct AccelConfig {
  OptionLocation loc;
  std::string name;
  OptionList props;
};

struct Config {
  std::string program;  // basename of argv[0], the prefix of every message
  const ArchInfo *arch = nullptr;
  const MachineSpec *machine = nullptr;
  OptionLocation machine_loc;
  OptionList machine_props;  // e.g. gic-version
  std::vector<AccelConfig> accels;  // as given (-accel, or -machine accel=a:b)
  std::string accel;                // the one that works: "qtest" or "tcg"
  uint64_t ram_size = 128ull << 20;
  std::optional<std::string> qtest;  // "unix:PATH[,...]"
  OptionLocation qtest_loc;
  std::optional<std::string> qtest_log;  // unset: stderr; "none": no log
  std::vector<ChardevConfig> chardevs;
  std::vector<TpmdevConfig> tpmdevs;
  std::vector<DeviceConfig> devices;
  std::vector<MonitorConfig> monitors;
  bool start_paused = false;  // -S
  bool nodefaults = false;    // -nodefaults: the machine creates no default devices
  std::optional<std::string> incoming;
  // -dump-acpi DIR: write the TPM's ACPI tables there once the machine is built, then exit.
  std::optional<std::string> dump_acpi;
  OptionLocation dump_acpi_loc;
  std::string name;
  std::vector<std::string> trace_patterns;
  bool log_guest_errors = false;
  bool log_unimp = false;

  // "PROGRAM: LOCATION: message" (no newline).
  std::string error_at(const OptionLocation &loc, const std::string &message) const;
  std::string error(const std::string &message) const;  // "PROGRAM: message"
};

// What main does after parsing.
struct ParseResult {
  bool run = false;   // false: print and exit
  int exit_code = 0;  // when !run
  std::string out;    // for stdout
  std::string err;    // for stderr (one line for errors)
};

// Parses argv (argv[0] included).  On success with result.run, *config is complete: arch and
// machine resolved, accelerator chosen.  Warnings (an accelerator that failed before one that
// works, as QEMU prints them) are in result.err even when result.run.
ParseResult parse_command_line(const std::vector<std::string> &argv, Config *config);

}  // namespace qtpm::host
