// SPDX-License-Identifier: GPL-2.0-or-later
//
// Where a tpm-crb device puts its command/response buffer: the two layouts of the
// `buffer-layout` property (docs/crb.md).
//
//  "qemu" (default): QEMU 7.2's layout.  The 0x80-byte register file at 0xfed40000 is followed
//      by the 0xf80-byte buffer at 0xfed40080; _CRS is one 4 KiB page.  SeaBIOS and QEMU's
//      bios-tables-test expect exactly this.  The buffer shares a page with the registers, so a
//      hypervisor cannot map it as a memory slot and every guest byte access traps
//      (peers-and-consumers.md 6.2).
//  "page-aligned": the buffer the address registers name is a page of its own at 0xfed41000, so
//      a VMM can map it as plain memory; CTRL_CMD and CTRL_RSP name the same address with the
//      same size, as Linux tpm_crb requires of overlapping buffers.  Because EDK2/OVMF ignores
//      the address registers and always uses base + 0x80, the first 0xf80 bytes of the same
//      memory are also mapped at 0xfed40080.  The advertised size stays 0xf80 so that both views
//      cover the whole buffer and the TPM negotiates the same buffer size in both layouts; the
//      last 0x80 bytes of the page are padding the device never reads.  _CRS is one 8 KiB range
//      covering the registers and the buffer page.
#pragma once

#include <cstdint>
#include <string_view>

#include "hw/tpm/crb/tpm_crb_regs.h"

namespace qtpm::crb {

enum class BufferLayout : uint8_t { kQemu = 0, kPageAligned = 1 };

struct LayoutInfo {
  BufferLayout id;
  const char *name;        // value of the `buffer-layout` property
  uint32_t buffer_offset;  // from kBaseAddress: what CTRL_CMD_LADDR / CTRL_RSP_ADDR name
  uint32_t buffer_size;    // CTRL_CMD_SIZE == CTRL_RSP_SIZE
  uint32_t memory_size;    // device-owned memory behind the buffer (a whole page when aligned)
  uint32_t crs_length;     // _CRS: Memory32Fixed(kBaseAddress, crs_length)
};

inline constexpr LayoutInfo kQemuLayout{BufferLayout::kQemu, "qemu", kRegistersSize,
                                        kQemuBufferSize, kQemuBufferSize, 0x1000};
inline constexpr LayoutInfo kPageAlignedLayout{BufferLayout::kPageAligned, "page-aligned",
                                               0x1000, kQemuBufferSize, 0x1000, 0x2000};

// OVMF's view (base + 0x80, 0xf80 bytes) must lie inside the memory of both layouts, and the
// advertised buffer must lie inside the memory and inside _CRS.
static_assert(kQemuBufferSize <= kPageAlignedLayout.memory_size);
static_assert(kPageAlignedLayout.buffer_offset % 0x1000 == 0);
static_assert(kPageAlignedLayout.buffer_offset + kPageAlignedLayout.memory_size <=
              kPageAlignedLayout.crs_length);
static_assert(kQemuLayout.buffer_offset + kQemuLayout.buffer_size <= kQemuLayout.crs_length);
// SeaBIOS needs every buffer address below 4 GiB (CTRL_CMD_HADDR == 0).
static_assert(kBaseAddress + kPageAlignedLayout.crs_length <= 0x100000000ull);

inline const LayoutInfo &layout_info(BufferLayout layout) {
  return layout == BufferLayout::kPageAligned ? kPageAlignedLayout : kQemuLayout;
}

// The layout named `name`, or nullptr.
inline const LayoutInfo *find_layout(std::string_view name) {
  if (name == kQemuLayout.name) return &kQemuLayout;
  if (name == kPageAlignedLayout.name) return &kPageAlignedLayout;
  return nullptr;
}

}  // namespace qtpm::crb
