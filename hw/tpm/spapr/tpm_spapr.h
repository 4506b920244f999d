// SPDX-License-Identifier: GPL-2.0-or-later
//
// tpm-spapr: the IBM virtual TPM of pSeries (PAPR) guests, a VIO device speaking the vTPM CRQ
// protocol (Linux drivers/char/tpm/tpm_ibmvtpm.c is the consumer; QEMU 7.2 hw/tpm/tpm_spapr.c
// the model; docs/spapr.md).  TPM 1.2 and 2.0 backends; device-tree compatible "IBM,vtpm" or
// "IBM,vtpm20" accordingly.
//
// A guest talks to it through CRQ messages (spapr_crq.h):
//   INIT / INIT_COMPLETE      -> echoed (the driver's handshake)
//   GET_VERSION               -> 1 (TPM 1.2) or 2 (TPM 2.0)
//   GET_RTCE_BUFFER_SIZE      -> the buffer size the TPM accepts (at most 4096)
//   TPM_COMMAND(len, ioba)    -> the command is read by DMA from `ioba`, run on the backend, and
//                                the response written back there; then TPM_COMMAND_RES(len).
//                                While a command runs, another gets H_BUSY.  DMA failures are
//                                answered with VTPM_ERROR(COPY_IN_FAILED / COPY_OUT_FAILED)
//   PREPARE_TO_SUSPEND        -> acknowledged
//
// The device is pure logic (STYLE.md practice 6): guest memory only through the DMA window the
// machine attaches, hypervisor calls only through the SpaprVioDevice h_* entry points, the TPM
// through its TpmBackend, completions on the embedder's loop.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>

#include "backends/tpm/tpm_backend.h"
#include "hw/tpm/spapr/spapr_vio_device.h"
#include "qom/saved_state.h"

namespace qtpm {

inline constexpr const char *kTypeTpmSpapr = "tpm-spapr";

class TpmSpapr : public SpaprVioDevice, public TpmFrontend, public Migratable {
 public:
  // Where the single command is (QEMU's SPAPR_VTPM_STATE_*; the values are saved).
  enum class State : uint8_t { kNone = 0, kExecution = 1, kCompletion = 2 };
  static constexpr uint32_t kStateVersion = 1;
  // QEMU's rtce_window_size: 256 MiB of I/O bus addresses.
  static constexpr uint64_t kRtceWindowSize = 0x10000000;

  TpmSpapr();
  ~TpmSpapr() override;

  // SpaprVioDevice -----------------------------------------------------------------------------
  const char *dt_name() const override { return "vtpm"; }
  const char *dt_type() const override { return "IBM,vtpm"; }
  std::string dt_compatible() const override;
  uint32_t signal_mask() const override { return 0x1; }
  uint64_t rtce_window_size() const override { return kRtceWindowSize; }
  bool has_crq() const override { return true; }

  // TpmFrontend --------------------------------------------------------------------------------
  void tpm_request_completed(std::unique_ptr<TpmRequest> request) override;
  TpmVersion tpm_version() const override;
  const char *tpm_model() const override { return kTypeTpmSpapr; }

  // Migratable ---------------------------------------------------------------------------------
  // Saving drains the command in flight.  Its response is not written to guest memory (the
  // guest's RAM may already be saved): it is parked and travels in the state, and the loading
  // side delivers it (QEMU's post_load).  A source that goes on running after the save (a
  // snapshot, a failed migration) calls deliver_parked_response().
  const char *state_section() const override { return kTypeTpmSpapr; }
  Status prepare_save() override;
  StateWriter save_state() const override;
  // Validates everything; then applies and, when a response was parked, delivers it through the
  // DMA window and the queue - so the machine restores the DMA window (TCE table) first.
  Status load_state(const StateReader &state) override;
  void deliver_parked_response();

  // Introspection, for embedders and tests -----------------------------------------------------
  State state() const { return state_; }
  uint32_t backend_buffer_size() const { return be_buffer_size_; }
  // The I/O bus address of the TPM buffer of the last command (QEMU's crq.data).
  uint32_t command_ioba() const { return command_ioba_; }
  // Bytes of a response parked by prepare_save (0: none).
  uint32_t parked_response_length() const { return parked_length_; }

 protected:
  Status do_realize() override;
  void do_reset() override;
  void do_unrealize() override;
  int64_t handle_crq(const spapr::CrqElement &element) override;

 private:
  Status bind_backend();
  int64_t start_command(const spapr::CrqElement &element);
  // Reads the command at `ioba` into buffer_: the header, then as many bytes as it claims (at
  // least a header, at most the RTCE buffer size).  Returns its length, 0 on a DMA failure.
  uint32_t copy_in_command(uint32_t ioba);
  void deliver_response(uint32_t length);
  void reply(const spapr::CrqElement &element);
  void reply_error(uint32_t code);

  std::string tpmdev_;
  TpmBackend *backend_ = nullptr;
  State state_ = State::kNone;
  uint32_t command_ioba_ = 0;
  uint32_t be_buffer_size_ = spapr::kVtpmBufferMax;
  // Command and response; the response overwrites the command, as in QEMU.
  std::array<uint8_t, spapr::kVtpmBufferMax> buffer_{};
  bool parking_ = false;         // between prepare_save and the next delivery: park responses
  uint32_t parked_length_ = 0;   // a parked response in buffer_ (QEMU's numbytes)
  bool discarding_ = false;      // reset/unrealize: a completion that drains now is dropped
  bool startup_failed_ = false;  // the backend failed to start at the last reset
};

}  // namespace qtpm
