// SPDX-License-Identifier: GPL-2.0-or-later
//
// A scripted TPM backend for the TIS unit tests and fuzzer: answers each command with the next
// scripted response (or a 10-byte success), can fail a command or its startup, can be held
// "executing" until the test releases it, and records what it was sent, from which locality,
// and how often it was cancelled, reset and started.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "backends/tpm/tpm_backend.h"

namespace qtpm::testing {

class FakeTpmBackend : public TpmBackend {
 public:
  struct Response {
    std::vector<uint8_t> bytes;
    bool fail = false;           // status error (the backend core substitutes a fatal response
                                 // when the bytes are shorter than a header)
    bool selftest_done = false;  // as a 1.2 backend reports ContinueSelfTest success
  };

  explicit FakeTpmBackend(TpmVersion version = TpmVersion::k2_0, uint32_t buffer_size = 4096)
      : version_(version), buffer_size_(buffer_size) {}
  ~FakeTpmBackend() override {
    release();
    stop_worker();
  }

  TpmVersion version() const override { return version_; }
  uint32_t buffer_size() override { return buffer_size_; }
  bool established_flag() override { return established_; }
  Status reset_established_flag(uint8_t locality) override {
    std::lock_guard<std::mutex> lock(mu_);
    reset_established_localities_.push_back(locality);
    established_ = false;
    return Status::ok();
  }
  std::string tpm_type() const override { return "fake"; }
  std::vector<std::pair<std::string, std::string>> tpm_options() const override { return {}; }

  // Script ------------------------------------------------------------------------------------
  void set_version(TpmVersion v) { version_ = v; }
  void set_buffer_size(uint32_t size) { buffer_size_ = size; }
  void set_established(bool established) { established_ = established; }
  void set_fail_startup(bool fail) { fail_startup_ = fail; }
  void push_response(Response r) {
    std::lock_guard<std::mutex> lock(mu_);
    script_.push_back(std::move(r));
  }
  // While held, a command stays "executing" on the worker until release().
  void hold() {
    std::lock_guard<std::mutex> lock(mu_);
    held_ = true;
  }
  void release() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      held_ = false;
    }
    cv_.notify_all();
  }
  // Waits until the worker has picked up a command (so a held one is really executing).
  bool wait_executing(int timeout_ms = 5000) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                        [this] { return executing_; });
  }

  // Records -----------------------------------------------------------------------------------
  std::vector<std::vector<uint8_t>> commands() const {
    std::lock_guard<std::mutex> lock(mu_);
    return commands_;
  }
  std::vector<uint8_t> localities() const {
    std::lock_guard<std::mutex> lock(mu_);
    return localities_;
  }
  std::vector<uint8_t> reset_established_localities() const {
    std::lock_guard<std::mutex> lock(mu_);
    return reset_established_localities_;
  }
  int cancels() const { return cancels_; }
  int startups() const { return startups_; }
  int resets() const { return resets_; }

 protected:
  void handle_request(TpmRequest &request) override {
    std::unique_lock<std::mutex> lock(mu_);
    commands_.push_back(request.command);
    localities_.push_back(request.locality);
    executing_ = true;
    cv_.notify_all();
    cv_.wait(lock, [this] { return !held_; });
    executing_ = false;
    Response r;
    if (!script_.empty()) {
      r = std::move(script_.front());
      script_.pop_front();
    } else {
      // TPM_RC_SUCCESS with the command's tag (TPM 1.2: 0x00c4 for 0x00c1).
      uint16_t tag = request.command.size() >= 2 ? tpm_header_tag(request.command.data()) : 0;
      uint8_t rtag = tag == 0x00c1 ? 0xc4 : tag == 0x00c2 ? 0xc5 : tag == 0x00c3 ? 0xc6 : 0x01;
      r.bytes = {static_cast<uint8_t>(rtag == 0x01 ? 0x80 : 0x00), rtag, 0, 0, 0, 10, 0, 0, 0, 0};
    }
    request.response = std::move(r.bytes);
    request.selftest_done = r.selftest_done;
    if (r.fail) request.status = Status::error("fake: scripted failure");
  }
  Status do_startup(uint32_t buffer_size) override {
    startups_++;
    last_startup_size_ = buffer_size;
    return fail_startup_ ? Status::error("fake: refused to start") : Status::ok();
  }
  void do_backend_reset() override { resets_++; }
  void do_cancel() override { cancels_++; }

 public:
  uint32_t last_startup_size() const { return last_startup_size_; }

 private:
  std::atomic<TpmVersion> version_;
  std::atomic<uint32_t> buffer_size_;
  std::atomic<bool> established_{false};
  bool fail_startup_ = false;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool held_ = false;
  bool executing_ = false;
  std::deque<Response> script_;
  std::vector<std::vector<uint8_t>> commands_;
  std::vector<uint8_t> localities_;
  std::vector<uint8_t> reset_established_localities_;
  std::atomic<int> cancels_{0}, startups_{0}, resets_{0};
  std::atomic<uint32_t> last_startup_size_{0};
};

}  // namespace qtpm::testing
