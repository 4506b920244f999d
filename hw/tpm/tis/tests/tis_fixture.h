// SPDX-License-Identifier: GPL-2.0-or-later
//
// A realized, reset TIS device (either variant) on a fake backend, with register helpers that
// take a locality and an offset from tpm_tis_regs.h, and the driver sequences Linux's
// tpm_tis_core uses (request locality, send with burst/Expect checks, receive), asserting every
// check Linux makes on the way.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "hw/tpm/tis/tests/fake_tpm_backend.h"
#include "hw/tpm/tis/tpm_tis_device.h"
#include "hw/tpm/tis/tpm_tis_regs.h"
#include "hw/tpm/tis/tpm_tis_sysbus.h"
#include "qom/testing.h"

namespace qtpm::testing {

enum class TisVariant { kIsa, kSysbus };

inline const char *variant_type(TisVariant v) {
  return v == TisVariant::kIsa ? kTypeTpmTis : kTypeTpmTisDevice;
}

// A TestHost that keeps the lines reported to the user.
class RecordingHost : public TestHost {
 public:
  void report_error(std::string_view message) override { errors.emplace_back(message); }
  std::vector<std::string> errors;
};

struct TisOptions {
  TisVariant variant = TisVariant::kIsa;
  TpmVersion version = TpmVersion::k2_0;
  uint32_t buffer_size = 4096;
  std::vector<std::pair<std::string, std::string>> properties;  // besides tpmdev
  bool realize = true;
  bool reset = true;
  // A backend of the test's own (not owned; it must outlive the fixture), bound as "tpm0"
  // instead of the fake.  The fixture sets its host; the test realizes it, then calls
  // finish_setup() when `realize` was false.
  TpmBackend *backend = nullptr;
};

class TisFixture {
 public:
  explicit TisFixture(TisOptions o = {})
      : backend(o.version, o.buffer_size), variant(o.variant), reset_after_realize(o.reset) {
    register_builtin_types();
    TpmBackend *bound = o.backend ? o.backend : &backend;
    bound->set_id("tpm0");
    bound->set_host(&host);
    host.backends["tpm0"] = bound;
    object = object_new(variant_type(o.variant));
    ck_assert_ptr_nonnull(object.get());
    dev = object_cast<TpmTisDevice>(object.get());
    ck_assert_ptr_nonnull(dev);
    dev->set_host(&host);
    ck_assert(dev->set_property("tpmdev", "tpm0").is_ok());
    for (auto &[k, v] : o.properties) ck_assert(dev->set_property(k, v).is_ok());
    if (o.realize) finish_setup();
  }

  // Realizes the device as a machine would: map it, wire its interrupt, reset.
  void finish_setup() {
    Status st = dev->realize();
    ck_assert_msg(st.is_ok(), "realize: %s", st.message().c_str());
    if (auto *sys = object_cast<TpmTisSysbus>(dev)) sys->set_mapped_address(0x0c000000);
    dev->irq(0).connect([this](bool level) { irq_history.push_back(level); });
    if (reset_after_realize) dev->reset();
  }

  const MemoryRegion &mmio() const { return dev->regions().at(0); }
  static uint64_t addr(uint8_t l, uint32_t off) { return uint64_t{l} << tis::kLocalityShift | off; }

  uint64_t read(uint8_t l, uint32_t off, unsigned size, AccessOutcome *o = nullptr) {
    return mmio().read(addr(l, off), size, false, o);
  }
  uint64_t peek(uint8_t l, uint32_t off, unsigned size) {
    return mmio().read(addr(l, off), size, true, nullptr);
  }
  void write(uint8_t l, uint32_t off, uint64_t v, unsigned size, AccessOutcome *o = nullptr) {
    mmio().write(addr(l, off), v, size, o);
  }
  uint8_t readb(uint8_t l, uint32_t off) { return static_cast<uint8_t>(read(l, off, 1)); }
  uint32_t readl(uint8_t l, uint32_t off) { return static_cast<uint32_t>(read(l, off, 4)); }
  void writeb(uint8_t l, uint32_t off, uint8_t v) { write(l, off, v, 1); }
  void writel(uint8_t l, uint32_t off, uint32_t v) { write(l, off, v, 4); }

  uint8_t access(uint8_t l) { return readb(l, tis::reg::kAccess); }
  uint32_t sts(uint8_t l) { return readl(l, tis::reg::kSts); }
  static uint32_t burst(uint32_t sts) { return tis::sts::kBurstCount.extract(sts); }
  void check_invariants() {
    std::string broken = dev->core().check_invariants();
    ck_assert_msg(broken.empty(), "invariant: %s", broken.c_str());
  }

  // Linux request_locality(): REQUEST_USE, then ACTIVE|VALID with REQUEST_USE clear.
  void request_locality(uint8_t l) {
    writeb(l, tis::reg::kAccess, tis::access::kRequestUse);
    uint8_t a = access(l);
    ck_assert_uint_eq(a & (tis::access::kActiveLocality | tis::access::kRegValidSts |
                           tis::access::kRequestUse),
                      tis::access::kActiveLocality | tis::access::kRegValidSts);
  }

  // STS must never show the bits Linux's TPM_STS_READ_ZERO check rejects.
  uint32_t checked_sts(uint8_t l) {
    uint32_t s = sts(l);
    ck_assert_msg((s & tis::sts::kReadZero) == 0, "STS 0x%08x has read-zero bits", s);
    return s;
  }

  // Linux tpm_tis_send_data(): commandReady, then len-1 bytes checking the burst count and that
  // Expect stays set after every byte, then the last byte (Expect must clear), then tpmGo.
  // Here every byte is checked, and the burst count must go down by one each time.
  void send(uint8_t l, const std::vector<uint8_t> &cmd, uint32_t fifo = tis::reg::kDataFifo) {
    if (!(checked_sts(l) & tis::sts::kCommandReady)) {
      writeb(l, tis::reg::kSts, tis::sts::kCommandReady);
    }
    uint32_t s = checked_sts(l);
    ck_assert(s & tis::sts::kCommandReady);
    uint32_t free_bytes = dev->core().buffer_size();
    for (size_t i = 0; i < cmd.size(); i++) {
      s = checked_sts(l);
      ck_assert_uint_eq(burst(s), free_bytes - i);
      writeb(l, fifo, cmd[i]);
      s = checked_sts(l);
      ck_assert(s & tis::sts::kValid);
      bool last = i + 1 == cmd.size();
      ck_assert_msg(bool(s & tis::sts::kExpect) == !last, "byte %zu: STS 0x%08x", i, s);
    }
    writeb(l, tis::reg::kSts, tis::sts::kGo);
  }

  // Runs completions until STS shows dataAvail|stsValid.
  void wait_response(uint8_t l, int timeout_ms = 5000) {
    bool ok = host.run_until([&] {
      uint32_t s = static_cast<uint32_t>(peek(l, tis::reg::kSts, 4));
      return (s & (tis::sts::kValid | tis::sts::kDataAvail)) ==
             (tis::sts::kValid | tis::sts::kDataAvail);
    }, timeout_ms);
    ck_assert_msg(ok, "no response");
  }

  // Linux tpm_tis_recv(): the 10-byte header, its size within [10, burst], the rest, no data
  // left over, then commandReady.
  std::vector<uint8_t> receive(uint8_t l, bool ready_after = true,
                               uint32_t fifo = tis::reg::kDataFifo) {
    std::vector<uint8_t> rsp;
    uint32_t s = checked_sts(l);
    ck_assert(s & tis::sts::kDataAvail);
    uint32_t total = burst(s);
    ck_assert_uint_ge(total, kTpmHeaderSize);
    for (size_t i = 0; i < kTpmHeaderSize; i++) rsp.push_back(readb(l, fifo));
    uint32_t expected = tpm_header_size(rsp.data());
    ck_assert_uint_ge(expected, kTpmHeaderSize);
    ck_assert_uint_eq(expected, total);
    while (rsp.size() < expected) {
      s = checked_sts(l);
      ck_assert(s & tis::sts::kDataAvail);
      ck_assert_uint_eq(burst(s), expected - rsp.size());
      rsp.push_back(readb(l, fifo));
    }
    s = checked_sts(l);
    ck_assert(s & tis::sts::kValid);
    ck_assert(!(s & tis::sts::kDataAvail));  // leftover data would be -EIO
    if (ready_after) writeb(l, tis::reg::kSts, tis::sts::kCommandReady);
    return rsp;
  }

  std::vector<uint8_t> transmit(uint8_t l, const std::vector<uint8_t> &cmd,
                                int timeout_ms = 5000) {
    send(l, cmd);
    wait_response(l, timeout_ms);
    return receive(l);
  }

  RecordingHost host;
  FakeTpmBackend backend;
  TisVariant variant;
  bool reset_after_realize;
  std::unique_ptr<Object> object;  // destroyed before the backend
  TpmTisDevice *dev = nullptr;
  std::vector<bool> irq_history;
};

// Commands used by the tests.
inline std::vector<uint8_t> tpm2_get_random(uint16_t n = 8) {
  return {0x80, 0x01, 0, 0, 0, 0x0c, 0x00, 0x00, 0x01, 0x7b,
          static_cast<uint8_t>(n >> 8), static_cast<uint8_t>(n)};
}
inline std::vector<uint8_t> tpm2_startup() {
  return {0x80, 0x01, 0, 0, 0, 0x0c, 0x00, 0x00, 0x01, 0x44, 0x00, 0x00};
}
inline std::vector<uint8_t> tpm12_continue_selftest() {
  return {0x00, 0xc1, 0, 0, 0, 0x0a, 0x00, 0x00, 0x00, 0x53};
}
inline std::vector<uint8_t> tpm12_get_random() {
  return {0x00, 0xc1, 0, 0, 0, 0x0e, 0x00, 0x00, 0x00, 0x46, 0, 0, 0, 8};
}
// A response of `len` bytes with a TPM 2.0 header and a recognisable body.
inline std::vector<uint8_t> tpm2_response(uint32_t len) {
  std::vector<uint8_t> r(len);
  r[0] = 0x80;
  r[1] = 0x01;
  r[2] = static_cast<uint8_t>(len >> 24);
  r[3] = static_cast<uint8_t>(len >> 16);
  r[4] = static_cast<uint8_t>(len >> 8);
  r[5] = static_cast<uint8_t>(len);
  for (uint32_t i = kTpmHeaderSize; i < len; i++) r[i] = static_cast<uint8_t>(i * 7);
  return r;
}

}  // namespace qtpm::testing
