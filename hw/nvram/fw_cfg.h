// SPDX-License-Identifier: GPL-2.0-or-later
//
// QEMU's firmware configuration device, fw_cfg (QEMU docs/specs/fw_cfg.rst, as QEMU 7.2 behaves):
// the channel through which SeaBIOS and OVMF fetch the ACPI tables, the table loader, the TPM
// event-log area and "etc/tpm/config".
//
// Firmware writes a 16-bit selector key, then reads the item byte by byte from the data
// register (reads past its end give 0), or hands the device a DMA descriptor in guest RAM:
//   be32 control (bit 0 error, 1 read, 2 skip, 3 select with the key in bits 31:16, 4 write),
//   be32 length, be64 address
// and the device copies, then writes the control word back (0, or the error bit).
// Key 0 holds "QEMU", key 1 the feature bits (LE32: 1 = traditional interface, 2 = DMA), key 0x19
// the file directory (be32 count, then 64-byte entries: be32 size, be16 key, be16 reserved,
// name[56]), and files live from key 0x20 up, sorted by name.
//
// This class is the protocol; fw_cfg_io (x86 I/O ports) and fw_cfg_mem (Arm virt MMIO) map it.
// Items are read-only: qtpm serves no writable fw_cfg file, so a DMA write fails as QEMU fails
// one to a read-only item.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "hw/core/device.h"
#include "qom/saved_state.h"
#include "qom/status.h"

namespace qtpm {

inline constexpr const char *kTypeFwCfg = "fw_cfg";

struct FwCfgKey {
  static constexpr uint16_t kSignature = 0x00;
  static constexpr uint16_t kId = 0x01;
  static constexpr uint16_t kFileDir = 0x19;
  static constexpr uint16_t kFileFirst = 0x20;
  static constexpr uint16_t kWriteChannel = 0x4000;  // obsolete write flag, ignored
  static constexpr uint16_t kArchLocal = 0x8000;
  static constexpr uint16_t kEntryMask = 0x3fff;
  static constexpr uint16_t kInvalid = 0xffff;
};

struct FwCfgDmaControl {
  static constexpr uint32_t kError = 0x01;
  static constexpr uint32_t kRead = 0x02;
  static constexpr uint32_t kSkip = 0x04;
  static constexpr uint32_t kSelect = 0x08;
  static constexpr uint32_t kWrite = 0x10;
};

struct FwCfgLimits {
  static constexpr size_t kMaxFileName = 56;  // NUL included
  static constexpr uint32_t kDefaultFileSlots = 0x20;
  static constexpr uint32_t kMinFileSlots = 0x10;
  static constexpr uint32_t kMaxFileSlots = FwCfgKey::kEntryMask - FwCfgKey::kFileFirst + 1;
  static constexpr size_t kDirEntrySize = 64;
  static constexpr size_t kDmaDescriptorSize = 16;
};

// Feature bits in item 1.
inline constexpr uint32_t kFwCfgFeatureTraditional = 0x01;
inline constexpr uint32_t kFwCfgFeatureDma = 0x02;
// What reading the DMA address register returns: "QEMU CFG" in memory order.
inline constexpr char kFwCfgDmaSignature[9] = "QEMU CFG";

class FwCfg : public Device, public Migratable {
 public:
  // Adds a read-only file.  Fails for a name that is empty or 56 characters or longer, a name
  // already present, or more files than x-file-slots.  Keys are assigned in name order, so
  // adding a file renumbers those after it (as QEMU does): add everything before the guest runs.
  Status add_file(std::string_view name, std::vector<uint8_t> data);
  // Sets a numbered item below 0x20 (optionally arch-local: key | 0x8000), other than the
  // signature, the id and the directory.
  Status set_item(uint16_t key, std::vector<uint8_t> data);
  // The data of a file, or nullptr.
  const std::vector<uint8_t> *file(std::string_view name) const;
  // The key a file is served under (0 if absent).
  uint16_t file_key(std::string_view name) const;

  // The protocol, as the region handlers drive it.
  void select(uint16_t key);
  // Next `size` (1..8) bytes of the selected item, first byte first, 0 past the end.
  std::vector<uint8_t> read_data(unsigned size);
  // Writes to the DMA address register: the high half, then the low half (which starts the
  // transfer), or all 64 bits at once (which starts it too).
  void write_dma_address_high(uint32_t high);
  void write_dma_address_low(uint32_t low);
  void write_dma_address(uint64_t address);

  uint16_t current_key() const { return cur_key_; }
  uint32_t current_offset() const { return cur_offset_; }
  bool dma_enabled() const { return dma_enabled_; }

  // Migratable
  const char *state_section() const override { return "fw_cfg"; }
  StateWriter save_state() const override;
  Status load_state(const StateReader &state) override;

 protected:
  FwCfg();
  Status do_realize() override;
  void do_reset() override;
  // Subclasses declare their regions here (after the items exist).
  virtual void declare_regions() = 0;
  // The DMA address register, 8 bytes, big endian, the same in both mappings.
  MmioHandler *dma_register() { return &dma_register_; }
  // The byte-order conversion a big-endian register of `size` bytes needs on a little-endian
  // guest: what the CPU wrote, as the device reads it.
  static uint64_t from_guest_be(uint64_t value, unsigned size);

 private:
  class DmaRegister : public MmioHandler {
   public:
    explicit DmaRegister(FwCfg *dev) : dev_(dev) {}
    uint64_t mmio_read(uint64_t offset, unsigned size, bool peek, AccessOutcome *o) override;
    void mmio_write(uint64_t offset, uint64_t value, unsigned size, AccessOutcome *o) override;

   private:
    FwCfg *dev_;
  };

  // The item a key selects, or nullptr (unknown key, empty slot, invalid selection).
  const std::vector<uint8_t> *item(uint16_t key) const;
  size_t max_entry() const { return FwCfgKey::kFileFirst + file_slots_; }
  void rebuild_directory();
  struct DmaRequest {
    uint32_t control;
    uint32_t length;
    uint64_t address;
  };
  void dma_transfer();
  // Runs a descriptor's operation; false when it must report the error bit.
  bool dma_run(DmaRequest request);
  bool dma_zero_fill(uint64_t address, uint64_t length);

  bool dma_enabled_ = true;
  uint32_t file_slots_ = FwCfgLimits::kDefaultFileSlots;

  std::map<uint16_t, std::vector<uint8_t>> items_;      // numbered items (key with arch bit)
  std::map<std::string, std::vector<uint8_t>> files_;   // sorted by name: key order
  std::vector<uint8_t> directory_;
  uint16_t cur_key_ = FwCfgKey::kInvalid;
  uint32_t cur_offset_ = 0;
  uint64_t dma_address_ = 0;
  DmaRegister dma_register_{this};
};


}  // namespace qtpm
