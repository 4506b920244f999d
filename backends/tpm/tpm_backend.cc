// SPDX-License-Identifier: GPL-2.0-or-later
//
// The TPM backend core: request slot, worker thread, completion delivery (see tpm_backend.h).
#include "backends/tpm/tpm_backend.h"

#include <cassert>

#include "qom/trace.h"

namespace qtpm {

const char *tpm_version_name(TpmVersion v) {
  switch (v) {
    case TpmVersion::k1_2: return "1.2";
    case TpmVersion::k2_0: return "2.0";
    case TpmVersion::kUnspec: break;
  }
  return "unspecified";
}

uint16_t tpm_header_tag(const uint8_t *buf) {
  return static_cast<uint16_t>(buf[0] << 8 | buf[1]);
}

uint32_t tpm_header_size(const uint8_t *buf) {
  return uint32_t{buf[2]} << 24 | uint32_t{buf[3]} << 16 | uint32_t{buf[4]} << 8 | buf[5];
}

uint32_t tpm_header_code(const uint8_t *buf) {
  return uint32_t{buf[6]} << 24 | uint32_t{buf[7]} << 16 | uint32_t{buf[8]} << 8 | buf[9];
}

TpmBackend::TpmBackend() = default;

TpmBackend::~TpmBackend() {
  // A subclass should have stopped the worker already (its handle_request uses its members);
  // this is the last safety net for the core's own state.
  stop_worker();
}

Status TpmBackend::attach(TpmFrontend *frontend) {
  if (frontend_ && frontend_ != frontend) {
    return Status::errorf("TPM backend '%s' is already initialized", id().c_str());
  }
  frontend_ = frontend;
  had_startup_error_ = false;
  return Status::ok();
}

void TpmBackend::detach() {
  finish_sync();
  frontend_ = nullptr;
}

void TpmBackend::write_fatal_response(TpmRequest &request) {
  // TPM_TAG_RSP_COMMAND, size 10, TPM_FAIL: what QEMU writes for every version.  Linux, SeaBIOS
  // and OVMF treat any non-zero return code as a failed command.
  static const uint8_t kFatal[kTpmHeaderSize] = {0x00, 0xc4, 0, 0, 0, 0x0a, 0, 0, 0, 0x09};
  if (request.max_response != 0 && request.max_response < kTpmHeaderSize) {
    request.response.clear();
    return;
  }
  request.response.assign(kFatal, kFatal + kTpmHeaderSize);
}

Status TpmBackend::startup(uint32_t buffer_size) {
  finish_sync();
  Status st = do_startup(buffer_size);
  had_startup_error_ = !st.is_ok();
  if (!st) QTPM_TRACE("tpm_backend_startup_error", "%s: %s", id().c_str(), st.message().c_str());
  return st;
}

void TpmBackend::reset() {
  do_backend_reset();
  finish_sync();
  had_startup_error_ = false;
}

std::unique_ptr<TpmRequest> TpmBackend::deliver(std::unique_ptr<TpmRequest> request) {
  assert(host_ && "a backend needs HostServices before its first request");
  std::unique_lock<std::mutex> lock(mu_);
  if (pending_) {
    lock.unlock();
    log_guest(LogCategory::kGuestError,
              "TPM backend '%s': a request is already pending; refusing the new one",
              id().c_str());
    return request;
  }
  pending_ = true;
  if (had_startup_error_) {
    // No TPM to talk to: answer as a failing TPM, through the same asynchronous path.
    request->status = Status::error("TPM backend had a startup error");
    write_fatal_response(*request);
    finished_ = std::move(request);
    uint64_t gen = generation_;
    lock.unlock();
    host_->completion_loop().post([this, gen] {
      std::unique_ptr<TpmRequest> done;
      {
        std::lock_guard<std::mutex> l(mu_);
        if (gen != generation_ || !finished_) return;
        done = std::move(finished_);
      }
      complete(std::move(done));
    });
    return nullptr;
  }
  queued_ = std::move(request);
  if (!worker_.joinable()) {
    stop_ = false;
    worker_ = std::thread([this] { worker_main(); });
  }
  lock.unlock();
  cv_.notify_all();
  return nullptr;
}

bool TpmBackend::request_pending() const {
  std::lock_guard<std::mutex> lock(mu_);
  return pending_;
}

void TpmBackend::worker_main() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return stop_ || queued_; });
    if (!queued_) return;  // stop_ with nothing queued
    std::unique_ptr<TpmRequest> req = std::move(queued_);
    lock.unlock();
    handle_request(*req);
    if (!req->status.is_ok() && req->response.size() < kTpmHeaderSize) write_fatal_response(*req);
    // A response longer than the negotiated buffer is a backend bug or a hostile peer: never hand
    // it to the frontend (its buffer is max_response bytes).
    if (req->max_response && req->response.size() > req->max_response) {
      req->status = Status::errorf("response of %zu bytes exceeds the buffer of %u bytes",
                                   req->response.size(), req->max_response);
      write_fatal_response(*req);
    }
    lock.lock();
    finished_ = std::move(req);
    uint64_t gen = generation_;
    cv_.notify_all();
    if (stop_) return;
    host_->completion_loop().post([this, gen] {
      std::unique_ptr<TpmRequest> done;
      {
        std::lock_guard<std::mutex> l(mu_);
        if (gen != generation_ || !finished_) return;  // finish_sync took it already
        done = std::move(finished_);
      }
      complete(std::move(done));
    });
  }
}

void TpmBackend::complete(std::unique_ptr<TpmRequest> request) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    pending_ = false;
    generation_++;
  }
  if (!request->status.is_ok()) {
    QTPM_TRACE("tpm_backend_request_failed", "%s: %s", id().c_str(),
               request->status.message().c_str());
  }
  if (frontend_) frontend_->tpm_request_completed(std::move(request));
}

void TpmBackend::finish_sync() {
  std::unique_ptr<TpmRequest> done;
  {
    std::unique_lock<std::mutex> lock(mu_);
    if (!pending_) return;
    cv_.wait(lock, [this] { return finished_ != nullptr; });
    done = std::move(finished_);
  }
  complete(std::move(done));
}

void TpmBackend::cancel() {
  if (request_pending()) do_cancel();
}

void TpmBackend::stop_worker() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();
}

}  // namespace qtpm
