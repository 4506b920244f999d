// SPDX-License-Identifier: GPL-2.0-or-later
//
// The machine's firmware interface: the fw_cfg device QEMU 7.2 gives each machine (fw_cfg_io at
// ports 0x510/0x514 on pc and q35, fw_cfg_mem at 0x09020000 on Arm virt; none on the `none`
// machines and pseries), serving what firmware needs about the TPM - etc/acpi/tables,
// etc/acpi/rsdp, etc/table-loader, etc/tpm/log and, on x86 with PPI, etc/tpm/config (see
// docs/acpi.md, docs/fw_cfg.md).
//
// It is built once every -device is realized and plugged, because the files describe the TPM
// frontend (at most one, found through TpmAcpiProvider) as it was configured and placed.
#pragma once

#include <optional>
#include <vector>

#include "acpi/firmware_files.h"
#include "hw/core/device.h"
#include "qom/host_services.h"
#include "qtest/server/machine.h"

namespace qtpm::host {

class FirmwareConfig {
 public:
  // The ACPI flavour of a machine with fw_cfg, or nullopt for a machine without one.
  static std::optional<acpi::AcpiMachine> acpi_machine(const MachineSpec &spec);

  // Builds the file set for the TPM among `devices` (or none), then creates, realizes and plugs
  // /machine/fw_cfg.  On a machine without fw_cfg it does nothing and *out stays null.  On
  // failure nothing is left in the tree.
  Status create(Machine &machine, HostServices *host, const std::vector<Device *> &devices,
                Device **out);

  bool present() const { return present_; }
  // What the device serves (empty before create()).
  const acpi::FirmwareFiles &files() const { return files_; }

 private:
  acpi::FirmwareFiles files_;
  bool present_ = false;
};

// Tells a platform-bus TPM (tpm-tis-device) where the machine mapped its registers, which its
// ACPI description needs.  Other devices are left alone.
void note_mapped_address(Machine &machine, Device *device);

}  // namespace qtpm::host
