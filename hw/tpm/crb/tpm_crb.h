// SPDX-License-Identifier: GPL-2.0-or-later
//
// tpm-crb: the TPM 2.0 Command Response Buffer interface of the TCG PC Client Platform TPM
// Profile (PTP) Specification, revision 1.05, as QEMU 7.2's tpm-crb shows it to a guest
// (docs/crb.md): locality 0 only, no interrupts, registers at 0xfed40000, a command/response
// buffer in one of two layouts (tpm_crb_layout.h), and the PPI page at 0xfed45000.
//
// The device is pure logic (STYLE.md practice 6): guest accesses arrive through its memory
// regions, commands go to a TpmBackend and complete asynchronously on the embedder's main loop;
// everything else comes through HostServices.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>

#include "backends/tpm/tpm_backend.h"
#include "hw/core/device.h"
#include "hw/core/register_bank.h"
#include "hw/tpm/crb/tpm_crb_layout.h"
#include "hw/tpm/crb/tpm_crb_regs.h"
#include "hw/tpm/tpm_acpi_info.h"
#include "hw/tpm/tpm_ppi.h"
#include "qom/saved_state.h"

namespace qtpm {

inline constexpr const char *kTypeTpmCrb = "tpm-crb";

class TpmCrb : public Device, public TpmFrontend, public Migratable, public TpmAcpiProvider {
 public:
  // Regions, in the order realize declares them (the page view only in the page-aligned layout,
  // the PPI page only with ppi=on); see regions().
  static constexpr const char *kRegionRegisters = "tpm-crb-mmio";
  static constexpr const char *kRegionBuffer = "tpm-crb-cmd";            // at base + 0x80
  static constexpr const char *kRegionBufferPage = "tpm-crb-cmd-page";  // at base + 0x1000
  static constexpr uint32_t kStateVersion = 1;

  TpmCrb();
  ~TpmCrb() override;

  // TpmFrontend ------------------------------------------------------------------------------
  void tpm_request_completed(std::unique_ptr<TpmRequest> request) override;
  TpmVersion tpm_version() const override;
  const char *tpm_model() const override { return kTypeTpmCrb; }

  // Migratable -------------------------------------------------------------------------------
  const char *state_section() const override { return kTypeTpmCrb; }
  Status prepare_save() override;
  StateWriter save_state() const override;
  Status load_state(const StateReader &state) override;

  // What the ACPI builder needs (valid after realize).
  TpmAcpiDescription acpi_description() const override;

  // Introspection, for embedders and tests (valid after realize).
  const crb::LayoutInfo &layout() const { return *layout_; }
  bool ppi_enabled() const { return ppi_enabled_; }
  TpmPpi &ppi() { return ppi_; }
  // The command/response memory: layout().memory_size bytes, page-aligned.
  uint8_t *buffer_memory() { return memory_.get(); }
  // The buffer size negotiated with the backend at the last reset.
  uint32_t backend_buffer_size() const { return be_buffer_size_; }
  const RegisterBank &registers() const { return bank_; }

 protected:
  Status do_realize() override;
  void do_reset() override;
  void do_unrealize() override;

 private:
  struct FreeDeleter {
    void operator()(uint8_t *p) const { std::free(p); }
  };

  Status bind_backend();
  void declare_regions();
  void install_register_hooks();
  void load_layout_registers();

  // Register behaviour (hooks of the bank).
  uint32_t read_loc_state(uint32_t stored) const;
  void write_loc_ctrl(uint32_t raw, uint32_t enable);
  void write_ctrl_req(uint32_t raw, uint32_t enable);
  void write_ctrl_cancel(uint32_t raw, uint32_t enable);
  void write_ctrl_start(uint32_t raw, uint32_t enable);
  void start_command();
  void update(crb::Reg reg, const Field &field, uint32_t value);
  bool test(crb::Reg reg, const Field &field) const;

  // Properties.
  std::string tpmdev_;
  bool ppi_enabled_ = true;
  std::string layout_name_;

  const crb::LayoutInfo *layout_ = &crb::kQemuLayout;
  TpmBackend *backend_ = nullptr;
  RegisterBank bank_;
  std::unique_ptr<uint8_t, FreeDeleter> memory_;
  TpmPpi ppi_;
  uint32_t be_buffer_size_ = crb::kQemuBufferSize;
};

}  // namespace qtpm
