// SPDX-License-Identifier: GPL-2.0-or-later
//
// tpm-spapr: the vTPM CRQ messages, commands over DMA, reset and realize (see tpm_spapr.h; the
// protocol of Linux tpm_ibmvtpm, the behaviour of QEMU 7.2 hw/tpm/tpm_spapr.c; where qtpm differs
// from QEMU is listed in docs/spapr.md).
#include "hw/tpm/spapr/tpm_spapr.h"

#include <algorithm>
#include <cinttypes>
#include <cstring>

#include "qom/module_init.h"
#include "qom/trace.h"

namespace qtpm {

using namespace spapr;

TpmSpapr::TpmSpapr() {
  add_string_property("tpmdev", &tpmdev_, "", "ID of a tpm to use as a backend");
}

TpmSpapr::~TpmSpapr() { unrealize(); }

// ---------------------------------------------------------------------------------------------
// Lifecycle

Status TpmSpapr::do_realize() {
  if (Status st = bind_backend(); !st) return st;
  declare_vio_irq();
  return Status::ok();
}

Status TpmSpapr::bind_backend() {
  if (tpmdev_.empty()) return Status::error("'tpmdev' property is required");
  if (!host()) return Status::error("tpm-spapr: the device has no host services");
  auto *backend = object_cast<TpmBackend>(host()->find_tpm_backend(tpmdev_));
  if (!backend) {
    return Status::errorf("Property 'tpm-spapr.tpmdev' can't find value '%s'", tpmdev_.c_str());
  }
  if (Status st = backend->attach(this); !st) return st;
  backend_ = backend;
  return Status::ok();
}

void TpmSpapr::do_unrealize() {
  if (backend_) {
    discarding_ = true;  // detach drains a command; its response has nowhere to go
    backend_->detach();
    discarding_ = false;
  }
  backend_ = nullptr;
  attach_dma(nullptr);
}

// Machine reset.  QEMU's order: quiesce the VIO part, forget the command, ask the backend for its
// version and buffer size, reset it and start the TPM.
void TpmSpapr::do_reset() {
  // A command still running completes inside reset(); the guest that sent it is gone.
  discarding_ = true;
  backend_->reset();
  discarding_ = false;
  vio_reset();
  state_ = State::kNone;
  command_ioba_ = 0;
  parking_ = false;
  parked_length_ = 0;
  // A response (possibly unsealed secrets) must not outlive the boot that asked for it.
  buffer_.fill(0);
  be_buffer_size_ = std::min(backend_->buffer_size(), kVtpmBufferMax);
  QTPM_TRACE("tpm_spapr_reset", "%s: TPM %s, buffer %u", dt_node_name().c_str(),
             tpm_version_name(backend_->version()), be_buffer_size_);
  Status st = backend_->startup(be_buffer_size_);
  startup_failed_ = !st.is_ok();
  if (!st) {
    // QEMU exits here.  qtpm keeps the machine running with a failing TPM: the backend answers
    // every command with a fatal response (docs/spapr.md).
    host()->report_error("tpm-spapr: TPM startup failed at reset, the guest sees a failing TPM: " +
                         st.message());
  }
}

TpmVersion TpmSpapr::tpm_version() const {
  // QEMU's get_version: unspecified after a failed startup.
  if (!backend_ || backend_->had_startup_error()) return TpmVersion::kUnspec;
  return backend_->version();
}

std::string TpmSpapr::dt_compatible() const {
  // Linux sets TPM_CHIP_FLAG_TPM2 from this string alone.
  return backend_ && backend_->version() == TpmVersion::k2_0 ? "IBM,vtpm20" : "IBM,vtpm";
}

// ---------------------------------------------------------------------------------------------
// Messages from the guest (H_SEND_CRQ)

int64_t TpmSpapr::handle_crq(const CrqElement &e) {
  QTPM_TRACE("tpm_spapr_do_crq", "valid 0x%02x msg 0x%02x len %u data 0x%x", e.valid, e.msg, e.len,
             e.data);
  if (e.valid == kCrqValidInit) {
    if (e.msg == kCrqInit || e.msg == kCrqInitComplete) {
      reply({.valid = kCrqValidInit, .msg = e.msg});
    } else {
      log_guest(LogCategory::kGuestError, "tpm-spapr: unknown init message 0x%02x", e.msg);
    }
    return kHSuccess;
  }
  if (e.valid != kCrqValidCommand) {
    log_guest(LogCategory::kGuestError, "tpm-spapr: unknown CRQ valid byte 0x%02x (msg 0x%02x)",
              e.valid, e.msg);
    return kHSuccess;
  }
  switch (e.msg) {
    case kVtpmTpmCommand:
      return start_command(e);
    case kVtpmGetRtceBufferSize:
      reply({.valid = kCrqValidCommand,
             .msg = kVtpmGetRtceBufferSize | kVtpmResponse,
             .len = uint16_t(be_buffer_size_)});  // <= 4096
      break;
    case kVtpmGetVersion: {
      TpmVersion v = backend_->version();
      uint32_t version = v == TpmVersion::k1_2 ? kVtpmVersion12 : v == TpmVersion::k2_0 ? kVtpmVersion20 : 0;
      if (!version) log_guest(LogCategory::kGuestError, "tpm-spapr: GET_VERSION: TPM version unknown");
      reply({.valid = kCrqValidCommand, .msg = kVtpmGetVersion | kVtpmResponse, .data = version});
      break;
    }
    case kVtpmPrepareToSuspend:
      reply({.valid = kCrqValidCommand, .msg = kVtpmPrepareToSuspend | kVtpmResponse});
      break;
    default:
      log_guest(LogCategory::kGuestError, "tpm-spapr: unknown vTPM message 0x%02x", e.msg);
      break;
  }
  return kHSuccess;
}

int64_t TpmSpapr::start_command(const CrqElement &e) {
  // One command at a time: Linux waits for the response before it sends the next.
  if (state_ == State::kExecution) return kHBusy;
  if (parked_length_) {
    // The guest gave up on the parked response (the source never called
    // deliver_parked_response()); its new command replaces it.
    QTPM_TRACE("tpm_spapr_parked_dropped", "%u bytes", parked_length_);
    parked_length_ = 0;
  }
  command_ioba_ = e.data;
  uint32_t length = copy_in_command(e.data);
  if (length == 0) {
    // QEMU sends the stale buffer to the TPM anyway; qtpm runs nothing the guest did not send.
    log_guest(LogCategory::kGuestError, "tpm-spapr: cannot read the command at ioba 0x%x", e.data);
    reply_error(kVtpmErrCopyInFailed);
    return kHSuccess;
  }
  auto request = std::make_unique<TpmRequest>();
  request->locality = 0;
  // length <= be_buffer_size_ <= buffer_.size(), see copy_in_command.
  request->command.assign(buffer_.begin(), buffer_.begin() + length);
  request->max_response = be_buffer_size_;
  QTPM_TRACE("tpm_spapr_command", "0x%08x, %u bytes from ioba 0x%x", tpm_header_code(buffer_.data()),
             length, e.data);
  State before = state_;
  state_ = State::kExecution;
  if (std::unique_ptr<TpmRequest> refused = backend_->deliver(std::move(request))) {
    // Only when the backend still runs a command this device does not know of: try again later.
    state_ = before;
    return kHBusy;
  }
  return kHSuccess;
}

uint32_t TpmSpapr::copy_in_command(uint32_t ioba) {
  std::span<uint8_t> buffer(buffer_);
  if (!dma_read(ioba, buffer.first(kTpmHeaderSize))) return 0;
  // The TPM, not the device, judges a command that claims fewer bytes than a header; one that
  // claims more than the buffer is cut there (QEMU: MIN(header size, buffer size)).
  uint32_t limit = std::clamp<uint32_t>(be_buffer_size_, kTpmHeaderSize, kVtpmBufferMax);
  uint32_t length = std::clamp<uint32_t>(tpm_header_size(buffer_.data()), kTpmHeaderSize, limit);
  // Only the command's own bytes are read (QEMU reads the whole buffer size): a command at the
  // end of the guest's mapping is still readable.
  if (!dma_read(uint64_t(ioba) + kTpmHeaderSize, buffer.subspan(kTpmHeaderSize, length - kTpmHeaderSize))) {
    return 0;
  }
  return length;
}

// ---------------------------------------------------------------------------------------------
// Responses

// Main-loop thread.  The backend core bounds the response by max_response (be_buffer_size_).
void TpmSpapr::tpm_request_completed(std::unique_ptr<TpmRequest> request) {
  if (discarding_ || !realized()) return;
  state_ = State::kCompletion;
  uint32_t length = uint32_t(std::min<size_t>(request->response.size(), be_buffer_size_));
  if (length) std::memcpy(buffer_.data(), request->response.data(), length);
  QTPM_TRACE("tpm_spapr_completed", "%u bytes, %s", length,
             request->status.is_ok() ? "ok" : request->status.message().c_str());
  if (parking_) {
    // The state is being taken: guest memory must not change now (QEMU: RUN_STATE_FINISH_MIGRATE).
    parked_length_ = length;
    QTPM_TRACE("tpm_spapr_parked", "%u bytes until the state is loaded", length);
    return;
  }
  deliver_response(length);
}

void TpmSpapr::deliver_response(uint32_t length) {
  // length <= be_buffer_size_ <= buffer_.size()
  if (!dma_write(command_ioba_, std::span<const uint8_t>(buffer_.data(), length))) {
    log_guest(LogCategory::kGuestError, "tpm-spapr: cannot write the response to ioba 0x%x",
              command_ioba_);
    reply_error(kVtpmErrCopyOutFailed);
    return;
  }
  reply({.valid = kCrqValidCommand,
         .msg = kVtpmTpmCommand | kVtpmResponse,
         .len = uint16_t(length),  // <= 4096
         .data = command_ioba_});
}

void TpmSpapr::deliver_parked_response() {
  if (!parked_length_) return;
  uint32_t length = parked_length_;
  parked_length_ = 0;
  deliver_response(length);
}

void TpmSpapr::reply(const CrqElement &e) {
  CrqSendResult r = send_crq(e);
  QTPM_TRACE("tpm_spapr_reply", "valid 0x%02x msg 0x%02x len %u data 0x%x: %s", e.valid, e.msg,
             e.len, e.data, crq_send_result_name(r));
  if (r != CrqSendResult::kSent) {
    // As in QEMU the response is lost; a guest that keeps its queue registered and drained never
    // sees this.
    log_guest(LogCategory::kGuestError, "tpm-spapr: response 0x%02x/0x%02x lost: %s", e.valid,
              e.msg, crq_send_result_name(r));
  }
}

void TpmSpapr::reply_error(uint32_t code) {
  reply({.valid = kCrqValidCommand, .msg = kVtpmError, .data = code});
}

// ---------------------------------------------------------------------------------------------
// Types

void register_tpm_spapr_types() {
  TypeInfo vio;
  vio.name = kTypeVioSpaprDevice;
  vio.parent = kTypeDevice;
  vio.abstract = true;
  vio.bus = "spapr-vio";
  type_register(vio);
  // No description: QEMU's `-device help` line is `name "tpm-spapr", bus spapr-vio-bus`.
  TypeInfo info = make_type<TpmSpapr>(kTypeTpmSpapr, kTypeVioSpaprDevice, "");
  info.interfaces = {kTypeTpmIf};
  info.bus = "spapr-vio";
  type_register(info);
}

}  // namespace qtpm
