// SPDX-License-Identifier: GPL-2.0-or-later
//
// `-tpmdev emulator,id=ID,chardev=CHR`: a TPM provided by an external swtpm process.
//
// Two channels (swtpm_ioctls(3); QEMU 7.2's tpm_emulator is the reference user):
//  - control: the chardev, a UNIX socket to swtpm's `--ctrl type=unixio` server, spoken to by
//    SwtpmControl (tpm_emulator_ctrl.h);
//  - data: one end of a socketpair handed to swtpm with CMD_SET_DATAFD; TPM commands and
//    responses travel on it unframed.
//
// swtpm is an untrusted peer that may die, hang or send nonsense.  Every wait is bounded
// (x-timeout-ms, generous by default because TPM key generation takes long); every reply is
// checked against the protocol and the negotiated buffer; a failure gives the guest a fatal TPM
// response and the user one line starting with "tpm-emulator: " that names swtpm and what went
// wrong, once per kind of failure.  A channel left out of step fails fast from then on; the data
// channel is replaced at the next machine reset.  Nothing here ends the process.
//
// Differences from QEMU 7.2 are listed in docs/backends.md.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "backends/tpm/swtpm_protocol.h"
#include "backends/tpm/tpm_backend.h"
#include "backends/tpm/tpm_emulator_ctrl.h"
#include "backends/tpm/tpm_peer_io.h"
#include "qom/saved_state.h"

namespace qtpm {

inline constexpr const char *kTypeTpmEmulator = "tpm-emulator";

// The TPM state as swtpm hands it out (migration, snapshots): three blobs, each with the flags
// swtpm reported (kStateFlagEncrypted when swtpm encrypts its state itself).
struct EmulatorStateBlobs {
  SwtpmStateBlob permanent{swtpm::BlobType::kPermanent, 0, {}};
  SwtpmStateBlob volatile_state{swtpm::BlobType::kVolatile, 0, {}};
  SwtpmStateBlob savestate{swtpm::BlobType::kSavestate, 0, {}};
};

class EmulatorBackend : public TpmBackend, public Migratable {
 public:
  EmulatorBackend();
  ~EmulatorBackend() override;

  TpmVersion version() const override { return version_; }
  uint32_t buffer_size() override;
  bool established_flag() override;
  Status reset_established_flag(uint8_t locality) override;
  std::string tpm_type() const override { return "emulator"; }
  std::vector<std::pair<std::string, std::string>> tpm_options() const override;
  bool blocks_migration(std::string *reason) const override;

  // swtpm's capability bits (valid after realize).
  uint32_t capabilities() const { return caps_; }

  // Migration support.  Both run on the main-loop thread with no request in flight (they
  // finish the pending one first).
  //  save: GET_STATEBLOB permanent, volatile, savestate, asking for decrypted state;
  //  restore: STOP, SET_STATEBLOB for each non-empty blob, INIT(DELETE_VOLATILE).
  Status save_state_blobs(EmulatorStateBlobs *blobs);
  Status restore_state_blobs(const EmulatorStateBlobs &blobs);
  // After an outgoing migration failed and the VM runs on: take swtpm's storage lock back
  // (CMD_LOCK_STORAGE, swtpm 0.8+); a no-op when swtpm does not offer it (0.7.1).
  Status relock_storage();

  // Where the one-line peer messages go (tests capture them).
  PeerErrorReporter &error_reporter() { return reporter_; }

  // Migratable (tpm_emulator_state.cc): section "tpm-emulator", swtpm's three blobs.
  // prepare_save() takes them (save_state_blobs); load_state() hands them to swtpm.
  const char *state_section() const override { return kTypeTpmEmulator; }
  Status prepare_save() override;
  StateWriter save_state() const override;
  Status load_state(const StateReader &state) override;

 protected:
  Status do_realize() override;
  void do_unrealize() override;
  void handle_request(TpmRequest &request) override;
  Status do_startup(uint32_t buffer_size) override;
  void do_cancel() override;

 private:
  // A new socketpair, one end handed to swtpm (message without the "tpm-emulator: " prefix).
  Status open_data_channel(PeerFault *fault = nullptr);
  void close_data_channel();
  Status probe_version();
  Status check_capabilities();
  // Tells the user (once per key) and returns the same line as an error.
  Status report(uint32_t key, const std::string &message);
  Status fail(const CtrlResult &r, const std::string &context = "");
  Status report_data_fault(const TpmExchangeResult &r);
  int data_timeout_ms() const;
  int ctrl_timeout_ms() const;

  // Properties.
  std::string chardev_id_;
  uint32_t timeout_ms_ = 0;  // x-timeout-ms: 0 = the defaults below

  SwtpmControl ctrl_;
  PeerErrorReporter reporter_{"tpm-emulator"};
  int data_fd_ = -1;
  std::atomic<bool> data_broken_{false};
  TpmVersion version_ = TpmVersion::kUnspec;
  uint32_t caps_ = 0;
  uint32_t tpm_max_buffer_ = 4096;     // the largest buffer swtpm accepts
  std::atomic<uint32_t> negotiated_{0};  // SET_BUFFERSIZE result at the last startup
  uint8_t cur_locality_ = 0xff;        // worker thread: last SET_LOCALITY (0xff: none yet)
  std::atomic<int> established_{-1};   // cached flag: -1 unknown, 0, 1
  EmulatorStateBlobs saved_blobs_;     // taken by the last prepare_save()
};

}  // namespace qtpm
