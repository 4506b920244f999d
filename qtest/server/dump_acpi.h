// SPDX-License-Identifier: GPL-2.0-or-later
//
// -dump-acpi DIR: the TPM's ACPI tables (SSDT, TPM2 or TCPA) as a guest sees them once firmware
// ran etc/table-loader (acpi::linked_tables(): LASA holds the log area's address, checksums are
// recomputed), written as DIR/<SIG>.aml, with DIR/<SIG>.dsl next to each when ACPICA's iasl is
// installed (`iasl -d`).  QEMU has no such option; its tests fetch the tables over fw_cfg.
#pragma once

#include <string>
#include <vector>

#include "acpi/firmware_files.h"
#include "qom/status.h"

namespace qtpm::host {

// Writes the files; `written` gets each path, in order.  Fails on a directory that does not
// exist or cannot be written, or an iasl that fails (the message names the file).
Status dump_acpi_tables(const acpi::FirmwareFiles &files, const std::string &dir,
                        std::vector<std::string> *written);

}  // namespace qtpm::host
