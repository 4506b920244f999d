// SPDX-License-Identifier: GPL-2.0-or-later
//
// `-tpmdev passthrough,id=ID[,path=/dev/tpm0][,cancel-path=FILE]`: the guest uses the host's
// TPM character device directly (QEMU 7.2 backends/tpm/tpm_passthrough.c is the reference for
// options, messages and the sysfs cancel file).
//
// The device is opened read-write at creation and probed for its TPM version and buffer size.
// Commands go to it on the worker thread: one write, then the response is read with a bounded
// wait and accepted only if its header size equals the bytes received and fits the buffer.
// Cancellation writes "-" to the cancel file (cancel-path, or found in sysfs as
// /sys/class/tpm/<dev>/device/cancel or /sys/class/misc/<dev>/device/cancel); without one the
// backend cannot be created.  A host TPM's state cannot travel with a VM, so migration is
// refused (QEMU 7.2 documents this but never enforces it).
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "backends/tpm/tpm_backend.h"
#include "backends/tpm/tpm_peer_io.h"

namespace qtpm {

inline constexpr const char *kTypeTpmPassthrough = "tpm-passthrough";

class PassthroughBackend : public TpmBackend {
 public:
  PassthroughBackend();
  ~PassthroughBackend() override;

  TpmVersion version() const override { return version_; }
  uint32_t buffer_size() override { return buffer_size_; }
  std::string tpm_type() const override { return "passthrough"; }
  std::vector<std::pair<std::string, std::string>> tpm_options() const override;
  bool blocks_migration(std::string *reason) const override;

  // The cancel file in use (given or found in sysfs).
  const std::string &cancel_file() const { return cancel_file_; }
  PeerErrorReporter &error_reporter() { return reporter_; }

 protected:
  Status do_realize() override;
  void do_unrealize() override;
  void handle_request(TpmRequest &request) override;
  Status do_startup(uint32_t buffer_size) override;
  void do_backend_reset() override;
  void do_cancel() override;

 private:
  Status open_cancel_file();
  void close_all();
  int timeout_ms() const;

  // Properties.
  std::string path_;
  std::string cancel_path_;
  uint32_t timeout_ms_ = 0;  // x-timeout-ms: 0 = 300 s

  PeerErrorReporter reporter_{"tpm-passthrough"};
  int tpm_fd_ = -1;
  int cancel_fd_ = -1;
  std::string cancel_file_;
  TpmVersion version_ = TpmVersion::kUnspec;
  uint32_t buffer_size_ = 4096;
  std::atomic<bool> executing_{false};
  std::atomic<bool> out_of_step_{false};
};

}  // namespace qtpm
