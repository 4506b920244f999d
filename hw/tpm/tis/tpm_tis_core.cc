// SPDX-License-Identifier: GPL-2.0-or-later
//
// The TPM FIFO interface core (see tpm_tis_core.h): TCG PC Client TIS 1.3 / PTP FIFO interface.
#include "hw/tpm/tis/tpm_tis_core.h"

#include <algorithm>
#include <bit>
#include <cassert>

#include "qom/trace.h"

namespace qtpm {

using namespace tis;

namespace {

bool valid_locality(uint8_t l) { return l < kLocalities; }

void merge(AccessOutcome *total, AccessOutcome piece) {
  if (total && *total == AccessOutcome::kOk) *total = piece;
}

// QEMU's memory core never hands this device an unaligned access: it splits one into naturally
// aligned pieces (memory_access_size()).  Splitting the same way here makes the device answer
// identically in qtpm's host, which passes accesses through as they come, and inside QEMU.
unsigned aligned_piece(uint64_t addr, unsigned remaining) {
  unsigned piece = 4;
  while (piece > remaining || (addr & (piece - 1))) piece >>= 1;
  return piece;
}

uint32_t saturating_sub(uint32_t a, uint32_t b) { return a > b ? a - b : 0; }

// Why a completed request cannot be served as it is, or nullptr.
const char *response_problem(const TpmRequest &request) {
  if (!request.status.is_ok()) return request.status.message().c_str();
  if (request.response.size() < kTpmHeaderSize) return "response shorter than a header";
  uint32_t claimed = tpm_header_size(request.response.data());
  if (claimed < kTpmHeaderSize) return "response size field below the header size";
  if (claimed > request.response.size()) return "response shorter than its size field";
  return nullptr;
}

// A locality for trace output: -1 for "none".
int shown(uint8_t l) { return l == kNoLocality ? -1 : l; }

}  // namespace

const char *tis_state_name(TisState state) {
  switch (state) {
    case TisState::kIdle: return "idle";
    case TisState::kReady: return "ready";
    case TisState::kCompletion: return "completion";
    case TisState::kExecution: return "execution";
    case TisState::kReception: return "reception";
  }
  return "?";
}

TisCore::TisCore() {
  for (uint8_t l = 0; l < kLocalities; l++) {
    banks_[l] = std::make_unique<RegisterBank>(kRegisters, kLocalityWindow, kUnmappedByte);
    install_hooks(l);
  }
}

TisCore::~TisCore() = default;

void TisCore::connect(TpmBackend *backend, IrqOutput *irq, uint32_t irq_vector) {
  backend_ = backend;
  irq_ = irq;
  irq_vector_ = irq_vector;
}

// Each register's behaviour, in a few lines; the bank does lanes, masks and sizes.
void TisCore::install_hooks(uint8_t l) {
  using Hooks = RegisterBank::Hooks;
  RegisterBank &b = bank(l);
  b.set_hooks(kRegAccess, Hooks{
      .read = [this, l](uint32_t, bool) { return read_access(l); },
      .write = [this, l](uint32_t, uint32_t, uint32_t raw, uint32_t enable) {
        if (enable & 0xff) write_access(l, static_cast<uint8_t>(raw));
      }});
  // INT_ENABLE and INT_STATUS: the bank applies the writable / w1c masks; only the locality
  // that owns the TPM may change them (QEMU 7.2; relaxed in 8.1 for the I2C variant only).
  for (TisRegister r : {kRegIntEnable, kRegIntStatus}) {
    b.set_hooks(r, Hooks{.write = [this, l, r](uint32_t old, uint32_t, uint32_t, uint32_t) {
      if (!owns(l)) {
        bank(l).set_stored(r, old);
        refuse(l, r == kRegIntEnable ? "INT_ENABLE write" : "INT_STATUS write");
        return;
      }
      update_irq();
    }});
  }
  b.set_hooks(kRegIntVector, Hooks{.read = [this](uint32_t, bool) { return irq_vector_; }});
  b.set_hooks(kRegIntfCapability, Hooks{.read = [this](uint32_t, bool) {
    return tis_identity(be_version_).intf_capability;
  }});
  b.set_hooks(kRegSts, Hooks{
      .read_lanes = [this, l](uint32_t, uint32_t lanes, bool) { return read_sts(l, lanes); },
      .write = [this, l](uint32_t, uint32_t, uint32_t raw, uint32_t) { write_sts(l, raw); }});
  Hooks fifo{
      .stream_read = [this, l](uint32_t, unsigned size, bool peek) {
        return fifo_read(l, size, peek);
      },
      .stream_write = [this, l](uint32_t, uint64_t value, unsigned size) {
        fifo_write(l, value, size);
      }};
  b.set_hooks(kRegDataFifo, fifo);
  for (uint32_t i = 0; i < reg::kXDataFifoSlots; i++) b.set_hooks(kRegXDataFifo0 + i, fifo);
  // SeaBIOS writes 0 (select the FIFO interface) and then IntfSelLock: the FIFO is the only
  // interface, so only the lock has an effect, and it applies to every locality.
  b.set_hooks(kRegInterfaceId, Hooks{.write = [this](uint32_t, uint32_t, uint32_t raw,
                                                     uint32_t enable) {
    if (raw & enable & iface_id::kIntfSelLock) lock_interface();
  }});
  // QEMU's debug register dumps state to stdout; here it is a read without side effects and a
  // trace event.
  b.set_hooks(kRegDebug, Hooks{.read = [this, l](uint32_t stored, bool peek) {
    if (!peek) trace_debug(l);
    return stored;
  }});
}

// ---------------------------------------------------------------------------------------------
// Reset and version

Status TisCore::reset() {
  assert(backend_ && "connect() before reset()");
  be_version_ = backend_->version();
  be_buffer_size_ = std::min(backend_->buffer_size(), kBufferMax);
  backend_->reset();  // a command in flight completes into the old state first

  in_flight_ = false;
  exec_locality_ = kNoLocality;
  abort_pending_ = false;
  aborting_ = next_ = active_ = kNoLocality;
  const TisIdentity &id = tis_identity(be_version_);
  for (uint8_t l = 0; l < kLocalities; l++) {
    bank(l).reset();
    bank(l).set_stored(kRegInterfaceId, id.interface_id);
    loc_[l] = Locality{TisState::kIdle, static_cast<uint8_t>(kRegisters[kRegAccess].reset),
                       id.sts_family};
  }
  buffer_.fill(0);
  buffer_len_ = rw_offset_ = 0;

  Status st = backend_->startup(be_buffer_size_);
  startup_error_ = !st.is_ok();
  update_irq();
  QTPM_TRACE("tpm_tis_reset", "version %s buffer %u%s", tpm_version_name(be_version_),
             be_buffer_size_, startup_error_ ? " startup-error" : "");
  return st;
}

TpmVersion TisCore::version() const {
  if (startup_error_ || !backend_) return TpmVersion::kUnspec;
  return backend_->version();
}

// ---------------------------------------------------------------------------------------------
// MMIO dispatch

uint64_t TisCore::mmio_read(uint64_t offset, unsigned size, bool peek, AccessOutcome *outcome) {
  if (outcome) *outcome = AccessOutcome::kOk;
  // After a failed startup the guest must see no TPM: QEMU reads 0 everywhere (docs/tis.md).
  if (startup_error_) return 0;
  uint64_t value = 0;
  for (unsigned done = 0; done < size;) {
    uint64_t addr = offset + done;
    unsigned piece = aligned_piece(addr, size - done);
    uint64_t part;
    AccessOutcome o = AccessOutcome::kOk;
    if (addr >= kRegionSize) {
      part = 0xffffffffu;
      o = AccessOutcome::kUnmapped;
    } else {
      uint8_t l = static_cast<uint8_t>(addr >> kLocalityShift);
      part = bank(l).mmio_read(addr & (kLocalityWindow - 1), piece, peek, &o);
    }
    merge(outcome, o);
    if (piece < 8) part &= (uint64_t{1} << (8 * piece)) - 1;
    value |= part << (8 * done);
    done += piece;
  }
  if (!peek) {
    QTPM_TRACE("tpm_tis_mmio_read", "size %u addr 0x%04llx -> 0x%llx", size,
               static_cast<unsigned long long>(offset), static_cast<unsigned long long>(value));
  }
  return value;
}

void TisCore::mmio_write(uint64_t offset, uint64_t value, unsigned size, AccessOutcome *outcome) {
  if (outcome) *outcome = AccessOutcome::kOk;
  QTPM_TRACE("tpm_tis_mmio_write", "size %u addr 0x%04llx <- 0x%llx", size,
             static_cast<unsigned long long>(offset), static_cast<unsigned long long>(value));
  if (startup_error_) {
    merge(outcome, AccessOutcome::kIgnored);
    return;
  }
  for (unsigned done = 0; done < size;) {
    uint64_t addr = offset + done;
    unsigned piece = aligned_piece(addr, size - done);
    uint64_t part = value >> (8 * done);
    if (piece < 8) part &= (uint64_t{1} << (8 * piece)) - 1;
    done += piece;
    if (addr >= kRegionSize) {
      merge(outcome, AccessOutcome::kUnmapped);
      continue;
    }
    uint8_t l = static_cast<uint8_t>(addr >> kLocalityShift);
    if (l == kHardwareLocality) {
      QTPM_TRACE("tpm_tis_locality4_write", "addr 0x%04llx: locality 4 is hardware only",
                 static_cast<unsigned long long>(addr));
      merge(outcome, AccessOutcome::kIgnored);
      continue;
    }
    AccessOutcome o = AccessOutcome::kOk;
    hook_outcome_ = AccessOutcome::kOk;
    bank(l).mmio_write(addr & (kLocalityWindow - 1), part, piece, &o);
    merge(outcome, o);
    merge(outcome, hook_outcome_);
  }
}

void TisCore::refuse(uint8_t l, const char *what) {
  hook_outcome_ = AccessOutcome::kIgnored;
  QTPM_TRACE("tpm_tis_refused", "locality %u: %s (active %d, state %s)", l, what, shown(active_),
             tis_state_name(loc_[l].state));
}

// Keeps the bits that survive every transition (selfTestDone, tpmFamily) and sets `flags`.
void TisCore::sts_set(uint8_t l, uint32_t flags) {
  loc_[l].sts = (loc_[l].sts & sts::kSticky) | flags;
}

void TisCore::lock_interface() {
  for (uint8_t l = 0; l < kLocalities; l++) {
    bank(l).set_stored(kRegInterfaceId, bank(l).stored(kRegInterfaceId) | iface_id::kIntfSelLock);
  }
}

void TisCore::trace_debug(uint8_t l) const {
  QTPM_TRACE("tpm_tis_debug",
             "locality %u: active %d state %s access 0x%02x sts 0x%08x inte 0x%08x ints 0x%08x "
             "rw_offset %u buffer_len %u in_flight %d abort_pending %d",
             l, shown(active_), tis_state_name(loc_[l].state),
             loc_[l].access, loc_[l].sts, bank(l).stored(kRegIntEnable),
             bank(l).stored(kRegIntStatus), rw_offset_, buffer_len_, in_flight_, abort_pending_);
}

// ---------------------------------------------------------------------------------------------
// ACCESS: locality arbitration (TIS 1.3 section 5.6.11 / PTP "Locality usage")

uint32_t TisCore::read_access(uint8_t l) const {
  uint32_t v = loc_[l].access & ~access::kSeize;  // seize is write-only
  for (uint8_t o = 0; o < kLocalities; o++) {
    if (o != l && (loc_[o].access & access::kRequestUse)) v |= access::kPendingRequest;
  }
  if (backend_ && !backend_->established_flag()) v |= access::kTpmEstablishment;
  return v;
}

// One ACCESS write, processed in QEMU's order: relinquish, beenSeized, seize, request.
void TisCore::write_access(uint8_t l, uint8_t v) {
  if (v & access::kSeize) v &= ~(access::kRequestUse | access::kActiveLocality);
  bool switched = false;  // a begin_abort() took care of the change of owner
  uint8_t next = active_;
  if (v & access::kActiveLocality) {
    if (owns(l)) {
      relinquish(l);
      switched = true;
    } else {
      loc_[l].access &= ~access::kRequestUse;  // withdraws a pending request
    }
  }
  if (v & access::kBeenSeized) loc_[l].access &= ~access::kBeenSeized;
  if ((v & access::kSeize) && seize(l)) switched = true;
  if ((v & access::kRequestUse) && !owns(l)) {
    if (valid_locality(active_)) {
      loc_[l].access |= access::kRequestUse;
    } else {
      next = l;  // nobody owns the TPM: granted at once
    }
  }
  if (!switched) change_active_locality(next);
}

// The owner gives the TPM up: to the highest locality waiting for it, or to nobody.
void TisCore::relinquish(uint8_t l) {
  int requester = highest_requester();
  begin_abort(l, requester < 0 ? kNoLocality : static_cast<uint8_t>(requester));
}

// A higher locality takes the TPM from the owner (or takes it when nobody owns it).  Only one
// seize at a time: a pending seize by the same or a higher locality wins.
bool TisCore::seize(uint8_t l) {
  if (valid_locality(active_) && l <= active_) {
    QTPM_TRACE("tpm_tis_seize_refused", "locality %u may not seize from %u", l, active_);
    return false;
  }
  for (uint8_t o = l; o < kLocalities; o++) {
    if (loc_[o].access & access::kSeize) return false;
  }
  for (uint8_t o = 0; o < l; o++) loc_[o].access &= ~access::kSeize;
  loc_[l].access |= access::kSeize;
  QTPM_TRACE("tpm_tis_seize", "locality %u seizes from %d", l, shown(active_));
  begin_abort(active_, l);
  return true;
}

int TisCore::highest_requester() const {
  for (int c = kLocalities - 1; c >= 0; c--) {
    if (loc_[c].access & access::kRequestUse) return c;
  }
  return -1;
}

// QEMU's prep_abort: a change of owner (or a commandReady abort when aborting == next) waits
// until the command in flight has completed; the backend is asked to cancel it.
void TisCore::begin_abort(uint8_t aborting, uint8_t next) {
  // A seize waiting for the command is not undone by a later commandReady or release of the
  // owner; only a seize by a higher locality replaces it.  (QEMU lets any later abort replace
  // it, which leaves the seizer's SEIZE bit set forever and blocks every seize after that.)
  bool seize_pending =
      abort_pending_ && valid_locality(next_) && (loc_[next_].access & access::kSeize);
  bool is_seize = valid_locality(next) && (loc_[next].access & access::kSeize);
  if (seize_pending && !is_seize) {
    QTPM_TRACE("tpm_tis_abort_kept", "seize by %u still pending", next_);
    return;
  }
  aborting_ = aborting;
  next_ = next;
  if (in_flight_) {
    abort_pending_ = true;
    QTPM_TRACE("tpm_tis_abort_deferred", "aborting %d next %d", shown(aborting), shown(next));
    backend_->cancel();
    return;
  }
  run_abort();
}

void TisCore::run_abort() {
  uint8_t aborting = aborting_, next = next_;
  abort_pending_ = false;
  aborting_ = next_ = kNoLocality;
  // A relinquish that waited for a command may find requests that arrived meanwhile.
  if (next == kNoLocality && aborting != kNoLocality) {
    int requester = highest_requester();
    if (requester >= 0) next = static_cast<uint8_t>(requester);
  }
  QTPM_TRACE("tpm_tis_abort", "aborting %d next %d", shown(aborting), shown(next));
  rw_offset_ = 0;
  buffer_len_ = 0;
  if (aborting == next && valid_locality(aborting)) {
    loc_[aborting].state = TisState::kReady;
    sts_set(aborting, sts::kCommandReady);
    raise(aborting, intr::kCommandReady);
  }
  change_active_locality(next);
}

// QEMU's new_active_locality, plus: the locality that loses the TPM abandons its command.
void TisCore::change_active_locality(uint8_t next) {
  uint8_t old = active_;
  bool change = old != next;
  if (change && valid_locality(old)) {
    bool seized = valid_locality(next) && (loc_[next].access & access::kSeize);
    loc_[old].access &= seized ? ~access::kActiveLocality
                               : ~(access::kActiveLocality | access::kRequestUse);
    if (seized) loc_[old].access |= access::kBeenSeized;
    abandon(old);
  }
  active_ = next;
  if (valid_locality(next)) {
    loc_[next].access |= access::kActiveLocality;
    loc_[next].access &= ~(access::kRequestUse | access::kSeize);
  }
  if (change) {
    QTPM_TRACE("tpm_tis_new_active_locality", "%d -> %d", shown(old), shown(next));
    if (valid_locality(next)) raise(next, intr::kLocalityChange);
  }
}

// QEMU leaves the old owner in its state (a stale COMPLETION could later read another
// locality's response); the interface specification makes a locality change abort the command,
// so the old owner goes back to idle and its data is gone (docs/tis.md).
void TisCore::abandon(uint8_t l) {
  loc_[l].state = TisState::kIdle;
  sts_set(l, 0);
  rw_offset_ = 0;
  buffer_len_ = 0;
}

// ---------------------------------------------------------------------------------------------
// STS: the command state machine

uint32_t TisCore::read_sts(uint8_t l, uint32_t lanes) const {
  if (!owns(l)) return 0xffffffffu;
  const Locality &lo = loc_[l];
  uint32_t burst;
  if (lo.sts & sts::kDataAvail) {
    burst = saturating_sub(buffer_len_, rw_offset_);
  } else {
    burst = saturating_sub(be_buffer_size_, rw_offset_);
    // A byte read of the burst count must not show 0x00 for 0x100 free bytes (QEMU).
    if (std::popcount(lanes) == 8 && burst > 0xff) burst = 0xff;
  }
  return sts::kBurstCount.deposit(lo.sts, burst);
}

void TisCore::write_sts(uint8_t l, uint32_t value) {
  if (!owns(l)) {
    refuse(l, "STS write");
    return;
  }
  if (be_version_ == TpmVersion::k2_0) {
    if ((value & sts::kCommandCancel) && loc_[l].state == TisState::kExecution) {
      QTPM_TRACE("tpm_tis_cancel", "locality %u", l);
      backend_->cancel();
    }
    // Only localities 3 and 4 may reset the established flag; 4 never writes.
    if ((value & sts::kResetEstablishment) && l == 3) {
      Status st = backend_->reset_established_flag(l);
      if (!st) QTPM_TRACE("tpm_tis_backend_error", "resetEstablishment: %s", st.message().c_str());
    }
  }
  switch (value & (sts::kCommandReady | sts::kGo | sts::kResponseRetry)) {
    case sts::kCommandReady: command_ready(l); break;
    case sts::kGo: go(l); break;
    case sts::kResponseRetry: response_retry(l); break;
    case 0: break;
    default: refuse(l, "STS write with more than one of commandReady/tpmGo/responseRetry");
  }
}

void TisCore::command_ready(uint8_t l) {
  Locality &lo = loc_[l];
  switch (lo.state) {
    case TisState::kIdle:
    case TisState::kCompletion:  // the response is dropped: straight to ready
      lo.state = TisState::kReady;
      rw_offset_ = buffer_len_ = 0;
      sts_set(l, sts::kCommandReady);
      raise(l, intr::kCommandReady);
      break;
    case TisState::kReady:
      rw_offset_ = buffer_len_ = 0;
      break;
    case TisState::kReception:
    case TisState::kExecution:
      begin_abort(l, l);
      break;
  }
}

void TisCore::go(uint8_t l) {
  if (loc_[l].state != TisState::kReception || (loc_[l].sts & sts::kExpect)) {
    refuse(l, "tpmGo without a complete command");
    return;
  }
  send(l);
}

void TisCore::response_retry(uint8_t l) {
  if (loc_[l].state != TisState::kCompletion) {
    refuse(l, "responseRetry without a response");
    return;
  }
  rw_offset_ = 0;
  sts_set(l, sts::kValid | sts::kDataAvail);
}

void TisCore::send(uint8_t l) {
  loc_[l].state = TisState::kExecution;
  exec_locality_ = l;
  // A command cut short by the buffer, or shorter than a header, would leave the TPM waiting
  // for bytes that never come (swtpm reads as many as the size field says): the backend's
  // channel would time out and break.  QEMU sends it anyway.  It is answered here instead.
  if (rw_offset_ < kTpmHeaderSize || tpm_header_size(buffer_.data()) != rw_offset_) {
    refuse(l, "malformed command: its size field does not match the bytes received");
    TpmRequest failed;
    failed.locality = l;
    failed.status = Status::error("command size field does not match the bytes received");
    finish_command(failed);
    return;
  }
  auto request = std::make_unique<TpmRequest>();
  request->locality = l;
  // rw_offset_ <= be_buffer_size_ <= kBufferMax: fifo_write_byte never stores past it.
  request->command.assign(buffer_.begin(), buffer_.begin() + rw_offset_);
  request->max_response = be_buffer_size_;
  QTPM_TRACE("tpm_tis_send", "locality %u: %u bytes", l, rw_offset_);
  in_flight_ = true;
  std::unique_ptr<TpmRequest> refused = backend_->deliver(std::move(request));
  if (refused) {
    // The backend still has a request of its own: answer this one as a failing TPM would.
    in_flight_ = false;
    refused->status = Status::error("the backend refused the command");
    finish_command(*refused);
  }
}

void TisCore::request_completed(std::unique_ptr<TpmRequest> request) {
  if (!in_flight_ || !request) {
    QTPM_TRACE("tpm_tis_stale_completion", "no command in flight; response dropped");
    return;
  }
  in_flight_ = false;
  finish_command(*request);
}

void TisCore::finish_command(TpmRequest &request) {
  uint8_t l = exec_locality_;
  exec_locality_ = kNoLocality;
  assert(valid_locality(l) && loc_[l].state == TisState::kExecution);
  if (request.selftest_done) {
    for (auto &lo : loc_) lo.sts |= sts::kSelfTestDone;
  }
  // QEMU ignores the backend's error and serves whatever is in its buffer, up to the length the
  // header claims (stale bytes included); the guest gets a proper TPM failure response instead
  // when the backend failed or its response is not a well-formed one.
  const char *problem = response_problem(request);
  if (problem) {
    QTPM_TRACE("tpm_tis_backend_error", "locality %u: %s", l, problem);
    request.max_response = be_buffer_size_;
    TpmBackend::write_fatal_response(request);
  }
  // Trailing bytes past the size field are not part of the response.  The backend never answers
  // more than max_response (= be_buffer_size_ <= kBufferMax) bytes; clamp anyway so that no peer
  // can write past buffer_.
  size_t length = request.response.size();
  if (length >= kTpmHeaderSize) {
    length = std::min<size_t>(length, tpm_header_size(request.response.data()));
  }
  buffer_len_ = static_cast<uint32_t>(std::min<size_t>(length, be_buffer_size_));
  std::copy_n(request.response.begin(), buffer_len_, buffer_.begin());
  rw_offset_ = 0;
  loc_[l].state = TisState::kCompletion;
  sts_set(l, sts::kValid | sts::kDataAvail);
  QTPM_TRACE("tpm_tis_completed", "locality %u: %u bytes", l, buffer_len_);
  if (abort_pending_) {
    run_abort();  // the response is dropped with the command it answers
    return;
  }
  raise(l, intr::kDataAvail | intr::kStsValid);
}

// ---------------------------------------------------------------------------------------------
// FIFO

uint64_t TisCore::fifo_read(uint8_t l, unsigned size, bool peek) {
  uint64_t value = 0;
  for (unsigned i = 0; i < size; i++) {
    uint8_t byte = owns(l) ? fifo_read_byte(l, i, peek) : kNoDataByte;
    value |= uint64_t{byte} << (8 * i);
  }
  return value;
}

uint8_t TisCore::fifo_read_byte(uint8_t l, unsigned ahead, bool peek) {
  Locality &lo = loc_[l];
  if (lo.state != TisState::kCompletion || !(lo.sts & sts::kDataAvail)) return kNoDataByte;
  if (peek) {
    uint32_t at = rw_offset_ + ahead;
    return at < buffer_len_ ? buffer_[at] : kNoDataByte;
  }
  uint8_t byte = kNoDataByte;
  if (rw_offset_ < buffer_len_) byte = buffer_[rw_offset_++];
  if (rw_offset_ >= buffer_len_) {  // the last byte: dataAvail goes away
    sts_set(l, sts::kValid);
    raise(l, intr::kStsValid);
  }
  return byte;
}

void TisCore::fifo_write(uint8_t l, uint64_t value, unsigned size) {
  if (!owns(l)) {
    refuse(l, "FIFO write");
    return;
  }
  Locality &lo = loc_[l];
  if (lo.state != TisState::kReady && lo.state != TisState::kReception) {
    refuse(l, "FIFO write outside ready/reception");
    return;
  }
  if (lo.state == TisState::kReady) {
    lo.state = TisState::kReception;
    sts_set(l, sts::kExpect | sts::kValid);
  }
  for (unsigned i = 0; i < size; i++) fifo_write_byte(l, static_cast<uint8_t>(value >> (8 * i)));
}

// One command byte.  Expect stays set until the command is as long as its header says; bytes
// after that are dropped (QEMU keeps the rest of a multi-byte write and sends it along).  A byte
// that finds the buffer full clears Expect and is dropped: the command is too long.
void TisCore::fifo_write_byte(uint8_t l, uint8_t byte) {
  if (!(loc_[l].sts & sts::kExpect)) {
    refuse(l, "FIFO byte after the end of the command");
    return;
  }
  if (rw_offset_ >= be_buffer_size_) {
    sts_set(l, sts::kValid);
    refuse(l, "command longer than the buffer");
    return;
  }
  buffer_[rw_offset_++] = byte;
  buffer_len_ = rw_offset_;
  if (rw_offset_ > 5) {  // the size field (bytes 2..5) is in
    bool more = tpm_header_size(buffer_.data()) > rw_offset_;
    sts_set(l, more ? sts::kExpect | sts::kValid : sts::kValid);
  }
}

// ---------------------------------------------------------------------------------------------
// Interrupts.  A source sets its INT_STATUS bit only while it and globalIntEnable are enabled.
// The line is a level: asserted while any locality with globalIntEnable has a status bit set,
// so it drops when the driver clears the last one (write-1-to-clear), as Linux's handler
// expects.  QEMU lowers it whenever one locality's status becomes 0, even if another's is not.

void TisCore::raise(uint8_t l, uint32_t sources) {
  uint32_t inte = bank(l).stored(kRegIntEnable);
  if (!(inte & intr::kGlobalEnable)) return;
  uint32_t bits = sources & inte & intr::kSupported;
  if (!bits) return;
  QTPM_TRACE("tpm_tis_raise_irq", "locality %u: 0x%x", l, bits);
  bank(l).set_stored(kRegIntStatus, bank(l).stored(kRegIntStatus) | bits);
  update_irq();
}

bool TisCore::irq_level() const {
  for (uint8_t l = 0; l < kLocalities; l++) {
    if ((bank(l).stored(kRegIntEnable) & intr::kGlobalEnable) &&
        (bank(l).stored(kRegIntStatus) & intr::kSupported)) {
      return true;
    }
  }
  return false;
}

void TisCore::update_irq() {
  if (irq_) irq_->set(irq_level());
}

// ---------------------------------------------------------------------------------------------
// Invariants (checked by tests and the fuzzer after every action)

std::string TisCore::check_invariants() const {
  if (active_ != kNoLocality && active_ >= kHardwareLocality) return "locality 4 is active";
  for (uint8_t l = 0; l < kLocalities; l++) {
    const Locality &lo = loc_[l];
    if (bool(lo.access & access::kActiveLocality) != owns(l)) {
      return strprintf("locality %u: activeLocality bit disagrees with the owner", l);
    }
    if (!owns(l) && lo.state != TisState::kIdle) {
      return strprintf("locality %u: not the owner but in state %s", l, tis_state_name(lo.state));
    }
    if (lo.access & ~access::kStoredMask) return strprintf("locality %u: access bits", l);
    if ((lo.access & access::kSeize) && !(abort_pending_ && next_ == l)) {
      return strprintf("locality %u: seize bit without a pending seize", l);
    }
    if (lo.sts & ~sts::kStoredMask) return strprintf("locality %u: sts bits", l);
    if (bank(l).stored(kRegIntStatus) & ~intr::kSupported) return "INT_STATUS bits";
  }
  if (active_ == kNoLocality && highest_requester() >= 0 && !abort_pending_) {
    return "a locality waits for the TPM but nobody owns it";
  }
  if (in_flight_ != (valid_locality(exec_locality_) &&
                     loc_[exec_locality_].state == TisState::kExecution)) {
    return "command in flight disagrees with the execution state";
  }
  if (abort_pending_ && !in_flight_) return "abort pending without a command in flight";
  if (rw_offset_ > kBufferMax || buffer_len_ > kBufferMax) return "offset beyond the buffer";
  if (buffer_len_ > be_buffer_size_) return "buffer length beyond buffer size";
  if (irq_ && irq_->level() != irq_level()) return "interrupt line disagrees with INT_STATUS";
  return "";
}

}  // namespace qtpm
