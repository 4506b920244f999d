// SPDX-License-Identifier: GPL-2.0-or-later
//
// Test-only types for the C API test (test_capi.c): a TPM backend "echo" and a frontend device
// "test-tpm-dev", small enough to know exactly what they do, so the C API's plumbing (options,
// regions, IRQs, completions, reset, saved state, queries) can be checked without the real
// devices.  The C test reaches them through capi_test_register_types() only.
#include <cstring>
#include <memory>
#include <string>

#include "backends/tpm/tpm_backend.h"
#include "hw/core/device.h"
#include "hw/tpm/tpm_ppi.h"
#include "qom/chardev.h"
#include "qom/saved_state.h"
#include "qom/trace.h"

namespace {

using namespace qtpm;

// Answers every command with its own bytes; counts what it answered (its saved state).
class EchoBackend : public TpmBackend, public Migratable {
 public:
  EchoBackend() {
    add_string_property("chardev", &chardev_, "", "a chardev that must exist");
    add_bool_property("fail-startup", &fail_startup_, false, "fail every startup");
    add_bool_property("block-migration", &block_migration_, false, "refuse to migrate");
  }
  ~EchoBackend() override { stop_worker(); }

  TpmVersion version() const override { return TpmVersion::k2_0; }
  uint32_t buffer_size() override { return 4096; }
  std::string tpm_type() const override { return "echo"; }
  std::vector<std::pair<std::string, std::string>> tpm_options() const override {
    return {{"chardev", chardev_}};
  }

  bool blocks_migration(std::string *reason) const override {
    if (block_migration_ && reason) *reason = "tpm-echo: told not to migrate";
    return block_migration_;
  }

  const char *state_section() const override { return "tpm-echo"; }
  StateWriter save_state() const override {
    StateWriter w("tpm-echo", 1);
    w.put_u32("answered", answered_);
    return w;
  }
  Status load_state(const StateReader &state) override {
    Status st = state.expect("tpm-echo", 1, 1);
    uint32_t answered = 0;
    if (st) st = state.get_u32("answered", &answered);
    if (st) answered_ = answered;
    return st;
  }

 protected:
  Status do_realize() override {
    if (!chardev_.empty() && !host()->find_chardev(chardev_)) {
      return Status::errorf("tpm-echo: chardev '%s' not found", chardev_.c_str());
    }
    return Status::ok();
  }
  Status do_startup(uint32_t) override {
    return fail_startup_ ? Status::error("tpm-echo: startup refused") : Status::ok();
  }
  void handle_request(TpmRequest &request) override {
    request.response = request.command;
    answered_++;
  }

 private:
  std::string chardev_;
  bool fail_startup_ = false;
  bool block_migration_ = false;
  uint32_t answered_ = 0;  // worker thread writes, main thread reads after finish_sync
};

// A frontend with one MMIO page at a fixed address, one IRQ line and the PPI page:
//   0x00 scratch (r/w)     0x04 write: send a 10-byte command; completion raises IRQ 0
//   0x08 response length   0x0c read-only constant 0x51504d54 ("TPMQ")
class TestTpmDevice : public Device, public TpmFrontend, public Migratable, public MmioHandler {
 public:
  TestTpmDevice() {
    add_string_property("tpmdev", &tpmdev_, "", "ID of a tpm to use as a backend");
    add_uint32_property("irq", &irq_number_, 5, "IRQ number");
    add_bool_property("ppi", &ppi_enabled_, true, "enable the PPI page");
  }

  void tpm_request_completed(std::unique_ptr<TpmRequest> request) override {
    response_len_ = static_cast<uint32_t>(request->response.size());
    irq(0).raise();
  }
  TpmVersion tpm_version() const override {
    return backend_ ? backend_->version() : TpmVersion::kUnspec;
  }
  const char *tpm_model() const override { return "tpm-test"; }

  const char *state_section() const override { return "test-tpm-dev"; }
  Status prepare_save() override {
    if (backend_) backend_->finish_sync();
    return Status::ok();
  }
  StateWriter save_state() const override {
    StateWriter w("test-tpm-dev", 1);
    w.put_u32("scratch", scratch_);
    w.put_u32("response-len", response_len_);
    return w;
  }
  Status load_state(const StateReader &state) override {
    Status st = state.expect("test-tpm-dev", 1, 1);
    uint32_t scratch = 0, len = 0;
    if (st) st = state.get_u32("scratch", &scratch);
    if (st) st = state.get_u32("response-len", &len);
    if (st && len > 4096) st = Status::errorf("response-len %u exceeds 4096", len);
    if (!st) return st;
    scratch_ = scratch;
    response_len_ = len;
    return Status::ok();
  }

  uint64_t mmio_read(uint64_t offset, unsigned, bool, AccessOutcome *outcome) override {
    switch (offset) {
      case 0x0: return scratch_;
      case 0x8: return response_len_;
      case 0xc: return 0x51504d54;
      default: *outcome = AccessOutcome::kUnmapped; return ~uint64_t{0};
    }
  }
  void mmio_write(uint64_t offset, uint64_t value, unsigned, AccessOutcome *outcome) override {
    switch (offset) {
      case 0x0: scratch_ = static_cast<uint32_t>(value); return;
      case 0x4: send_command(); return;
      case 0xc: *outcome = AccessOutcome::kIgnored; return;
      default: *outcome = AccessOutcome::kUnmapped; return;
    }
  }

 protected:
  Status do_realize() override {
    if (irq_number_ > 15) {
      return Status::errorf("IRQ %u is outside valid range of 0 to 15", irq_number_);
    }
    if (tpmdev_.empty()) return Status::error("'tpmdev' property is required");
    auto *be = object_cast<TpmBackend>(host()->find_tpm_backend(tpmdev_));
    if (!be) {
      return Status::errorf("Property 'test-tpm-dev.tpmdev' can't find value '%s'",
                            tpmdev_.c_str());
    }
    Status st = be->attach(this);
    if (!st) return st;
    backend_ = be;
    clear_regions();
    MemoryRegion mmio = MemoryRegion::mmio("test-mmio", 0x1000, this, 4);
    mmio.set_fixed_address(0xfed40000);
    add_region(mmio);
    if (ppi_enabled_) add_region(ppi_.region());
    if (irq_count() == 0) add_irq();
    return Status::ok();
  }
  void do_reset() override {
    backend_->reset();
    (void)backend_->startup(0);  // a failure is the backend's state; the C API reports it
    scratch_ = 0;
    response_len_ = 0;
    irq(0).lower();
  }
  void do_unrealize() override {
    if (backend_) backend_->detach();
    backend_ = nullptr;
  }

 private:
  void send_command() {
    auto request = std::make_unique<TpmRequest>();
    request->command.assign(10, 0xab);
    request->max_response = 4096;
    (void)backend_->deliver(std::move(request));  // refused only if one is pending
  }

  std::string tpmdev_;
  uint32_t irq_number_ = 5;
  bool ppi_enabled_ = true;
  TpmBackend *backend_ = nullptr;
  TpmPpi ppi_;
  uint32_t scratch_ = 0;
  uint32_t response_len_ = 0;
};

}  // namespace

extern "C" void capi_test_register_types(void) {
  static bool done = false;
  if (done) return;
  done = true;
  type_register(make_type<EchoBackend>("tpm-echo", kTypeTpmBackend, "echo backend for tests"));
  TypeInfo dev = make_type<TestTpmDevice>("test-tpm-dev", kTypeDevice, "test TPM frontend");
  dev.interfaces = {kTypeTpmIf};
  dev.bus = "isa";
  type_register(dev);
}

// Whether a trace event is on (the C test checks qtpm_trace_enable through it).
extern "C" bool capi_test_trace_enabled(const char *event) {
  return qtpm::trace_event_enabled(event);
}
