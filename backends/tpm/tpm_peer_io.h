// SPDX-License-Identifier: GPL-2.0-or-later
//
// Talking to an untrusted TPM peer (swtpm over sockets, a host TPM character device) without
// ever hanging or overrunning: I/O with an absolute deadline, a TPM command/response exchange
// that validates the response framing, a classification of what went wrong, and the one-line
// user messages about it.
//
// The TPM framing is the common 10-byte header of TPM 1.2 (Main Part 3, rev 116) and TPM 2.0
// (Library Part 1, rev 1.59, section 18): tag u16, size u32 (the whole response), code u32.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <set>
#include <span>
#include <string>
#include <vector>

namespace qtpm {

// A point in time after which I/O gives up.  timeout_ms < 0: never.
class Deadline {
 public:
  explicit Deadline(int timeout_ms);
  // Milliseconds left for poll(): -1 for no limit, 0 when expired.
  int remaining_ms() const;

 private:
  bool unlimited_;
  std::chrono::steady_clock::time_point end_;
};

// What went wrong talking to a peer.  The values double as report keys (one message per kind).
enum class PeerFault : uint8_t {
  kNone = 0,
  kClosed,       // EOF, connection reset, broken pipe: the peer went away
  kTimeout,      // no (complete) answer in time: the peer hangs
  kIoError,      // another read/write error
  kUndersized,   // a response header claiming fewer than 10 bytes
  kOversized,    // a response larger than the negotiated buffer
  kBadTag,       // not a TPM response tag
  kTrailing,     // more bytes than the response header says
  kShortReply,   // a reply shorter than the protocol requires
  kBadReply,     // a reply whose fields make no sense
  kErrorResult,  // a well-formed reply with a failure result
  kOutOfStep,    // an earlier failure left the channel unusable
};
const char *peer_fault_name(PeerFault fault);

// Blocking helpers on a stream descriptor (socket, pty, character device).  They retry on EINTR
// and stop at the deadline.  `error` (optional) receives errno on kIoError / kClosed.
PeerFault peer_write_all(int fd, const void *data, size_t len, const Deadline &deadline,
                         int *error = nullptr);
PeerFault peer_read_exact(int fd, void *data, size_t len, const Deadline &deadline,
                          int *error = nullptr);
// Discards up to `max` bytes that are already queued on fd, without waiting; returns how many.
size_t peer_drain_queued(int fd, size_t max);

// One TPM command/response exchange on a stream: writes the whole command, then reads until the
// response header's size has arrived.  The response must be at least a header, at most
// `max_response` bytes, carry a TPM response tag, and nothing may follow it in the same read.
// On failure `detail` says what happened in words (for the user message).
struct TpmExchangeResult {
  PeerFault fault = PeerFault::kNone;
  std::string detail;
  bool ok() const { return fault == PeerFault::kNone; }
};
TpmExchangeResult tpm_stream_exchange(int fd, std::span<const uint8_t> command,
                                      uint32_t max_response, const Deadline &deadline,
                                      std::vector<uint8_t> *response);

// One-line user messages about a misbehaving peer ("tpm-emulator: swtpm ..."), printed once per
// key (a failure kind, optionally combined with a command) until re-armed, so a dead swtpm does
// not flood the log with one line per guest command.  Every report is also a trace event
// ("tpm_peer_error").  The sink is the only place that writes to stderr.
class PeerErrorReporter {
 public:
  using Sink = std::function<void(const std::string &line)>;

  explicit PeerErrorReporter(std::string prefix) : prefix_(std::move(prefix)) {}

  // Process-wide destination (an embedder's logger); empty: stderr.
  static void set_default_sink(Sink sink);
  // Destination for this reporter only (tests capture messages here); empty: the default.
  void set_sink(Sink sink);

  // Prints "PREFIX: message" unless `key` was reported since the last rearm().  Returns whether
  // it printed.
  bool report(uint32_t key, const std::string &message);
  // After the peer works again, new failures are worth a line again.
  void rearm();

  static uint32_t key(PeerFault fault, uint32_t detail = 0) {
    return static_cast<uint32_t>(fault) << 24 | (detail & 0xffffff);
  }

 private:
  std::string prefix_;
  std::mutex mu_;
  Sink sink_;
  std::set<uint32_t> reported_;
};

}  // namespace qtpm
