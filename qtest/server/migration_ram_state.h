// SPDX-License-Identifier: GPL-2.0-or-later
//
// Guest RAM as migration state.  qtpm-system has no CPUs, so its RAM holds only what a qtest
// client or a device wrote there - but a pseries vTPM's command/response queue and buffers live
// in guest RAM (a response the guest has not read yet is there and nowhere else), and a save
// should give back the memory a test prepared.  QEMU migrates all of RAM; qtpm sends the pages
// that were ever touched and are not all zero, found without touching the others (mincore), so
// a large, mostly unused RAM costs nothing.
//
// Section "guest-ram", version 1:
//   size       u64    the RAM's size in bytes (must match the destination's: -m)
//   page-size  u32    4096
//   pages      bytes  (index u64, 4096 bytes of data) for each page with data, ascending index
// Loaded first, so that a device whose load writes into guest memory (tpm-spapr delivering a
// response that completed while the state was taken) writes on top of it.
#pragma once

#include <cstdint>

#include "qom/saved_state.h"
#include "qtest/server/guest_ram.h"

namespace qtpm::host {

inline constexpr const char *kGuestRamSection = "guest-ram";
// The most guest RAM a stream carries (the rest of the 64 MiB stream is for the TPM state).
inline constexpr uint64_t kGuestRamStateMax = 32ull * 1024 * 1024;

class GuestRamState : public Migratable {
 public:
  explicit GuestRamState(GuestRam &ram) : ram_(ram) {}

  const char *state_section() const override { return kGuestRamSection; }
  // Fails when more RAM is in use than a stream carries.
  Status prepare_save() override;
  StateWriter save_state() const override;
  Status load_state(const StateReader &state) override;

 private:
  GuestRam &ram_;
};

}  // namespace qtpm::host
