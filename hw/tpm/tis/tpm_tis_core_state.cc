// SPDX-License-Identifier: GPL-2.0-or-later
//
// The TIS core's part of the "tpm-tis" saved-state section (docs/tis.md, "Saved state"): the
// fields QEMU's vmstate "tpm-tis" v0 carries, as explicit named fields, and the checks that a
// loaded state describes a TIS this device could have been in.
#include <algorithm>
#include <cstdarg>

#include "hw/tpm/tis/tpm_tis_core.h"

namespace qtpm {

using namespace tis;

namespace {

constexpr uint32_t kLocalityVersion = 1;

std::string locality_key(unsigned l) { return strprintf("locality%u", l); }

Status bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
Status bad(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  std::string message = vstrprintf(fmt, ap);
  va_end(ap);
  return Status::error("state of 'tpm-tis': " + message);
}

Status read_locality(const StateReader &r, unsigned l, TisSnapshot::Locality *out) {
  StateReader lr;
  Status st = r.get_section(locality_key(l), &lr);
  if (st) st = lr.expect("tpm-tis/locality", kLocalityVersion, kLocalityVersion);
  uint8_t state = 0;
  if (st) st = lr.get_u8("state", &state);
  if (st) st = lr.get_u8("access", &out->access);
  if (st) st = lr.get_u32("sts", &out->sts);
  if (st) st = lr.get_u32("iface_id", &out->iface_id);
  if (st) st = lr.get_u32("inte", &out->inte);
  if (st) st = lr.get_u32("ints", &out->ints);
  if (!st) return st;
  if (state > kTisStateMax) return bad("locality %u: no such state", l);
  out->state = static_cast<TisState>(state);
  return Status::ok();
}

// What a state may hold in each register of one locality, whatever else is going on.
Status check_registers(const TisSnapshot::Locality &lo, unsigned l, const TisIdentity &id,
                       bool version_known) {
  if (lo.access & ~access::kStoredMask) return bad("locality %u: invalid ACCESS bits", l);
  if (!(lo.access & access::kRegValidSts)) return bad("locality %u: ACCESS not valid", l);
  if (lo.access & access::kSeize) return bad("locality %u: seize pending without a command", l);
  if (lo.sts & ~sts::kStoredMask) return bad("locality %u: invalid STS bits", l);
  if (lo.inte & ~intr::kEnableWritable) return bad("locality %u: invalid INT_ENABLE bits", l);
  if (lo.ints & ~intr::kSupported) return bad("locality %u: invalid INT_STATUS bits", l);
  if (version_known) {
    if ((lo.sts & sts::kFamily.mask()) != id.sts_family) {
      return bad("locality %u: TPM family differs from this TPM's", l);
    }
    if ((lo.iface_id | iface_id::kIntfSelLock) != (id.interface_id | iface_id::kIntfSelLock)) {
      return bad("locality %u: INTERFACE_ID differs from this TPM's", l);
    }
  }
  return Status::ok();
}

// What the command state allows in STS and (for the owner, whose buffer it is) the buffer.
Status check_command_state(const TisSnapshot &s, unsigned l) {
  const TisSnapshot::Locality &lo = s.loc[l];
  uint32_t flags = lo.sts & ~sts::kSticky;
  size_t len = s.buffer.size();
  switch (lo.state) {
    case TisState::kExecution:
      return bad("locality %u: saved with a command in flight", l);
    case TisState::kIdle:
      if (flags) return bad("locality %u: idle with status flags", l);
      break;
    case TisState::kReady:
      if (flags != sts::kCommandReady) return bad("locality %u: ready without commandReady", l);
      break;
    case TisState::kReception:
      if (flags != sts::kValid && flags != (sts::kValid | sts::kExpect)) {
        return bad("locality %u: invalid STS while receiving", l);
      }
      if (s.rw_offset != len) return bad("locality %u: FIFO offset is not the command length", l);
      return Status::ok();
    case TisState::kCompletion:
      if (flags != sts::kValid && flags != (sts::kValid | sts::kDataAvail)) {
        return bad("locality %u: invalid STS with a response", l);
      }
      if (s.rw_offset > len) return bad("locality %u: FIFO offset beyond the response", l);
      return Status::ok();
  }
  if (l == s.active && (s.rw_offset != 0 || len != 0)) {
    return bad("locality %u: buffer contents without a command", l);
  }
  return Status::ok();
}

}  // namespace

void TisCore::save(StateWriter &w) const {
  w.put_u16("rw_offset", static_cast<uint16_t>(rw_offset_));
  w.put_u8("active_locality", active_);
  // Always "none": a pending locality change only exists while a command is in flight, and
  // states are taken after draining it.  Kept for parity with QEMU's fields.
  w.put_u8("aborting_locality", abort_pending_ ? aborting_ : kNoLocality);
  w.put_u8("next_locality", abort_pending_ ? next_ : kNoLocality);
  w.put_bytes("buffer", std::span<const uint8_t>(buffer_.data(), buffer_len_));
  for (uint8_t l = 0; l < kLocalities; l++) {
    StateWriter lw("tpm-tis/locality", kLocalityVersion);
    lw.put_u8("state", static_cast<uint8_t>(loc_[l].state));
    lw.put_u8("access", loc_[l].access);
    lw.put_u32("sts", loc_[l].sts);
    lw.put_u32("iface_id", bank(l).stored(kRegInterfaceId));
    lw.put_u32("inte", bank(l).stored(kRegIntEnable));
    lw.put_u32("ints", bank(l).stored(kRegIntStatus));
    w.put_section(locality_key(l), lw);
  }
}

Status TisCore::parse_state(const StateReader &r, TisSnapshot *out) const {
  TisSnapshot s;
  uint8_t aborting = 0, next = 0;
  // The buffer can never hold more than this TPM's buffer size (before the first reset that is
  // not known yet: then the interface maximum).
  size_t max_buffer = be_buffer_size_ ? be_buffer_size_ : kBufferMax;
  Status st = r.get_u16("rw_offset", &s.rw_offset);
  if (st) st = r.get_u8("active_locality", &s.active);
  if (st) st = r.get_u8("aborting_locality", &aborting);
  if (st) st = r.get_u8("next_locality", &next);
  if (st) st = r.get_bytes("buffer", &s.buffer, max_buffer);
  for (unsigned l = 0; st && l < kLocalities; l++) st = read_locality(r, l, &s.loc[l]);
  if (!st) return st;

  if (s.active != kNoLocality && s.active >= kHardwareLocality) {
    return bad("active locality %u is not one software can own", s.active);
  }
  if (aborting != kNoLocality || next != kNoLocality) {
    return bad("a locality change is pending (aborting %u, next %u)", aborting, next);
  }
  // Before the first reset the TPM's family is not known yet: nothing to compare with.
  bool version_known = be_version_ != TpmVersion::kUnspec;
  const TisIdentity &id = tis_identity(be_version_);
  bool any_requester = false;
  for (unsigned l = 0; l < kLocalities; l++) {
    const TisSnapshot::Locality &lo = s.loc[l];
    if (!(st = check_registers(lo, l, id, version_known))) return st;
    bool active = (l == s.active);
    if (bool(lo.access & access::kActiveLocality) != active) {
      return bad("locality %u: activeLocality disagrees with the active locality", l);
    }
    if (active && (lo.access & access::kRequestUse)) return bad("locality %u: owner requests", l);
    any_requester |= (lo.access & access::kRequestUse) != 0;
    if (!active && lo.state != TisState::kIdle) return bad("locality %u: busy but not active", l);
    if (!(st = check_command_state(s, l))) return st;
    // Sticky bits are set and cleared for all localities at once.
    if ((lo.sts & sts::kSelfTestDone) != (s.loc[0].sts & sts::kSelfTestDone) ||
        (lo.iface_id & iface_id::kIntfSelLock) != (s.loc[0].iface_id & iface_id::kIntfSelLock)) {
      return bad("locality %u: selfTestDone/IntfSelLock differ between localities", l);
    }
  }
  if (s.active == kNoLocality) {
    if (any_requester) return bad("a request is pending but no locality is active");
    if (s.rw_offset != 0 || !s.buffer.empty()) return bad("buffer contents without an owner");
  }
  *out = std::move(s);
  return Status::ok();
}

void TisCore::apply(const TisSnapshot &s) {
  in_flight_ = false;
  exec_locality_ = kNoLocality;
  abort_pending_ = false;
  aborting_ = next_ = kNoLocality;
  active_ = s.active;
  for (uint8_t l = 0; l < kLocalities; l++) {
    loc_[l] = Locality{s.loc[l].state, s.loc[l].access, s.loc[l].sts};
    bank(l).set_stored(kRegInterfaceId, s.loc[l].iface_id);
    bank(l).set_stored(kRegIntEnable, s.loc[l].inte);
    bank(l).set_stored(kRegIntStatus, s.loc[l].ints);
  }
  buffer_.fill(0);
  // parse_state() bounded the buffer by be_buffer_size_ <= kBufferMax.
  std::copy(s.buffer.begin(), s.buffer.end(), buffer_.begin());
  buffer_len_ = static_cast<uint32_t>(s.buffer.size());
  rw_offset_ = s.rw_offset;
  // A restored device re-asserts a pending interrupt.
  update_irq();
}

}  // namespace qtpm
