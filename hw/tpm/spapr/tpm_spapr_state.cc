// SPDX-License-Identifier: GPL-2.0-or-later
//
// tpm-spapr saved state (qom/saved_state.h; schema in docs/spapr.md).
//
// Section "tpm-spapr", version 1:
//   vio              section "spapr-vio" v1: unit address, interrupt, signal mode, the queue
//   state            u8     0 none, 2 completion (1, a command in flight, is never saved:
//                           prepare_save() drains it)
//   command_ioba     u32    where the last command came from, where its response goes
//   parked_response  bytes  present only when a response completed while the state was taken;
//                           at most the RTCE buffer size.  The loading side delivers it.
// The buffer itself is not saved otherwise: once delivered, the response lives in guest memory.
#include <cstring>

#include "hw/tpm/spapr/tpm_spapr.h"
#include "qom/trace.h"

namespace qtpm {

using namespace spapr;

Status TpmSpapr::prepare_save() {
  // A completion that drains now is parked instead of written to guest memory.
  parking_ = true;
  if (backend_) backend_->finish_sync();
  parking_ = false;
  return Status::ok();
}

StateWriter TpmSpapr::save_state() const {
  StateWriter w(kTypeTpmSpapr, kStateVersion);
  w.put_section("vio", vio_save_state());
  w.put_u8("state", static_cast<uint8_t>(state_));
  w.put_u32("command_ioba", command_ioba_);
  if (parked_length_) {
    w.put_bytes("parked_response", std::span<const uint8_t>(buffer_.data(), parked_length_));
  }
  return w;
}

namespace {

// Everything load_state applies, checked before the device changes.
struct SpaprSavedState {
  uint8_t state = 0;
  uint32_t command_ioba = 0;
  std::vector<uint8_t> parked;
};

}  // namespace

Status TpmSpapr::load_state(const StateReader &r) {
  Status st = r.expect(kTypeTpmSpapr, kStateVersion, kStateVersion);
  VioState vio;
  SpaprSavedState s;
  if (st) {
    StateReader section;
    st = r.get_section("vio", &section);
    if (st) st = vio_parse_state(section, &vio).prefixed("vio: ");
  }
  if (st) st = r.get_u8("state", &s.state);
  if (st && s.state != uint8_t(State::kNone) && s.state != uint8_t(State::kCompletion)) {
    st = s.state == uint8_t(State::kExecution)
             ? Status::error("a command in flight cannot be restored (state 1)")
             : Status::errorf("state %u is not one of 0 (none) and 2 (completion)", s.state);
  }
  if (st) st = r.get_u32("command_ioba", &s.command_ioba);
  if (st && r.has("parked_response")) {
    st = r.get_bytes("parked_response", &s.parked, be_buffer_size_);
    if (st && s.parked.empty()) st = Status::error("an empty parked response");
    if (st && s.state != uint8_t(State::kCompletion)) {
      st = Status::error("a parked response without a completed command");
    }
  }
  if (!st) return st.prefixed("tpm-spapr: ");

  // Valid: apply.  A command still in flight here would complete over the loaded state.
  if (backend_) {
    discarding_ = true;
    backend_->finish_sync();
    discarding_ = false;
  }
  vio_restore_state(vio);
  state_ = static_cast<State>(s.state);
  command_ioba_ = s.command_ioba;
  // s.parked.size() <= be_buffer_size_ <= buffer_.size(), checked by get_bytes above.
  if (!s.parked.empty()) std::memcpy(buffer_.data(), s.parked.data(), s.parked.size());
  parked_length_ = uint32_t(s.parked.size());
  parking_ = false;
  if (parked_length_) {
    QTPM_TRACE("tpm_spapr_post_load", "delivering a %u-byte response", parked_length_);
    deliver_parked_response();
  }
  return Status::ok();
}

}  // namespace qtpm
