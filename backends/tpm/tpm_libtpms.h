// SPDX-License-Identifier: GPL-2.0-or-later
//
// `-tpmdev libtpms,id=ID[,version=2.0|1.2][,state=DIR]`: the TPM runs inside the qtpm process,
// in libtpms 0.9 (TPMLIB_* API, libtpms/tpm_library.h), on the backend's worker thread.  No swtpm
// daemon, no sockets; the embedded default.
//
//  - version: "2.0" (default) or "1.2".
//  - state: a directory in swtpm's format (tpm_state_dir.h), shared with `-tpmdev emulator`;
//    without it the TPM's NVRAM lives in memory and is gone with the process.
//  - physical-presence: what libtpms' physical-presence callback answers (default off, which is
//    what swtpm answers, so a guest sees the same TPM through either backend).
//
// libtpms keeps global state and calls its callbacks without a context, so there is one
// libtpms TPM per process: a second libtpms backend fails to realize.  Every libtpms call is
// serialised by one mutex; the MMIO path never waits for it (the established flag is cached,
// and a reset of it that arrives while a command runs is applied right after that command).
//
// Machine reset (startup): a running TPM 2.0 that the guest did not shut down gets a
// TPM2_Shutdown(CLEAR) first, as swtpm 0.8+ sends, so a machine reset is an orderly TPM Reset
// (a disorderly one marks the TPM's clock unsafe); then TPMLIB_Terminate,
// TPMLIB_ChooseTPMVersion, TPMLIB_SetBufferSize, TPMLIB_RegisterCallbacks, TPMLIB_MainInit.
// Failures are returned as Status (never exit).  docs/libtpms.md has the details.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "backends/tpm/tpm_backend.h"
#include "backends/tpm/tpm_nvstore.h"
#include "qom/saved_state.h"

namespace qtpm {

inline constexpr const char *kTypeTpmLibtpms = "tpm-libtpms";

// The three libtpms state blobs, as TPMLIB_GetState/SetState exchange them (no swtpm envelope).
struct LibtpmsStateBlobs {
  std::vector<uint8_t> permanent;
  std::vector<uint8_t> volatile_state;  // empty: none
  std::vector<uint8_t> savestate;       // empty: none (always for TPM 2.0)
};

class LibtpmsBackend : public TpmBackend, public Migratable {
 public:
  LibtpmsBackend();
  ~LibtpmsBackend() override;

  TpmVersion version() const override { return version_; }
  uint32_t buffer_size() override;
  bool established_flag() override { return established_.load(); }
  Status reset_established_flag(uint8_t locality) override;
  std::string tpm_type() const override { return "libtpms"; }
  std::vector<std::pair<std::string, std::string>> tpm_options() const override;

  bool tpm_running() const { return running_; }

  // State for migration (main-loop thread).  get: finishes the pending request; with a running
  // TPM the permanent and volatile blobs are taken live, otherwise from the store.
  Status get_state_blobs(LibtpmsStateBlobs *out);
  // Stops the TPM and holds `blobs` for the next startup(), which starts the TPM from them.
  // Only if libtpms accepts them are they written to the store (volatile state is used once and
  // never stored); if it refuses them, startup() fails and the store is untouched.
  Status set_state_blobs(const LibtpmsStateBlobs &blobs);
  // Stops the TPM (TPMLIB_Terminate), after the pending request.
  void stop_tpm();

  // Migratable (tpm_libtpms_state.cc): section "tpm-libtpms", libtpms' own three blobs.
  // prepare_save() takes them (get_state_blobs); load_state() starts the TPM from them.
  const char *state_section() const override { return kTypeTpmLibtpms; }
  Status prepare_save() override;
  StateWriter save_state() const override;
  Status load_state(const StateReader &state) override;

 protected:
  Status do_realize() override;
  void do_unrealize() override;
  void handle_request(TpmRequest &request) override;
  Status do_startup(uint32_t buffer_size) override;
  void do_backend_reset() override;
  void do_cancel() override;

 private:
  friend struct LibtpmsCallbacks;

  Status start_tpm_locked(uint32_t wanted_size);
  void stop_tpm_locked();
  Status set_libtpms_state(const LibtpmsStateBlobs &blobs);
  Status commit_blobs(const LibtpmsStateBlobs &blobs);
  void refresh_established_locked();
  Status reset_established_locked(uint8_t locality);
  std::string state_description() const;
  void release();
  Status process_locked(const std::vector<uint8_t> &command, uint8_t locality,
                        std::vector<uint8_t> *response);

  // Properties.
  std::string version_prop_;
  std::string state_prop_;
  bool physical_presence_ = false;

  TpmVersion version_ = TpmVersion::k2_0;
  std::unique_ptr<NvStore> store_;
  bool owns_libtpms_ = false;
  uint32_t min_buffer_ = 0, max_buffer_ = 0;
  uint32_t buffer_size_ = 0;       // negotiated at the last startup; 0 before
  uint32_t requested_buffer_ = 0;  // the frontend's size at the last startup (0: none yet)

  // Everything below is touched only with libtpms_mu_ held (the TPM and its callbacks).
  std::mutex libtpms_mu_;
  bool running_ = false;
  bool tpm2_needs_shutdown_ = false;  // a TPM2_Startup succeeded and no TPM2_Shutdown since
  uint8_t current_locality_ = 0;      // what the locality callback answers
  std::string nv_error_;              // last store failure, for the startup error message
  std::optional<LibtpmsStateBlobs> pending_blobs_;
  unsigned char *resp_buf_ = nullptr;  // reused across TPMLIB_Process calls (libtpms reallocs)
  uint32_t resp_buf_size_ = 0;

  // Established flag: cached, read by the MMIO path without waiting for libtpms.
  std::atomic<bool> established_{false};
  std::atomic<bool> in_process_{false};  // a TPMLIB_Process call is running (for cancel)
  // A reset of the established flag that arrived while libtpms was busy: the locality to reset
  // from, applied by the worker right after its command (-1: none).  Guarded by deferred_mu_.
  std::mutex deferred_mu_;
  int deferred_reset_locality_ = -1;

  LibtpmsStateBlobs saved_blobs_;  // taken by the last prepare_save()
};

}  // namespace qtpm
