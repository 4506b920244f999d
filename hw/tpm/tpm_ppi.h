// SPDX-License-Identifier: GPL-2.0-or-later
//
// The TPM Physical Presence Interface memory region, as QEMU lays it out (docs/specs/tpm.rst,
// "ACPI PPI interface"): a 0x400-byte page at 0xfed45000 that the ACPI _DSM methods and firmware
// share.  The TCG PPI 1.3 specification defines the operations; the layout is QEMU's.
//
// The region is device-owned RAM (not guest RAM): the machine maps it as plain memory.  At
// machine reset, if the memory-overwrite flag (movv bit 0) is set, all guest RAM is cleared
// through HostServices::clear_guest_ram().  QEMU never clears movv, so it wipes RAM on every reset
// until firmware clears it; qtpm does the same (firmware - SeaBIOS, OVMF - owns the flag), see
// docs/ppi.md.
#pragma once

#include <array>
#include <cstdint>

#include "hw/core/memory.h"
#include "qom/host_services.h"
#include "qom/saved_state.h"

namespace qtpm {

struct PpiLayout {
  static constexpr uint64_t kAddress = 0xfed45000;
  static constexpr uint32_t kSize = 0x400;
  // Field offsets inside the page.
  static constexpr uint32_t kFunc = 0x000;  // func[256]: TPM_PPI_FUNC_* per operation
  static constexpr uint32_t kPpin = 0x100;  // u8
  static constexpr uint32_t kPpip = 0x101;  // u32
  static constexpr uint32_t kPprp = 0x105;  // u32
  static constexpr uint32_t kPprq = 0x109;  // u32
  static constexpr uint32_t kPprm = 0x10d;  // u32
  static constexpr uint32_t kLppr = 0x111;  // u32
  static constexpr uint32_t kFret = 0x115;  // u32
  static constexpr uint32_t kRes1 = 0x119;  // 0x40 bytes
  static constexpr uint32_t kNextStep = 0x159;  // u8
  static constexpr uint32_t kMovv = 0x15a;      // u8: memory overwrite variable
  // func[] values
  static constexpr uint8_t kFuncNotImplemented = 0;
  static constexpr uint8_t kFuncBiosOnly = 1;
  static constexpr uint8_t kFuncBlocked = 2;
  static constexpr uint8_t kFuncAllowedUsrReq = 3;
  static constexpr uint8_t kFuncAllowedUsrNotReq = 4;
  static constexpr uint8_t kFuncMask = 7;
  // etc/tpm/config "tpmppi_version" for PPI 1.30.
  static constexpr uint8_t kVersion130 = 1;
};

class TpmPpi {
 public:
  using Page = std::array<uint8_t, PpiLayout::kSize>;
  // Saved-state section of the page (nested in the frontend's section): "tpm-ppi" version 1,
  // one field "memory" of exactly PpiLayout::kSize bytes.
  static constexpr const char *kStateSection = "tpm-ppi";
  static constexpr uint32_t kStateVersion = 1;

  TpmPpi() { memory_.fill(0); }

  // The region to map at PpiLayout::kAddress ("tpm-ppi").
  MemoryRegion region() {
    MemoryRegion r = MemoryRegion::ram("tpm-ppi", memory_.data(), memory_.size());
    r.set_fixed_address(PpiLayout::kAddress);
    return r;
  }
  // Machine reset: clears guest RAM when the OS asked for it (movv bit 0).
  void reset(HostServices *host) {
    if ((memory_[PpiLayout::kMovv] & 1) && host) host->clear_guest_ram();
  }

  uint8_t *data() { return memory_.data(); }
  const uint8_t *data() const { return memory_.data(); }
  static constexpr uint32_t size() { return PpiLayout::kSize; }

  // Saved state.  Loading is two steps so that a frontend validates all of its state before it
  // changes anything: parse_state() checks `state` into `page`, restore() applies it.  Every byte
  // value is valid (the page is guest-writable memory), so only the shape is checked.
  StateWriter save_state() const {
    StateWriter w(kStateSection, kStateVersion);
    w.put_bytes("memory", memory_);
    return w;
  }
  static Status parse_state(const StateReader &state, Page *page) {
    Status st = state.expect(kStateSection, kStateVersion, kStateVersion);
    if (!st) return st;
    return state.get_bytes_exact("memory", page->data(), page->size());
  }
  void restore(const Page &page) { memory_ = page; }

 private:
  std::array<uint8_t, PpiLayout::kSize> memory_;
};

}  // namespace qtpm
