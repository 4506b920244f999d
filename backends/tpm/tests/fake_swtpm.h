// SPDX-License-Identifier: GPL-2.0-or-later
//
// A scripted, fault-injecting swtpm for tests (C++ interface; fake_swtpm_c.h has the C one and
// the list of faults).  Protocol facts come from swtpm_protocol.h; behaviour mirrors swtpm
// 0.7.1 where a client could notice: 4-byte error replies, GET_STATEBLOB's full header even on
// error, SET_BUFFERSIZE refused while running, commands refused while stopped, SET_DATAFD
// refused while a data connection is open, TPM commands answered with a failure before INIT.
//
// One thread serves everything with poll(), so control commands are answered even while a slow
// TPM command is pending (unlike swtpm 0.7.1, which cannot cancel; that is what makes cancel
// testable).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "backends/tpm/tests/fake_swtpm_c.h"

namespace qtpm::testing {

class FakeSwtpm {
 public:
  struct Options {
    bool tpm2 = true;
    uint32_t caps = 0;  // 0: what swtpm 0.7.1 offers (0xffff for TPM 2, 0x7fff for TPM 1.2)
  };
  struct DataCommand {
    std::vector<uint8_t> bytes;
    uint8_t locality;
  };
  // A custom TPM: return a response for the command, or nothing for the built-in answer.
  using Responder =
      std::function<std::optional<std::vector<uint8_t>>(const std::vector<uint8_t> &, uint8_t)>;

  FakeSwtpm(std::string ctrl_path, Options options);
  explicit FakeSwtpm(std::string ctrl_path) : FakeSwtpm(std::move(ctrl_path), Options{}) {}
  ~FakeSwtpm();
  FakeSwtpm(const FakeSwtpm &) = delete;
  FakeSwtpm &operator=(const FakeSwtpm &) = delete;

  // False when the socket could not be created (the path is then in error()).
  bool listening() const { return listen_fd_ >= 0; }
  const std::string &ctrl_path() const { return path_; }

  void set_caps(uint32_t caps);
  void set_buffer_sizes(uint32_t current, uint32_t min, uint32_t max);
  void set_established(bool established);
  void set_response(uint32_t ordinal, std::vector<uint8_t> response);
  void set_responder(Responder responder);
  // State blobs handed out by GET_STATEBLOB (type 1..3); empty = "none" (result 0x800).
  void set_blob(uint32_t type, std::vector<uint8_t> blob);
  std::vector<uint8_t> blob(uint32_t type) const;

  void inject_data(fake_swtpm_fault fault, int count = 1, unsigned delay_ms = 0);
  void inject_ctrl(uint32_t ctrl_cmd, fake_swtpm_fault fault, int count = 1, uint32_t result = 0);

  std::vector<DataCommand> data_log() const;
  size_t data_count() const;
  std::vector<uint32_t> ctrl_log() const;
  size_t ctrl_count(uint32_t ctrl_cmd) const;  // 0: all
  std::vector<uint8_t> localities() const;     // every SET_LOCALITY value, in order
  std::vector<uint8_t> reset_established_localities() const;
  std::vector<uint32_t> init_flags() const;     // every INIT, in order
  std::vector<uint32_t> buffer_size_requests() const;
  unsigned cancels() const;
  bool running() const;
  bool alive() const;
  bool established() const;
  bool wait_data_commands(size_t n, int timeout_ms) const;

 private:
  struct Fault {
    fake_swtpm_fault kind = FAKE_SWTPM_OK;
    int count = 0;
    unsigned delay_ms = 0;
    uint32_t ctrl_cmd = 0;
    uint32_t result = 0;
  };
  void serve();
  void accept_client();
  void handle_ctrl();
  // The reply to a well-formed control command (swtpm's behaviour); may take *passed_fd.
  std::vector<uint8_t> answer_ctrl(uint32_t code, const std::vector<uint8_t> &payload,
                                   const std::vector<uint8_t> &body, int *passed_fd, Fault *fault,
                                   bool *exit_after_reply);
  void handle_data();
  void finish_slow(bool cancelled);
  bool take_fault(Fault &slot, uint32_t ctrl_cmd, Fault *out);
  void die();
  void close_data();
  std::vector<uint8_t> tpm_answer(const std::vector<uint8_t> &cmd, uint8_t locality);
  std::vector<uint8_t> builtin_answer(const std::vector<uint8_t> &cmd) const;
  void send_data(const std::vector<uint8_t> &bytes, size_t len);
  void reply_ctrl(uint32_t code, std::vector<uint8_t> reply, const Fault &fault);
  bool read_ctrl(void *buf, size_t len);

  std::string path_;
  bool tpm2_;
  int listen_fd_ = -1;
  int ctrl_fd_ = -1;
  int data_fd_ = -1;
  int wake_[2] = {-1, -1};
  std::thread thread_;

  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  bool quit_ = false;
  bool frozen_ = false;
  bool dead_ = false;
  bool running_ = false;
  bool established_ = false;
  uint32_t caps_;
  uint32_t buf_current_, buf_min_, buf_max_;
  uint8_t locality_ = 0;
  int last_locality_ = -1;
  unsigned cancels_ = 0;
  Fault data_fault_, ctrl_fault_;
  std::map<uint32_t, std::vector<uint8_t>> responses_;
  Responder responder_;
  std::vector<uint8_t> blobs_[3];
  // A slow answer waiting for its time (or a cancel).
  std::optional<std::vector<uint8_t>> slow_answer_;
  std::chrono::steady_clock::time_point slow_due_;

  std::vector<DataCommand> data_log_;
  std::vector<uint32_t> ctrl_log_;
  std::vector<uint8_t> localities_, reset_est_localities_;
  std::vector<uint32_t> init_flags_, buffer_requests_;
};

}  // namespace qtpm::testing
