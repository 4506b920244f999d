// SPDX-License-Identifier: GPL-2.0-or-later
//
// libFuzzer target for the TIS (tpm-tis and tpm-tis-device): decodes the input into a sequence
// of actions - register reads (plain and peek) and writes of any size at any offset of the five
// localities, scripted backend responses (well-formed, failing, short, lying about their size,
// selftest-done), delivery of the backend's completion now or through the main loop, machine
// reset (also with a backend that fails to start), and save/restore (round trip, and damaged
// blobs that must be refused without changing the device) - against a device on an in-process
// fake backend, and checks the core's invariants after every action.
//
// Build: CC=clang CXX=clang++ meson setup build-fuzz -Dfuzz=true \
//          -Db_sanitize=address,undefined -Db_lundef=false
// Run:   scripts/run-fuzzers build-fuzz 60   (a scratch copy of hw/tpm/tis/fuzz/corpus)
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <vector>

#include "hw/tpm/tis/tests/fake_tpm_backend.h"
#include "hw/tpm/tis/tpm_tis_device.h"
#include "hw/tpm/tis/tpm_tis_regs.h"
#include "qom/main_loop.h"
#include "qom/fuzzing.h"

using namespace qtpm;
using namespace qtpm::tis;

namespace {

// Reads the fuzzer's bytes; past the end everything is 0.
using fuzzing::Input;

// The embedder: one backend, completions on a queue the fuzzer drains.  (Not qom/testing.h's
// TestHost: fuzz builds have no Check.)
class Host : public HostServices {
 public:
  Object *find_tpm_backend(std::string_view id) override {
    return id == "tpm0" ? backend : nullptr;
  }
  Chardev *find_chardev(std::string_view) override { return nullptr; }
  CompletionLoop &completion_loop() override { return loop; }
  void clear_guest_ram() override {}
  void report_error(std::string_view) override { errors++; }
  Object *backend = nullptr;
  QueueCompletionLoop loop;
  int errors = 0;
};

[[noreturn]] void die(const char *what, const std::string &detail) {
  fuzzing::finding("tis", what, detail.c_str());
}

// The first input byte: bit 0 TPM 1.2, bits 1-3 buffer size, bit 4 sysbus variant.
struct Rig {
  explicit Rig(uint8_t config)
      : backend(config & 1 ? TpmVersion::k1_2 : TpmVersion::k2_0, buffer_size(config >> 1)) {
    backend.set_id("tpm0");
    backend.set_host(&host);
    host.backend = &backend;
    object = object_new(config & 0x10 ? kTypeTpmTisDevice : kTypeTpmTis);
    dev = object_cast<TpmTisDevice>(object.get());
    dev->set_host(&host);
    if (!dev->set_property("tpmdev", "tpm0").is_ok() || !dev->realize().is_ok()) {
      die("setup", "realize failed");
    }
    dev->reset();
  }
  // Small buffers reach "buffer full" quickly; 4096 and more are the real cases.
  static uint32_t buffer_size(uint8_t b) {
    static const uint32_t kSizes[] = {4096, 8192, 64, 12, 10, 1, 0, 300};
    return kSizes[b % 8];
  }
  const MemoryRegion &mmio() { return dev->regions().at(0); }

  Host host;
  testing::FakeTpmBackend backend;
  std::unique_ptr<Object> object;
  TpmTisDevice *dev = nullptr;
};

uint64_t pick_offset(Input &in) {
  uint8_t how = in.u8();
  uint64_t locality = how % kLocalities;
  uint64_t offset;
  if (how & 0x80) {
    offset = kRegisters[in.u8() % kRegCount].offset + (how >> 5 & 3);
  } else {
    offset = in.u16() & (kLocalityWindow - 1);
  }
  return locality << kLocalityShift | offset;
}

unsigned pick_size(uint8_t b) { return 1u << (b % 4); }

void mmio_access(Rig &r, Input &in, bool write) {
  uint64_t addr = pick_offset(in);
  uint8_t sz = in.u8();
  unsigned size = pick_size(sz);
  if (addr + size > kRegionSize) addr = kRegionSize - size;
  AccessOutcome outcome;
  if (write) {
    r.mmio().write(addr, in.u64(), size, &outcome);
  } else {
    r.mmio().read(addr, size, sz & 0x80, &outcome);
  }
}

// A response for the next command: its shape chosen by the input.
void script_response(Rig &r, Input &in) {
  uint8_t kind = in.u8();
  uint16_t len = in.u16() % 4200;
  testing::FakeTpmBackend::Response rsp;
  rsp.bytes = in.bytes(len);
  rsp.bytes.resize(len, 0xa5);
  if (len >= 6 && (kind & 3) == 0) {  // well-formed size field
    rsp.bytes[2] = static_cast<uint8_t>(len >> 24);
    rsp.bytes[3] = static_cast<uint8_t>(len >> 16);
    rsp.bytes[4] = static_cast<uint8_t>(len >> 8);
    rsp.bytes[5] = static_cast<uint8_t>(len);
  }
  rsp.fail = kind & 4;
  rsp.selftest_done = kind & 8;
  r.backend.push_response(std::move(rsp));
}

// A whole command the quick way: request, commandReady, a well-formed command, tpmGo.
void send_command(Rig &r, Input &in) {
  uint8_t l = in.u8() % 4;
  uint16_t len = static_cast<uint16_t>(10 + in.u8());
  auto w = [&](uint32_t off, uint64_t v) {
    r.mmio().write(uint64_t{l} << kLocalityShift | off, v, 1);
  };
  w(reg::kAccess, access::kRequestUse);
  w(reg::kSts, sts::kCommandReady);
  std::vector<uint8_t> cmd = {0x80, 0x01, 0, 0, static_cast<uint8_t>(len >> 8),
                              static_cast<uint8_t>(len), 0, 0, 0x01, 0x7b};
  cmd.resize(len, 0x11);
  for (uint8_t b : cmd) w(reg::kDataFifo, b);
  w(reg::kSts, sts::kGo);
}

// Structured register actions, so that arbitration and the state machine are reached quickly;
// the raw accesses above cover everything else.
void access_action(Rig &r, Input &in) {
  static const uint8_t kValues[] = {access::kRequestUse, access::kActiveLocality, access::kSeize,
                                    access::kBeenSeized};
  uint8_t how = in.u8();
  uint8_t value = how & 0x80 ? in.u8() : kValues[how >> 2 & 3];
  r.mmio().write(uint64_t{how % kLocalities} << kLocalityShift | reg::kAccess, value, 1);
}

void sts_action(Rig &r, Input &in) {
  static const uint32_t kValues[] = {sts::kCommandReady, sts::kGo, sts::kResponseRetry,
                                     sts::kCommandCancel, sts::kResetEstablishment,
                                     sts::kCommandReady | sts::kGo};
  uint8_t how = in.u8();
  uint32_t value = how & 0x80 ? static_cast<uint32_t>(in.u64()) : kValues[(how >> 3) % 6];
  r.mmio().write(uint64_t{how % kLocalities} << kLocalityShift | reg::kSts, value, 4);
}

void fifo_action(Rig &r, Input &in) {
  uint8_t how = in.u8();
  uint64_t base = uint64_t{how % kLocalities} << kLocalityShift |
                  (how & 0x40 ? reg::kXDataFifo + 4 * (in.u8() % reg::kXDataFifoSlots)
                              : reg::kDataFifo);
  unsigned count = in.u8() % 32 + 1;
  for (unsigned i = 0; i < count; i++) {
    if (how & 0x80) {
      r.mmio().write(base, in.u8(), 1);
    } else {
      r.mmio().read(base, 1);
    }
  }
}

void interrupt_action(Rig &r, Input &in) {
  uint8_t how = in.u8();
  uint64_t base = uint64_t{how % kLocalities} << kLocalityShift;
  uint32_t value = static_cast<uint32_t>(in.u64());
  r.mmio().write(base | (how & 0x80 ? reg::kIntStatus : reg::kIntEnable),
                 how & 0x40 ? value : (value | intr::kGlobalEnable), 4);
}

std::vector<uint8_t> saved(Rig &r) {
  if (!r.dev->prepare_save().is_ok()) die("save", "prepare_save failed");
  return r.dev->save_state().finish();
}

Status restore(Rig &r, const std::vector<uint8_t> &blob) {
  StateReader reader;
  Status st = StateReader::parse(blob, &reader);
  return st ? r.dev->load_state(reader) : st;
}

// Save, restore the same bytes, save again: identical.  Then a damaged copy: refused without a
// trace, or accepted as a state the device could be in.
void save_restore(Rig &r, Input &in) {
  std::vector<uint8_t> a = saved(r);
  Status st = restore(r, a);
  if (!st) die("restore of a fresh save refused", st.message());
  if (saved(r) != a) die("round trip", "state differs after restore");
  if (a.empty()) return;
  std::vector<uint8_t> bad = a;
  uint16_t at = in.u16();
  uint8_t mode = in.u8();
  if (mode & 1) {
    bad.resize(at % a.size());  // truncated
  } else {
    bad[at % bad.size()] ^= static_cast<uint8_t>(mode | 1);
  }
  if (restore(r, bad).is_ok()) {
    std::string broken = r.dev->core().check_invariants();
    if (!broken.empty()) die("damaged state accepted", broken);
    if (!restore(r, a).is_ok()) die("restore", "reference state refused");
  } else if (saved(r) != a) {
    die("damaged state refused", "but the device changed");
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***) {
  register_builtin_types();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  Input in(data, size);
  Rig r(in.u8());
  for (int steps = 0; !in.empty() && steps < 4096; steps++) {
    switch (in.u8() % 16) {
      case 0: case 1: mmio_access(r, in, false); break;
      case 2: case 3: mmio_access(r, in, true); break;
      case 4: access_action(r, in); break;  // the backend completes commands at once, but the
                                            // device only learns of it in actions 7 and 8
      case 5: sts_action(r, in); break;
      case 12: case 13: fifo_action(r, in); break;
      case 14: interrupt_action(r, in); break;
      case 15: sts_action(r, in); break;
      case 6: script_response(r, in); break;
      case 7:  // complete now
        r.backend.finish_sync();
        break;
      case 8:  // the posted completion is then stale: delivering it must do nothing
        r.backend.finish_sync();
        r.host.loop.run_pending();
        break;
      case 9: {
        uint8_t how = in.u8();
        r.backend.set_fail_startup(how & 1);
        r.backend.set_established(how & 2);
        r.dev->reset();
        break;
      }
      case 10: save_restore(r, in); break;
      case 11: send_command(r, in); break;
    }
    std::string broken = r.dev->core().check_invariants();
    if (!broken.empty()) die("invariant", broken);
  }
  r.backend.finish_sync();
  return 0;
}
