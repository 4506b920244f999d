// SPDX-License-Identifier: GPL-2.0-or-later
//
// swtpm control-channel client (see tpm_emulator_ctrl.h).
#include "backends/tpm/tpm_emulator_ctrl.h"

#include <cerrno>
#include <cstring>

#include "backends/tpm/tpm_util.h"
#include "qom/chardev.h"
#include "qom/trace.h"

namespace qtpm {

namespace {

std::string cmd_label(swtpm::Cmd cmd) {
  return std::string("CMD_") + swtpm::cmd_name(static_cast<uint32_t>(cmd));
}

}  // namespace

SwtpmControl::Turn::~Turn() {
  if (!held_) return;
  {
    std::lock_guard<std::mutex> lock(channel_.turn_mu_);
    channel_.busy_ = false;
  }
  channel_.turn_cv_.notify_one();
}

bool SwtpmControl::Turn::take(int timeout_ms) {
  std::unique_lock<std::mutex> lock(channel_.turn_mu_);
  auto free = [this] { return !channel_.busy_; };
  if (timeout_ms < 0) {
    channel_.turn_cv_.wait(lock, free);
    held_ = true;
  } else {
    held_ = channel_.turn_cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), free);
  }
  if (held_) channel_.busy_ = true;
  return held_;
}

void SwtpmControl::attach(Chardev *chardev) {
  Turn turn(*this);
  turn.take(-1);
  chardev_ = chardev;
  out_of_step_ = false;
  pending_replies_ = 0;
}

int SwtpmControl::fd() const { return chardev_ ? chardev_->fd() : -1; }

CtrlResult SwtpmControl::fail(swtpm::Cmd cmd, PeerFault fault, std::string message) {
  CtrlResult r;
  r.cmd = cmd;
  r.fault = fault;
  r.message = std::move(message);
  QTPM_TRACE("tpm_emulator_ctrl_error", "%s: %s", cmd_label(cmd).c_str(), r.message.c_str());
  return r;
}

CtrlResult SwtpmControl::io_failure(swtpm::Cmd cmd, PeerFault fault, int err, const char *stage) {
  // Whatever was half sent or half read is still on the wire: nothing after it can be trusted.
  out_of_step_ = true;
  std::string label = cmd_label(cmd);
  switch (fault) {
    case PeerFault::kClosed:
      return fail(cmd, fault, strprintf("swtpm closed the control channel while %s %s (has it "
                                        "exited?)", stage, label.c_str()));
    case PeerFault::kTimeout:
      return fail(cmd, fault, strprintf("swtpm did not respond within %d ms while %s %s",
                                        timeout_ms_, stage, label.c_str()));
    case PeerFault::kShortReply:
      return fail(cmd, fault, strprintf("swtpm sent a short reply to %s", label.c_str()));
    default:
      return fail(cmd, fault, strprintf("control channel error while %s %s: %s", stage,
                                        label.c_str(), std::strerror(err)));
  }
}

CtrlResult SwtpmControl::acquire(swtpm::Cmd cmd, Turn &turn, const Deadline &deadline) {
  if (!turn.take(timeout_ms_)) {
    return fail(cmd, PeerFault::kTimeout,
                strprintf("the swtpm control channel stayed busy for %d ms; %s not sent",
                          timeout_ms_, cmd_label(cmd).c_str()));
  }
  if (fd() < 0) {
    return fail(cmd, PeerFault::kClosed,
                strprintf("the swtpm control channel is not connected; %s not sent",
                          cmd_label(cmd).c_str()));
  }
  if (out_of_step_) {
    return fail(cmd, PeerFault::kOutOfStep,
                strprintf("the swtpm control channel is unusable after an earlier failure; %s "
                          "not sent", cmd_label(cmd).c_str()));
  }
  return collect_pending(deadline);
}

CtrlResult SwtpmControl::transact(const Exchange &ex) {
  Deadline deadline(timeout_ms_);
  Turn turn(*this);
  CtrlResult r = acquire(ex.cmd, turn, deadline);
  if (!r.ok()) return r;
  return transact_locked(ex, deadline);
}

CtrlResult SwtpmControl::collect_pending(const Deadline &deadline) {
  while (pending_replies_ > 0) {
    uint8_t res[swtpm::kResultSize];
    int err = 0;
    PeerFault f = peer_read_exact(fd(), res, sizeof res, deadline, &err);
    if (f != PeerFault::kNone) {
      return io_failure(swtpm::Cmd::kCancelTpmCmd, f, err, "waiting for the reply to");
    }
    pending_replies_--;
    // A cancel that found nothing to cancel may answer with an error (TPM 1.2 swtpm: TPM_FAIL).
    QTPM_TRACE("tpm_emulator_cancel_result", "0x%x", get_be32(res));
  }
  return CtrlResult{};
}

CtrlResult SwtpmControl::transact_locked(const Exchange &ex, const Deadline &deadline) {
  const int chan = fd();
  std::vector<uint8_t> msg(swtpm::kCmdCodeSize + ex.payload.size());
  put_be32(msg.data(), static_cast<uint32_t>(ex.cmd));
  if (!ex.payload.empty()) std::memcpy(&msg[swtpm::kCmdCodeSize], ex.payload.data(), ex.payload.size());
  QTPM_TRACE("tpm_emulator_ctrl", "%s (%zu bytes)", cmd_label(ex.cmd).c_str(), msg.size());

  int err = 0;
  PeerFault f = peer_write_all(chan, msg.data(), msg.size(), deadline, &err);
  if (f != PeerFault::kNone) return io_failure(ex.cmd, f, err, "sending");

  // Pass 1: the result word, which every reply starts with.
  uint8_t res[swtpm::kResultSize];
  f = peer_read_exact(chan, res, sizeof res, deadline, &err);
  if (f != PeerFault::kNone) return io_failure(ex.cmd, f, err, "waiting for the reply to");
  const uint32_t result = get_be32(res);
  const bool body_follows =
      result == swtpm::kResultSuccess || (ex.non_fatal_ok && (result & swtpm::kResultNonFatalMask));
  if (!body_follows) {
    // An error reply may be the bare result or the full structure: swtpm writes either in one
    // piece, so whatever belongs to it is queued already and is discarded without waiting.
    peer_drain_queued(chan, ex.reply_rest.size());
    CtrlResult r = fail(ex.cmd, PeerFault::kErrorResult,
                        strprintf("swtpm answered %s with error 0x%x (%s)",
                                  cmd_label(ex.cmd).c_str(), result, tpm_util_strerror(result)));
    r.result = result;
    return r;
  }
  // Pass 2: the rest of a reply of known size.
  f = peer_read_exact(chan, ex.reply_rest.data(), ex.reply_rest.size(), deadline, &err);
  if (f == PeerFault::kTimeout) f = PeerFault::kShortReply;
  if (f != PeerFault::kNone) return io_failure(ex.cmd, f, err, "reading the reply to");
  CtrlResult r;
  r.cmd = ex.cmd;
  r.result = result;
  return r;
}

CtrlResult SwtpmControl::set_data_fd(int data_fd) {
  // The descriptor travels with the command code (SCM_RIGHTS), so this one is written by the
  // chardev; the reply is read as usual.
  Deadline deadline(timeout_ms_);
  Turn turn(*this);
  const swtpm::Cmd cmd = swtpm::Cmd::kSetDataFd;
  CtrlResult ready = acquire(cmd, turn, deadline);
  if (!ready.ok()) return ready;
  uint8_t code[swtpm::kCmdCodeSize];
  put_be32(code, static_cast<uint32_t>(cmd));
  errno = 0;
  if (!chardev_->send_with_fd(code, sizeof code, data_fd, deadline.remaining_ms())) {
    const int e = errno;
    PeerFault f = e == 0                                              ? PeerFault::kTimeout
                  : (e == EPIPE || e == ECONNRESET || e == ENOTCONN) ? PeerFault::kClosed
                                                                     : PeerFault::kIoError;
    return io_failure(cmd, f, e, "sending");
  }
  uint8_t res[swtpm::kResultSize];
  int err = 0;
  PeerFault f = peer_read_exact(fd(), res, sizeof res, deadline, &err);
  if (f != PeerFault::kNone) return io_failure(cmd, f, err, "waiting for the reply to");
  uint32_t result = get_be32(res);
  if (result != swtpm::kResultSuccess) {
    CtrlResult r = fail(cmd, PeerFault::kErrorResult,
                        strprintf("swtpm answered CMD_SET_DATAFD with error 0x%x (%s)", result,
                                  tpm_util_strerror(result)));
    r.result = result;
    return r;
  }
  CtrlResult r;
  r.cmd = cmd;
  return r;
}

CtrlResult SwtpmControl::get_capability(uint32_t *caps) {
  uint8_t rest[swtpm::kReplyGetCapability - swtpm::kResultSize];
  CtrlResult r = transact({swtpm::Cmd::kGetCapability, {}, rest});
  if (r.ok()) *caps = get_be32(rest);
  return r;
}

CtrlResult SwtpmControl::init(uint32_t flags) {
  uint8_t payload[swtpm::kRequestU32];
  put_be32(payload, flags);
  return transact({swtpm::Cmd::kInit, payload, {}});
}

CtrlResult SwtpmControl::stop() { return transact({swtpm::Cmd::kStop, {}, {}}); }

CtrlResult SwtpmControl::shutdown() { return transact({swtpm::Cmd::kShutdown, {}, {}}); }

CtrlResult SwtpmControl::set_buffer_size(uint32_t wanted, SwtpmBufferSizes *sizes) {
  uint8_t payload[swtpm::kRequestU32];
  put_be32(payload, wanted);
  uint8_t rest[swtpm::kReplySetBufferSize - swtpm::kResultSize];
  CtrlResult r = transact({swtpm::Cmd::kSetBufferSize, payload, rest});
  if (!r.ok()) return r;
  sizes->current = get_be32(&rest[0]);
  sizes->min = get_be32(&rest[4]);
  sizes->max = get_be32(&rest[8]);
  return r;
}

CtrlResult SwtpmControl::set_locality(uint8_t locality) {
  uint8_t payload[swtpm::kRequestLocality] = {locality, 0, 0, 0};
  return transact({swtpm::Cmd::kSetLocality, payload, {}});
}

CtrlResult SwtpmControl::get_established(bool *established) {
  uint8_t rest[swtpm::kReplyGetEstablished - swtpm::kResultSize];
  CtrlResult r = transact({swtpm::Cmd::kGetTpmEstablished, {}, rest});
  if (r.ok()) *established = rest[0] != 0;
  return r;
}

CtrlResult SwtpmControl::reset_established(uint8_t locality) {
  uint8_t payload[swtpm::kRequestLocality] = {locality, 0, 0, 0};
  return transact({swtpm::Cmd::kResetTpmEstablished, payload, {}});
}

CtrlResult SwtpmControl::cancel_async() {
  const swtpm::Cmd cmd = swtpm::Cmd::kCancelTpmCmd;
  Deadline deadline(timeout_ms_);
  Turn turn(*this);
  CtrlResult ready = acquire(cmd, turn, deadline);
  if (!ready.ok()) return ready;
  uint8_t code[swtpm::kCmdCodeSize];
  put_be32(code, static_cast<uint32_t>(cmd));
  int err = 0;
  PeerFault f = peer_write_all(fd(), code, sizeof code, deadline, &err);
  if (f != PeerFault::kNone) return io_failure(cmd, f, err, "sending");
  pending_replies_++;
  CtrlResult r;
  r.cmd = cmd;
  return r;
}

CtrlResult SwtpmControl::get_state_blob(swtpm::BlobType type, SwtpmStateBlob *blob) {
  const swtpm::Cmd cmd = swtpm::Cmd::kGetStateBlob;
  uint8_t payload[swtpm::kRequestGetStateBlob];
  put_be32(&payload[0], swtpm::kStateFlagDecrypted);
  put_be32(&payload[4], static_cast<uint32_t>(type));
  put_be32(&payload[8], 0);  // offset: the socket channel sends the whole blob at once
  uint8_t rest[swtpm::kReplyGetStateBlobHeader - swtpm::kResultSize];
  Exchange ex{cmd, payload, rest, true};

  Deadline deadline(timeout_ms_);
  Turn turn(*this);
  CtrlResult r = acquire(cmd, turn, deadline);
  if (!r.ok()) return r;
  r = transact_locked(ex, deadline);
  if (!r.ok()) return r;
  uint32_t flags = get_be32(&rest[0]);
  uint32_t total = get_be32(&rest[4]);
  uint32_t length = get_be32(&rest[8]);
  blob->type = type;
  blob->flags = flags;
  blob->data.clear();
  if (total != length || total > kSwtpmStateBlobMax ||
      (r.result != swtpm::kResultSuccess && total != 0)) {
    out_of_step_ = true;  // an unknown number of body bytes follows
    return fail(cmd, PeerFault::kBadReply,
                strprintf("swtpm announced a state blob (type %u) of %u bytes in a %u-byte "
                          "transfer (result 0x%x, limit %u)",
                          static_cast<uint32_t>(type), total, length, r.result,
                          kSwtpmStateBlobMax));
  }
  // A non-fatal result (no such blob, e.g. no savestate) is an empty blob.
  if (total == 0) return CtrlResult{cmd};
  blob->data.resize(total);  // bounded by kSwtpmStateBlobMax above
  int err = 0;
  PeerFault f = peer_read_exact(fd(), blob->data.data(), total, deadline, &err);
  if (f == PeerFault::kTimeout) f = PeerFault::kShortReply;
  if (f != PeerFault::kNone) {
    blob->data.clear();
    return io_failure(cmd, f, err, "reading the state blob of");
  }
  return CtrlResult{cmd};
}

CtrlResult SwtpmControl::set_state_blob(const SwtpmStateBlob &blob) {
  // Header and body in one write: swtpm wants a whole control message within its deadline.
  std::vector<uint8_t> payload(swtpm::kRequestSetStateBlobHeader + blob.data.size());
  put_be32(&payload[0], blob.flags & swtpm::kStateFlagEncrypted);
  put_be32(&payload[4], static_cast<uint32_t>(blob.type));
  put_be32(&payload[8], static_cast<uint32_t>(blob.data.size()));
  if (!blob.data.empty()) {
    std::memcpy(&payload[swtpm::kRequestSetStateBlobHeader], blob.data.data(), blob.data.size());
  }
  return transact({swtpm::Cmd::kSetStateBlob, payload, {}});
}

CtrlResult SwtpmControl::lock_storage(uint32_t retries) {
  uint8_t payload[swtpm::kRequestU32];
  put_be32(payload, retries);
  return transact({swtpm::Cmd::kLockStorage, payload, {}});
}

}  // namespace qtpm
