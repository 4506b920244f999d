// SPDX-License-Identifier: GPL-2.0-or-later
//
// The fw_cfg file "etc/tpm/config" that tells x86 firmware (SeaBIOS, OVMF's
// Tcg2PhysicalPresenceLibQemu) where the PPI page is and which TPM the machine has.
//
// Layout, as QEMU 7.2 writes it (hw/i386/acpi-build.c, struct FwCfgTPMConfig): 6 packed bytes,
// little-endian: u32 PPI address, u8 TPM version (TpmVersion: 1 = 1.2, 2 = 2.0), u8 PPI version
// (1 = PPI 1.30).  For a TPM 2.0: 00 50 d4 fe 02 01.  QEMU adds the file only when the TPM
// device has a PPI page (ppi=on); tpm_fw_cfg_config() returns nothing otherwise, so the fw_cfg
// device (acpi room) serves the file exactly when it gets bytes.
#pragma once

#include <array>
#include <cstdint>
#include <optional>

#include "hw/tpm/tpm_acpi_info.h"

namespace qtpm {

inline constexpr const char *kTpmFwCfgConfigFile = "etc/tpm/config";
inline constexpr size_t kTpmFwCfgConfigSize = 6;

using TpmFwCfgConfig = std::array<uint8_t, kTpmFwCfgConfigSize>;

// The file's contents for a TPM frontend, or nullopt when it has no PPI page.
std::optional<TpmFwCfgConfig> tpm_fw_cfg_config(const TpmAcpiDescription &tpm);

}  // namespace qtpm
