// SPDX-License-Identifier: GPL-2.0-or-later
//
// Help texts (see help.h).
#include "qtest/server/help.h"

#include <algorithm>
#include <memory>
#include <vector>

#include "qom/object.h"
#include "qtest/server/json_writer.h"
#include "qtest/server/type_catalog.h"

namespace qtpm::host {

std::string help_device_list(const ArchInfo &arch) {
  // QEMU groups devices by category; every TPM device is in "Misc".  Devices the user cannot
  // create are left out, as `-device help` does.
  std::string out;
  for (const TypeInfo *t : device_types(arch)) {
    if (!t->user_creatable) continue;
    if (out.empty()) out = "Misc devices:\n";
    out += "name \"" + t->name + "\"";
    std::string_view bus = bus_display_name(t->bus);
    if (!bus.empty()) out += ", bus " + std::string(bus);
    if (!t->description.empty()) out += ", desc \"" + t->description + "\"";
    out += "\n";
  }
  return out;
}

std::string property_help_line(const std::string &name, const std::string &type,
                               const std::string &description, const std::string &default_json) {
  std::string line = "  " + name + "=<" + type + ">";
  if (!description.empty() || !default_json.empty()) {
    if (line.size() < 24) line.append(24 - line.size(), ' ');
    line += " - ";
  }
  line += description;
  if (!default_json.empty()) line += " (default: " + default_json + ")";
  return line;
}

namespace {

// A property's default as QEMU prints it: JSON of the default value; nothing for a string
// property without a default.
std::string default_as_json(const Property &p) {
  if (p.json_kind == "string") {
    return p.default_value.empty() ? std::string() : json_quote(p.default_value);
  }
  return p.default_value;
}

}  // namespace

Status help_device_properties(const ArchInfo &arch, std::string_view driver, std::string *out) {
  const TypeInfo *t = type_find(driver);
  if (!t || (type_is_a(t->name, "device") && !t->abstract && !device_type_on_arch(*t, arch))) {
    return Status::errorf("Device '%.*s' not found", static_cast<int>(driver.size()),
                          driver.data());
  }
  if (!type_is_a(t->name, "device") || t->abstract) {
    return Status::error("Parameter 'typename' expects a non-abstract device type");
  }
  std::unique_ptr<Object> o = object_new(t->name);
  std::vector<std::string> lines;
  for (const Property &p : o->properties()) {
    lines.push_back(property_help_line(p.name, p.type, p.description, default_as_json(p)));
  }
  std::sort(lines.begin(), lines.end());
  if (lines.empty()) {
    *out = "There are no options for " + t->name + ".\n";
    return Status::ok();
  }
  *out = t->name + " options:\n";
  for (const auto &l : lines) *out += l + "\n";
  return Status::ok();
}

std::string help_tpmdev_list() {
  std::vector<std::string> types = tpm_backend_types();
  if (types.empty()) return "No TPM backend types are available\n";
  std::string out = "Supported TPM types (choose only one):\n";
  for (const auto &type : types) {
    out += strprintf("%12s   %s\n", type.c_str(), tpm_backend_type(type)->description.c_str());
  }
  return out;
}

std::string help_machine_list(const ArchInfo &arch) {
  // QEMU sorts machine families first (by family, newest version first), then standalone
  // machine types by name.
  std::vector<const MachineSpec *> machines;
  for (const auto &m : arch.machines) machines.push_back(&m);
  std::stable_sort(machines.begin(), machines.end(),
                   [](const MachineSpec *a, const MachineSpec *b) {
                     if (a->family.empty() != b->family.empty()) return b->family.empty();
                     if (a->family != b->family) return a->family < b->family;
                     return a->name > b->name;
                   });
  std::string out = "Supported machines are:\n";
  for (const MachineSpec *m : machines) {
    if (!m->alias.empty()) {
      out += strprintf("%-20s %s (alias of %s)\n", m->alias.c_str(), m->desc.c_str(),
                       m->name.c_str());
    }
    out += strprintf("%-20s %s%s\n", m->name.c_str(), m->desc.c_str(),
                     m->is_default ? " (default)" : "");
  }
  return out;
}

std::string help_accel_list() {
  return "Accelerators supported in QEMU binary:\nkvm\nqtest\ntcg\n";
}

std::string help_chardev_list() { return "Available chardev backend types: \n  socket\n"; }

std::string version_text() {
  return "QEMU emulator version 7.2.0 (qtpm " QTPM_VERSION ")\n"
         "qtpm-system: QEMU-compatible host for qtpm's TPM devices (qtest and QMP)\n";
}

std::string help_usage(const std::string &program) {
  return "usage: " + program +
         " [options]\n"
         "\n"
         "Machine:\n"
         "-machine TYPE[,accel=A[:B]][,gic-version=V]   select the machine (-machine help)\n"
         "-M TYPE            same as -machine\n"
         "-accel NAME[,prop=value]   accelerator; qtest and tcg work, the first that works "
         "wins\n"
         "-m [size=]SIZE     guest RAM (MiB, or with a k/M/G/T suffix; default 128M)\n"
         "-S                 start paused\n"
         "-incoming URI      wait for an incoming migration\n"
         "-dump-acpi DIR     write the TPM's ACPI tables (SIG.aml, SIG.dsl) to DIR and exit\n"
         "-name NAME         guest name\n"
         "\n"
         "Devices:\n"
         "-chardev socket,id=ID,path=PATH[,server=on|off][,wait=on|off]\n"
         "-tpmdev TYPE,id=ID[,...]   TPM backend (-tpmdev help)\n"
         "-device TYPE[,prop=value][,...] | -device JSON   device (-device help, TYPE,help)\n"
         "\n"
         "Control:\n"
         "-qtest unix:PATH   connect to a qtest client\n"
         "-qtest-log PATH    log the qtest protocol (none: no log)\n"
         "-mon chardev=ID,mode=control[,pretty=on]   QMP monitor on a chardev\n"
         "-qmp unix:PATH[,server=on][,wait=off]      QMP monitor on a new socket\n"
         "-display none, -nographic, -nodefaults, -no-user-config   accepted\n"
         "-trace [enable=]PATTERN | -trace events=FILE   enable trace events\n"
         "-d guest_errors,unimp   log guest errors / unimplemented features\n"
         "-version, -h\n";
}

}  // namespace qtpm::host
