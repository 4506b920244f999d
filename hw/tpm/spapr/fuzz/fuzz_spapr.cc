// SPDX-License-Identifier: GPL-2.0-or-later
//
// libFuzzer target for tpm-spapr: the input is decoded into what a guest and the machine can do -
// hypervisor calls with any arguments (H_PUT_TCE, H_GET_TCE, the CRQ calls, unknown ones), well-
// formed driver steps (mappings, queue registration, vTPM messages), guest memory writes (commands,
// queue slots consumed or scribbled on), scripted backend replies (good, failing, oversized), held
// and drained commands, resets with startup failures, and save/restore of the device and its TCE
// table with corrupted blobs - against a tpm-spapr on qtpm-system's VIO bus over a small flat
// guest memory (hw/tpm/spapr/tests/spapr_rig.h's pieces).  After every action the invariants are
// checked; a violation aborts (a finding).
//
// Build: CC=clang CXX=clang++ meson setup build-fuzz -Dfuzz=true -Db_sanitize=address,undefined
//        -Db_lundef=false; run: build-fuzz/fuzz-spapr -max_total_time=60 hw/tpm/spapr/fuzz/corpus
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "hw/tpm/spapr/tests/spapr_rig.h"
#include "qom/fuzzing.h"

using namespace qtpm;
using namespace qtpm::spapr;

namespace {

using fuzzing::Input;

void check(bool ok, const char *what) {
  if (!ok) fuzzing::finding("spapr", "invariant violated", what);
}

constexpr uint64_t kRam = 0x10000;  // 16 guest pages: random mappings often hit something

class Harness {
 public:
  explicit Harness(uint8_t config) {
    register_builtin_types();
    host::SpaprVioBus::register_type();
    auto memory = std::make_unique<testing::FlatGuestMemory>(kRam);
    ram_ = memory.get();
    bus_.set_guest_memory(std::move(memory));
    if (config & 1) {
      for (const char *t : {"spapr-vty", "spapr-nvram", "spapr-vlan", "spapr-vscsi"}) bus_.reserve_builtin(t);
    }
    static const uint32_t kBuffers[] = {4096, 1024, 8192, 16};
    backend_.max_buffer = kBuffers[(config >> 1) % 4];
    backend_.tpm_version = (config & 8) ? TpmVersion::k1_2 : TpmVersion::k2_0;
    backend_.set_id("tpm0");
    backend_.set_host(&host_);
    host_.backends["tpm0"] = &backend_;
    std::unique_ptr<Object> o = object_new(kTypeTpmSpapr);
    dev_.reset(object_cast<TpmSpapr>(o.release()));
    dev_->set_host(&host_);
    check(dev_->set_property("tpmdev", "tpm0").is_ok(), "tpmdev");
    check(dev_->realize().is_ok(), "realize");
    check(bus_.plug(*dev_).is_ok(), "plug");
    dev_->irq(0).connect([](bool level) { (void)level; });
    dev_->reset();
    unit_ = dev_->reg();
  }
  ~Harness() {
    unblock();
    bus_.unplug(*dev_);
    dev_.reset();
  }

  void step(Input &in) {
    switch (in.u8() % 15) {
      case 0: raw_hcall(in); break;
      case 1: map_page(in); break;
      case 2: register_queue(in); break;
      case 3: send_message(in); break;
      case 4: scribble(in); break;
      case 5: write_command(in); break;
      case 6: consume_slots(in); break;
      case 7: script_reply(in); break;
      case 8: drain(); break;
      case 9: backend_.set_hold(in.u8() & 1); break;  // commands wait for a drain
      case 10:
        backend_.fail_startup = in.u8() & 1;
        unblock();
        dev_->reset();
        break;
      case 11: save_restore_device(in); break;
      case 12: save_restore_tce(in); break;
      case 13: dev_->deliver_parked_response(); break;
      case 14: host_.loop.run_pending(); break;
    }
    check_invariants();
  }

  void finish() {
    drain();
    check(dev_->state() != TpmSpapr::State::kExecution, "still executing after the backend drained");
  }

 private:
  uint64_t arg(Input &in) {
    switch (in.u8() % 6) {
      case 0: return unit_;
      case 1: return in.u16();
      case 2: return uint64_t(in.u8() % 64) << kTcePageShift;
      case 3: return (uint64_t(in.u8() % 16) << kTcePageShift) | (in.u8() & 3);
      case 4: return 0x1000;
      default: return in.u64();
    }
  }

  void raw_hcall(Input &in) {
    static const uint64_t kOps[] = {kHPutTce, kHGetTce,  kHRegCrq,   kHFreeCrq,
                                    kHSendCrq, kHEnableCrq, kHVioSignal};
    uint8_t sel = in.u8();
    uint64_t op = sel < 240 ? kOps[sel % 7] : in.u64();
    std::vector<uint64_t> args;
    for (unsigned n = in.u8() % 4; n > 0; n--) args.push_back(arg(in));
    host::HcallResult r = bus_.hcall(op, args);
    check(r.status <= kHClosed && r.status >= kHResource, "hcall status out of range");
  }

  void map_page(Input &in) {
    uint64_t ioba = uint64_t(in.u8() % 64) << kTcePageShift;
    uint64_t gpa = uint64_t(in.u8() % 20) << kTcePageShift;  // some past the end of RAM
    bus_.hcall(kHPutTce, std::vector<uint64_t>{unit_, ioba, gpa | (in.u8() & 3)});
  }

  void register_queue(Input &in) {
    uint64_t ioba = uint64_t(in.u8() % 64) << kTcePageShift;
    uint64_t len = 0x1000 * (1 + in.u8() % 3);
    bus_.hcall(kHRegCrq, std::vector<uint64_t>{unit_, ioba, len});
  }

  void send_message(Input &in) {
    static const uint8_t kValid[] = {kCrqValidCommand, kCrqValidInit, 0, 0xff};
    CrqElement e;
    e.valid = kValid[in.u8() % 4];
    e.msg = uint8_t(in.u8() % 6);
    e.len = in.u16();
    e.data = uint32_t((in.u8() % 64) << kTcePageShift) + ((in.u8() & 1) ? in.u16() % 0x1000 : 0);
    e.reserved = (in.u8() & 1) ? in.u64() : 0;
    int64_t rc = bus_.hcall(kHSendCrq, std::vector<uint64_t>{unit_, e.word0(), e.word1()}).status;
    check(rc == kHSuccess || rc == kHBusy, "H_SEND_CRQ answered other than success or busy");
    if (rc == kHBusy) check(dev_->state() == TpmSpapr::State::kExecution, "H_BUSY while idle");
  }

  void scribble(Input &in) {
    uint64_t gpa = in.u16() % kRam;
    std::vector<uint8_t> b = in.bytes(in.u8() % 64);
    if (b.size() > kRam - gpa) b.resize(kRam - gpa);
    if (!b.empty()) ram_->write(gpa, b.data(), b.size());
  }

  // A TPM header (with any size claim) and a body at the start of a page.
  void write_command(Input &in) {
    uint64_t gpa = uint64_t(in.u8() % 16) << kTcePageShift;
    uint32_t size = (in.u8() & 1) ? in.u16() : uint32_t(kTpmHeaderSize + in.u8() % 32);
    std::vector<uint8_t> c = {0x80, 0x01, uint8_t(size >> 24), uint8_t(size >> 16),
                              uint8_t(size >> 8), uint8_t(size), 0, 0, 0x01, 0x7b};
    std::vector<uint8_t> body = in.bytes(in.u8() % 32);
    c.insert(c.end(), body.begin(), body.end());
    ram_->write(gpa, c.data(), c.size());
  }

  // The guest consumes responses: clears valid bytes of slots in a page.
  void consume_slots(Input &in) {
    uint64_t page = uint64_t(in.u8() % 16) << kTcePageShift;
    for (unsigned n = in.u8() % 8, slot = in.u8(); n > 0; n--, slot++) {
      ram_->bytes[page + (slot % 256) * kCrqElementSize] = 0;
    }
  }

  void script_reply(Input &in) {
    testing::FakeTpmBackend::Reply reply;
    uint8_t kind = in.u8();
    reply.fail = kind & 1;
    size_t length = (kind & 2) ? 9000 : in.u8();  // 9000: larger than any negotiated buffer
    reply.response = in.bytes(length);
    if (kind & 2) reply.response.resize(9000, 0xee);
    backend_.push_reply(std::move(reply));
  }

  void unblock() {
    backend_.set_hold(false);
    backend_.release();
  }

  void drain() {
    unblock();
    backend_.finish_sync();
    host_.loop.run_pending();
  }

  template <typename Obj>
  void save_restore(Obj &obj, Input &in, bool parked_before) {
    std::vector<uint8_t> blob = obj.save_state().finish();
    std::vector<uint8_t> mutated = blob;
    for (uint8_t i = 0, flips = in.u8() % 4; i < flips && !mutated.empty(); i++) {
      mutated[in.u16() % mutated.size()] ^= in.u8() | 1;
    }
    if (in.u8() & 1 && !mutated.empty()) mutated.resize(in.u16() % mutated.size());
    StateReader reader;
    Status st = StateReader::parse(mutated, &reader);
    if (st) st = obj.load_state(reader);
    if (!st) {
      check(obj.save_state().finish() == blob, "refused state changed the object");
      return;
    }
    // Accepted: what the object saves now loads again and saves identically.
    std::vector<uint8_t> again = obj.save_state().finish();
    StateReader again_reader;
    check(StateReader::parse(again, &again_reader).is_ok(), "re-save unparsable");
    check(obj.load_state(again_reader).is_ok(), "re-save refused");
    check(obj.save_state().finish() == again, "second round trip differs");
    // (A parked response is delivered by the load, so it is not in the re-save.)
    if (mutated == blob && !parked_before) check(again == blob, "unchanged round trip differs");
  }

  void save_restore_device(Input &in) {
    unblock();
    check(dev_->prepare_save().is_ok(), "prepare_save");
    check(dev_->state() != TpmSpapr::State::kExecution, "executing after prepare_save");
    check(!backend_.request_pending(), "backend busy after prepare_save");
    save_restore(*dev_, in, dev_->parked_response_length() != 0);
  }

  void save_restore_tce(Input &in) {
    host::SpaprTceTable *table = bus_.find_tce_table(unit_);
    check(table != nullptr, "the device lost its TCE table");
    save_restore(*table, in, false);
  }

  void check_invariants() {
    const CrqQueueState &q = dev_->crq_queue();
    if (q.registered()) {
      check(q.qsize >= 0x1000 && q.qsize <= 0x10000000, "queue size out of range");
      check((q.qladdr & 0xfff) == 0, "queue not page aligned");
      check(q.qnext < q.qsize && q.qnext % kCrqElementSize == 0, "queue offset not a slot");
    } else {
      check(q.qladdr == 0 && q.qnext == 0, "queue fields without a queue");
    }
    check((dev_->signal_state() & ~uint64_t(1)) == 0, "signal mode outside the mask");
    check(!dev_->irq(0).level(), "interrupt left high (a pulse must end low)");
    check(dev_->backend_buffer_size() <= kVtpmBufferMax, "RTCE buffer beyond 4 KiB");
    check(dev_->parked_response_length() <= dev_->backend_buffer_size(), "parked beyond the buffer");
    if (dev_->state() != TpmSpapr::State::kExecution) {
      check(!backend_.request_pending(), "backend busy while the device is idle");
    }
    check(dev_->reg() == unit_ && bus_.find_device(unit_) == dev_.get(), "unit moved");
  }

  testing::CrbTestHost host_;
  testing::FakeTpmBackend backend_;
  host::SpaprVioBus bus_;
  testing::FlatGuestMemory *ram_ = nullptr;  // owned by the bus
  std::unique_ptr<TpmSpapr> dev_;
  uint32_t unit_ = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0) return 0;
  Input in(data, size);
  Harness harness(in.u8());
  for (int steps = 0; !in.empty() && steps < 256; steps++) harness.step(in);
  harness.finish();
  return 0;
}
