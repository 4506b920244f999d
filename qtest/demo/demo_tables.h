// SPDX-License-Identifier: GPL-2.0-or-later
//
// The demo's last part: the ACPI description of the device, as firmware hands it to the OS.
#pragma once

#include "hw/core/device.h"

namespace qtpm::demo {

void print_acpi_tables(Device &device);

}  // namespace qtpm::demo
