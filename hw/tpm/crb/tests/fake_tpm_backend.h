// SPDX-License-Identifier: GPL-2.0-or-later
//
// A scripted TpmBackend for the tpm-crb unit tests and fuzzer: canned responses, failures,
// startup errors and a "hold" mode in which a command runs until the test releases or cancels it.
// It runs on the backend core's real worker thread, so completions are asynchronous as with
// swtpm or libtpms.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

#include "backends/tpm/tpm_backend.h"
#include "qom/testing.h"

namespace qtpm::testing {

// TPM2 response header with a return code and no body.
inline std::vector<uint8_t> tpm2_response(uint32_t rc) {
  return {0x80, 0x01, 0, 0, 0, 0x0a, uint8_t(rc >> 24), uint8_t(rc >> 16), uint8_t(rc >> 8),
          uint8_t(rc)};
}

inline constexpr uint32_t kTpmRcCanceled = 0x909;

class FakeTpmBackend : public TpmBackend {
 public:
  struct Reply {
    std::vector<uint8_t> response;
    bool fail = false;  // request.status not ok (the core writes the fatal response)
  };

  ~FakeTpmBackend() override { stop_worker_now(); }

  // Configuration (before use).
  TpmVersion tpm_version = TpmVersion::k2_0;
  uint32_t max_buffer = 4096;
  bool fail_startup = false;
  bool established = false;

  // Scripted replies, in order; when empty, every command gets TPM_RC_SUCCESS.
  void push_reply(Reply reply) {
    std::lock_guard<std::mutex> lock(mu_);
    replies_.push_back(std::move(reply));
  }
  // Hold mode: commands wait for release() or a cancel before they answer.
  void set_hold(bool hold) {
    std::lock_guard<std::mutex> lock(mu_);
    hold_ = hold;
  }
  void release() {
    std::lock_guard<std::mutex> lock(mu_);
    released_ = true;
    cv_.notify_all();
  }
  // Blocks until a command is being held (so a test can act while it runs).
  bool wait_held(int timeout_ms = 5000) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [this] { return holding_; });
  }

  // What the backend saw.
  std::vector<std::vector<uint8_t>> commands() const {
    std::lock_guard<std::mutex> lock(mu_);
    return commands_;
  }
  std::vector<uint32_t> startups() const { return startups_; }
  int cancels() const {
    std::lock_guard<std::mutex> lock(mu_);
    return cancels_;
  }
  int resets = 0;

  // TpmBackend
  TpmVersion version() const override { return tpm_version; }
  uint32_t buffer_size() override { return max_buffer; }
  bool established_flag() override { return established; }
  std::string tpm_type() const override { return "fake"; }
  std::vector<std::pair<std::string, std::string>> tpm_options() const override { return {}; }

 protected:
  void handle_request(TpmRequest &request) override {
    std::unique_lock<std::mutex> lock(mu_);
    commands_.push_back(request.command);
    if (hold_) {
      holding_ = true;
      cv_.notify_all();
      cv_.wait(lock, [this] { return released_ || cancelled_ || stopping_; });
      holding_ = false;
      bool cancelled = cancelled_;
      released_ = cancelled_ = false;
      if (cancelled) {
        request.response = tpm2_response(kTpmRcCanceled);
        return;
      }
    }
    if (replies_.empty()) {
      request.response = tpm2_response(0);
      return;
    }
    Reply reply = std::move(replies_.front());
    replies_.pop_front();
    request.response = std::move(reply.response);
    if (reply.fail) request.status = Status::error("fake: scripted failure");
  }
  Status do_startup(uint32_t buffer_size) override {
    startups_.push_back(buffer_size);
    return fail_startup ? Status::error("fake: scripted startup failure") : Status::ok();
  }
  void do_backend_reset() override { resets++; }
  void do_cancel() override {
    std::lock_guard<std::mutex> lock(mu_);
    cancels_++;
    cancelled_ = true;
    cv_.notify_all();
  }

 private:
  void stop_worker_now() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
      cv_.notify_all();
    }
    stop_worker();
  }

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Reply> replies_;
  std::vector<std::vector<uint8_t>> commands_;
  std::vector<uint32_t> startups_;
  bool hold_ = false, holding_ = false, released_ = false, cancelled_ = false, stopping_ = false;
  int cancels_ = 0;
};

// TestHost that also counts the one-line error reports a device makes.
class CrbTestHost : public TestHost {
 public:
  void report_error(std::string_view message) override {
    errors.emplace_back(message);
  }
  std::vector<std::string> errors;
};

}  // namespace qtpm::testing
