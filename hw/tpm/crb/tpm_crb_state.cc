// SPDX-License-Identifier: GPL-2.0-or-later
//
// tpm-crb saved state (qom/saved_state.h; schema in docs/crb.md).
//
// Section "tpm-crb", version 1:
//   layout        u8     0 = qemu, 1 = page-aligned; must match the loading device
//   loc_assigned  bool   LOC_STATE.locAssigned (= LOC_STS.Granted)
//   idle          bool   CTRL_STS.tpmIdle
//   error         bool   CTRL_STS.tpmSts (latched fatal error)
//   buffer        bytes  the command/response memory, exactly the layout's memory size
//   ppi           section "tpm-ppi" v1, present exactly when the device has ppi=on
// Everything else in the register file is a constant or follows from the layout.  A command in
// flight is never saved: prepare_save() waits for it, so its response is in `buffer`.  This is
// also why CTRL_START has no field (it is always clear in a saved state).
#include <cstring>

#include "hw/tpm/crb/tpm_crb.h"

namespace qtpm {

using namespace crb;

Status TpmCrb::prepare_save() {
  if (backend_) backend_->finish_sync();
  return Status::ok();
}

StateWriter TpmCrb::save_state() const {
  StateWriter w(kTypeTpmCrb, kStateVersion);
  w.put_u8("layout", static_cast<uint8_t>(layout_->id));
  w.put_bool("loc_assigned", test(R_LOC_STATE, loc_state::kLocAssigned));
  w.put_bool("idle", test(R_CTRL_STS, ctrl_sts::kTpmIdle));
  w.put_bool("error", test(R_CTRL_STS, ctrl_sts::kTpmSts));
  w.put_bytes("buffer", std::span<const uint8_t>(memory_.get(), layout_->memory_size));
  if (ppi_enabled_) w.put_section("ppi", ppi_.save_state());
  return w;
}

namespace {

// Everything load_state applies, checked before the device changes.
struct CrbSavedState {
  uint8_t layout = 0;
  bool loc_assigned = false;
  bool idle = false;
  bool error = false;
  std::vector<uint8_t> buffer;
  TpmPpi::Page ppi{};
};

}  // namespace

Status TpmCrb::load_state(const StateReader &state) {
  Status st = state.expect(kTypeTpmCrb, kStateVersion, kStateVersion);
  CrbSavedState s;
  if (st) st = state.get_u8("layout", &s.layout);
  if (st && s.layout != static_cast<uint8_t>(layout_->id)) {
    const char *saved = s.layout == uint8_t(BufferLayout::kPageAligned) ? kPageAlignedLayout.name
                        : s.layout == uint8_t(BufferLayout::kQemu)      ? kQemuLayout.name
                                                                        : "unknown";
    st = Status::errorf("buffer-layout '%s' (%u) was saved, this device has '%s'", saved,
                        s.layout, layout_->name);
  }
  if (st) st = state.get_bool("loc_assigned", &s.loc_assigned);
  if (st) st = state.get_bool("idle", &s.idle);
  if (st) st = state.get_bool("error", &s.error);
  if (st) st = state.get_bytes("buffer", &s.buffer, layout_->memory_size);
  if (st && s.buffer.size() != layout_->memory_size) {
    st = Status::errorf("buffer of %zu bytes, the layout has %u", s.buffer.size(),
                        layout_->memory_size);
  }
  if (st && state.has("ppi") != ppi_enabled_) {
    st = Status::errorf("the saved device had ppi=%s, this one has ppi=%s",
                        ppi_enabled_ ? "off" : "on", ppi_enabled_ ? "on" : "off");
  }
  if (st && ppi_enabled_) {
    StateReader ppi;
    st = state.get_section("ppi", &ppi);
    if (st) st = TpmPpi::parse_state(ppi, &s.ppi);
  }
  if (!st) return st.prefixed("tpm-crb: ");

  // Valid: apply.  A request still in flight here would complete over the loaded state.
  if (backend_) backend_->finish_sync();
  update(R_LOC_STATE, loc_state::kLocAssigned, s.loc_assigned);
  update(R_LOC_STS, loc_sts::kGranted, s.loc_assigned);
  update(R_CTRL_STS, ctrl_sts::kTpmIdle, s.idle);
  update(R_CTRL_STS, ctrl_sts::kTpmSts, s.error);
  update(R_CTRL_START, ctrl_start::kInvoke, 0);
  // s.buffer.size() == layout_->memory_size was checked above.
  std::memcpy(memory_.get(), s.buffer.data(), s.buffer.size());
  if (ppi_enabled_) ppi_.restore(s.ppi);
  return Status::ok();
}

}  // namespace qtpm
