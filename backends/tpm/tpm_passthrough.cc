// SPDX-License-Identifier: GPL-2.0-or-later
//
// The host TPM passthrough backend (see tpm_passthrough.h).
#include "backends/tpm/tpm_passthrough.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "backends/tpm/tpm_util.h"
#include "qom/module_init.h"
#include "qom/trace.h"

namespace qtpm {

namespace {

constexpr const char *kDefaultDevice = "/dev/tpm0";
// A TPM command may run long (Linux allows TPM 2 commands up to 300 s); probing at creation is
// quick on any TPM.
constexpr int kDefaultTimeoutMs = 300 * 1000;
constexpr int kDefaultProbeTimeoutMs = 10 * 1000;

}  // namespace

PassthroughBackend::PassthroughBackend() {
  add_string_property("path", &path_, kDefaultDevice, "host TPM device");
  add_string_property("cancel-path", &cancel_path_, "",
                      "file to write '-' to for cancelling a command (default: from sysfs)");
  add_uint32_property("x-timeout-ms", &timeout_ms_, 0,
                      "testing: limit for every wait on the TPM in milliseconds (0: 300 s)");
}

PassthroughBackend::~PassthroughBackend() {
  if (realized()) {
    unrealize();
  } else {
    stop_worker();
    close_all();
  }
}

int PassthroughBackend::timeout_ms() const {
  return timeout_ms_ ? static_cast<int>(std::min<uint32_t>(timeout_ms_, INT32_MAX))
                     : kDefaultTimeoutMs;
}

void PassthroughBackend::close_all() {
  for (int *fd : {&tpm_fd_, &cancel_fd_}) {
    if (*fd >= 0) close(*fd);
    *fd = -1;
  }
}

Status PassthroughBackend::do_realize() {
  // O_NOCTTY: a path naming a terminal (tests use a pty) must not become our controlling tty.
  tpm_fd_ = open(path_.c_str(), O_RDWR | O_CLOEXEC | O_NOCTTY);
  if (tpm_fd_ < 0) {
    return Status::errorf("Cannot access TPM device using '%s': %s", path_.c_str(),
                          std::strerror(errno));
  }
  const int probe_ms = timeout_ms_ ? timeout_ms() : kDefaultProbeTimeoutMs;
  TpmTransact transact = [this, probe_ms](std::span<const uint8_t> cmd,
                                          std::vector<uint8_t> *rsp) {
    TpmExchangeResult r =
        tpm_stream_exchange(tpm_fd_, cmd, kTpmBufferSizeMax, Deadline(probe_ms), rsp);
    return r.ok() ? Status::ok() : Status::error(r.detail);
  };
  Status st = tpm_util_probe_version(transact, &version_);
  if (!st) {
    QTPM_TRACE("tpm_passthrough_probe_failed", "%s: %s", path_.c_str(), st.message().c_str());
    close_all();
    return Status::errorf("'%s' is not a TPM device.", path_.c_str());
  }
  st = open_cancel_file();
  if (!st) {
    close_all();
    return st;
  }
  // The buffer size never changes; asking once here keeps the device to the worker afterwards.
  st = tpm_util_query_buffer_size(transact, version_, &buffer_size_);
  if (!st) {
    QTPM_TRACE("tpm_passthrough_buffer_size", "%s: %s; assuming 4096", path_.c_str(),
               st.message().c_str());
    buffer_size_ = 4096;
  }
  QTPM_TRACE("tpm_passthrough_realized", "%s: TPM %s, buffer %u, cancel %s", path_.c_str(),
             tpm_version_name(version_), buffer_size_, cancel_file_.c_str());
  return Status::ok();
}

Status PassthroughBackend::open_cancel_file() {
  if (!cancel_path_.empty()) {
    cancel_fd_ = open(cancel_path_.c_str(), O_WRONLY | O_CLOEXEC);
    if (cancel_fd_ < 0) {
      return Status::errorf("tpm_passthrough: Could not open TPM cancel path: %s",
                            std::strerror(errno));
    }
    cancel_file_ = cancel_path_;
    return Status::ok();
  }
  // Find it in sysfs by the device's name: /dev/tpm0 -> tpm0.
  size_t slash = path_.rfind('/');
  if (slash == std::string::npos || slash + 1 == path_.size()) {
    return Status::errorf("tpm_passthrough: Bad TPM device path %s", path_.c_str());
  }
  const std::string dev = path_.substr(slash + 1);
  for (const char *cls : {"tpm", "misc"}) {
    std::string candidate = strprintf("/sys/class/%s/%s/device/cancel", cls, dev.c_str());
    cancel_fd_ = open(candidate.c_str(), O_WRONLY | O_CLOEXEC);
    if (cancel_fd_ >= 0) {
      cancel_file_ = candidate;
      return Status::ok();
    }
  }
  return Status::error("tpm_passthrough: Could not guess TPM cancel path");
}

void PassthroughBackend::do_unrealize() {
  // A worker waiting for the TPM is released by a cancel; its wait is bounded in any case.
  do_cancel();
  stop_worker();
  close_all();
}

Status PassthroughBackend::do_startup(uint32_t buffer_size) {
  if (buffer_size != 0 && buffer_size < buffer_size_) {
    return Status::errorf("tpm-passthrough: Requested buffer size of %u is smaller than host "
                          "TPM's fixed buffer size of %u",
                          buffer_size, buffer_size_);
  }
  if (out_of_step_) {
    // A response that came too late would be taken for the next one: drop what has arrived.
    peer_drain_queued(tpm_fd_, size_t{kTpmBufferSizeMax} * 2);
    out_of_step_ = false;
  }
  reporter_.rearm();
  return Status::ok();
}

void PassthroughBackend::do_backend_reset() { do_cancel(); }

void PassthroughBackend::handle_request(TpmRequest &request) {
  if (out_of_step_) {
    request.status = Status::error(
        "tpm-passthrough: the TPM device is unusable after an earlier failure");
    return;
  }
  uint32_t limit = buffer_size_;
  if (request.max_response) limit = std::min(limit, request.max_response);
  // Cancellable for the whole exchange (QEMU 7.2 only while writing the command).
  tpm_util_show_buffer("To TPM", request.command);
  executing_ = true;
  TpmExchangeResult x = tpm_stream_exchange(tpm_fd_, request.command, limit,
                                            Deadline(timeout_ms()), &request.response);
  executing_ = false;
  if (!x.ok()) {
    out_of_step_ = true;
    request.response.clear();
    std::string msg = strprintf("TPM device '%s' %s", path_.c_str(), x.detail.c_str());
    reporter_.report(PeerErrorReporter::key(x.fault), msg);
    request.status = Status::error("tpm-passthrough: " + msg);
    return;
  }
  tpm_util_show_buffer("From TPM", request.response);
  tpm_util_note_selftest(request);
}

void PassthroughBackend::do_cancel() {
  if (!executing_ || cancel_fd_ < 0) return;
  if (write(cancel_fd_, "-", 1) != 1) {
    reporter_.report(PeerErrorReporter::key(PeerFault::kIoError, 1),
                     strprintf("Canceling TPM command failed: %s", std::strerror(errno)));
  }
}

std::vector<std::pair<std::string, std::string>> PassthroughBackend::tpm_options() const {
  // As QEMU: a cancel path found in sysfs is not shown, only one the user gave.
  std::vector<std::pair<std::string, std::string>> opts{{"path", path_}};
  if (!cancel_path_.empty()) opts.emplace_back("cancel-path", cancel_path_);
  return opts;
}

bool PassthroughBackend::blocks_migration(std::string *reason) const {
  if (reason) *reason = "Migration disabled: TPM passthrough does not support migration";
  return true;
}

void register_tpm_passthrough_types() {
  TypeInfo info = make_type<PassthroughBackend>(kTypeTpmPassthrough, kTypeTpmBackend,
                                                "Passthrough TPM backend driver");
  type_register(std::move(info));
}

}  // namespace qtpm
