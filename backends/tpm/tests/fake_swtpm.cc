// SPDX-License-Identifier: GPL-2.0-or-later
//
// The scripted, fault-injecting swtpm (see fake_swtpm.h).  Test code, but held to the same rule
// as the rest: bounded waits only, so a confused test fails instead of hanging.
#include "backends/tpm/tests/fake_swtpm.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "backends/tpm/swtpm_protocol.h"

namespace qtpm::testing {

namespace {

constexpr int kChunkTimeoutMs = 1000;       // one piece of a message must arrive within this
constexpr uint32_t kMaxTpmCommand = 65536;  // larger header sizes are treated as garbage
constexpr uint32_t kMaxBlob = 1 << 20;

void put32(std::vector<uint8_t> &v, uint32_t x) {
  v.push_back(static_cast<uint8_t>(x >> 24));
  v.push_back(static_cast<uint8_t>(x >> 16));
  v.push_back(static_cast<uint8_t>(x >> 8));
  v.push_back(static_cast<uint8_t>(x));
}

uint32_t get32(const uint8_t *p) {
  return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3];
}

// A TPM response: tag, size (fixed up), return code, then `params`.
std::vector<uint8_t> tpm_response(uint16_t tag, uint32_t rc, const std::vector<uint8_t> &params) {
  std::vector<uint8_t> r{static_cast<uint8_t>(tag >> 8), static_cast<uint8_t>(tag)};
  put32(r, static_cast<uint32_t>(10 + params.size()));
  put32(r, rc);
  r.insert(r.end(), params.begin(), params.end());
  return r;
}

bool read_full(int fd, void *buf, size_t len) {
  auto *p = static_cast<uint8_t *>(buf);
  while (len > 0) {
    pollfd pfd{fd, POLLIN, 0};
    if (poll(&pfd, 1, kChunkTimeoutMs) <= 0) return false;
    ssize_t n = read(fd, p, len);
    if (n <= 0) return false;
    p += n;
    len -= static_cast<size_t>(n);
  }
  return true;
}

void write_full(int fd, const uint8_t *p, size_t len) {
  while (len > 0) {
    pollfd pfd{fd, POLLOUT, 0};
    if (poll(&pfd, 1, kChunkTimeoutMs) <= 0) return;
    ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
    if (n <= 0) return;
    p += n;
    len -= static_cast<size_t>(n);
  }
}

// Request payload sizes after the command code (the swtpm_protocol.h wire sizes).
size_t ctrl_payload_size(uint32_t code) {
  using swtpm::Cmd;
  switch (static_cast<Cmd>(code)) {
    case Cmd::kInit:
    case Cmd::kSetLocality:
    case Cmd::kResetTpmEstablished:
    case Cmd::kSetBufferSize:
    case Cmd::kLockStorage:
    case Cmd::kHashData:  // u32 length; the data follows
      return 4;
    case Cmd::kGetStateBlob:
    case Cmd::kSetStateBlob:  // flags, type, length; the data follows
      return 12;
    case Cmd::kGetInfo:
      return 16;
    default:
      return 0;
  }
}

std::vector<uint8_t> result_only(uint32_t result) {
  std::vector<uint8_t> r;
  put32(r, result);
  return r;
}

}  // namespace

FakeSwtpm::FakeSwtpm(std::string ctrl_path, Options options)
    : path_(std::move(ctrl_path)), tpm2_(options.tpm2) {
  caps_ = options.caps ? options.caps : (tpm2_ ? 0xffffu : 0x7fffu);
  buf_current_ = 4096;
  buf_min_ = tpm2_ ? 2808 : 3072;
  buf_max_ = 4096;
  blobs_[0] = {'f', 'a', 'k', 'e', '-', 'p', 'e', 'r', 'm'};
  blobs_[1] = {'f', 'a', 'k', 'e', '-', 'v', 'o', 'l'};

  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path_.size() >= sizeof addr.sun_path) return;
  std::memcpy(addr.sun_path, path_.c_str(), path_.size() + 1);
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) return;
  unlink(path_.c_str());
  if (bind(s, reinterpret_cast<sockaddr *>(&addr), sizeof addr) < 0 || listen(s, 4) < 0 ||
      pipe2(wake_, O_CLOEXEC | O_NONBLOCK) < 0) {
    close(s);
    return;
  }
  listen_fd_ = s;
  thread_ = std::thread([this] { serve(); });
}

FakeSwtpm::~FakeSwtpm() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    quit_ = true;
  }
  if (wake_[1] >= 0) {
    char c = 'q';
    (void)!write(wake_[1], &c, 1);
  }
  if (thread_.joinable()) thread_.join();
  for (int fd : {listen_fd_, ctrl_fd_, data_fd_, wake_[0], wake_[1]})
    if (fd >= 0) close(fd);
  unlink(path_.c_str());
}

// ---------------------------------------------------------------------------------------------
// Configuration and records (test thread).

void FakeSwtpm::set_caps(uint32_t caps) {
  std::lock_guard<std::mutex> lock(mu_);
  caps_ = caps;
}

void FakeSwtpm::set_buffer_sizes(uint32_t current, uint32_t min, uint32_t max) {
  std::lock_guard<std::mutex> lock(mu_);
  buf_current_ = current;
  buf_min_ = min;
  buf_max_ = max;
}

void FakeSwtpm::set_established(bool established) {
  std::lock_guard<std::mutex> lock(mu_);
  established_ = established;
}

void FakeSwtpm::set_response(uint32_t ordinal, std::vector<uint8_t> response) {
  std::lock_guard<std::mutex> lock(mu_);
  responses_[ordinal] = std::move(response);
}

void FakeSwtpm::set_responder(Responder responder) {
  std::lock_guard<std::mutex> lock(mu_);
  responder_ = std::move(responder);
}

void FakeSwtpm::set_blob(uint32_t type, std::vector<uint8_t> blob) {
  std::lock_guard<std::mutex> lock(mu_);
  if (type >= 1 && type <= 3) blobs_[type - 1] = std::move(blob);
}

std::vector<uint8_t> FakeSwtpm::blob(uint32_t type) const {
  std::lock_guard<std::mutex> lock(mu_);
  return type >= 1 && type <= 3 ? blobs_[type - 1] : std::vector<uint8_t>{};
}

void FakeSwtpm::inject_data(fake_swtpm_fault fault, int count, unsigned delay_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  data_fault_ = Fault{fault, count, delay_ms, 0, 0};
}

void FakeSwtpm::inject_ctrl(uint32_t ctrl_cmd, fake_swtpm_fault fault, int count,
                            uint32_t result) {
  std::lock_guard<std::mutex> lock(mu_);
  ctrl_fault_ = Fault{fault, count, 0, ctrl_cmd, result};
}

std::vector<FakeSwtpm::DataCommand> FakeSwtpm::data_log() const {
  std::lock_guard<std::mutex> lock(mu_);
  return data_log_;
}

size_t FakeSwtpm::data_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return data_log_.size();
}

std::vector<uint32_t> FakeSwtpm::ctrl_log() const {
  std::lock_guard<std::mutex> lock(mu_);
  return ctrl_log_;
}

size_t FakeSwtpm::ctrl_count(uint32_t ctrl_cmd) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (ctrl_cmd == 0) return ctrl_log_.size();
  return static_cast<size_t>(std::count(ctrl_log_.begin(), ctrl_log_.end(), ctrl_cmd));
}

std::vector<uint8_t> FakeSwtpm::localities() const {
  std::lock_guard<std::mutex> lock(mu_);
  return localities_;
}

std::vector<uint8_t> FakeSwtpm::reset_established_localities() const {
  std::lock_guard<std::mutex> lock(mu_);
  return reset_est_localities_;
}

std::vector<uint32_t> FakeSwtpm::init_flags() const {
  std::lock_guard<std::mutex> lock(mu_);
  return init_flags_;
}

std::vector<uint32_t> FakeSwtpm::buffer_size_requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return buffer_requests_;
}

unsigned FakeSwtpm::cancels() const {
  std::lock_guard<std::mutex> lock(mu_);
  return cancels_;
}

bool FakeSwtpm::running() const {
  std::lock_guard<std::mutex> lock(mu_);
  return running_;
}

bool FakeSwtpm::alive() const {
  std::lock_guard<std::mutex> lock(mu_);
  return !dead_;
}

bool FakeSwtpm::established() const {
  std::lock_guard<std::mutex> lock(mu_);
  return established_;
}

bool FakeSwtpm::wait_data_commands(size_t n, int timeout_ms) const {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                      [&] { return data_log_.size() >= n; });
}

// ---------------------------------------------------------------------------------------------
// The server thread.  Every handler runs with mu_ held.

void FakeSwtpm::serve() {
  for (;;) {
    std::vector<pollfd> fds;
    int timeout = -1;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (quit_) return;
      fds.push_back({wake_[0], POLLIN, 0});
      if (!frozen_ && !dead_) {
        if (listen_fd_ >= 0 && ctrl_fd_ < 0) fds.push_back({listen_fd_, POLLIN, 0});
        if (ctrl_fd_ >= 0) fds.push_back({ctrl_fd_, POLLIN, 0});
        if (data_fd_ >= 0 && !slow_answer_) fds.push_back({data_fd_, POLLIN, 0});
        if (slow_answer_) {
          auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
              slow_due_ - std::chrono::steady_clock::now());
          timeout = static_cast<int>(std::max<int64_t>(0, left.count()));
        }
      }
    }
    int n = poll(fds.data(), fds.size(), timeout);
    if (n < 0 && errno != EINTR) return;
    std::lock_guard<std::mutex> lock(mu_);
    if (quit_) return;
    if (fds[0].revents) {
      char drain[16];
      while (read(wake_[0], drain, sizeof drain) > 0) {
      }
    }
    if (frozen_ || dead_) continue;
    if (slow_answer_ && std::chrono::steady_clock::now() >= slow_due_) finish_slow(false);
    for (size_t i = 1; i < fds.size(); i++) {
      if (!fds[i].revents || frozen_ || dead_) continue;
      if (fds[i].fd == listen_fd_) {
        accept_client();
      } else if (fds[i].fd == ctrl_fd_) {
        handle_ctrl();
      } else if (fds[i].fd == data_fd_ && !slow_answer_) {
        handle_data();
      }
    }
  }
}

void FakeSwtpm::accept_client() {
  int c = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
  if (c >= 0) ctrl_fd_ = c;
}

bool FakeSwtpm::take_fault(Fault &slot, uint32_t ctrl_cmd, Fault *out) {
  if (slot.kind == FAKE_SWTPM_OK || slot.count == 0) return false;
  if (slot.ctrl_cmd != 0 && slot.ctrl_cmd != ctrl_cmd) return false;
  *out = slot;
  if (slot.count > 0 && --slot.count == 0) slot.kind = FAKE_SWTPM_OK;
  return true;
}

void FakeSwtpm::die() {
  // What a client sees when swtpm exits: every connection closes, nobody listens any more.
  dead_ = true;
  running_ = false;
  slow_answer_.reset();
  for (int *fd : {&ctrl_fd_, &data_fd_, &listen_fd_}) {
    if (*fd >= 0) close(*fd);
    *fd = -1;
  }
  unlink(path_.c_str());
}

void FakeSwtpm::close_data() {
  if (data_fd_ >= 0) close(data_fd_);
  data_fd_ = -1;
  slow_answer_.reset();
}

bool FakeSwtpm::read_ctrl(void *buf, size_t len) { return read_full(ctrl_fd_, buf, len); }

void FakeSwtpm::handle_ctrl() {
  // The command code, with a descriptor attached for SET_DATAFD.
  uint8_t code_buf[4];
  iovec iov{code_buf, sizeof code_buf};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n = recvmsg(ctrl_fd_, &msg, MSG_CMSG_CLOEXEC);
  if (n <= 0) {
    close(ctrl_fd_);  // the client went away; wait for the next one
    ctrl_fd_ = -1;
    return;
  }
  int passed_fd = -1;
  for (cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
      std::memcpy(&passed_fd, CMSG_DATA(c), sizeof(int));
    }
  }
  if (n < 4 && !read_ctrl(code_buf + n, 4 - static_cast<size_t>(n))) {
    if (passed_fd >= 0) close(passed_fd);
    close(ctrl_fd_);
    ctrl_fd_ = -1;
    return;
  }
  const uint32_t code = get32(code_buf);
  std::vector<uint8_t> payload(ctrl_payload_size(code));
  bool ok = payload.empty() || read_ctrl(payload.data(), payload.size());
  std::vector<uint8_t> body;
  if (ok && (code == static_cast<uint32_t>(swtpm::Cmd::kSetStateBlob) ||
             code == static_cast<uint32_t>(swtpm::Cmd::kHashData))) {
    uint32_t len = get32(&payload[payload.size() - 4]);
    ok = len <= kMaxBlob;
    if (ok) {
      body.resize(len);
      ok = len == 0 || read_ctrl(body.data(), len);
    }
  }
  ctrl_log_.push_back(code);
  if (!ok) {
    if (passed_fd >= 0) close(passed_fd);
    close(ctrl_fd_);
    ctrl_fd_ = -1;
    return;
  }

  Fault fault;
  if (take_fault(ctrl_fault_, code, &fault)) {
    switch (fault.kind) {
      case FAKE_SWTPM_CTRL_DIE:
      case FAKE_SWTPM_DATA_DIE:
        if (passed_fd >= 0) close(passed_fd);
        die();
        return;
      case FAKE_SWTPM_CTRL_NO_REPLY:
        if (passed_fd >= 0) close(passed_fd);
        return;
      case FAKE_SWTPM_FREEZE:
        if (passed_fd >= 0) close(passed_fd);
        frozen_ = true;
        return;
      case FAKE_SWTPM_CTRL_RESULT: {
        if (passed_fd >= 0) close(passed_fd);
        std::vector<uint8_t> r = result_only(fault.result);
        write_full(ctrl_fd_, r.data(), r.size());
        return;
      }
      default:
        break;  // the others shape the reply below
    }
  } else {
    fault = Fault{};
  }

  bool exit_after_reply = false;
  std::vector<uint8_t> reply = answer_ctrl(code, payload, body, &passed_fd, &fault,
                                           &exit_after_reply);
  if (passed_fd >= 0) close(passed_fd);
  reply_ctrl(code, std::move(reply), fault);
  if (exit_after_reply) die();
}

std::vector<uint8_t> FakeSwtpm::answer_ctrl(uint32_t code, const std::vector<uint8_t> &payload,
                                            const std::vector<uint8_t> &body, int *passed_fd,
                                            Fault *fault, bool *exit_after_reply) {
  using swtpm::Cmd;
  std::vector<uint8_t> reply;
  const uint32_t not_running = swtpm::kResultBadOrdinal;
  switch (static_cast<Cmd>(code)) {
    case Cmd::kGetCapability:
      reply = result_only(0);
      put32(reply, caps_);
      break;
    case Cmd::kInit:
      init_flags_.push_back(get32(payload.data()));
      running_ = true;
      reply = result_only(0);
      break;
    case Cmd::kShutdown:
      *exit_after_reply = true;
      reply = result_only(0);
      break;
    case Cmd::kGetTpmEstablished:
      if (!running_) {
        reply = result_only(not_running);
        break;
      }
      reply = result_only(0);
      reply.insert(reply.end(), {static_cast<uint8_t>(established_ ? 1 : 0), 0, 0, 0});
      break;
    case Cmd::kSetLocality:
      if (payload[0] > 4) {
        reply = result_only(swtpm::kResultBadLocality);
        break;
      }
      locality_ = payload[0];
      last_locality_ = payload[0];
      localities_.push_back(payload[0]);
      reply = result_only(0);
      break;
    case Cmd::kCancelTpmCmd:
      if (!running_) {
        reply = result_only(not_running);
        break;
      }
      cancels_++;
      if (slow_answer_) finish_slow(true);
      reply = result_only(0);
      break;
    case Cmd::kResetTpmEstablished:
      if (!running_) {
        reply = result_only(not_running);
        break;
      }
      reset_est_localities_.push_back(payload[0]);
      // Only localities 3 and 4 may reset the flag (TPM 2 Library Part 1, locality rules).
      if (payload[0] >= 3 && payload[0] <= 4) {
        established_ = false;
        reply = result_only(0);
      } else {
        reply = result_only(swtpm::kResultBadLocality);
      }
      break;
    case Cmd::kGetStateBlob: {
      if (!running_) {
        reply = result_only(not_running);
        break;
      }
      uint32_t type = get32(&payload[4]);
      if (fault->kind == FAKE_SWTPM_CTRL_BAD_BLOB) {
        reply = result_only(0);
        put32(reply, 0);
        put32(reply, 0xffffff00u);
        put32(reply, 0xffffff00u);
        *fault = Fault{};
        break;
      }
      const std::vector<uint8_t> *b = type >= 1 && type <= 3 ? &blobs_[type - 1] : nullptr;
      if (!b || b->empty()) {
        // As swtpm: a non-fatal result, still with the whole header.
        reply = result_only(0x800);
        put32(reply, 0);
        put32(reply, 0);
        put32(reply, 0);
        break;
      }
      reply = result_only(0);
      put32(reply, 0);
      put32(reply, static_cast<uint32_t>(b->size()));
      put32(reply, static_cast<uint32_t>(b->size()));
      reply.insert(reply.end(), b->begin(), b->end());
      break;
    }
    case Cmd::kSetStateBlob: {
      if (running_) {
        reply = result_only(not_running);
        break;
      }
      uint32_t type = get32(&payload[4]);
      if (type < 1 || type > 3) {
        reply = result_only(swtpm::kResultBadParameter);
        break;
      }
      blobs_[type - 1] = body;
      reply = result_only(0);
      break;
    }
    case Cmd::kStop:
      running_ = false;
      reply = result_only(0);
      break;
    case Cmd::kGetConfig:
      reply = result_only(0);
      put32(reply, 0);
      break;
    case Cmd::kSetDataFd:
      if (data_fd_ >= 0) {
        reply = result_only(swtpm::kResultIoError);
      } else if (*passed_fd < 0) {
        reply = result_only(swtpm::kResultBadParameter);
      } else {
        data_fd_ = *passed_fd;
        *passed_fd = -1;
        reply = result_only(0);
      }
      break;
    case Cmd::kSetBufferSize: {
      uint32_t wanted = get32(payload.data());
      buffer_requests_.push_back(wanted);
      if (wanted != 0 && running_) {
        reply = result_only(not_running);
        break;
      }
      if (wanted != 0) buf_current_ = std::clamp(wanted, buf_min_, buf_max_);
      reply = result_only(0);
      put32(reply, buf_current_);
      put32(reply, buf_min_);
      put32(reply, buf_max_);
      break;
    }
    case Cmd::kLockStorage:
      reply = result_only(caps_ & swtpm::cap::kLockStorage ? 0 : not_running);
      break;
    default:
      reply = result_only(swtpm::kResultBadOrdinal);
      break;
  }
  return reply;
}

void FakeSwtpm::reply_ctrl(uint32_t code, std::vector<uint8_t> reply, const Fault &fault) {
  switch (fault.kind) {
    case FAKE_SWTPM_CTRL_SHORT:
      // A reply cut short: with a result of success, the client waits for the rest in vain.
      reply.resize(reply.size() > 4 ? reply.size() / 2 : 2);
      if (reply.size() >= 4) std::fill(reply.begin(), reply.begin() + 4, 0);
      break;
    case FAKE_SWTPM_CTRL_TRAILING:
      reply.insert(reply.end(), {0xde, 0xad, 0xbe, 0xef});
      break;
    default:
      break;
  }
  (void)code;
  write_full(ctrl_fd_, reply.data(), reply.size());
}

void FakeSwtpm::handle_data() {
  uint8_t header[10];
  ssize_t n = read(data_fd_, header, sizeof header);
  if (n <= 0) {
    close_data();  // the client closed its end ("Data client disconnected")
    return;
  }
  if (n < 10 && !read_full(data_fd_, header + n, sizeof header - static_cast<size_t>(n))) {
    close_data();
    return;
  }
  uint32_t size = get32(&header[2]);
  if (size < 10 || size > kMaxTpmCommand) size = 10;
  std::vector<uint8_t> cmd(header, header + 10);
  cmd.resize(size);
  if (size > 10 && !read_full(data_fd_, cmd.data() + 10, size - 10)) {
    close_data();
    return;
  }
  data_log_.push_back({cmd, locality_});
  cv_.notify_all();

  Fault fault;
  if (!take_fault(data_fault_, 0, &fault)) fault = Fault{};
  switch (fault.kind) {
    case FAKE_SWTPM_DATA_DIE:
    case FAKE_SWTPM_CTRL_DIE:
      die();
      return;
    case FAKE_SWTPM_FREEZE:
      frozen_ = true;
      return;
    case FAKE_SWTPM_DATA_NO_REPLY:
      return;
    default:
      break;
  }
  std::vector<uint8_t> answer = tpm_answer(cmd, locality_);
  const uint16_t tag = tpm2_ ? 0x8001 : 0x00c4;
  switch (fault.kind) {
    case FAKE_SWTPM_DATA_SHORT:
      send_data(answer, answer.size() / 2);
      return;
    case FAKE_SWTPM_DATA_SHORT_CLOSE:
      send_data(answer, answer.size() / 2);
      close_data();
      return;
    case FAKE_SWTPM_DATA_OVERSIZED: {
      std::vector<uint8_t> big = tpm_response(tag, 0, std::vector<uint8_t>(54, 0x11));
      big[2] = 0x00;  // claims 0x10010 bytes: beyond any TPM buffer
      big[3] = 0x01;
      big[4] = 0x00;
      big[5] = 0x10;
      send_data(big, big.size());
      return;
    }
    case FAKE_SWTPM_DATA_UNDERSIZED: {
      std::vector<uint8_t> r = tpm_response(tag, 0, {});
      r[5] = 6;
      send_data(r, r.size());
      return;
    }
    case FAKE_SWTPM_DATA_GARBAGE: {
      static const char kGarbage[] = "NOT A TPM RESPONSE";
      std::vector<uint8_t> g(kGarbage, kGarbage + sizeof kGarbage - 1);
      send_data(g, g.size());
      return;
    }
    case FAKE_SWTPM_DATA_TRAILING:
      answer.insert(answer.end(), {0xde, 0xad, 0xbe, 0xef});
      send_data(answer, answer.size());
      return;
    case FAKE_SWTPM_DATA_SLOW:
      slow_answer_ = std::move(answer);
      slow_due_ = std::chrono::steady_clock::now() + std::chrono::milliseconds(fault.delay_ms);
      return;
    default:
      send_data(answer, answer.size());
      return;
  }
}

void FakeSwtpm::finish_slow(bool cancelled) {
  if (!slow_answer_) return;
  std::vector<uint8_t> answer = std::move(*slow_answer_);
  slow_answer_.reset();
  if (cancelled) {
    // TPM_RC_CANCELED for TPM 2; a TPM 1.2 has no such code, TPM_FAIL stands in.
    answer = tpm2_ ? tpm_response(0x8001, 0x909, {}) : tpm_response(0x00c4, 0x09, {});
  }
  send_data(answer, answer.size());
}

void FakeSwtpm::send_data(const std::vector<uint8_t> &bytes, size_t len) {
  if (data_fd_ >= 0) write_full(data_fd_, bytes.data(), std::min(len, bytes.size()));
}

std::vector<uint8_t> FakeSwtpm::tpm_answer(const std::vector<uint8_t> &cmd, uint8_t locality) {
  if (!running_) {
    // Before INIT (or after STOP) swtpm answers everything with a failure in its TPM's format:
    // TPM_RC_FAILURE / TPM_FAIL.
    return tpm2_ ? tpm_response(0x8001, 0x101, {}) : tpm_response(0x00c4, 0x09, {});
  }
  auto it = responses_.find(get32(&cmd[6]));
  if (it != responses_.end()) return it->second;
  if (responder_) {
    std::optional<std::vector<uint8_t>> r = responder_(cmd, locality);
    if (r) return *r;
  }
  return builtin_answer(cmd);
}

std::vector<uint8_t> FakeSwtpm::builtin_answer(const std::vector<uint8_t> &cmd) const {
  const uint32_t code = get32(&cmd[6]);
  auto param = [&](size_t off) { return cmd.size() >= off + 4 ? get32(&cmd[off]) : 0u; };
  if (tpm2_) {
    switch (code) {
      case 0x181:  // TPM2_ReadClock: TPMS_TIME_INFO (time u64, clock u64, resets u32,
                   // restarts u32, safe u8), all zero but `safe`
        {
          std::vector<uint8_t> t(25, 0);
          t[24] = 1;
          return tpm_response(0x8001, 0, t);
        }
      case 0x17A: {  // TPM2_GetCapability
        std::vector<uint8_t> p{0};  // moreData
        if (param(10) == 6 && param(14) == 0x11E && param(18) >= 2) {
          put32(p, 6);
          put32(p, 2);
          put32(p, 0x11E);
          put32(p, buf_current_);
          put32(p, 0x11F);
          put32(p, buf_current_);
        } else {
          put32(p, param(10));
          put32(p, 0);
        }
        return tpm_response(0x8001, 0, p);
      }
      case 0x17B: {  // TPM2_GetRandom: TPM2B_DIGEST of up to 32 bytes
        uint16_t want = cmd.size() >= 12 ? static_cast<uint16_t>(cmd[10] << 8 | cmd[11]) : 0;
        want = std::min<uint16_t>(want, 32);
        std::vector<uint8_t> p{static_cast<uint8_t>(want >> 8), static_cast<uint8_t>(want)};
        for (uint16_t i = 0; i < want; i++) p.push_back(static_cast<uint8_t>(0x5a ^ i));
        return tpm_response(0x8001, 0, p);
      }
      default:  // TPM2_Startup and everything else: success without parameters
        return tpm_response(0x8001, 0, {});
    }
  }
  switch (code) {
    case 0xF1:  // TPM_GetTicks: TPM_CURRENT_TICKS (tag, ticks u64, rate u16, nonce[20])
      return tpm_response(0x00c4, 0, std::vector<uint8_t>(32, 0));
    case 0x65:  // TPM_GetCapability
      if (param(10) == 5 && param(14) == 4 && param(18) == 0x124) {
        std::vector<uint8_t> p;
        put32(p, 4);
        put32(p, buf_current_);
        return tpm_response(0x00c4, 0, p);
      }
      return tpm_response(0x00c4, 0x03, {});  // TPM_BAD_PARAMETER
    default:  // TPM_Startup, ContinueSelfTest, ...: success
      return tpm_response(0x00c4, 0, {});
  }
}

}  // namespace qtpm::testing

// ---------------------------------------------------------------------------------------------
// C interface.

struct fake_swtpm {
  explicit fake_swtpm(const char *path, bool tpm2)
      : impl(path, qtpm::testing::FakeSwtpm::Options{tpm2, 0}) {}
  qtpm::testing::FakeSwtpm impl;
};

extern "C" {

fake_swtpm *fake_swtpm_start(const char *ctrl_path, int tpm2) {
  auto *f = new fake_swtpm(ctrl_path, tpm2 != 0);
  if (!f->impl.listening()) {
    delete f;
    return nullptr;
  }
  return f;
}

void fake_swtpm_free(fake_swtpm *f) { delete f; }

const char *fake_swtpm_ctrl_path(const fake_swtpm *f) { return f->impl.ctrl_path().c_str(); }

void fake_swtpm_set_caps(fake_swtpm *f, uint32_t caps) { f->impl.set_caps(caps); }

void fake_swtpm_set_buffer_sizes(fake_swtpm *f, uint32_t current, uint32_t min, uint32_t max) {
  f->impl.set_buffer_sizes(current, min, max);
}

void fake_swtpm_set_established(fake_swtpm *f, int established) {
  f->impl.set_established(established != 0);
}

void fake_swtpm_set_response(fake_swtpm *f, uint32_t ordinal, const uint8_t *rsp, size_t len) {
  f->impl.set_response(ordinal, std::vector<uint8_t>(rsp, rsp + len));
}

void fake_swtpm_inject_data(fake_swtpm *f, fake_swtpm_fault fault, int count, unsigned delay_ms) {
  f->impl.inject_data(fault, count, delay_ms);
}

void fake_swtpm_inject_ctrl(fake_swtpm *f, uint32_t ctrl_cmd, fake_swtpm_fault fault, int count,
                            uint32_t result) {
  f->impl.inject_ctrl(ctrl_cmd, fault, count, result);
}

size_t fake_swtpm_data_command_count(const fake_swtpm *f) { return f->impl.data_count(); }

size_t fake_swtpm_data_command(const fake_swtpm *f, size_t n, uint8_t *buf, size_t buf_len,
                               uint8_t *locality) {
  auto log = f->impl.data_log();
  if (n >= log.size()) return 0;
  size_t len = std::min(buf_len, log[n].bytes.size());
  if (len) std::memcpy(buf, log[n].bytes.data(), len);
  if (locality) *locality = log[n].locality;
  return log[n].bytes.size();
}

size_t fake_swtpm_ctrl_count(const fake_swtpm *f, uint32_t ctrl_cmd) {
  return f->impl.ctrl_count(ctrl_cmd);
}

int fake_swtpm_last_locality(const fake_swtpm *f) {
  auto l = f->impl.localities();
  return l.empty() ? -1 : l.back();
}

int fake_swtpm_running(const fake_swtpm *f) { return f->impl.running() ? 1 : 0; }

int fake_swtpm_alive(const fake_swtpm *f) { return f->impl.alive() ? 1 : 0; }

unsigned fake_swtpm_cancel_count(const fake_swtpm *f) { return f->impl.cancels(); }

int fake_swtpm_wait_data_commands(const fake_swtpm *f, size_t n, int timeout_ms) {
  return f->impl.wait_data_commands(n, timeout_ms) ? 1 : 0;
}

}  // extern "C"
