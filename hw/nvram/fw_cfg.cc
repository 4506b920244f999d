// SPDX-License-Identifier: GPL-2.0-or-later
//
// fw_cfg protocol: items, selection, the data register and DMA (see fw_cfg.h).
#include "hw/nvram/fw_cfg.h"

#include <algorithm>
#include <cstring>

#include "hw/nvram/fw_cfg_io.h"
#include "hw/nvram/fw_cfg_mem.h"
#include "qom/module_init.h"
#include "qom/trace.h"

namespace qtpm {

namespace {

void put_be(std::vector<uint8_t> *out, size_t offset, uint64_t value, unsigned size) {
  for (unsigned i = 0; i < size; i++)
    (*out)[offset + i] = static_cast<uint8_t>(value >> (8 * (size - 1 - i)));
}

uint64_t get_be(const uint8_t *p, unsigned size) {
  uint64_t v = 0;
  for (unsigned i = 0; i < size; i++) v = v << 8 | p[i];
  return v;
}

}  // namespace

FwCfg::FwCfg() {
  add_bool_property("dma_enabled", &dma_enabled_, true,
                    "offer the DMA interface (feature bit 1, the DMA address register)");
  add_uint32_property("x-file-slots", &file_slots_, FwCfgLimits::kDefaultFileSlots,
                      "number of file slots (keys 0x20 and up)");
}

Status FwCfg::do_realize() {
  if (file_slots_ < FwCfgLimits::kMinFileSlots || file_slots_ > FwCfgLimits::kMaxFileSlots)
    return Status::errorf("fw_cfg: x-file-slots must be between 0x%x and 0x%x", 
                          FwCfgLimits::kMinFileSlots, FwCfgLimits::kMaxFileSlots);
  if (files_.size() > file_slots_)
    return Status::errorf("fw_cfg: %zu files do not fit x-file-slots=0x%x", files_.size(),
                          file_slots_);
  items_[FwCfgKey::kSignature] = {'Q', 'E', 'M', 'U'};
  uint32_t features = kFwCfgFeatureTraditional | (dma_enabled_ ? kFwCfgFeatureDma : 0);
  items_[FwCfgKey::kId] = {static_cast<uint8_t>(features), static_cast<uint8_t>(features >> 8),
                           static_cast<uint8_t>(features >> 16),
                           static_cast<uint8_t>(features >> 24)};
  rebuild_directory();
  clear_regions();
  declare_regions();
  return Status::ok();
}

void FwCfg::do_reset() {
  // As QEMU: the signature is selected after reset; a half-written DMA address is forgotten.
  select(FwCfgKey::kSignature);
  dma_address_ = 0;
}

// ---------------------------------------------------------------------------------------------
// Items

Status FwCfg::add_file(std::string_view name, std::vector<uint8_t> data) {
  if (name.empty() || name.size() >= FwCfgLimits::kMaxFileName)
    return Status::errorf("fw_cfg: file name '%.*s' must have 1 to %zu characters",
                          static_cast<int>(name.size()), name.data(),
                          FwCfgLimits::kMaxFileName - 1);
  if (name.find('\0') != std::string_view::npos)
    return Status::error("fw_cfg: file name contains NUL");
  if (data.size() > UINT32_MAX) return Status::error("fw_cfg: file larger than 4 GiB");
  std::string key(name);
  if (files_.count(key)) return Status::errorf("fw_cfg: duplicate file name '%s'", key.c_str());
  if (files_.size() >= file_slots_)
    return Status::errorf("fw_cfg: no free file slot for '%s' (x-file-slots=0x%x)", key.c_str(),
                          file_slots_);
  files_.emplace(std::move(key), std::move(data));
  if (realized()) rebuild_directory();
  return Status::ok();
}

Status FwCfg::set_item(uint16_t key, std::vector<uint8_t> data) {
  uint16_t index = key & FwCfgKey::kEntryMask;
  if ((key & FwCfgKey::kWriteChannel) || index >= FwCfgKey::kFileFirst ||
      (!(key & FwCfgKey::kArchLocal) &&
       (index == FwCfgKey::kSignature || index == FwCfgKey::kId || index == FwCfgKey::kFileDir)))
    return Status::errorf("fw_cfg: key 0x%x is not a settable numbered item", key);
  if (data.size() > UINT32_MAX) return Status::error("fw_cfg: item larger than 4 GiB");
  items_[key] = std::move(data);
  return Status::ok();
}

const std::vector<uint8_t> *FwCfg::file(std::string_view name) const {
  auto it = files_.find(std::string(name));
  return it == files_.end() ? nullptr : &it->second;
}

uint16_t FwCfg::file_key(std::string_view name) const {
  auto it = files_.find(std::string(name));
  if (it == files_.end()) return 0;
  return static_cast<uint16_t>(FwCfgKey::kFileFirst + std::distance(files_.begin(), it));
}

void FwCfg::rebuild_directory() {
  // QEMU sizes the directory item for every slot, used or not.
  directory_.assign(4 + FwCfgLimits::kDirEntrySize * file_slots_, 0);
  put_be(&directory_, 0, files_.size(), 4);
  size_t i = 0;
  for (const auto &[name, data] : files_) {
    size_t e = 4 + FwCfgLimits::kDirEntrySize * i;
    put_be(&directory_, e, data.size(), 4);
    put_be(&directory_, e + 4, FwCfgKey::kFileFirst + i, 2);
    // name.size() < 56 (add_file checked), so the NUL terminator fits.
    std::memcpy(directory_.data() + e + 8, name.data(), name.size());
    i++;
  }
}

const std::vector<uint8_t> *FwCfg::item(uint16_t key) const {
  if (key == FwCfgKey::kInvalid) return nullptr;
  uint16_t index = key & FwCfgKey::kEntryMask;
  bool arch = key & FwCfgKey::kArchLocal;
  if (!arch && index == FwCfgKey::kFileDir) return &directory_;
  if (!arch && index >= FwCfgKey::kFileFirst) {
    size_t n = index - FwCfgKey::kFileFirst;
    if (n >= files_.size()) return nullptr;
    auto it = files_.begin();
    std::advance(it, n);
    return &it->second;
  }
  auto it = items_.find(static_cast<uint16_t>(index | (arch ? FwCfgKey::kArchLocal : 0)));
  return it == items_.end() ? nullptr : &it->second;
}

// ---------------------------------------------------------------------------------------------
// Selection and the data register

void FwCfg::select(uint16_t key) {
  cur_offset_ = 0;
  // A key beyond the last slot selects nothing; an empty slot within range is "selected" but
  // reads as zeros (as QEMU).
  cur_key_ = (key & FwCfgKey::kEntryMask) >= max_entry() ? FwCfgKey::kInvalid : key;
  QTPM_TRACE("fw_cfg_select", "key 0x%x -> %s", key,
             cur_key_ == FwCfgKey::kInvalid ? "invalid" : (item(cur_key_) ? "item" : "empty"));
}

std::vector<uint8_t> FwCfg::read_data(unsigned size) {
  std::vector<uint8_t> out(size, 0);
  const std::vector<uint8_t> *data = item(cur_key_);
  for (unsigned i = 0; i < size; i++) {
    if (!data || cur_offset_ >= data->size()) break;
    out[i] = (*data)[cur_offset_++];
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// DMA

void FwCfg::write_dma_address_high(uint32_t high) {
  dma_address_ = static_cast<uint64_t>(high) << 32;
}

void FwCfg::write_dma_address_low(uint32_t low) {
  dma_address_ |= low;
  dma_transfer();
}

void FwCfg::write_dma_address(uint64_t address) {
  dma_address_ = address;
  dma_transfer();
}

bool FwCfg::dma_zero_fill(uint64_t address, uint64_t length) {
  static const uint8_t kZeros[4096] = {};
  while (length > 0) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(length, sizeof kZeros));
    if (!host() || !host()->dma_write(address, kZeros, n)) return false;
    address += n;
    length -= n;
  }
  return true;
}

void FwCfg::dma_transfer() {
  uint64_t descriptor = dma_address_;
  dma_address_ = 0;  // the next transfer needs a new address
  HostServices *h = host();
  uint8_t d[FwCfgLimits::kDmaDescriptorSize];
  bool error;
  if (!h || !h->dma_read(descriptor, d, sizeof d)) {
    log_guest(LogCategory::kGuestError, "fw_cfg: DMA descriptor at 0x%llx is not in RAM",
              static_cast<unsigned long long>(descriptor));
    error = true;
  } else {
    DmaRequest r{static_cast<uint32_t>(get_be(d, 4)), static_cast<uint32_t>(get_be(d + 4, 4)),
                 get_be(d + 8, 8)};
    QTPM_TRACE("fw_cfg_dma", "control 0x%x length %u address 0x%llx", r.control, r.length,
               static_cast<unsigned long long>(r.address));
    error = !dma_run(r);
  }
  // The control word goes back: 0, or the error bit.  Writing it may fail too (a descriptor
  // outside RAM): there is nothing else to tell the guest then.
  uint8_t result[4] = {0, 0, 0, static_cast<uint8_t>(error ? FwCfgDmaControl::kError : 0)};
  if (h) h->dma_write(descriptor, result, sizeof result);
}

bool FwCfg::dma_run(DmaRequest r) {
  if (r.control & FwCfgDmaControl::kSelect) select(static_cast<uint16_t>(r.control >> 16));
  // One operation, in QEMU's priority: read, else write, else skip; none of them: nothing.
  bool read = r.control & FwCfgDmaControl::kRead;
  bool write = !read && (r.control & FwCfgDmaControl::kWrite);
  bool skip = !read && !write && (r.control & FwCfgDmaControl::kSkip);
  if (!read && !write && !skip) return true;
  if (write && r.length > 0) {
    log_guest(LogCategory::kGuestError, "fw_cfg: DMA write to read-only key 0x%x", cur_key_);
    return false;  // every item is read-only
  }
  const std::vector<uint8_t> *data = item(cur_key_);
  while (r.length > 0) {
    uint32_t avail = data && cur_offset_ < data->size()
                         ? static_cast<uint32_t>(data->size() - cur_offset_) : 0;
    uint32_t n = avail ? std::min(r.length, avail) : r.length;
    bool ok = true;
    if (read && avail)
      ok = host()->dma_write(r.address, data->data() + cur_offset_, n);  // n <= avail
    else if (read)
      ok = dma_zero_fill(r.address, n);  // past the end (or no item): zeros
    if (avail) cur_offset_ += n;  // the offset advances even on failure, as in QEMU
    if (!ok) {
      log_guest(LogCategory::kGuestError, "fw_cfg: DMA to 0x%llx+%u is not in RAM",
                static_cast<unsigned long long>(r.address), n);
      return false;
    }
    r.address += n;
    r.length -= n;
  }
  return true;
}

uint64_t FwCfg::from_guest_be(uint64_t value, unsigned size) {
  uint64_t out = 0;
  for (unsigned i = 0; i < size; i++) out = out << 8 | ((value >> (8 * i)) & 0xff);
  return out;
}

uint64_t FwCfg::DmaRegister::mmio_read(uint64_t offset, unsigned size, bool peek,
                                       AccessOutcome *o) {
  // The signature, in memory order; offset + size <= 8 (the region's size).
  uint64_t v = 0;
  for (unsigned i = 0; i < size; i++)
    v |= static_cast<uint64_t>(static_cast<uint8_t>(kFwCfgDmaSignature[offset + i])) << (8 * i);
  return v;
}

void FwCfg::DmaRegister::mmio_write(uint64_t offset, uint64_t value, unsigned size,
                                    AccessOutcome *o) {
  uint64_t v = from_guest_be(value, size);
  if (size == 4 && offset == 0) {
    dev_->write_dma_address_high(static_cast<uint32_t>(v));
  } else if (size == 4 && offset == 4) {
    dev_->write_dma_address_low(static_cast<uint32_t>(v));
  } else if (size == 8 && offset == 0) {
    dev_->write_dma_address(v);
  } else {
    // QEMU refuses other writes (its .valid.accepts); nothing happens.
    if (o) *o = AccessOutcome::kBadSize;
    log_guest(LogCategory::kGuestError, "fw_cfg: %u-byte DMA register write at +%llu ignored",
              size, static_cast<unsigned long long>(offset));
  }
}

// ---------------------------------------------------------------------------------------------
// Saved state

StateWriter FwCfg::save_state() const {
  StateWriter w(state_section(), 1);
  w.put_u16("cur_key", cur_key_);
  w.put_u32("cur_offset", cur_offset_);
  w.put_u64("dma_address", dma_address_);
  return w;
}

Status FwCfg::load_state(const StateReader &state) {
  if (Status s = state.expect(state_section(), 1, 1); !s) return s;
  uint16_t key;
  uint32_t offset;
  uint64_t dma;
  if (Status s = state.get_u16("cur_key", &key); !s) return s;
  if (Status s = state.get_u32("cur_offset", &offset); !s) return s;
  if (Status s = state.get_u64("dma_address", &dma); !s) return s;
  if (key != FwCfgKey::kInvalid && (key & FwCfgKey::kEntryMask) >= max_entry())
    return Status::errorf("state of 'fw_cfg': selected key 0x%x beyond the last slot", key);
  cur_key_ = key;
  cur_offset_ = offset;  // any offset is safe: reads past an item's end give zeros
  dma_address_ = dma;
  return Status::ok();
}

// ---------------------------------------------------------------------------------------------
// Types (the hook module_init.h declares).

// None is user-creatable: the machine creates the one its firmware expects.
void register_fw_cfg_types() {
  TypeInfo base;
  base.name = kTypeFwCfg;
  base.parent = kTypeDevice;
  base.abstract = true;
  base.user_creatable = false;
  base.description = "firmware configuration interface";
  type_register(base);

  TypeInfo io = make_type<FwCfgIo>(kTypeFwCfgIo, kTypeFwCfg,
                                   "fw_cfg on I/O ports 0x510/0x514 (x86 pc, q35)");
  io.user_creatable = false;
  type_register(io);

  TypeInfo mem = make_type<FwCfgMem>(kTypeFwCfgMem, kTypeFwCfg,
                                     "fw_cfg on MMIO (Arm virt: 0x09020000)");
  mem.user_creatable = false;
  type_register(mem);
}

}  // namespace qtpm
