// SPDX-License-Identifier: GPL-2.0-or-later
//
// tpm-crb: register behaviour, commands, reset and realize (TCG PTP 1.05 section 6.5, with
// QEMU 7.2's choices; differences from QEMU are listed in docs/crb.md).
#include "hw/tpm/crb/tpm_crb.h"

#include <algorithm>
#include <cstring>

#include "qom/module_init.h"
#include "qom/trace.h"

namespace qtpm {

using namespace crb;

namespace {

// QEMU decodes LOC_CTRL, CTRL_REQ, CTRL_CANCEL and CTRL_START on the exact value of an access
// that starts at the register: a write is a command only if it covers the register's lowest byte
// and the written bytes, taken together, equal the command.  `raw` holds only written lanes.
bool is_command(uint32_t raw, uint32_t enable, uint32_t command) {
  return (enable & 0xffu) != 0 && raw == command;
}

constexpr size_t kPageSize = 0x1000;

}  // namespace

TpmCrb::TpmCrb() : bank_(kRegisters, kRegistersSize, 0x00) {
  add_string_property("tpmdev", &tpmdev_, "", "ID of a tpm to use as a backend");
  add_bool_property("ppi", &ppi_enabled_, true,
                    "Physical Presence Interface page at 0xfed45000 (and etc/tpm/config)");
  add_string_property("buffer-layout", &layout_name_, kQemuLayout.name,
                      "where the command/response buffer is: 'qemu' (0xfed40080, QEMU's) or "
                      "'page-aligned' (its own page at 0xfed41000, also seen at 0xfed40080)");
  install_register_hooks();
}

TpmCrb::~TpmCrb() { unrealize(); }

// ---------------------------------------------------------------------------------------------
// Lifecycle

Status TpmCrb::do_realize() {
  layout_ = find_layout(layout_name_);
  if (!layout_) {
    layout_ = &kQemuLayout;
    return Status::errorf("tpm-crb: property 'buffer-layout' must be '%s' or '%s', not '%s'",
                          kQemuLayout.name, kPageAlignedLayout.name, layout_name_.c_str());
  }
  Status st = bind_backend();
  if (!st) return st;
  // A whole host page, aligned, so that an embedder can map the page view as a memory slot.
  static_assert(kPageAlignedLayout.memory_size <= kPageSize && kQemuLayout.memory_size <= kPageSize);
  memory_.reset(static_cast<uint8_t *>(std::aligned_alloc(kPageSize, kPageSize)));
  if (!memory_) {
    backend_->detach();
    backend_ = nullptr;
    return Status::error("tpm-crb: out of memory for the command buffer");
  }
  std::memset(memory_.get(), 0, kPageSize);
  declare_regions();
  return Status::ok();
}

Status TpmCrb::bind_backend() {
  if (tpmdev_.empty()) return Status::error("'tpmdev' property is required");
  if (!host()) return Status::error("tpm-crb: the device has no host services");
  auto *backend = object_cast<TpmBackend>(host()->find_tpm_backend(tpmdev_));
  if (!backend) {
    return Status::errorf("Property 'tpm-crb.tpmdev' can't find value '%s'", tpmdev_.c_str());
  }
  // The CRB interface exists only for TPM 2.0 (PTP); a TPM 1.2 needs tpm-tis.
  if (backend->version() != TpmVersion::k2_0) {
    return Status::errorf("tpm-crb: the CRB interface needs a TPM 2.0, but backend '%s' is "
                          "TPM %s; use tpm-tis",
                          tpmdev_.c_str(), tpm_version_name(backend->version()));
  }
  Status st = backend->attach(this);
  if (!st) return st;
  backend_ = backend;
  return Status::ok();
}

void TpmCrb::declare_regions() {
  clear_regions();
  MemoryRegion regs = MemoryRegion::mmio(kRegionRegisters, kRegistersSize, &bank_, 4);
  regs.set_fixed_address(kBaseAddress);
  add_region(std::move(regs));
  // base + 0x80: QEMU's buffer, and OVMF's in every layout.  In the page-aligned layout it is a
  // second view of the first 0xf80 bytes of the same memory.
  MemoryRegion low = MemoryRegion::ram(kRegionBuffer, memory_.get(), kQemuBufferSize);
  low.set_fixed_address(kBaseAddress + kRegistersSize);
  add_region(std::move(low));
  if (layout_->id == BufferLayout::kPageAligned) {
    MemoryRegion page = MemoryRegion::ram(kRegionBufferPage, memory_.get(), layout_->memory_size);
    page.set_fixed_address(kBaseAddress + layout_->buffer_offset);
    add_region(std::move(page));
  }
  if (ppi_enabled_) add_region(ppi_.region());
}

void TpmCrb::do_unrealize() {
  if (backend_) backend_->detach();  // drains a pending request first
  backend_ = nullptr;
  clear_regions();
  memory_.reset();
}

// Machine reset.  Order as QEMU's: PPI (may clear guest RAM), backend, registers, TPM startup.
void TpmCrb::do_reset() {
  if (ppi_enabled_) ppi_.reset(host());
  backend_->reset();  // completes a request in flight, so nothing lands after this point
  bank_.reset();
  load_layout_registers();
  // A response (possibly unsealed secrets) must not outlive the boot that asked for it.
  std::memset(memory_.get(), 0, kPageSize);
  be_buffer_size_ = std::min(backend_->buffer_size(), layout_->buffer_size);
  QTPM_TRACE("tpm_crb_reset", "layout %s buffer %u", layout_->name, be_buffer_size_);
  Status st = backend_->startup(be_buffer_size_);
  if (!st) {
    // QEMU exits here.  qtpm keeps the machine running with a failing TPM: the error bit is set
    // and the backend answers every command with a fatal response (docs/crb.md).
    update(R_CTRL_STS, ctrl_sts::kTpmSts, 1);
    host()->report_error("tpm-crb: TPM startup failed at reset, the guest sees a failing TPM: " +
                         st.message());
  }
}

TpmVersion TpmCrb::tpm_version() const {
  return backend_ ? backend_->version() : TpmVersion::kUnspec;
}

// The buffer registers of the active layout (the table's reset values describe QEMU's).
void TpmCrb::load_layout_registers() {
  uint32_t address = uint32_t(kBaseAddress) + layout_->buffer_offset;
  bank_.set_stored(R_CTRL_CMD_SIZE, layout_->buffer_size);
  bank_.set_stored(R_CTRL_CMD_LADDR, address);
  bank_.set_stored(R_CTRL_CMD_HADDR, 0);
  bank_.set_stored(R_CTRL_RSP_SIZE, layout_->buffer_size);
  bank_.set_stored(R_CTRL_RSP_ADDR, address);
  bank_.set_stored(R_CTRL_RSP_ADDR_HI, 0);
}

TpmAcpiDescription TpmCrb::acpi_description() const {
  TpmAcpiDescription d;
  d.interface = TpmAcpiDescription::Interface::kCrb;
  d.version = tpm_version();
  // One range covering the registers, OVMF's view and (page-aligned) the buffer page: Linux
  // requires the control area and both buffers inside _CRS.
  d.resources.push_back({kBaseAddress, layout_->crs_length});
  d.irq = 0;  // no interrupts: the guest polls CTRL_START
  d.ppi = ppi_enabled_;
  d.control_area = kBaseAddress + kControlAreaOffset;
  d.start_method = 7;  // TPM2 table: Command Response Buffer
  d.name = "TPM";
  d.uid = 1;
  d.has_sta = true;
  return d;
}

// ---------------------------------------------------------------------------------------------
// Registers

void TpmCrb::install_register_hooks() {
  bank_.set_hooks(R_LOC_STATE,
                  {.read = [this](uint32_t stored, bool) { return read_loc_state(stored); }});
  bank_.set_hooks(R_LOC_CTRL, {.write = [this](uint32_t, uint32_t, uint32_t raw, uint32_t en) {
                    write_loc_ctrl(raw, en);
                  }});
  bank_.set_hooks(R_CTRL_REQ, {.write = [this](uint32_t, uint32_t, uint32_t raw, uint32_t en) {
                    write_ctrl_req(raw, en);
                  }});
  bank_.set_hooks(R_CTRL_CANCEL, {.write = [this](uint32_t, uint32_t, uint32_t raw, uint32_t en) {
                    write_ctrl_cancel(raw, en);
                  }});
  bank_.set_hooks(R_CTRL_START, {.write = [this](uint32_t, uint32_t, uint32_t raw, uint32_t en) {
                    write_ctrl_start(raw, en);
                  }});
}

void TpmCrb::update(Reg reg, const Field &field, uint32_t value) {
  bank_.set_stored(reg, field.deposit(bank_.stored(reg), value));
}

bool TpmCrb::test(Reg reg, const Field &field) const {
  return field.extract(bank_.stored(reg)) != 0;
}

// tpmEstablished reads 1 while the TPM has *not* seen a D-RTM sequence (QEMU: !flag).
uint32_t TpmCrb::read_loc_state(uint32_t stored) const {
  bool established = backend_ && backend_->established_flag();
  return loc_state::kTpmEstablished.deposit(stored, established ? 0 : 1);
}

void TpmCrb::write_loc_ctrl(uint32_t raw, uint32_t enable) {
  if (is_command(raw, enable, loc_ctrl::kRequestAccess)) {
    update(R_LOC_STATE, loc_state::kLocAssigned, 1);
    update(R_LOC_STATE, loc_state::kActiveLocality, 0);
    update(R_LOC_STS, loc_sts::kGranted, 1);
    update(R_LOC_STS, loc_sts::kBeenSeized, 0);
    QTPM_TRACE("tpm_crb_locality", "requested: locality 0 assigned");
  } else if (is_command(raw, enable, loc_ctrl::kRelinquish)) {
    update(R_LOC_STATE, loc_state::kLocAssigned, 0);
    update(R_LOC_STS, loc_sts::kGranted, 0);
    QTPM_TRACE("tpm_crb_locality", "relinquished");
  } else {
    // Seize and resetEstablishment need localities 3/4, which this interface does not have.
    log_guest(LogCategory::kGuestError, "tpm-crb: LOC_CTRL: ignoring write of 0x%x", raw);
  }
}

void TpmCrb::write_ctrl_req(uint32_t raw, uint32_t enable) {
  // cmdReady/goIdle complete at once, so CTRL_REQ always reads 0 (the guest waits for that).
  if (is_command(raw, enable, ctrl_req::kCmdReady)) {
    update(R_CTRL_STS, ctrl_sts::kTpmIdle, 0);
  } else if (is_command(raw, enable, ctrl_req::kGoIdle)) {
    update(R_CTRL_STS, ctrl_sts::kTpmIdle, 1);
  } else {
    log_guest(LogCategory::kGuestError, "tpm-crb: CTRL_REQ: ignoring write of 0x%x", raw);
  }
}

void TpmCrb::write_ctrl_cancel(uint32_t raw, uint32_t enable) {
  // Linux writes 0 before every command: not an error, and not a cancel.
  if (!is_command(raw, enable, kCancelInvoke)) return;
  if (!test(R_CTRL_START, ctrl_start::kInvoke)) return;  // nothing to cancel
  QTPM_TRACE("tpm_crb_cancel", "cancelling the running command");
  backend_->cancel();
}

void TpmCrb::write_ctrl_start(uint32_t raw, uint32_t enable) {
  if (!is_command(raw, enable, ctrl_start::kInvoke.mask())) {
    log_guest(LogCategory::kGuestError, "tpm-crb: CTRL_START: ignoring write of 0x%x", raw);
    return;
  }
  if (test(R_CTRL_START, ctrl_start::kInvoke)) {
    log_guest(LogCategory::kGuestError, "tpm-crb: CTRL_START while a command runs: ignored");
    return;
  }
  if (!test(R_LOC_STATE, loc_state::kLocAssigned)) {
    log_guest(LogCategory::kGuestError, "tpm-crb: CTRL_START without locality 0: ignored");
    return;
  }
  start_command();
}

void TpmCrb::start_command() {
  auto request = std::make_unique<TpmRequest>();
  request->locality = 0;
  // The length comes from the guest's header; bound it by the negotiated buffer (which is never
  // larger than the memory) and send at least a whole header, so that the TPM, not the device,
  // judges a short command.
  uint32_t length = tpm_header_size(memory_.get());
  length = std::min(std::max<uint32_t>(length, kTpmHeaderSize), be_buffer_size_);
  request->command.assign(memory_.get(), memory_.get() + length);
  request->max_response = be_buffer_size_;
  update(R_CTRL_START, ctrl_start::kInvoke, 1);
  QTPM_TRACE("tpm_crb_start", "command 0x%08x, %u bytes", tpm_header_code(memory_.get()), length);
  std::unique_ptr<TpmRequest> refused = backend_->deliver(std::move(request));
  if (refused) {
    // Only if the backend still works on a command this device does not know of.
    update(R_CTRL_START, ctrl_start::kInvoke, 0);
    update(R_CTRL_STS, ctrl_sts::kTpmSts, 1);
  }
}

// Main-loop thread.  The backend core bounds the response by max_response (be_buffer_size_).
void TpmCrb::tpm_request_completed(std::unique_ptr<TpmRequest> request) {
  size_t length = std::min<size_t>(request->response.size(), be_buffer_size_);
  // An empty response has no data pointer, and memcpy must not be given a null one.
  if (memory_ && length) std::memcpy(memory_.get(), request->response.data(), length);
  update(R_CTRL_START, ctrl_start::kInvoke, 0);
  if (!request->status.is_ok()) update(R_CTRL_STS, ctrl_sts::kTpmSts, 1);  // sticky until reset
  QTPM_TRACE("tpm_crb_completed", "%zu bytes, %s", length,
             request->status.is_ok() ? "ok" : request->status.message().c_str());
}

// ---------------------------------------------------------------------------------------------
// Types

void register_tpm_crb_types() {
  // No description: QEMU 7.2's tpm-crb sets none, so `-device help` shows `name "tpm-crb"`.
  TypeInfo info = make_type<TpmCrb>(kTypeTpmCrb, kTypeDevice, "");
  info.interfaces = {kTypeTpmIf};
  info.bus = "pc-system";
  type_register(info);
}

}  // namespace qtpm
