// SPDX-License-Identifier: GPL-2.0-or-later
//
// libFuzzer target for tpm-crb: the input is decoded into guest and machine actions - register
// reads and writes of every size and offset, buffer and PPI accesses through every view, scripted
// backend replies (good, failing, oversized), completions, resets (with startup failures) and
// save/restore with corrupted blobs - against a device on a scripted backend.  After every action
// the device's invariants are checked; a violation aborts (a finding).
//
// Build: CC=clang CXX=clang++ meson setup build-fuzz -Dfuzz=true -Db_sanitize=address,undefined
//        -Db_lundef=false; run: build-fuzz/fuzz-crb -max_total_time=60 hw/tpm/crb/fuzz/corpus
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "hw/tpm/crb/tests/fake_tpm_backend.h"
#include "hw/tpm/crb/tpm_crb.h"
#include "qom/fuzzing.h"

using namespace qtpm;
using namespace qtpm::crb;

namespace {

using fuzzing::Input;

void check(bool ok, const char *what) {
  if (!ok) fuzzing::finding("crb", "invariant violated", what);
}

class Harness {
 public:
  explicit Harness(uint8_t config) {
    register_builtin_types();
    backend_.set_id("tpm0");
    backend_.set_host(&host_);
    host_.backends["tpm0"] = &backend_;
    backend_.max_buffer = (config & 4) ? 1024 : 4096;
    std::unique_ptr<Object> o = object_new(kTypeTpmCrb);
    crb_.reset(object_cast<TpmCrb>(o.release()));
    crb_->set_host(&host_);
    check(crb_->set_property("tpmdev", "tpm0").is_ok(), "tpmdev");
    check(crb_->set_property("buffer-layout", (config & 1) ? "page-aligned" : "qemu").is_ok(),
          "layout");
    check(crb_->set_property("ppi", (config & 2) ? "off" : "on").is_ok(), "ppi");
    check(crb_->realize().is_ok(), "realize");
    crb_->reset();
  }
  ~Harness() {
    unblock();
    crb_.reset();
  }

  void step(Input &in) {
    switch (in.u8() % 11) {
      case 0: register_read(in); break;
      case 1: register_write(in); break;
      case 2: memory_access(in, /*write=*/true); break;
      case 3: memory_access(in, /*write=*/false); break;
      case 4: script_reply(in); break;
      case 5: drain(); break;
      case 6: host_.loop.run_pending(); break;
      case 7:
        backend_.fail_startup = in.u8() & 1;
        unblock();
        crb_->reset();
        break;
      case 8: save_restore(in); break;
      case 9: command_sequence(in); break;
      case 10: backend_.set_hold(in.u8() & 1); break;  // commands wait for a cancel or a drain
    }
    check_invariants();
  }

  // Let everything finish, then the device must be at rest.
  void finish() {
    drain();
    check(!(bank(R_CTRL_START) & 1), "START still set after the backend drained");
  }

 private:
  uint32_t bank(Reg r) const { return crb_->registers().stored(r); }
  const MemoryRegion &region(size_t i) const { return crb_->regions()[i % crb_->regions().size()]; }

  static unsigned access_size(uint8_t b) { return 1u << (b % 4); }

  void register_read(Input &in) {
    const MemoryRegion &r = region(0);
    unsigned size = access_size(in.u8());
    uint64_t offset = in.u8() % (r.size() - size + 1);
    bool peek = in.u8() & 1;
    r.read(offset, size, peek);
  }

  void register_write(Input &in) {
    const MemoryRegion &r = region(0);
    unsigned size = access_size(in.u8());
    // Bias towards the command registers, exact values most of the time.
    uint8_t sel = in.u8();
    uint64_t offset;
    uint64_t value;
    if (sel & 0x80) {
      static const uint32_t kCommands[] = {A_LOC_CTRL, A_CTRL_REQ, A_CTRL_CANCEL, A_CTRL_START};
      offset = kCommands[sel % 4];
      value = 1u << (in.u8() % 4);
      size = 4;
    } else {
      offset = sel % (r.size() - size + 1);
      value = in.value(size);
    }
    r.write(offset, value, size);
  }

  // Any RAM region (buffer views, PPI) at any offset and size.
  void memory_access(Input &in, bool write) {
    const MemoryRegion &r = region(1 + in.u8());
    unsigned size = access_size(in.u8());
    uint64_t offset = in.u16() % (r.size() - size + 1);
    if (write) {
      r.write(offset, in.value(size), size);
    } else {
      r.read(offset, size);
    }
  }

  void script_reply(Input &in) {
    testing::FakeTpmBackend::Reply reply;
    uint8_t kind = in.u8();
    reply.fail = kind & 1;
    size_t length = (kind & 2) ? 5000 : in.u8();  // 5000: larger than any negotiated buffer
    reply.response = in.bytes(length);
    if (kind & 2) reply.response.resize(5000, 0xee);
    backend_.push_reply(std::move(reply));
  }

  // A held command answers (release) so that waiting for it cannot hang.
  void unblock() {
    backend_.set_hold(false);
    backend_.release();
  }

  void drain() {
    unblock();
    backend_.finish_sync();
    host_.loop.run_pending();
  }

  // A well-formed driver sequence, so that commands are reached often.
  void command_sequence(Input &in) {
    const MemoryRegion &regs = region(0);
    regs.write(A_LOC_CTRL, loc_ctrl::kRequestAccess, 4);
    regs.write(A_CTRL_REQ, ctrl_req::kCmdReady, 4);
    std::vector<uint8_t> command = in.bytes(in.u8());
    uint32_t address = uint32_t(regs.read(A_CTRL_CMD_LADDR, 4));
    // Find the view the address register names.
    for (const MemoryRegion &r : crb_->regions()) {
      if (r.kind() != MemoryRegion::Kind::kRam || r.fixed_address() != address) continue;
      for (size_t i = 0; i < command.size() && i < r.size(); i++) r.write(i, command[i], 1);
    }
    regs.write(A_CTRL_START, 1, 4);
  }

  void save_restore(Input &in) {
    unblock();
    check(crb_->prepare_save().is_ok(), "prepare_save");
    check(!(bank(R_CTRL_START) & 1), "START set after prepare_save");
    std::vector<uint8_t> blob = crb_->save_state().finish();
    std::vector<uint8_t> mutated = blob;
    uint8_t flips = in.u8() % 4;
    for (uint8_t i = 0; i < flips && !mutated.empty(); i++) {
      size_t at = in.u16() % mutated.size();
      mutated[at] ^= in.u8() | 1;
    }
    if (in.u8() & 1 && !mutated.empty()) mutated.resize(in.u16() % mutated.size());
    StateReader reader;
    Status st = StateReader::parse(mutated, &reader);
    if (st) st = crb_->load_state(reader);
    if (!st) {
      check(crb_->save_state().finish() == blob, "refused state changed the device");
      return;
    }
    // Accepted: what the device saves now loads again and saves identically.
    std::vector<uint8_t> again = crb_->save_state().finish();
    StateReader again_reader;
    check(StateReader::parse(again, &again_reader).is_ok(), "re-save unparsable");
    check(crb_->load_state(again_reader).is_ok(), "re-save refused");
    check(crb_->save_state().finish() == again, "second round trip differs");
    if (mutated == blob) check(again == blob, "unchanged round trip differs");
  }

  void check_invariants() {
    uint32_t loc_state = bank(R_LOC_STATE);
    uint32_t loc_sts = bank(R_LOC_STS);
    check(loc_state::kTpmRegValidSts.extract(loc_state) == 1, "tpmRegValidSts cleared");
    check(loc_state::kActiveLocality.extract(loc_state) == 0, "active locality != 0");
    check(loc_state::kLocAssigned.extract(loc_state) == loc_sts::kGranted.extract(loc_sts),
          "locAssigned and Granted disagree");
    check(loc_sts::kBeenSeized.extract(loc_sts) == 0, "beenSeized set");
    check((bank(R_CTRL_STS) & ~(ctrl_sts::kTpmSts.mask() | ctrl_sts::kTpmIdle.mask())) == 0,
          "CTRL_STS reserved bits");
    check((bank(R_CTRL_START) & ~ctrl_start::kInvoke.mask()) == 0, "CTRL_START reserved bits");
    check(bank(R_INTF_ID) == intf_id::kValue, "INTF_ID changed");
    const LayoutInfo &layout = crb_->layout();
    check(bank(R_CTRL_CMD_SIZE) == layout.buffer_size, "CMD_SIZE changed");
    check(bank(R_CTRL_CMD_LADDR) == uint32_t(kBaseAddress) + layout.buffer_offset,
          "CMD_LADDR changed");
    check(bank(R_CTRL_CMD_HADDR) == 0 && bank(R_CTRL_RSP_ADDR_HI) == 0, "buffer above 4 GiB");
    check(bank(R_CTRL_RSP_ADDR) == bank(R_CTRL_CMD_LADDR), "RSP and CMD differ");
    // START set means a request is pending in the backend (or its completion is queued).
    if (!(bank(R_CTRL_START) & 1)) check(!backend_.request_pending(), "backend busy, START clear");
    check(crb_->backend_buffer_size() <= layout.buffer_size, "negotiated size beyond buffer");
  }

  testing::CrbTestHost host_;
  testing::FakeTpmBackend backend_;
  std::unique_ptr<TpmCrb> crb_;
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
