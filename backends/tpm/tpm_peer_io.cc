// SPDX-License-Identifier: GPL-2.0-or-later
//
// Deadline-bounded I/O with a TPM peer, response framing checks, user messages (tpm_peer_io.h).
#include "backends/tpm/tpm_peer_io.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "backends/tpm/tpm_backend.h"
#include "backends/tpm/tpm_util.h"
#include "qom/status.h"
#include "qom/trace.h"

namespace qtpm {

Deadline::Deadline(int timeout_ms)
    : unlimited_(timeout_ms < 0),
      end_(std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms < 0 ? 0
                                                                                     : timeout_ms)) {}

int Deadline::remaining_ms() const {
  if (unlimited_) return -1;
  // Rounded up, so that the last partial millisecond is still waited for.
  auto left = std::chrono::ceil<std::chrono::milliseconds>(end_ - std::chrono::steady_clock::now());
  if (left.count() <= 0) return 0;
  return static_cast<int>(std::min<int64_t>(left.count(), INT32_MAX));
}

const char *peer_fault_name(PeerFault fault) {
  switch (fault) {
    case PeerFault::kNone: return "none";
    case PeerFault::kClosed: return "closed";
    case PeerFault::kTimeout: return "timeout";
    case PeerFault::kIoError: return "I/O error";
    case PeerFault::kUndersized: return "undersized response";
    case PeerFault::kOversized: return "oversized response";
    case PeerFault::kBadTag: return "not a TPM response";
    case PeerFault::kTrailing: return "trailing bytes";
    case PeerFault::kShortReply: return "short reply";
    case PeerFault::kBadReply: return "malformed reply";
    case PeerFault::kErrorResult: return "error result";
    case PeerFault::kOutOfStep: return "out of step";
  }
  return "?";
}

namespace {

// Waits until fd is ready for `events` or the deadline passes.
PeerFault wait_ready(int fd, short events, const Deadline &deadline, int *error) {
  for (;;) {
    pollfd p{fd, events, 0};
    int n = poll(&p, 1, deadline.remaining_ms());
    if (n > 0) {
      // POLLHUP/POLLERR still let read() report EOF or the error, and write() fail: go on.
      return PeerFault::kNone;
    }
    if (n == 0) return PeerFault::kTimeout;
    if (errno == EINTR) continue;
    if (error) *error = errno;
    return PeerFault::kIoError;
  }
}

PeerFault classify_errno(int e) {
  return (e == EPIPE || e == ECONNRESET || e == ENOTCONN || e == EIO) ? PeerFault::kClosed
                                                                      : PeerFault::kIoError;
}

// One write; send() with MSG_NOSIGNAL on sockets so a vanished peer is an error, not SIGPIPE.
ssize_t write_once(int fd, const uint8_t *p, size_t len) {
  ssize_t n = send(fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
  if (n < 0 && errno == ENOTSOCK) n = write(fd, p, len);
  return n;
}

}  // namespace

PeerFault peer_write_all(int fd, const void *data, size_t len, const Deadline &deadline,
                         int *error) {
  const auto *p = static_cast<const uint8_t *>(data);
  while (len > 0) {
    PeerFault f = wait_ready(fd, POLLOUT, deadline, error);
    if (f != PeerFault::kNone) return f;
    ssize_t n = write_once(fd, p, len);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      if (error) *error = errno;
      return classify_errno(errno);
    }
    p += n;
    len -= static_cast<size_t>(n);
  }
  return PeerFault::kNone;
}

PeerFault peer_read_exact(int fd, void *data, size_t len, const Deadline &deadline, int *error) {
  auto *p = static_cast<uint8_t *>(data);
  while (len > 0) {
    PeerFault f = wait_ready(fd, POLLIN, deadline, error);
    if (f != PeerFault::kNone) return f;
    ssize_t n = read(fd, p, len);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      if (error) *error = errno;
      return classify_errno(errno);
    }
    if (n == 0) return PeerFault::kClosed;
    p += n;
    len -= static_cast<size_t>(n);
  }
  return PeerFault::kNone;
}

size_t peer_drain_queued(int fd, size_t max) {
  uint8_t scratch[256];
  size_t total = 0;
  while (total < max) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 0) <= 0 || !(p.revents & POLLIN)) break;
    ssize_t n = read(fd, scratch, std::min(sizeof scratch, max - total));
    if (n <= 0) break;
    total += static_cast<size_t>(n);
  }
  return total;
}

namespace {

// Checks a response once its header is in: returns kNone while more bytes are needed (`done`
// false) or when it is complete and valid (`done` true).
PeerFault check_response(const std::vector<uint8_t> &buf, size_t got, uint32_t max_response,
                         bool *done, std::string *detail) {
  *done = false;
  if (got < kTpmHeaderSize) return PeerFault::kNone;
  uint16_t tag = tpm_header_tag(buf.data());
  uint32_t size = tpm_header_size(buf.data());
  if (!tpm_util_response_tag_valid(tag)) {
    *detail = strprintf("sent a response with tag 0x%04x, which is not a TPM response", tag);
    return PeerFault::kBadTag;
  }
  if (size < kTpmHeaderSize) {
    *detail = strprintf("sent a response header claiming %u bytes (less than a header)", size);
    return PeerFault::kUndersized;
  }
  if (size > max_response) {
    *detail = strprintf("sent a response of %u bytes, more than the negotiated %u-byte buffer",
                        size, max_response);
    return PeerFault::kOversized;
  }
  if (got > size) {
    *detail = strprintf("sent %zu bytes for a response whose header says %u", got, size);
    return PeerFault::kTrailing;
  }
  *done = got == size;
  return PeerFault::kNone;
}

}  // namespace

TpmExchangeResult tpm_stream_exchange(int fd, std::span<const uint8_t> command,
                                      uint32_t max_response, const Deadline &deadline,
                                      std::vector<uint8_t> *response) {
  TpmExchangeResult r;
  int err = 0;
  response->clear();
  r.fault = peer_write_all(fd, command.data(), command.size(), deadline, &err);
  if (!r.ok()) {
    r.detail = r.fault == PeerFault::kTimeout  ? std::string("did not accept the command in time")
               : r.fault == PeerFault::kClosed ? std::string("closed the connection before the "
                                                             "command could be sent")
                                               : strprintf("could not be sent the command: %s",
                                                           std::strerror(err));
    return r;
  }
  // One byte more than allowed, so that an oversized or trailing answer is seen, not cut.
  if (max_response < kTpmHeaderSize) max_response = kTpmHeaderSize;
  std::vector<uint8_t> buf(size_t{max_response} + 1);
  size_t got = 0;
  for (;;) {
    r.fault = wait_ready(fd, POLLIN, deadline, &err);
    if (r.fault == PeerFault::kTimeout) {
      r.detail = got ? strprintf("stopped answering after %zu bytes of a response", got)
                     : std::string("did not answer a TPM command in time");
      return r;
    }
    if (!r.ok()) {
      r.detail = strprintf("read failed: %s", std::strerror(err));
      return r;
    }
    // Bounded by the buffer: at most max_response + 1 bytes are ever stored.
    ssize_t n = read(fd, buf.data() + got, buf.size() - got);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) {
      r.fault = n == 0 ? PeerFault::kClosed : classify_errno(errno);
      r.detail = n == 0 || r.fault == PeerFault::kClosed
                     ? strprintf("closed the connection %s",
                                 got ? "in the middle of a response" : "instead of answering")
                     : strprintf("read failed: %s", std::strerror(errno));
      return r;
    }
    got += static_cast<size_t>(n);
    bool done = false;
    r.fault = check_response(buf, got, max_response, &done, &r.detail);
    if (!r.ok()) return r;
    if (done) break;
  }
  buf.resize(got);
  *response = std::move(buf);
  return r;
}

// ---------------------------------------------------------------------------------------------

namespace {

std::mutex &default_sink_mutex() {
  static std::mutex mu;
  return mu;
}

PeerErrorReporter::Sink &default_sink() {
  static PeerErrorReporter::Sink sink;
  return sink;
}

}  // namespace

void PeerErrorReporter::set_default_sink(Sink sink) {
  std::lock_guard<std::mutex> lock(default_sink_mutex());
  default_sink() = std::move(sink);
}

void PeerErrorReporter::set_sink(Sink sink) {
  std::lock_guard<std::mutex> lock(mu_);
  sink_ = std::move(sink);
}

bool PeerErrorReporter::report(uint32_t key, const std::string &message) {
  std::string line = prefix_ + ": " + message;
  QTPM_TRACE("tpm_peer_error", "%s", line.c_str());
  Sink sink;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!reported_.insert(key).second) return false;
    sink = sink_;
  }
  if (!sink) {
    std::lock_guard<std::mutex> lock(default_sink_mutex());
    sink = default_sink();
  }
  if (sink) {
    sink(line);
  } else {
    // The single place where backend peer errors reach the user directly.
    std::fprintf(stderr, "%s\n", line.c_str());
  }
  return true;
}

void PeerErrorReporter::rearm() {
  std::lock_guard<std::mutex> lock(mu_);
  reported_.clear();
}

}  // namespace qtpm
