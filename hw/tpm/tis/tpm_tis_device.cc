// SPDX-License-Identifier: GPL-2.0-or-later
//
// The part of tpm-tis and tpm-tis-device that does not depend on the bus (see tpm_tis_device.h).
#include "hw/tpm/tis/tpm_tis_device.h"

#include <array>

#include "qom/trace.h"

namespace qtpm {

namespace {
// Version 1: qtpm's first "tpm-tis" schema (docs/tis.md lists the fields).
constexpr uint32_t kStateVersion = 1;
}  // namespace

TpmTisDevice::~TpmTisDevice() {
  // -tpmdev objects outlive devices; a realized device still bound hands the backend back.
  if (backend_) backend_->detach();
}

void TpmTisDevice::add_common_properties(const char *irq_help) {
  add_uint32_property("irq", &irq_num_, tis::kDefaultIrq, irq_help);
  add_string_property("tpmdev", &tpmdev_, "", "ID of a tpm to use as a backend");
}

Status TpmTisDevice::find_backend(TpmBackend **out) const {
  if (tpmdev_.empty()) return Status::error("'tpmdev' property is required");
  Object *found = host() ? host()->find_tpm_backend(tpmdev_) : nullptr;
  TpmBackend *backend = object_cast<TpmBackend>(found);
  if (!backend) {
    return Status::errorf("Property '%s.tpmdev' can't find value '%s'", type_name().c_str(),
                          tpmdev_.c_str());
  }
  *out = backend;
  return Status::ok();
}

Status TpmTisDevice::bind(TpmBackend *backend, std::optional<uint64_t> fixed_address) {
  Status st = backend->attach(this);
  if (!st) return st;
  backend_ = backend;
  IrqOutput &irq = add_irq();
  core_.connect(backend, &irq, irq_num_);
  MemoryRegion mmio = MemoryRegion::mmio("tpm-tis-mmio", tis::kRegionSize, &core_, 4);
  if (fixed_address) mmio.set_fixed_address(*fixed_address);
  add_region(std::move(mmio));
  return Status::ok();
}

// Machine reset: the PPI page first (it may clear guest RAM), then the core, as QEMU.
void TpmTisDevice::do_reset() {
  if (TpmPpi *page = ppi()) page->reset(host());
  Status st = core_.reset();
  if (!st && host()) {
    host()->report_error(strprintf(
        "%s: TPM backend '%s' failed to start, the guest sees no TPM until the next reset: %s",
        type_name().c_str(), tpmdev_.c_str(), st.message().c_str()));
  }
}

void TpmTisDevice::do_unrealize() {
  if (backend_) backend_->detach();
  backend_ = nullptr;
  core_.connect(nullptr, nullptr, irq_num_);
  clear_regions();
}

void TpmTisDevice::tpm_request_completed(std::unique_ptr<TpmRequest> request) {
  core_.request_completed(std::move(request));
}

// A command in flight finishes now, so that its response is part of the state (QEMU's
// pre_save does the same).
Status TpmTisDevice::prepare_save() {
  if (backend_) backend_->finish_sync();
  return Status::ok();
}

StateWriter TpmTisDevice::save_state() const {
  StateWriter w(state_section(), kStateVersion);
  core_.save(w);
  if (const TpmPpi *page = ppi()) {
    w.put_bytes("ppi", std::span<const uint8_t>(page->data(), page->size()));
  }
  return w;
}

Status TpmTisDevice::load_state(const StateReader &state) {
  Status st = state.expect(state_section(), kStateVersion, kStateVersion);
  TisSnapshot snapshot;
  if (st) st = core_.parse_state(state, &snapshot);
  std::array<uint8_t, PpiLayout::kSize> page{};
  if (st && ppi()) st = state.get_bytes_exact("ppi", page.data(), page.size());
  if (st && !ppi() && state.has("ppi")) {
    st = Status::error("state of 'tpm-tis': it has a PPI page, this device has none (ppi=off)");
  }
  if (!st) return st;
  // Nothing of a command still running may land on the restored state.
  if (backend_) backend_->finish_sync();
  core_.apply(snapshot);
  if (TpmPpi *p = ppi()) std::copy(page.begin(), page.end(), p->data());
  return Status::ok();
}

}  // namespace qtpm
