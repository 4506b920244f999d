// SPDX-License-Identifier: GPL-2.0-or-later
//
// PAPR facts shared by VIO devices, the pseries VIO bus of qtpm-system and the tests: hypervisor
// call numbers and return codes (Power Architecture Platform Requirements, PAPR+ 2.x, "Virtual
// I/O" and "Translation Control Entry" hcalls), the unit-address and interrupt numbering QEMU
// 7.2's pseries machine uses (hw/ppc/spapr_vio.c, include/hw/ppc/spapr_irq.h), and the TCE
// format (hw/ppc/spapr_iommu.c).  Declared once; device, bus and tests use these names.
#pragma once

#include <cstdint>

namespace qtpm::spapr {

// ---------------------------------------------------------------------------------------------
// Hypervisor calls

// Return codes live in R3; hcalls return them as signed 64-bit values.
enum HcallStatus : int64_t {
  kHSuccess = 0,
  kHBusy = 1,
  kHClosed = 2,
  kHHardware = -1,
  kHFunction = -2,  // no such hcall
  kHParameter = -4,
  kHNotFound = -7,
  kHDestParm = -14,  // QEMU's answer when DMA through a VIO device's window fails
  kHResource = -16,
};

// Call numbers (the value in R3 on entry).
enum HcallOpcode : uint64_t {
  kHGetTce = 0x1c,       // liobn, ioba -> R4 = the TCE
  kHPutTce = 0x20,       // liobn, ioba, tce
  kHRegCrq = 0xfc,       // unit, queue address, queue length
  kHFreeCrq = 0x100,     // unit
  kHVioSignal = 0x104,   // unit, mode
  kHSendCrq = 0x108,     // unit, message word 0, message word 1
  kHEnableCrq = 0x2b0,   // unit
};

// At most this many argument registers (R4..R12).
inline constexpr unsigned kHcallMaxArgs = 9;

const char *hcall_name(uint64_t opcode);  // "H_SEND_CRQ"; nullptr for others

// ---------------------------------------------------------------------------------------------
// VIO bus numbering (QEMU 7.2)

// Unit addresses ("reg") the bus hands out, one after the other, when a device has none.
inline constexpr uint32_t kVioRegBase = 0x71000000;
// A VIO device's reg property when the bus is to choose it.
inline constexpr uint32_t kVioRegAuto = 0xffffffff;
// Interrupt source numbers: XICS/XIVE numbering starts at 0x1000; VIO devices have 0x1100..0x11ff.
inline constexpr uint32_t kXirqBase = 0x1000;
inline constexpr uint32_t kIrqVio = kXirqBase + 0x100;
inline constexpr uint32_t kNrXirqs = 0x1000;

// QEMU's spapr_vio_reg_to_irq(): a unique-ish interrupt for a unit address.  Units QEMU hands out
// keep their low byte; libvirt's tty units (0x30000000 + n * 0x1000) map to 0xf0..0xff; other
// libvirt units (n * 0x1000) to their page number.  Collisions are caught when the bus claims it.
constexpr uint32_t vio_reg_to_irq(uint32_t reg) {
  uint32_t n;
  if (reg >= kVioRegBase) {
    n = reg & 0xff;
  } else if (reg >= 0x30000000) {
    n = 0xf0 | ((reg >> 12) & 0xf);
  } else {
    n = (reg >> 12) & 0xff;
  }
  return kIrqVio | n;
}

// The logical I/O bus number of a VIO device's DMA window is its unit address
// (QEMU: SPAPR_VIO_LIOBN(reg)).
constexpr uint32_t vio_liobn(uint32_t reg) { return reg; }

// ---------------------------------------------------------------------------------------------
// Translation control entries

inline constexpr unsigned kTcePageShift = 12;  // 4 KiB I/O pages
inline constexpr uint64_t kTcePageSize = uint64_t{1} << kTcePageShift;
inline constexpr uint64_t kTcePageMask = ~(kTcePageSize - 1);
// Permission bits of a TCE, as the device sees them: it may read guest memory (DMA to the device)
// and/or write it (DMA from the device).  0 is a fault.
inline constexpr uint64_t kTceRead = 0x1;
inline constexpr uint64_t kTceWrite = 0x2;

}  // namespace qtpm::spapr
