// SPDX-License-Identifier: GPL-2.0-or-later
//
// fw_cfg "etc/tpm/config" (see tpm_fw_cfg.h).
#include "hw/tpm/tpm_fw_cfg.h"

#include "hw/tpm/tpm_ppi.h"

namespace qtpm {

std::optional<TpmFwCfgConfig> tpm_fw_cfg_config(const TpmAcpiDescription &tpm) {
  if (!tpm.ppi) return std::nullopt;
  static_assert(PpiLayout::kAddress <= UINT32_MAX, "the PPI address field is 32 bits");
  const uint32_t address = static_cast<uint32_t>(PpiLayout::kAddress);
  return TpmFwCfgConfig{
      static_cast<uint8_t>(address),       static_cast<uint8_t>(address >> 8),
      static_cast<uint8_t>(address >> 16), static_cast<uint8_t>(address >> 24),
      static_cast<uint8_t>(tpm.version),   PpiLayout::kVersion130,
  };
}

}  // namespace qtpm
