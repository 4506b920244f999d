// SPDX-License-Identifier: GPL-2.0-or-later
//
// What tpm-tis (ISA) and tpm-tis-device (sysbus) share around the TIS core: the `tpmdev` and
// `irq` properties, binding to the backend, the MMIO region and IRQ output, reset, the TpmFrontend
// ("tpm-if") side, and the "tpm-tis" saved-state section.  QEMU 7.2 keeps the same split
// (hw/tpm/tpm_tis_common.c, tpm_tis_isa.c, tpm_tis_sysbus.c).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "backends/tpm/tpm_backend.h"
#include "hw/core/device.h"
#include "hw/tpm/tis/tpm_tis_core.h"
#include "hw/tpm/tpm_acpi_info.h"
#include "hw/tpm/tpm_ppi.h"
#include "qom/saved_state.h"

namespace qtpm {

inline constexpr const char *kTypeTpmTis = "tpm-tis";
inline constexpr const char *kTypeTpmTisDevice = "tpm-tis-device";

class TpmTisDevice : public Device, public TpmFrontend, public Migratable, public TpmAcpiProvider {
 public:
  ~TpmTisDevice() override;

  // TpmFrontend ("tpm-if").  Both variants report the model "tpm-tis", as QEMU does.
  void tpm_request_completed(std::unique_ptr<TpmRequest> request) override;
  TpmVersion tpm_version() const override { return core_.version(); }
  const char *tpm_model() const override { return "tpm-tis"; }

  // Migratable: section "tpm-tis" (both variants, as QEMU).
  const char *state_section() const override { return "tpm-tis"; }
  Status prepare_save() override;
  StateWriter save_state() const override;
  Status load_state(const StateReader &state) override;

  // What the ACPI builder needs (hw/tpm/tpm_acpi_info.h).
  TpmAcpiDescription acpi_description() const override = 0;

  // The PPI page, when this device has one (ISA with ppi=on).
  virtual TpmPpi *ppi() { return nullptr; }
  const TpmPpi *ppi() const { return const_cast<TpmTisDevice *>(this)->ppi(); }

  TisCore &core() { return core_; }
  const TisCore &core() const { return core_; }
  TpmBackend *backend() const { return backend_; }
  uint32_t irq_number() const { return irq_num_; }

 protected:
  TpmTisDevice() = default;

  // Properties in QEMU's order: irq, tpmdev.
  void add_common_properties(const char *irq_help);
  // realize, step 1: the backend named by `tpmdev` ("'tpmdev' property is required", or the
  // lookup error QEMU gives when the property is set).  Binds nothing yet.
  Status find_backend(TpmBackend **out) const;
  // realize, step 2 (after the variant's own checks): binds the backend, declares the MMIO
  // region (at `fixed_address` if given, else placed by the machine) and IRQ output 0.
  Status bind(TpmBackend *backend, std::optional<uint64_t> fixed_address);
  void do_reset() override;
  void do_unrealize() override;

  std::string tpmdev_;
  uint32_t irq_num_ = tis::kDefaultIrq;

 private:
  TisCore core_;
  TpmBackend *backend_ = nullptr;
};

}  // namespace qtpm
