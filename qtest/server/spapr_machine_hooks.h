// SPDX-License-Identifier: GPL-2.0-or-later
//
// Where the pseries VIO code (spapr_host_extension.cc) joins the host's machine building, as
// QEMU's spapr_machine_init creates the VIO bus and spapr_vio_busdev_realize places a device on
// it.  Weak, like the host extensions (host_extensions.h): a build without the pseries code has
// none of them and the host skips the calls.
#pragma once

#include "hw/core/device.h"
#include "qom/status.h"

namespace qtpm::host {

class Machine;
struct Config;

// After the machine and its RAM exist, before any -device: on a machine with the spapr-vio bus,
// create the bus and reserve the units of QEMU's built-in VIO devices.
Status spapr_machine_init(Machine &machine, const Config &config) __attribute__((weak));
// While a realized device is plugged: a VIO device gets its unit address, interrupt and DMA
// window; other devices are left alone.  A failure fails the -device.
Status spapr_vio_plug(Machine &machine, Device &device) __attribute__((weak));
// When a device is unplugged (teardown, or a failed plug).
void spapr_vio_unplug(Machine &machine, Device &device) __attribute__((weak));

}  // namespace qtpm::host
