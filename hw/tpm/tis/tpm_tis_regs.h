// SPDX-License-Identifier: GPL-2.0-or-later
//
// The TPM FIFO interface register file, declared once as data: offsets, widths, reset values,
// write masks and bit fields of one locality window, the identities a TPM 1.2 and a TPM 2.0 show,
// and the placement facts (ISA address, region size, device-tree node) that machines and the ACPI
// builder need.  Shared by the device (tpm_tis_core.cc), its unit tests, fuzzer and qtests.
//
// Follows the TCG PC Client TPM Interface Specification (TIS) 1.3 and the TCG PC Client Platform
// TPM Profile (PTP) for TPM 2.0 (FIFO interface), with the values QEMU 7.2 shows guests
// (include/hw/acpi/tpm.h), because firmware and guests have been tested against those.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "backends/tpm/tpm_backend.h"
#include "hw/core/register_bank.h"
#include "qom/status.h"

namespace qtpm::tis {

// ---------------------------------------------------------------------------------------------
// Geometry

inline constexpr unsigned kLocalities = 5;
inline constexpr unsigned kLocalityShift = 12;  // locality L lives at base + L * 0x1000
inline constexpr uint32_t kLocalityWindow = 1u << kLocalityShift;
inline constexpr uint64_t kRegionSize = kLocalities * kLocalityWindow;  // 0x5000
inline constexpr uint64_t kIsaBase = 0xfed40000;  // PC: fixed; sysbus: placed by the machine
inline constexpr uint32_t kDefaultIrq = 5;        // ISA IRQ and INT_VECTOR default
inline constexpr uint32_t kMaxIsaIrq = 15;
inline constexpr uint32_t kBufferMax = 4096;      // command/response buffer, as QEMU
inline constexpr uint8_t kNoLocality = 0xff;
inline constexpr uint8_t kNoDataByte = 0xff;      // FIFO reads with nothing to give
inline constexpr uint8_t kUnmappedByte = 0xff;    // bytes no register covers

// Locality 4 belongs to the platform hardware (the CPU's secure-launch microcode): software
// writes there are refused, reads are allowed.
inline constexpr uint8_t kHardwareLocality = 4;

// ---------------------------------------------------------------------------------------------
// Register offsets inside a locality window.  QEMU decodes the window in 32-bit slots (offset &
// 0xffc), so ACCESS, INT_VECTOR and RID occupy a whole dword whose upper bytes read 0; the table
// declares them that way to read the same.

namespace reg {
inline constexpr uint32_t kAccess = 0x000;
inline constexpr uint32_t kIntEnable = 0x008;
inline constexpr uint32_t kIntVector = 0x00c;
inline constexpr uint32_t kIntStatus = 0x010;
inline constexpr uint32_t kIntfCapability = 0x014;
inline constexpr uint32_t kSts = 0x018;
inline constexpr uint32_t kDataFifo = 0x024;
inline constexpr uint32_t kInterfaceId = 0x030;
inline constexpr uint32_t kXDataFifo = 0x080;  // 0x80..0xbf: 16 dwords, all the same FIFO
inline constexpr uint32_t kXDataFifoSlots = 16;
inline constexpr uint32_t kDidVid = 0xf00;
inline constexpr uint32_t kRid = 0xf04;
inline constexpr uint32_t kDebug = 0xf90;  // QEMU's vendor debug register (see docs/tis.md)
}  // namespace reg

// Index of each register in kRegisters (the XDATA_FIFO slots follow kXDataFifo0 in order).
enum TisRegister : uint8_t {
  kRegAccess,
  kRegIntEnable,
  kRegIntVector,
  kRegIntStatus,
  kRegIntfCapability,
  kRegSts,
  kRegDataFifo,
  kRegInterfaceId,
  kRegDidVid,
  kRegRid,
  kRegDebug,
  kRegXDataFifo0,
  kRegCount = kRegXDataFifo0 + reg::kXDataFifoSlots,
};

// ---------------------------------------------------------------------------------------------
// Bit fields

namespace access {
inline constexpr uint8_t kTpmEstablishment = 0x01;  // read: 1 = NOT established (computed)
inline constexpr uint8_t kRequestUse = 0x02;
inline constexpr uint8_t kPendingRequest = 0x04;    // read: another locality requests (computed)
inline constexpr uint8_t kSeize = 0x08;             // write-only
inline constexpr uint8_t kBeenSeized = 0x10;        // write 1 to clear
inline constexpr uint8_t kActiveLocality = 0x20;    // write 1 to relinquish
inline constexpr uint8_t kRegValidSts = 0x80;
// Bits the device keeps per locality (the others are computed on read).
inline constexpr uint8_t kStoredMask =
    kRequestUse | kSeize | kBeenSeized | kActiveLocality | kRegValidSts;
}  // namespace access

namespace sts {
inline constexpr uint32_t kResponseRetry = 1u << 1;
inline constexpr uint32_t kSelfTestDone = 1u << 2;
inline constexpr uint32_t kExpect = 1u << 3;
inline constexpr uint32_t kDataAvail = 1u << 4;
inline constexpr uint32_t kGo = 1u << 5;
inline constexpr uint32_t kCommandReady = 1u << 6;
inline constexpr uint32_t kValid = 1u << 7;
inline constexpr Field kBurstCount{8, 16};
inline constexpr uint32_t kCommandCancel = 1u << 24;      // TPM 2.0, write
inline constexpr uint32_t kResetEstablishment = 1u << 25;  // TPM 2.0, write
inline constexpr Field kFamily{26, 2};
inline constexpr uint32_t kFamily12 = 0;
inline constexpr uint32_t kFamily20 = 1;
// Bits Linux requires to read as zero (TPM_STS_READ_ZERO): it treats an STS with any of them as
// a failed read.
inline constexpr uint32_t kReadZero = kGo | kResponseRetry | 0x01;
// Bits sts_set() preserves: sticky until reset.
inline constexpr uint32_t kSticky = kSelfTestDone | (kFamily.mask());
// Bits the device can hold in a locality's STS (the rest are write-only or computed).
inline constexpr uint32_t kStoredMask =
    kSticky | kValid | kCommandReady | kDataAvail | kExpect;
}  // namespace sts

namespace intr {  // INT_ENABLE, INT_STATUS, INTF_CAPABILITY low bits
inline constexpr uint32_t kDataAvail = 1u << 0;
inline constexpr uint32_t kStsValid = 1u << 1;
inline constexpr uint32_t kLocalityChange = 1u << 2;
inline constexpr uint32_t kCommandReady = 1u << 7;
inline constexpr uint32_t kSupported = kDataAvail | kStsValid | kLocalityChange | kCommandReady;
inline constexpr Field kPolarity{3, 2};  // 0 high level, 1 low level, 2 rising, 3 falling edge
inline constexpr uint32_t kPolarityLowLevel = 1;
inline constexpr uint32_t kGlobalEnable = 1u << 31;
inline constexpr uint32_t kEnableWritable = kGlobalEnable | kPolarity.mask() | kSupported;
}  // namespace intr

namespace intf_cap {
inline constexpr uint32_t kInterruptLowLevel = 1u << 4;
inline constexpr Field kBurstCountStatic{8, 1};  // 0: dynamic
inline constexpr Field kDataTransferSize{9, 2};  // 3: up to 64 bytes
inline constexpr Field kInterfaceVersion{28, 3};
inline constexpr uint32_t kVersionTis13 = 2;
inline constexpr uint32_t kVersionTis13ForTpm2 = 3;
inline constexpr uint32_t make(uint32_t version) {
  return kInterfaceVersion.deposit(kDataTransferSize.deposit(0, 3), version) |
         kInterruptLowLevel | intr::kSupported;
}
}  // namespace intf_cap

namespace iface_id {
inline constexpr Field kInterfaceType{0, 4};  // 0: PTP FIFO, 1: CRB, 0xf: TIS 1.3
inline constexpr Field kInterfaceVersion{4, 4};
inline constexpr uint32_t kCapLocality = 1u << 8;  // all five localities
inline constexpr uint32_t kCapFifo = 1u << 13;     // QEMU calls it CapTIS
inline constexpr uint32_t kCapCrb = 1u << 14;
inline constexpr Field kInterfaceSelector{17, 2};
inline constexpr uint32_t kIntfSelLock = 1u << 19;
}  // namespace iface_id

// ---------------------------------------------------------------------------------------------
// Identity by TPM family

struct TisIdentity {
  uint32_t intf_capability;
  uint32_t interface_id;
  uint32_t sts_family;  // STS bits 26-27, in place
};

inline constexpr TisIdentity kIdentity12 = {
    intf_cap::make(intf_cap::kVersionTis13),
    0xffffffff,  // TIS 1.3 TPMs have no INTERFACE_ID: all ones, InterfaceType 0xf
    sts::kFamily.deposit(0, sts::kFamily12),
};
inline constexpr TisIdentity kIdentity20 = {
    intf_cap::make(intf_cap::kVersionTis13ForTpm2),
    iface_id::kCapLocality | iface_id::kCapFifo,  // PTP FIFO, version 0
    sts::kFamily.deposit(0, sts::kFamily20),
};
// No version known (QEMU shows INTF_CAPABILITY 0): the 1.2 register layout with no capabilities.
inline constexpr TisIdentity kIdentityUnspec = {0, 0xffffffff, 0};

constexpr const TisIdentity &tis_identity(TpmVersion v) {
  return v == TpmVersion::k2_0 ? kIdentity20 : v == TpmVersion::k1_2 ? kIdentity12
                                                                     : kIdentityUnspec;
}

static_assert(kIdentity12.intf_capability == 0x20000697);
static_assert(kIdentity20.intf_capability == 0x30000697);
static_assert(kIdentity20.interface_id == 0x00002100);
static_assert(kIdentity20.sts_family == 0x04000000);

inline constexpr uint16_t kVendorId = 0x1014;  // IBM, as QEMU
inline constexpr uint16_t kDeviceId = 0x0001;
inline constexpr uint8_t kRevisionId = 0x01;

// ---------------------------------------------------------------------------------------------
// The table (one locality window; the device instantiates it five times)

namespace detail {
constexpr std::array<RegisterSpec, kRegCount> make_registers() {
  std::array<RegisterSpec, kRegCount> r{};
  // Computed registers have no writable bits: their hooks decide what a write does.
  r[kRegAccess] = {"ACCESS", reg::kAccess, 4, access::kRegValidSts};
  r[kRegIntEnable] = {"INT_ENABLE", reg::kIntEnable, 4,
                      intr::kPolarity.deposit(0, intr::kPolarityLowLevel), intr::kEnableWritable};
  r[kRegIntVector] = {"INT_VECTOR", reg::kIntVector, 4, kDefaultIrq};
  r[kRegIntStatus] = {"INT_STATUS", reg::kIntStatus, 4, 0, 0, intr::kSupported};
  r[kRegIntfCapability] = {"INTF_CAPABILITY", reg::kIntfCapability, 4, 0};
  r[kRegSts] = {"STS", reg::kSts, 4, 0};
  r[kRegDataFifo] = {"DATA_FIFO", reg::kDataFifo, 4, 0, 0, 0, RegisterSpec::kStream};
  r[kRegInterfaceId] = {"INTERFACE_ID", reg::kInterfaceId, 4, 0xffffffff};
  r[kRegDidVid] = {"DID_VID", reg::kDidVid, 4, uint32_t{kDeviceId} << 16 | kVendorId};
  r[kRegRid] = {"RID", reg::kRid, 4, kRevisionId};
  r[kRegDebug] = {"DEBUG", reg::kDebug, 4, 0xffffffff};
  for (uint32_t i = 0; i < reg::kXDataFifoSlots; i++) {
    r[kRegXDataFifo0 + i] = {"XDATA_FIFO", reg::kXDataFifo + 4 * i, 4, 0, 0, 0,
                             RegisterSpec::kStream};
  }
  return r;
}
}  // namespace detail

inline constexpr std::array<RegisterSpec, kRegCount> kRegisters = detail::make_registers();

static_assert(kRegisters[kRegDidVid].reset == 0x00011014);
static_assert(kRegisters[kRegIntEnable].reset == 0x08);
static_assert(kRegisters[kRegIntEnable].writable == 0x8000009f);

// ---------------------------------------------------------------------------------------------
// Device-tree facts for machines that embed tpm-tis-device (Arm/RISC-V virt): what QEMU's
// platform-bus code writes (hw/core/sysbus-fdt.c).  No interrupts property: guests poll.

struct TisFdtNode {
  static constexpr const char *kCompatible = "tcg,tpm-tis-mmio";
  static constexpr const char *kNodePrefix = "tpm_tis";
  uint64_t base;
  uint64_t size;
  // "tpm_tis@c000000"
  std::string node_name() const {
    return strprintf("%s@%llx", kNodePrefix, static_cast<unsigned long long>(base));
  }
};

inline TisFdtNode tis_fdt_node(uint64_t base) { return {base, kRegionSize}; }

}  // namespace qtpm::tis
