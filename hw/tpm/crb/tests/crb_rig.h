// SPDX-License-Identifier: GPL-2.0-or-later
//
// A tpm-crb device on a tiny "machine" for unit tests: the device's regions mapped at their fixed
// guest addresses, a scripted backend and a test host.  Tests speak guest physical addresses,
// taken from tpm_crb_regs.h / tpm_crb_layout.h, never re-typed offsets.
#pragma once

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "hw/tpm/crb/tests/fake_tpm_backend.h"
#include "hw/tpm/crb/tpm_crb.h"
#include "qom/testing.h"

namespace qtpm::testing {

struct CrbRigOptions {
  const char *layout = "qemu";
  bool ppi = true;
};

class CrbRig {
 public:
  // With `real_backend` (e.g. a libtpms backend the test realized) the device uses it instead of
  // the scripted one; the caller keeps it alive longer than the rig.
  explicit CrbRig(CrbRigOptions options = {}, TpmBackend *real_backend = nullptr)
      : options_(options) {
    register_builtin_types();
    TpmBackend *be = real_backend ? real_backend : &backend;
    be->set_id("tpm0");
    be->set_host(&host);
    host.backends["tpm0"] = be;
    std::unique_ptr<Object> object = object_new(kTypeTpmCrb);
    crb.reset(object_cast<TpmCrb>(object.release()));
    crb->set_host(&host);
  }

  // Sets the properties, realizes and resets (machine start).  Returns realize's status.
  Status start() {
    Status st = crb->set_property("tpmdev", "tpm0");
    if (st) st = crb->set_property("ppi", options_.ppi ? "on" : "off");
    if (st) st = crb->set_property("buffer-layout", options_.layout);
    if (st) st = crb->realize();
    if (st) crb->reset();
    return st;
  }

  // Guest physical accesses to whichever region covers [addr, addr + size).
  uint64_t read(uint64_t addr, unsigned size = 4, AccessOutcome *outcome = nullptr) {
    uint64_t offset = 0;
    const MemoryRegion *r = find(addr, size, &offset);
    ck_assert_msg(r, "no region at 0x%llx", static_cast<unsigned long long>(addr));
    return r->read(offset, size, false, outcome);
  }
  void write(uint64_t addr, uint64_t value, unsigned size = 4, AccessOutcome *outcome = nullptr) {
    uint64_t offset = 0;
    const MemoryRegion *r = find(addr, size, &offset);
    ck_assert_msg(r, "no region at 0x%llx", static_cast<unsigned long long>(addr));
    r->write(offset, value, size, outcome);
  }
  bool mapped(uint64_t addr) {
    uint64_t offset;
    return find(addr, 1, &offset) != nullptr;
  }
  uint32_t reg(uint32_t offset) { return uint32_t(read(crb::kBaseAddress + offset)); }
  void set_reg(uint32_t offset, uint32_t value, unsigned size = 4) {
    write(crb::kBaseAddress + offset, value, size);
  }
  const MemoryRegion *region(const char *name) const {
    for (const MemoryRegion &r : crb->regions())
      if (r.name() == name) return &r;
    return nullptr;
  }

  // Byte-wise copies, as Linux (memcpy_toio on x86 does wider moves, but bytes are the worst
  // case) and EDK2 (MmioWrite8) do.
  void copy_in(uint64_t addr, const std::vector<uint8_t> &bytes) {
    for (size_t i = 0; i < bytes.size(); i++) write(addr + i, bytes[i], 1);
  }
  std::vector<uint8_t> copy_out(uint64_t addr, size_t length) {
    std::vector<uint8_t> out(length);
    for (size_t i = 0; i < length; i++) out[i] = uint8_t(read(addr + i, 1));
    return out;
  }

  // The whole driver sequence: locality, cmdReady, copy, START, wait for START to clear, read the
  // response (its header's size), goIdle, relinquish.  `buffer` is where the driver puts the
  // command (Linux: CTRL_CMD_LADDR; OVMF: base + 0x80).
  std::vector<uint8_t> transact(const std::vector<uint8_t> &command, uint64_t buffer = 0,
                                int timeout_ms = 5000) {
    using namespace crb;
    if (!buffer) buffer = reg(A_CTRL_CMD_LADDR);
    set_reg(A_LOC_CTRL, loc_ctrl::kRequestAccess);
    set_reg(A_CTRL_REQ, ctrl_req::kCmdReady);
    set_reg(A_CTRL_CANCEL, 0);
    copy_in(buffer, command);
    set_reg(A_CTRL_START, ctrl_start::kInvoke.mask());
    bool done = host.run_until([&] { return !(reg(A_CTRL_START) & 1); }, timeout_ms);
    ck_assert_msg(done, "command did not complete");
    std::vector<uint8_t> header = copy_out(buffer, kTpmHeaderSize);
    uint32_t length = tpm_header_size(header.data());
    ck_assert_uint_le(length, reg(A_CTRL_RSP_SIZE));
    std::vector<uint8_t> response = copy_out(buffer, std::max<uint32_t>(length, kTpmHeaderSize));
    set_reg(A_CTRL_REQ, ctrl_req::kGoIdle);
    set_reg(A_LOC_CTRL, loc_ctrl::kRelinquish);
    return response;
  }

  CrbTestHost host;
  FakeTpmBackend backend;
  std::unique_ptr<TpmCrb> crb;  // destroyed first: it detaches from the backend

 private:
  const MemoryRegion *find(uint64_t addr, unsigned size, uint64_t *offset) const {
    for (const MemoryRegion &r : crb->regions()) {
      uint64_t base = r.fixed_address().value_or(0);
      if (addr >= base && addr + size <= base + r.size()) {
        *offset = addr - base;
        return &r;
      }
    }
    return nullptr;
  }

  CrbRigOptions options_;
};

// A TPM2 command: header (tag 0x8001, size, code) + body.
inline std::vector<uint8_t> tpm2_command(uint32_t code, std::vector<uint8_t> body = {}) {
  uint32_t size = uint32_t(kTpmHeaderSize + body.size());
  std::vector<uint8_t> c = {0x80, 0x01, uint8_t(size >> 24), uint8_t(size >> 16),
                            uint8_t(size >> 8), uint8_t(size), uint8_t(code >> 24),
                            uint8_t(code >> 16), uint8_t(code >> 8), uint8_t(code)};
  for (uint8_t b : body) c.push_back(b);  // (insert() trips a GCC 12 -Warray-bounds false alarm)
  return c;
}

}  // namespace qtpm::testing
