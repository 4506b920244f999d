// SPDX-License-Identifier: GPL-2.0-or-later
//
// The TPM backend core: where a frontend's commands go.
//
// Follows the split of QEMU's TPMBackend / TPMIf (include/sysemu/tpm_backend.h): a frontend
// (tpm-tis, tpm-crb, tpm-spapr) hands a TpmRequest to its backend; the backend runs it on its
// own worker thread, never on the MMIO path, and the completion comes back to the frontend on the
// embedder's main-loop thread (HostServices::completion_loop()).
//
// Differences from QEMU 7.2, on purpose (docs/backends.md):
//  - a request that arrives while one is pending is not silently dropped: deliver() refuses it,
//    logs a guest error and hands it back to the caller, whose state machine decides (the
//    frontends never send two, so this only catches frontend bugs);
//  - a failed startup never ends the process: startup() returns the error, and the backend stays
//    in a startup-error state in which every request gets a fatal TPM response.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "qom/host_services.h"
#include "qom/object.h"

namespace qtpm {

enum class TpmVersion : uint8_t { kUnspec = 0, k1_2 = 1, k2_0 = 2 };  // values as QEMU's enum

const char *tpm_version_name(TpmVersion v);  // "1.2", "2.0", "unspecified"

// One command in flight.  The request owns both buffers.
struct TpmRequest {
  uint8_t locality = 0;
  std::vector<uint8_t> command;   // exactly the bytes to send
  std::vector<uint8_t> response;  // filled by the backend; its size is the response length
  uint32_t max_response = 0;      // negotiated buffer size; the response never exceeds it
  bool selftest_done = false;     // TPM 1.2 ContinueSelfTest answered success
  Status status;                  // not ok: the backend failed; `response` is a fatal TPM error
};

// The frontend side ("tpm-if" in QOM terms).
class TpmFrontend {
 public:
  virtual ~TpmFrontend() = default;
  // Runs on the main-loop thread.
  virtual void tpm_request_completed(std::unique_ptr<TpmRequest> request) = 0;
  virtual TpmVersion tpm_version() const = 0;
  virtual const char *tpm_model() const = 0;  // "tpm-tis", "tpm-crb", "tpm-spapr"
};

inline constexpr const char *kTypeTpmIf = "tpm-if";
inline constexpr const char *kTypeTpmBackend = "tpm-backend";

class TpmBackend : public Object {
 public:
  ~TpmBackend() override;

  void set_host(HostServices *host) { host_ = host; }
  HostServices *host() const { return host_; }

  // Binding to a frontend, once: "TPM backend 'ID' is already initialized".
  Status attach(TpmFrontend *frontend);
  void detach();
  TpmFrontend *frontend() const { return frontend_; }

  // Machine reset: finish the pending request, then start the TPM with the frontend's buffer
  // size (0: the backend's own).  A failure is returned and remembered (had_startup_error()).
  Status startup(uint32_t buffer_size);
  // Before startup at machine reset: finish the pending request, type-specific reset.
  void reset();
  bool had_startup_error() const { return had_startup_error_; }

  // Starts a request on the worker thread and returns nullptr.  If one is already pending, the
  // new request is refused: a guest error is logged and the request is returned unchanged.
  // In the startup-error state the request completes (posted) with a fatal response.
  std::unique_ptr<TpmRequest> deliver(std::unique_ptr<TpmRequest> request);
  bool request_pending() const;
  // Waits for the pending request (if any) and delivers its completion now, on the calling
  // (main-loop) thread.  Used by reset and state save.
  void finish_sync();
  void cancel();

  virtual TpmVersion version() const = 0;
  // The TPM's buffer size (maximum command/response size).
  virtual uint32_t buffer_size() = 0;
  virtual bool established_flag() { return false; }
  virtual Status reset_established_flag(uint8_t /*locality*/) { return Status::ok(); }
  // "query-tpm" options: the `type` discriminator and its data members, as strings.
  virtual std::string tpm_type() const = 0;  // "passthrough", "emulator", "libtpms"
  virtual std::vector<std::pair<std::string, std::string>> tpm_options() const = 0;
  // True when the TPM's state cannot be saved for migration or snapshots (a host TPM; a swtpm
  // without the state-blob commands); `reason` receives the one-line explanation.
  virtual bool blocks_migration(std::string * /*reason*/) const { return false; }

  // Writes the fatal-error response QEMU uses (TPM 1.2 tag even for TPM 2, which guests accept).
  static void write_fatal_response(TpmRequest &request);

 protected:
  TpmBackend();

  // Type hooks.  handle_request runs on the worker thread and must fill request.response (or set
  // request.status and leave the response to the core).
  virtual void handle_request(TpmRequest &request) = 0;
  virtual Status do_startup(uint32_t /*buffer_size*/) { return Status::ok(); }
  virtual void do_backend_reset() {}
  virtual void do_cancel() {}

  // The worker thread starts with the first request.  A subclass must call stop_worker() in its
  // destructor (and may in do_unrealize), before the members handle_request uses are destroyed.
  void stop_worker();

 private:
  void worker_main();
  void complete(std::unique_ptr<TpmRequest> request);

  HostServices *host_ = nullptr;
  TpmFrontend *frontend_ = nullptr;
  bool had_startup_error_ = false;

  // Worker: one request slot.  `pending_` (main thread view) is true from deliver() until the
  // completion has been handed to the frontend.
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::thread worker_;
  bool stop_ = false;
  bool pending_ = false;
  std::unique_ptr<TpmRequest> queued_;    // waiting for the worker
  std::unique_ptr<TpmRequest> finished_;  // done, completion not yet delivered
  uint64_t generation_ = 0;               // invalidates posted completions taken by finish_sync
};

// The TPM command/response header, big-endian: tag u16, size u32, ordinal/return code u32.
inline constexpr size_t kTpmHeaderSize = 10;
uint16_t tpm_header_tag(const uint8_t *buf);
uint32_t tpm_header_size(const uint8_t *buf);
uint32_t tpm_header_code(const uint8_t *buf);

}  // namespace qtpm
