// SPDX-License-Identifier: GPL-2.0-or-later
//
// The swtpm emulator backend (see tpm_emulator.h).
#include "backends/tpm/tpm_emulator.h"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "backends/tpm/tpm_util.h"
#include "qom/chardev.h"
#include "qom/module_init.h"
#include "qom/trace.h"

namespace qtpm {

namespace {

// Defaults for the bounded waits.  A TPM command may legitimately run long (RSA key generation
// on a slow host takes tens of seconds; Linux allows TPM 2 commands up to 300 s), so the data
// channel waits as long as a guest driver would.  Control commands are answered between TPM
// commands and are quick.
constexpr int kDefaultDataTimeoutMs = 300 * 1000;
constexpr int kDefaultCtrlTimeoutMs = 60 * 1000;

// swtpm releases a replaced data connection when it notices our end closed, which may be just
// after it reads the next SET_DATAFD; it then answers TPM_IOERROR.  Retry a few times.
constexpr int kSetDataFdAttempts = 20;
constexpr auto kSetDataFdRetryDelay = std::chrono::milliseconds(10);

// LOCK_STORAGE retries (swtpm waits 10 ms between them): 3 s, as QEMU asks for.
constexpr uint32_t kLockStorageRetries = 300;

}  // namespace

EmulatorBackend::EmulatorBackend() {
  add_string_property("chardev", &chardev_id_, "",
                      "id of the chardev connected to swtpm's control channel (required)");
  add_uint32_property("x-timeout-ms", &timeout_ms_, 0,
                      "testing: limit for every wait on swtpm in milliseconds (0: defaults of "
                      "300 s for TPM commands and 60 s for control commands)");
}

EmulatorBackend::~EmulatorBackend() {
  if (realized()) {
    unrealize();
  } else {
    stop_worker();
    close_data_channel();
  }
}

int EmulatorBackend::data_timeout_ms() const {
  return timeout_ms_ ? static_cast<int>(std::min<uint32_t>(timeout_ms_, INT32_MAX))
                     : kDefaultDataTimeoutMs;
}

int EmulatorBackend::ctrl_timeout_ms() const {
  return timeout_ms_ ? static_cast<int>(std::min<uint32_t>(timeout_ms_, INT32_MAX))
                     : kDefaultCtrlTimeoutMs;
}

Status EmulatorBackend::report(uint32_t key, const std::string &message) {
  reporter_.report(key, message);
  return Status::error("tpm-emulator: " + message);
}

Status EmulatorBackend::fail(const CtrlResult &r, const std::string &context) {
  // One line per kind of failure: a dead or hung swtpm is one problem however many commands
  // notice it; error results are told apart by command.
  if (r.fault == PeerFault::kOutOfStep) {
    // The failure that left the channel out of step was reported already.
    return Status::error("tpm-emulator: " + context + r.message);
  }
  uint32_t detail = r.fault == PeerFault::kErrorResult ? static_cast<uint32_t>(r.cmd) : 0;
  return report(PeerErrorReporter::key(r.fault, detail), context + r.message);
}

Status EmulatorBackend::report_data_fault(const TpmExchangeResult &r) {
  std::string msg = "swtpm " + r.detail;
  if (r.fault == PeerFault::kClosed) msg += " (has it exited?)";
  return report(PeerErrorReporter::key(r.fault), msg);
}

// ---------------------------------------------------------------------------------------------
// Realize: connect the data channel, find the TPM version, check what swtpm offers.

Status EmulatorBackend::do_realize() {
  if (chardev_id_.empty()) return Status::error("tpm-emulator: parameter 'chardev' is missing");
  Chardev *chr = host() ? host()->find_chardev(chardev_id_) : nullptr;
  if (!chr) return Status::errorf("tpm-emulator: tpm chardev '%s' not found", chardev_id_.c_str());
  if (chr->fd() < 0) {
    return Status::errorf("tpm-emulator: No valid chardev found at '%s': it is not connected",
                          chardev_id_.c_str());
  }
  ctrl_.set_timeout_ms(ctrl_timeout_ms());
  ctrl_.attach(chr);
  Status st = open_data_channel().prefixed("tpm-emulator: ");
  if (st) st = probe_version();
  if (st) st = check_capabilities();
  if (st) {
    // Ask (0) for the buffer sizes; allowed whether or not the TPM runs.
    SwtpmBufferSizes sizes;
    CtrlResult r = ctrl_.set_buffer_size(0, &sizes);
    if (!r.ok()) {
      st = Status::error("tpm-emulator: " + r.message);
    } else if (sizes.max < kTpmHeaderSize || sizes.max > kTpmBufferSizeMax) {
      st = Status::errorf("tpm-emulator: swtpm reports an implausible maximum buffer size of %u "
                          "bytes", sizes.max);
    } else {
      tpm_max_buffer_ = sizes.max;
    }
  }
  if (!st) {
    close_data_channel();
    ctrl_.attach(nullptr);
    return st;
  }
  QTPM_TRACE("tpm_emulator_realized", "%s: TPM %s, caps 0x%x, max buffer %u", id().c_str(),
             tpm_version_name(version_), caps_, tpm_max_buffer_);
  return Status::ok();
}

void EmulatorBackend::do_unrealize() {
  // Wake a worker that waits for swtpm, then let it finish.
  if (data_fd_ >= 0) ::shutdown(data_fd_, SHUT_RDWR);
  stop_worker();
  if (ctrl_.attached() && !ctrl_.out_of_step()) {
    CtrlResult r = ctrl_.shutdown();
    if (!r.ok()) (void)fail(r, "Could not cleanly shutdown the TPM: ");
  }
  close_data_channel();
  ctrl_.attach(nullptr);
}

Status EmulatorBackend::open_data_channel(PeerFault *fault) {
  close_data_channel();
  if (fault) *fault = PeerFault::kIoError;
  for (int attempt = 1;; attempt++) {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
      return Status::errorf("Failed to create socketpair: %s", std::strerror(errno));
    }
    CtrlResult r = ctrl_.set_data_fd(sv[1]);
    close(sv[1]);  // swtpm has its own copy now (or none, on failure)
    if (r.ok()) {
      data_fd_ = sv[0];
      data_broken_ = false;
      return Status::ok();
    }
    close(sv[0]);
    if (fault) *fault = r.fault;
    if (r.fault != PeerFault::kErrorResult || r.result != swtpm::kResultIoError ||
        attempt == kSetDataFdAttempts) {
      return Status::error("Failed to send CMD_SET_DATAFD: " + r.message);
    }
    std::this_thread::sleep_for(kSetDataFdRetryDelay);
  }
}

void EmulatorBackend::close_data_channel() {
  if (data_fd_ >= 0) {
    close(data_fd_);
    data_fd_ = -1;
  }
}

Status EmulatorBackend::probe_version() {
  // Before CMD_INIT swtpm answers every command with a failure, but in its TPM version's format:
  // that is all the probe needs.
  TpmTransact transact = [this](std::span<const uint8_t> cmd, std::vector<uint8_t> *rsp) {
    TpmExchangeResult r = tpm_stream_exchange(data_fd_, cmd, kTpmBufferSizeMax,
                                              Deadline(ctrl_timeout_ms()), rsp);
    return r.ok() ? Status::ok() : Status::error("swtpm " + r.detail);
  };
  Status st = tpm_util_probe_version(transact, &version_);
  if (!st) {
    return Status::errorf("tpm-emulator: '%s' is not emulating a TPM device: %s",
                          chardev_id_.c_str(), st.message().c_str());
  }
  return Status::ok();
}

Status EmulatorBackend::check_capabilities() {
  CtrlResult r = ctrl_.get_capability(&caps_);
  if (!r.ok()) return Status::error("tpm-emulator: probing failed: " + r.message);
  const uint32_t required =
      version_ == TpmVersion::k2_0 ? swtpm::cap::kRequired20 : swtpm::cap::kRequired12;
  const uint32_t missing = required & ~caps_;
  if (missing == 0) return Status::ok();
  std::string names;
  for (unsigned bit = 0; bit < 32; bit++) {
    if (!(missing & (1u << bit))) continue;
    if (!names.empty()) names += ", ";
    names += swtpm::cap::bit_name(bit);
  }
  return Status::errorf("tpm-emulator: TPM does not implement minimum set of required "
                        "capabilities for TPM %s (0x%x); swtpm lacks %s",
                        version_ == TpmVersion::k2_0 ? "2" : "1.2", caps_, names.c_str());
}

// ---------------------------------------------------------------------------------------------
// Machine reset and requests.

uint32_t EmulatorBackend::buffer_size() {
  // The largest buffer swtpm accepts; the frontend asks for min(this, its own) at startup.
  return tpm_max_buffer_;
}

Status EmulatorBackend::do_startup(uint32_t buffer_size) {
  if (!realized() || !ctrl_.attached()) return Status::error("tpm-emulator: not connected");
  if (data_broken_ || data_fd_ < 0) {
    // An earlier failure left the data channel out of step: start afresh with a new one.
    PeerFault fault = PeerFault::kNone;
    Status st = open_data_channel(&fault);
    if (!st) {
      if (fault == PeerFault::kOutOfStep) return st.prefixed("tpm-emulator: ");
      return report(PeerErrorReporter::key(fault), st.message());
    }
  }
  CtrlResult r = ctrl_.stop();
  if (!r.ok()) return fail(r);
  SwtpmBufferSizes sizes;
  r = ctrl_.set_buffer_size(buffer_size, &sizes);
  if (!r.ok()) return fail(r);
  if (sizes.current < kTpmHeaderSize || sizes.current > kTpmBufferSizeMax ||
      (buffer_size != 0 && sizes.current > buffer_size)) {
    CtrlResult bad = r;
    bad.fault = PeerFault::kBadReply;
    bad.message = strprintf("swtpm set a buffer size of %u bytes when %u were asked for",
                            sizes.current, buffer_size);
    return fail(bad);
  }
  negotiated_ = sizes.current;
  cur_locality_ = 0xff;  // say the locality again with the first command
  established_ = -1;
  if (host() && host()->incoming_migration_pending()) {
    // The TPM state arrives with the migration stream; restore_state_blobs() starts the TPM.
    QTPM_TRACE("tpm_emulator_startup", "%s: buffer %u, INIT deferred for incoming migration",
               id().c_str(), sizes.current);
    return Status::ok();
  }
  r = ctrl_.init(0);
  if (!r.ok()) return fail(r);
  reporter_.rearm();
  QTPM_TRACE("tpm_emulator_startup", "%s: buffer %u", id().c_str(), sizes.current);
  established_flag();  // read once now, so that guest register reads never wait for swtpm
  return Status::ok();
}

void EmulatorBackend::handle_request(TpmRequest &request) {
  // Runs on the worker thread.  Any failure leaves the response to the core (a fatal TPM error).
  if (data_broken_ || data_fd_ < 0) {
    // The failure that broke the channel was reported already.
    request.status = Status::error(
        "tpm-emulator: the swtpm data channel is unusable after an earlier failure");
    return;
  }
  if (request.command.empty()) {
    // Nothing to send, and swtpm would wait for it forever: a guest/frontend error, not swtpm's.
    request.status = Status::error("tpm-emulator: empty TPM command");
    return;
  }
  if (request.locality != cur_locality_) {
    CtrlResult r = ctrl_.set_locality(request.locality);
    if (!r.ok()) {
      request.status = fail(r);
      return;
    }
    cur_locality_ = request.locality;
  }
  uint32_t limit = negotiated_ ? negotiated_.load() : tpm_max_buffer_;
  if (request.max_response) limit = std::min(limit, request.max_response);
  tpm_util_show_buffer("To TPM", request.command);
  TpmExchangeResult x = tpm_stream_exchange(data_fd_, request.command, limit,
                                            Deadline(data_timeout_ms()), &request.response);
  if (!x.ok()) {
    data_broken_ = true;
    request.response.clear();
    request.status = report_data_fault(x);
    return;
  }
  tpm_util_show_buffer("From TPM", request.response);
  tpm_util_note_selftest(request);
}

void EmulatorBackend::do_cancel() {
  if (!(caps_ & swtpm::cap::kCancelTpmCmd)) return;
  CtrlResult r = ctrl_.cancel_async();
  if (!r.ok()) QTPM_TRACE("tpm_emulator_cancel_failed", "%s", r.message.c_str());
}

bool EmulatorBackend::established_flag() {
  int cached = established_;
  if (cached >= 0) return cached != 0;
  if (!realized() || !ctrl_.attached()) return false;
  bool flag = false;
  CtrlResult r = ctrl_.get_established(&flag);
  if (!r.ok()) {
    (void)fail(r, "Could not get the TPM established flag: ");
    return false;
  }
  established_ = flag ? 1 : 0;
  return flag;
}

Status EmulatorBackend::reset_established_flag(uint8_t locality) {
  // Only TPM 2 swtpm offers it (as in QEMU, a TPM 1.2 request is accepted and ignored).  The
  // locality is the one that asked for the reset; QEMU 7.2 sends the last command's instead.
  if (version_ != TpmVersion::k2_0) return Status::ok();
  CtrlResult r = ctrl_.reset_established(locality);
  if (!r.ok()) return fail(r);
  established_ = 0;
  return Status::ok();
}

std::vector<std::pair<std::string, std::string>> EmulatorBackend::tpm_options() const {
  return {{"chardev", chardev_id_}};
}

bool EmulatorBackend::blocks_migration(std::string *reason) const {
  if ((caps_ & swtpm::cap::kMigration) == swtpm::cap::kMigration) return false;
  if (reason) *reason = "Migration disabled: TPM emulator does not support migration";
  return true;
}

// ---------------------------------------------------------------------------------------------
// State blobs (migration).

Status EmulatorBackend::save_state_blobs(EmulatorStateBlobs *blobs) {
  finish_sync();
  SwtpmStateBlob *const slots[] = {&blobs->permanent, &blobs->volatile_state, &blobs->savestate};
  for (SwtpmStateBlob *slot : slots) {
    CtrlResult r = ctrl_.get_state_blob(slot->type, slot);
    if (!r.ok()) {
      return fail(r, strprintf("getting state blob (type %u): ",
                               static_cast<uint32_t>(slot->type)));
    }
  }
  return Status::ok();
}

Status EmulatorBackend::restore_state_blobs(const EmulatorStateBlobs &blobs) {
  finish_sync();
  const SwtpmStateBlob *const slots[] = {&blobs.permanent, &blobs.volatile_state,
                                         &blobs.savestate};
  const swtpm::BlobType types[] = {swtpm::BlobType::kPermanent, swtpm::BlobType::kVolatile,
                                   swtpm::BlobType::kSavestate};
  // Check everything before swtpm is touched.
  for (int i = 0; i < 3; i++) {
    if (slots[i]->type != types[i] || slots[i]->data.size() > kSwtpmStateBlobMax) {
      return Status::errorf("tpm-emulator: state blob %d is invalid (type %u, %zu bytes)", i + 1,
                            static_cast<uint32_t>(slots[i]->type), slots[i]->data.size());
    }
  }
  CtrlResult r = ctrl_.stop();
  if (!r.ok()) return fail(r);
  for (const SwtpmStateBlob *slot : slots) {
    if (slot->data.empty()) continue;
    r = ctrl_.set_state_blob(*slot);
    if (!r.ok()) {
      return fail(r, strprintf("setting state blob (type %u): ",
                               static_cast<uint32_t>(slot->type)));
    }
  }
  r = ctrl_.init(swtpm::kInitDeleteVolatile);
  if (!r.ok()) return fail(r);
  cur_locality_ = 0xff;
  established_ = -1;
  established_flag();
  return Status::ok();
}

Status EmulatorBackend::relock_storage() {
  if (!(caps_ & swtpm::cap::kLockStorage)) return Status::ok();
  CtrlResult r = ctrl_.lock_storage(kLockStorageRetries);
  return r.ok() ? Status::ok() : fail(r);
}

void register_tpm_emulator_types() {
  TypeInfo info = make_type<EmulatorBackend>(kTypeTpmEmulator, kTypeTpmBackend,
                                             "TPM emulator backend driver");
  type_register(std::move(info));
}

}  // namespace qtpm
