// SPDX-License-Identifier: GPL-2.0-or-later
//
// The TPM Command Response Buffer (CRB) register file of locality 0, declared once as data.
//
// Follows the TCG PC Client Platform TPM Profile (PTP) Specification for TPM 2.0, revision 1.05
// (section 6.5, "CRB Interface"), with the values QEMU 7.2's tpm-crb shows a guest: one locality,
// no interrupts, no idle bypass, a 64-byte data transfer size, vendor id 0x1014.  The device
// (tpm_crb.cc), its unit tests, the fuzzer, the qtests and the ACPI description all take offsets,
// reset values and fields from here; nothing else re-types them.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "hw/core/register_bank.h"

namespace qtpm::crb {

// Where QEMU puts the CRB (include/hw/acpi/tpm.h): the same base as TIS.
inline constexpr uint64_t kBaseAddress = 0xfed40000;
// The register file is 0x80 bytes; the command/response buffer follows it in QEMU's layout.
inline constexpr uint32_t kRegistersSize = 0x80;
// The "control area" the ACPI TPM2 table points at: CTRL_REQ, 0x40 bytes into the registers.
// Linux only uses the locality registers when control area == _CRS start + 0x40.
inline constexpr uint32_t kControlAreaOffset = 0x40;

// Register offsets (PTP table 30).
inline constexpr uint32_t A_LOC_STATE = 0x00;
inline constexpr uint32_t A_LOC_CTRL = 0x08;
inline constexpr uint32_t A_LOC_STS = 0x0c;
inline constexpr uint32_t A_INTF_ID = 0x30;
inline constexpr uint32_t A_INTF_ID2 = 0x34;  // upper half of the 64-bit INTF_ID: VID, DID
inline constexpr uint32_t A_CTRL_EXT = 0x38;
inline constexpr uint32_t A_CTRL_EXT_HI = 0x3c;
inline constexpr uint32_t A_CTRL_REQ = 0x40;
inline constexpr uint32_t A_CTRL_STS = 0x44;
inline constexpr uint32_t A_CTRL_CANCEL = 0x48;
inline constexpr uint32_t A_CTRL_START = 0x4c;
inline constexpr uint32_t A_INT_ENABLE = 0x50;
inline constexpr uint32_t A_INT_STS = 0x54;
inline constexpr uint32_t A_CTRL_CMD_SIZE = 0x58;
inline constexpr uint32_t A_CTRL_CMD_LADDR = 0x5c;
inline constexpr uint32_t A_CTRL_CMD_HADDR = 0x60;
inline constexpr uint32_t A_CTRL_RSP_SIZE = 0x64;
inline constexpr uint32_t A_CTRL_RSP_ADDR = 0x68;     // low half of the 64-bit response address
inline constexpr uint32_t A_CTRL_RSP_ADDR_HI = 0x6c;  // always 0: the buffer is below 4 GiB

// TPM_LOC_STATE_x
namespace loc_state {
inline constexpr Field kTpmEstablished{0, 1};  // reads 1 while no D-RTM sequence established
inline constexpr Field kLocAssigned{1, 1};
inline constexpr Field kActiveLocality{2, 3};  // always 0: locality 0 only
inline constexpr Field kTpmRegValidSts{7, 1};
}  // namespace loc_state

// TPM_LOC_CTRL_x: a write of exactly one of these values is a command.
namespace loc_ctrl {
inline constexpr uint32_t kRequestAccess = 1u << 0;
inline constexpr uint32_t kRelinquish = 1u << 1;
inline constexpr uint32_t kSeize = 1u << 2;                 // needs a higher locality: ignored
inline constexpr uint32_t kResetEstablishmentBit = 1u << 3;  // localities 3/4 only: ignored
}  // namespace loc_ctrl

// TPM_LOC_STS_x
namespace loc_sts {
inline constexpr Field kGranted{0, 1};
inline constexpr Field kBeenSeized{1, 1};  // never set: nobody can seize locality 0 here
}  // namespace loc_sts

// TPM_CRB_INTF_ID_x, lower 32 bits
namespace intf_id {
inline constexpr Field kInterfaceType{0, 4};
inline constexpr Field kInterfaceVersion{4, 4};
inline constexpr Field kCapLocality{8, 1};
inline constexpr Field kCapCrbIdleBypass{9, 1};
inline constexpr Field kCapDataXferSizeSupport{11, 2};
inline constexpr Field kCapFifo{13, 1};
inline constexpr Field kCapCrb{14, 1};
inline constexpr Field kInterfaceSelector{17, 2};
inline constexpr Field kIntfSelLock{19, 1};
inline constexpr Field kRid{24, 8};

inline constexpr uint32_t kTypeCrbActive = 1;
inline constexpr uint32_t kVersionCrb = 1;
inline constexpr uint32_t kXferSize64 = 3;
inline constexpr uint32_t kSelectorCrb = 1;

// The value a guest reads: CRB active and selected, CRB capable, not FIFO capable, locality 0
// only, no idle bypass, 64-byte transfers, RID 0 (QEMU: 0x00025811).
inline constexpr uint32_t kValue =
    kInterfaceSelector.deposit(
        kCapCrb.deposit(kCapDataXferSizeSupport.deposit(
                            kInterfaceVersion.deposit(kInterfaceType.deposit(0, kTypeCrbActive),
                                                      kVersionCrb),
                            kXferSize64),
                        1),
        kSelectorCrb);
static_assert(kValue == 0x00025811, "INTF_ID must read as QEMU's");
}  // namespace intf_id

// TPM_CRB_INTF_ID_x, upper 32 bits
namespace intf_id2 {
inline constexpr Field kVid{0, 16};
inline constexpr Field kDid{16, 16};
inline constexpr uint32_t kVendorIbm = 0x1014;  // the id QEMU reports (PCI_VENDOR_ID_IBM)
inline constexpr uint32_t kValue = kVid.deposit(0, kVendorIbm);
}  // namespace intf_id2

// TPM_CRB_CTRL_REQ_x: a write of exactly one of these values is a command.
namespace ctrl_req {
inline constexpr uint32_t kCmdReady = 1u << 0;
inline constexpr uint32_t kGoIdle = 1u << 1;
}  // namespace ctrl_req

// TPM_CRB_CTRL_STS_x
namespace ctrl_sts {
inline constexpr Field kTpmSts{0, 1};  // fatal error: latched until reset
inline constexpr Field kTpmIdle{1, 1};
}  // namespace ctrl_sts

// TPM_CRB_CTRL_CANCEL_x / TPM_CRB_CTRL_START_x
inline constexpr uint32_t kCancelInvoke = 1;
namespace ctrl_start {
inline constexpr Field kInvoke{0, 1};
}  // namespace ctrl_start

// The buffer registers' reset values describe QEMU's layout (buffer right after the registers);
// a device in another layout overrides them after a bank reset (see tpm_crb_layout.h).
inline constexpr uint32_t kQemuBufferSize = 0x1000 - kRegistersSize;  // 0xf80
inline constexpr uint32_t kQemuBufferAddress = uint32_t(kBaseAddress) + kRegistersSize;

// Indices into kRegisters, in table order.
enum Reg : size_t {
  R_LOC_STATE,
  R_LOC_CTRL,
  R_LOC_STS,
  R_INTF_ID,
  R_INTF_ID2,
  R_CTRL_EXT,
  R_CTRL_EXT_HI,
  R_CTRL_REQ,
  R_CTRL_STS,
  R_CTRL_CANCEL,
  R_CTRL_START,
  R_INT_ENABLE,
  R_INT_STS,
  R_CTRL_CMD_SIZE,
  R_CTRL_CMD_LADDR,
  R_CTRL_CMD_HADDR,
  R_CTRL_RSP_SIZE,
  R_CTRL_RSP_ADDR,
  R_CTRL_RSP_ADDR_HI,
  kRegisterCount,
};

// All registers are 32 bits wide.  None is writable through the bank's masks: every write either
// is a command decoded by the device (LOC_CTRL, CTRL_REQ, CTRL_CANCEL, CTRL_START) or is ignored,
// as on QEMU (firmware such as SeaBIOS and OVMF writes INTF_ID and the buffer registers and must
// see them unchanged).  LOC_CTRL, CTRL_REQ and CTRL_CANCEL read 0: they hold no state.
inline constexpr std::array<RegisterSpec, kRegisterCount> kRegisters = {{
    {"LOC_STATE", A_LOC_STATE, 4, loc_state::kTpmRegValidSts.mask()},
    {"LOC_CTRL", A_LOC_CTRL, 4, 0, 0, 0, RegisterSpec::kWriteOnly},
    {"LOC_STS", A_LOC_STS, 4, 0},
    {"INTF_ID", A_INTF_ID, 4, intf_id::kValue},
    {"INTF_ID2", A_INTF_ID2, 4, intf_id2::kValue},
    {"CTRL_EXT", A_CTRL_EXT, 4, 0},
    {"CTRL_EXT_HI", A_CTRL_EXT_HI, 4, 0},
    {"CTRL_REQ", A_CTRL_REQ, 4, 0, 0, 0, RegisterSpec::kWriteOnly},
    {"CTRL_STS", A_CTRL_STS, 4, ctrl_sts::kTpmIdle.mask()},
    {"CTRL_CANCEL", A_CTRL_CANCEL, 4, 0, 0, 0, RegisterSpec::kWriteOnly},
    {"CTRL_START", A_CTRL_START, 4, 0},
    {"INT_ENABLE", A_INT_ENABLE, 4, 0},
    {"INT_STS", A_INT_STS, 4, 0},
    {"CTRL_CMD_SIZE", A_CTRL_CMD_SIZE, 4, kQemuBufferSize},
    {"CTRL_CMD_LADDR", A_CTRL_CMD_LADDR, 4, kQemuBufferAddress},
    {"CTRL_CMD_HADDR", A_CTRL_CMD_HADDR, 4, 0},
    {"CTRL_RSP_SIZE", A_CTRL_RSP_SIZE, 4, kQemuBufferSize},
    {"CTRL_RSP_ADDR", A_CTRL_RSP_ADDR, 4, kQemuBufferAddress},
    {"CTRL_RSP_ADDR_HI", A_CTRL_RSP_ADDR_HI, 4, 0},
}};

// The enum and the table must agree, and the table must fit the register file.
constexpr bool registers_consistent() {
  constexpr uint32_t offsets[kRegisterCount] = {
      A_LOC_STATE,      A_LOC_CTRL,       A_LOC_STS,       A_INTF_ID,        A_INTF_ID2,
      A_CTRL_EXT,       A_CTRL_EXT_HI,    A_CTRL_REQ,      A_CTRL_STS,       A_CTRL_CANCEL,
      A_CTRL_START,     A_INT_ENABLE,     A_INT_STS,       A_CTRL_CMD_SIZE,  A_CTRL_CMD_LADDR,
      A_CTRL_CMD_HADDR, A_CTRL_RSP_SIZE,  A_CTRL_RSP_ADDR, A_CTRL_RSP_ADDR_HI,
  };
  for (size_t i = 0; i < kRegisterCount; i++) {
    if (kRegisters[i].offset != offsets[i]) return false;
    if (kRegisters[i].offset + kRegisters[i].width > kRegistersSize) return false;
    if (kRegisters[i].writable != 0 || kRegisters[i].w1c != 0) return false;
  }
  return true;
}
static_assert(registers_consistent(), "kRegisters out of step with the Reg enum");

}  // namespace qtpm::crb
