// SPDX-License-Identifier: GPL-2.0-or-later
//
// A tpm-spapr device on a tiny pseries "machine" for unit tests and the fuzzer: the VIO bus of
// qtpm-system (qtest/server/spapr_vio_bus.h) over a flat guest memory, a scripted backend and a
// test host.  Tests act as the guest's driver does (Linux tpm_ibmvtpm): map pages with H_PUT_TCE,
// register a queue, send messages with H_SEND_CRQ and consume responses from the queue.
#pragma once

#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "hw/tpm/crb/tests/fake_tpm_backend.h"
#include "hw/tpm/spapr/tpm_spapr.h"
#include "qom/testing.h"
#include "qtest/server/spapr_vio_bus.h"

namespace qtpm::testing {

// Guest RAM: one flat buffer at guest physical address 0.
class FlatGuestMemory : public host::SpaprGuestMemory {
 public:
  explicit FlatGuestMemory(size_t size) : bytes(size, 0) {}
  bool accessible(uint64_t gpa, uint64_t len) override {
    return gpa < bytes.size() && len <= bytes.size() - gpa;
  }
  void read(uint64_t gpa, uint8_t *buf, uint64_t len) override {
    std::memcpy(buf, bytes.data() + gpa, len);
  }
  void write(uint64_t gpa, const uint8_t *buf, uint64_t len) override {
    std::memcpy(bytes.data() + gpa, buf, len);
  }
  std::vector<uint8_t> bytes;
};

struct SpaprRigOptions {
  bool builtin_units = false;  // reserve QEMU's default VIO units first (reg 0x71000004)
  const char *reg = nullptr;   // the reg property; null: auto
};

class SpaprRig {
 public:
  // The guest's layout: the queue page and the TPM buffer page, and where they appear on the bus.
  static constexpr uint64_t kRamSize = 1 << 20;
  static constexpr uint64_t kQueueGpa = 0x10000;
  static constexpr uint64_t kQueueIoba = 0x0;
  static constexpr uint64_t kQueueSize = 0x1000;
  static constexpr uint64_t kBufferGpa = 0x20000;
  static constexpr uint64_t kBufferIoba = 0x1000;
  static constexpr unsigned kSlots = kQueueSize / spapr::kCrqElementSize;

  explicit SpaprRig(SpaprRigOptions options = {}, TpmBackend *real_backend = nullptr)
      : options_(options) {
    register_builtin_types();
    host::SpaprVioBus::register_type();
    auto memory = std::make_unique<FlatGuestMemory>(kRamSize);
    ram = memory.get();
    bus.set_guest_memory(std::move(memory));
    if (options.builtin_units) {
      for (const char *t : {"spapr-vty", "spapr-nvram", "spapr-vlan", "spapr-vscsi"}) bus.reserve_builtin(t);
    }
    be = real_backend ? real_backend : &backend;
    be->set_id("tpm0");
    be->set_host(&host);
    host.backends["tpm0"] = be;
    std::unique_ptr<Object> object = object_new(kTypeTpmSpapr);
    dev.reset(object_cast<TpmSpapr>(object.release()));
    dev->set_host(&host);
  }
  ~SpaprRig() {
    if (plugged_) bus.unplug(*dev);
    dev.reset();  // detaches from the backend
  }

  // Properties, realize, plug and machine reset.  Returns the first failure.
  Status start() {
    Status st = dev->set_property("tpmdev", "tpm0");
    if (st && options_.reg) st = dev->set_property("reg", options_.reg);
    if (st) st = dev->realize();
    if (st) st = bus.plug(*dev);
    if (!st) return st;
    plugged_ = true;
    dev->irq(0).connect([this](bool level) {
      if (level) irq_pulses++;
      irq_level = level;
    });
    dev->reset();
    return st;
  }
  uint32_t unit() const { return dev->reg(); }

  // --- hypervisor calls --------------------------------------------------------------------
  int64_t hcall(uint64_t opcode, std::vector<uint64_t> args = {}) {
    return bus.hcall(opcode, args).status;
  }
  int64_t put_tce(uint64_t ioba, uint64_t gpa, uint64_t perms = spapr::kTceRead | spapr::kTceWrite) {
    return hcall(spapr::kHPutTce, {unit(), ioba, gpa | perms});
  }
  int64_t send(const spapr::CrqElement &e) {
    return hcall(spapr::kHSendCrq, {unit(), e.word0(), e.word1()});
  }
  int64_t send(uint8_t valid, uint8_t msg, uint16_t len = 0, uint32_t data = 0) {
    return send({.valid = valid, .msg = msg, .len = len, .data = data});
  }

  // The driver's probe: map the queue and the buffer, register the queue, enable signalling.
  void setup_driver(bool signal = true) {
    next_slot_ = 0;  // a fresh queue, as the driver's probe starts it
    ck_assert_int_eq(put_tce(kQueueIoba, kQueueGpa), spapr::kHSuccess);
    ck_assert_int_eq(put_tce(kBufferIoba, kBufferGpa), spapr::kHSuccess);
    ck_assert_int_eq(hcall(spapr::kHRegCrq, {unit(), kQueueIoba, kQueueSize}), spapr::kHSuccess);
    if (signal) ck_assert_int_eq(hcall(spapr::kHVioSignal, {unit(), 1}), spapr::kHSuccess);
  }

  // --- the queue as the driver sees it -----------------------------------------------------
  spapr::CrqElement slot(unsigned i) const {
    const uint8_t *p = ram->bytes.data() + kQueueGpa + i * spapr::kCrqElementSize;
    return spapr::CrqElement::decode(std::span<const uint8_t, spapr::kCrqElementSize>(p, spapr::kCrqElementSize));
  }
  // The next response, consumed (valid byte cleared, as ibmvtpm_interrupt does); none if the
  // slot is empty.
  std::optional<spapr::CrqElement> pop() {
    spapr::CrqElement e = slot(next_slot_);
    if (!(e.valid & 0x80)) return std::nullopt;
    ram->bytes[kQueueGpa + next_slot_ * spapr::kCrqElementSize] = 0;
    next_slot_ = (next_slot_ + 1) % kSlots;
    return e;
  }
  // Waits (running completions) for the next response.
  std::optional<spapr::CrqElement> wait_response(int timeout_ms = 5000) {
    std::optional<spapr::CrqElement> e;
    host.run_until(
        [&] {
          if (!e) e = pop();
          return e.has_value();
        },
        timeout_ms);
    return e;
  }
  unsigned next_slot() const { return next_slot_; }

  // --- TPM commands ------------------------------------------------------------------------
  void write_buffer(const std::vector<uint8_t> &bytes, uint64_t gpa = kBufferGpa) {
    std::memcpy(ram->bytes.data() + gpa, bytes.data(), bytes.size());
  }
  std::vector<uint8_t> read_buffer(size_t length, uint64_t gpa = kBufferGpa) const {
    return std::vector<uint8_t>(ram->bytes.begin() + gpa, ram->bytes.begin() + gpa + length);
  }
  // Linux's tpm_ibmvtpm_send + recv: the command into the buffer, TPM_COMMAND, the response.
  std::vector<uint8_t> transact(const std::vector<uint8_t> &command) {
    write_buffer(command);
    ck_assert_int_eq(send(spapr::kCrqValidCommand, spapr::kVtpmTpmCommand, uint16_t(command.size()),
                          uint32_t(kBufferIoba)),
                     spapr::kHSuccess);
    std::optional<spapr::CrqElement> r = wait_response();
    ck_assert_msg(r.has_value(), "no response to the TPM command");
    ck_assert_uint_eq(r->valid, spapr::kCrqValidCommand);
    ck_assert_uint_eq(r->msg, spapr::kVtpmTpmCommand | spapr::kVtpmResponse);
    ck_assert_uint_eq(r->data, kBufferIoba);
    return read_buffer(r->len);
  }

  CrbTestHost host;
  FakeTpmBackend backend;
  TpmBackend *be = nullptr;
  host::SpaprVioBus bus;
  FlatGuestMemory *ram = nullptr;  // owned by the bus
  std::unique_ptr<TpmSpapr> dev;
  int irq_pulses = 0;
  bool irq_level = false;

 private:
  SpaprRigOptions options_;
  bool plugged_ = false;
  unsigned next_slot_ = 0;
};

}  // namespace qtpm::testing
