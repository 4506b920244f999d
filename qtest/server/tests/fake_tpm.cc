// SPDX-License-Identifier: GPL-2.0-or-later
//
// Fake devices and backend for the host's tests (see fake_tpm.h).
#include "qtest/server/tests/fake_tpm.h"

#include <mutex>

#include "qtest/server/arch.h"

namespace qtpm::testing {

int FakeBackend::finalized = 0;

FakeTpmDevice::FakeTpmDevice() {
  add_uint32_property("irq", &irq_, 5, "IRQ number");
  add_string_property("tpmdev", &tpmdev_, nullptr, "ID of a tpm to use as a backend");
  add_bool_property("ppi", &ppi_, true, "");
}

FakeTpmDevice::~FakeTpmDevice() = default;

const char *FakeTpmDevice::tpm_model() const {
  if (type_name() == "fake-tpm-crb") return "tpm-crb";
  if (type_name() == "fake-tpm-spapr") return "tpm-spapr";
  return "tpm-tis";
}

Status FakeTpmDevice::do_realize() {
  bool is_tpm = is_a(kTypeTpmIf);
  if (is_tpm) {
    if (tpmdev_.empty()) return Status::error("'tpmdev' property is required");
    backend = host() ? dynamic_cast<TpmBackend *>(host()->find_tpm_backend(tpmdev_)) : nullptr;
    if (!backend) {
      return Status::errorf("Property '%s.tpmdev' can't find value '%s'", type_name().c_str(), tpmdev_.c_str());
    }
    if (Status st = backend->attach(this); !st) return st;
  }
  if (irq_ > 15) return Status::errorf("IRQ %u is outside valid range of 0 to 15", irq_);
  clear_regions();
  std::string t = type_name();
  if (t == "fake-tpm-crb") {
    MemoryRegion regs = MemoryRegion::mmio("fake-crb-mmio", 0x80, this);
    regs.set_fixed_address(0xfed40000);
    add_region(regs);
    crb_buffer_.assign(0xf80, 0);
    MemoryRegion buf = MemoryRegion::ram("fake-crb-cmd", crb_buffer_.data(), crb_buffer_.size());
    buf.set_fixed_address(0xfed40080);
    add_region(buf);
  } else if (t == "fake-blob-isa" || t == "fake-tpm-isa" || t == "fake-nouser-isa") {
    MemoryRegion r = MemoryRegion::mmio(t + "-mmio", t == "fake-blob-isa" ? 0x100 : 0x5000, this);
    r.set_fixed_address(0xfed40000);
    add_region(r);
  } else if (t == "fake-ports-isa") {
    // Two ports, as fw_cfg's selector and data registers.
    MemoryRegion r = MemoryRegion::mmio("fake-ports", 2, this, 2);
    r.set_fixed_address(0x520);
    r.set_space(MemoryRegion::Space::kIo);
    add_region(r);
  } else if (t.ends_with("-sysbus")) {
    add_region(MemoryRegion::mmio("fake-sysbus-mmio", 0x5000, this));
  }
  if (t != "fake-tpm-crb" && t != "fake-tpm-spapr" && irq_count() == 0) add_irq();
  return Status::ok();
}

void FakeTpmDevice::do_reset() {
  resets++;
  scratch_ = 0;
  if (backend) backend->reset();
}

void FakeTpmDevice::do_unrealize() {
  if (backend) {
    backend->detach();
    backend = nullptr;
  }
}

void FakeTpmDevice::tpm_request_completed(std::unique_ptr<TpmRequest>) {}

uint64_t FakeTpmDevice::mmio_read(uint64_t offset, unsigned size, bool, AccessOutcome *outcome) {
  uint64_t v = 0;
  if (offset == 0x10 && size == 4) {
    v = scratch_;
  } else {
    for (unsigned i = 0; i < size; i++) v |= ((offset + i) & 0xff) << (8 * i);
  }
  if (offset >= 0x4000) *outcome = AccessOutcome::kUnmapped;
  accesses.push_back({offset, size, false, v});
  return v;
}

void FakeTpmDevice::mmio_write(uint64_t offset, uint64_t value, unsigned size, AccessOutcome *) {
  accesses.push_back({offset, size, true, value});
  if (offset == 0x10 && size == 4) scratch_ = static_cast<uint32_t>(value);
  if (offset == 0x18 && irq_count() > 0) irq(0).set(value != 0);
}

FakeBackend::FakeBackend() {
  add_string_property("chardev", &chardev_, nullptr, "chardev of the fake backend");
  add_bool_property("fail", &fail_, false, "fail in realize");
}

FakeBackend::~FakeBackend() {
  stop_worker();
  finalized++;
}

Status FakeBackend::do_realize() {
  if (fail_) return Status::error("tpm-fake: realize failed as asked");
  return Status::ok();
}

std::vector<std::pair<std::string, std::string>> FakeBackend::tpm_options() const {
  return {{"chardev", chardev_}};
}

void FakeBackend::handle_request(TpmRequest &request) {
  // TPM_RC_SUCCESS with an empty body.
  request.response = {0x80, 0x01, 0, 0, 0, 10, 0, 0, 0, 0};
}

namespace {

template <typename T>
void reg(const char *name, const char *parent, const char *bus, bool tpm, bool user = true) {
  TypeInfo t = make_type<T>(name, parent, "");
  t.bus = bus;
  t.user_creatable = user;
  if (tpm) t.interfaces = {kTypeTpmIf};
  type_register(t);
}

}  // namespace

void register_fake_types() {
  static std::once_flag once;
  std::call_once(once, [] {
    register_builtin_types();
    reg<FakeTpmDevice>("fake-tpm-isa", kTypeDevice, "isa", true);
    reg<FakeTpmDevice>("fake-tpm-sysbus", kTypeDevice, "sysbus", true);
    reg<FakeTpmDevice>("fake-tpm-crb", kTypeDevice, "pc-system", true);
    reg<FakeTpmDevice>("fake-tpm-spapr", kTypeDevice, "spapr-vio", true);
    reg<FakeTpmDevice>("fake-blob-isa", kTypeDevice, "isa", false);
    reg<FakeTpmDevice>("fake-nouser-isa", kTypeDevice, "isa", false, false);
    reg<FakeTpmDevice>("fake-ports-isa", kTypeDevice, "isa", false);
    TypeInfo backend = make_type<FakeBackend>("tpm-fake", kTypeTpmBackend, "Fake TPM backend driver");
    type_register(backend);
  });
}

}  // namespace qtpm::testing
