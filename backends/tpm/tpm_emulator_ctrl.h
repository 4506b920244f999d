// SPDX-License-Identifier: GPL-2.0-or-later
//
// The client side of swtpm's control channel (swtpm_ioctls(3), socket form; facts in
// swtpm_protocol.h): one method per command, every reply checked for its length and result.
//
// The channel is a request/reply stream, so a failure in the middle of an exchange (the peer
// closed, hung past the deadline, sent a short reply) leaves it out of step: the client then
// refuses further commands at once instead of reading someone else's reply.  A reply is read in
// two steps, the result word first, so that swtpm's 4-byte error replies never leave the client
// waiting for bytes that will not come.
//
// Thread-safety: commands are serialized by a mutex (the emulator's worker thread sends
// SET_LOCALITY while the main thread may send others).  CANCEL_TPM_CMD is sent without waiting
// for its reply: swtpm answers control commands between TPM commands, so the reply is collected
// before the next command instead of blocking the caller for the length of the TPM command.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "backends/tpm/swtpm_protocol.h"
#include "backends/tpm/tpm_peer_io.h"
#include "qom/status.h"

namespace qtpm {

class Chardev;

// The outcome of one control command.
struct CtrlResult {
  swtpm::Cmd cmd = swtpm::Cmd::kGetCapability;
  PeerFault fault = PeerFault::kNone;
  uint32_t result = 0;  // swtpm's result code (kErrorResult)
  std::string message;  // one line naming swtpm and the command, for the user
  bool ok() const { return fault == PeerFault::kNone; }
};

struct SwtpmBufferSizes {
  uint32_t current = 0;
  uint32_t min = 0;
  uint32_t max = 0;
};

struct SwtpmStateBlob {
  swtpm::BlobType type = swtpm::BlobType::kPermanent;
  uint32_t flags = 0;  // as swtpm reported it (kStateFlagEncrypted)
  std::vector<uint8_t> data;
};

// Largest state blob accepted from swtpm (a TPM 2 permanent state with full NV is well below).
inline constexpr uint32_t kSwtpmStateBlobMax = 16 * 1024 * 1024;

class SwtpmControl {
 public:
  SwtpmControl() = default;
  SwtpmControl(const SwtpmControl &) = delete;
  SwtpmControl &operator=(const SwtpmControl &) = delete;

  // The chardev must stay alive until detached (nullptr).
  void attach(Chardev *chardev);
  void set_timeout_ms(int timeout_ms) { timeout_ms_ = timeout_ms; }
  bool attached() const { return chardev_ != nullptr; }
  bool out_of_step() const { return out_of_step_; }

  CtrlResult set_data_fd(int fd);
  CtrlResult get_capability(uint32_t *caps);
  CtrlResult init(uint32_t flags);
  CtrlResult stop();
  CtrlResult shutdown();
  // wanted = 0 only asks.
  CtrlResult set_buffer_size(uint32_t wanted, SwtpmBufferSizes *sizes);
  CtrlResult set_locality(uint8_t locality);
  CtrlResult get_established(bool *established);
  CtrlResult reset_established(uint8_t locality);
  // Sends CANCEL_TPM_CMD and returns; its reply is checked (traced) before the next command.
  CtrlResult cancel_async();
  CtrlResult get_state_blob(swtpm::BlobType type, SwtpmStateBlob *blob);
  CtrlResult set_state_blob(const SwtpmStateBlob &blob);
  CtrlResult lock_storage(uint32_t retries);

 private:
  struct Exchange {
    swtpm::Cmd cmd;
    std::span<const uint8_t> payload;  // after the command code
    std::span<uint8_t> reply_rest;     // filled when the result is success
    bool non_fatal_ok = false;         // GET_STATEBLOB: results with 0x800 carry a header too
  };
  // One exchange at a time on the channel, waited for with a limit.  (Not std::timed_mutex:
  // its try_lock_for uses pthread_mutex_clocklock, which GCC 12's ThreadSanitizer does not
  // know, so every exchange would be reported as a bad unlock.)
  class Turn {
   public:
    explicit Turn(SwtpmControl &channel) : channel_(channel) {}
    ~Turn();
    Turn(const Turn &) = delete;
    Turn &operator=(const Turn &) = delete;
    bool take(int timeout_ms);  // < 0: no limit

   private:
    SwtpmControl &channel_;
    bool held_ = false;
  };

  // Takes the turn and checks the channel; collects outstanding CANCEL replies first.
  CtrlResult acquire(swtpm::Cmd cmd, Turn &turn, const Deadline &deadline);
  CtrlResult transact(const Exchange &ex);
  CtrlResult transact_locked(const Exchange &ex, const Deadline &deadline);
  CtrlResult collect_pending(const Deadline &deadline);
  CtrlResult fail(swtpm::Cmd cmd, PeerFault fault, std::string message);
  CtrlResult io_failure(swtpm::Cmd cmd, PeerFault fault, int err, const char *stage);
  int fd() const;

  Chardev *chardev_ = nullptr;
  int timeout_ms_ = 60000;
  std::mutex turn_mu_;
  std::condition_variable turn_cv_;
  bool busy_ = false;
  std::atomic<bool> out_of_step_{false};
  unsigned pending_replies_ = 0;  // CANCEL replies not yet read
};

}  // namespace qtpm
