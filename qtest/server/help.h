// SPDX-License-Identifier: GPL-2.0-or-later
//
// Help and version texts in QEMU 7.2's formats: `-device help` (softmmu/qdev-monitor.c),
// `-device TYPE,help` (object_property_help), `-tpmdev help` (softmmu/tpm.c), `-machine help`
// and `-accel help` (softmmu/vl.c).
#pragma once

#include <string>
#include <string_view>

#include "qom/status.h"
#include "qtest/server/arch.h"

namespace qtpm::host {

std::string help_device_list(const ArchInfo &arch);
// Fails with "Device 'TYPE' not found" (also for types of other architectures) or
// "Parameter 'typename' expects a non-abstract device type".
Status help_device_properties(const ArchInfo &arch, std::string_view driver, std::string *out);
std::string help_tpmdev_list();
std::string help_machine_list(const ArchInfo &arch);
std::string help_accel_list();
std::string help_chardev_list();
std::string help_usage(const std::string &program);
std::string version_text();

// One "  name=<type>           - description (default: value)" line, as QEMU formats it.
std::string property_help_line(const std::string &name, const std::string &type,
                               const std::string &description, const std::string &default_json);

}  // namespace qtpm::host
