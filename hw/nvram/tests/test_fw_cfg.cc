// SPDX-License-Identifier: GPL-2.0-or-later
//
// Unit tests for fw_cfg: the signature and feature bits, the file directory, byte-wise reads
// through the selector and data registers of both mappings, DMA (read, skip, select, write,
// bad descriptor and buffer addresses, lengths past the item), unknown keys, reset and saved
// state, and the ACPI file set served and linked as firmware would.
#include <cstring>

#include "acpi/firmware_files.h"
#include "acpi/table_linker.h"
#include "acpi/tests/tpm_variants.h"
#include "hw/nvram/fw_cfg_io.h"
#include "hw/nvram/fw_cfg_mem.h"
#include "qom/testing.h"
#include "qom/trace.h"

using namespace qtpm;

namespace {

// Guest RAM for DMA: [kRamBase, kRamBase + size).
constexpr uint64_t kRamBase = 0x100000;

class RamHost : public testing::TestHost {
 public:
  explicit RamHost(size_t size = 0x10000) : ram(size, 0xee) {}
  bool dma_read(uint64_t addr, void *buf, size_t len) override {
    if (!in_ram(addr, len)) return false;
    std::memcpy(buf, ram.data() + (addr - kRamBase), len);
    return true;
  }
  bool dma_write(uint64_t addr, const void *buf, size_t len) override {
    if (!in_ram(addr, len)) return false;
    std::memcpy(ram.data() + (addr - kRamBase), buf, len);
    writes++;
    return true;
  }
  bool in_ram(uint64_t addr, size_t len) const {
    return addr >= kRamBase && len <= ram.size() && addr - kRamBase <= ram.size() - len;
  }
  uint8_t *at(uint64_t addr) { return ram.data() + (addr - kRamBase); }
  std::vector<uint8_t> ram;
  int writes = 0;
};

template <typename T>
std::unique_ptr<T> make(const char *type, RamHost *host,
                        std::initializer_list<std::pair<const char *, const char *>> props = {}) {
  register_builtin_types();
  std::unique_ptr<Object> o = object_new(type);
  ck_assert_ptr_nonnull(o.get());
  auto *dev = object_cast<T>(o.get());
  ck_assert_ptr_nonnull(dev);
  dev->set_host(host);
  for (auto &[k, v] : props) ck_assert(dev->set_property(k, v).is_ok());
  o.release();
  return std::unique_ptr<T>(dev);
}

std::unique_ptr<FwCfgIo> make_io(RamHost *host,
                                 std::initializer_list<std::pair<const char *, const char *>> p = {}) {
  auto dev = make<FwCfgIo>(kTypeFwCfgIo, host, p);
  return dev;
}

void realize(FwCfg *dev) {
  Status s = dev->realize();
  ck_assert_msg(s.is_ok(), "%s", s.message().c_str());
  dev->reset();
}

// x86 port helpers: region 0 is 0x510..0x511, region 1 the DMA register at 0x514.
void outw_select(FwCfgIo *dev, uint16_t key) { dev->regions()[0].write(0, key, 2); }
uint8_t inb_data(FwCfgIo *dev) { return static_cast<uint8_t>(dev->regions()[0].read(1, 1)); }
std::vector<uint8_t> read_item(FwCfgIo *dev, uint16_t key, size_t n) {
  outw_select(dev, key);
  std::vector<uint8_t> out;
  for (size_t i = 0; i < n; i++) out.push_back(inb_data(dev));
  return out;
}

uint32_t bswap32(uint32_t v) { return __builtin_bswap32(v); }

// Writes a big-endian DMA descriptor at `desc`.
void write_descriptor(RamHost *host, uint64_t desc, uint32_t control, uint32_t length,
                      uint64_t address) {
  uint8_t *d = host->at(desc);
  for (int i = 0; i < 4; i++) d[i] = static_cast<uint8_t>(control >> (24 - 8 * i));
  for (int i = 0; i < 4; i++) d[4 + i] = static_cast<uint8_t>(length >> (24 - 8 * i));
  for (int i = 0; i < 8; i++) d[8 + i] = static_cast<uint8_t>(address >> (56 - 8 * i));
}

// Writes a DMA descriptor at `desc` and starts it through the x86 DMA port (two 32-bit
// big-endian writes, as SeaBIOS does).
void dma(FwCfgIo *dev, RamHost *host, uint64_t desc, uint32_t control, uint32_t length,
         uint64_t address) {
  write_descriptor(host, desc, control, length, address);
  const MemoryRegion &r = dev->regions()[1];
  r.write(0, bswap32(static_cast<uint32_t>(desc >> 32)), 4);
  r.write(4, bswap32(static_cast<uint32_t>(desc)), 4);
}

uint32_t control_word(RamHost *host, uint64_t desc) {
  uint8_t *d = host->at(desc);
  return static_cast<uint32_t>(d[0]) << 24 | d[1] << 16 | d[2] << 8 | d[3];
}

std::vector<uint8_t> ram_bytes(RamHost *host, uint64_t addr, size_t n) {
  return std::vector<uint8_t>(host->at(addr), host->at(addr) + n);
}

std::vector<uint8_t> numbered(size_t n) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; i++) v[i] = static_cast<uint8_t>(i * 7 + 1);
  return v;
}

constexpr uint64_t kDesc = kRamBase + 0x100;
constexpr uint64_t kBuf = kRamBase + 0x1000;

}  // namespace

START_TEST(test_types) {
  register_builtin_types();
  const TypeInfo *base = type_find(kTypeFwCfg);
  ck_assert(base && base->abstract && !base->user_creatable);
  for (const char *t : {kTypeFwCfgIo, kTypeFwCfgMem}) {
    const TypeInfo *ti = type_find(t);
    ck_assert(ti && !ti->abstract && !ti->user_creatable);
    ck_assert(type_is_a(t, kTypeFwCfg) && type_is_a(t, kTypeDevice));
  }
  ck_assert(object_new(kTypeFwCfg) == nullptr);
}
END_TEST

START_TEST(test_io_regions) {
  RamHost host;
  auto dev = make_io(&host);
  realize(dev.get());
  ck_assert_uint_eq(dev->regions().size(), 2);
  const MemoryRegion &ports = dev->regions()[0];
  ck_assert(ports.space() == MemoryRegion::Space::kIo && *ports.fixed_address() == 0x510 && ports.size() == 2);
  const MemoryRegion &dmar = dev->regions()[1];
  ck_assert(dmar.space() == MemoryRegion::Space::kIo && *dmar.fixed_address() == 0x514 && dmar.size() == 8);

  auto nodma = make_io(&host, {{"dma_enabled", "off"}});
  realize(nodma.get());
  ck_assert_uint_eq(nodma->regions().size(), 1);
  ck_assert(read_item(nodma.get(), FwCfgKey::kId, 4) == (std::vector<uint8_t>{1, 0, 0, 0}));
}
END_TEST

START_TEST(test_signature_and_id) {
  RamHost host;
  auto dev = make_io(&host);
  realize(dev.get());
  // After reset the signature is selected.
  ck_assert_uint_eq(dev->current_key(), FwCfgKey::kSignature);
  std::vector<uint8_t> sig;
  for (int i = 0; i < 6; i++) sig.push_back(inb_data(dev.get()));
  ck_assert(sig == (std::vector<uint8_t>{'Q', 'E', 'M', 'U', 0, 0}));  // then zeros
  // Port 0x510 read as a byte is the data register too.
  outw_select(dev.get(), FwCfgKey::kSignature);
  ck_assert_uint_eq(dev->regions()[0].read(0, 1), 'Q');
  ck_assert(read_item(dev.get(), FwCfgKey::kId, 4) == (std::vector<uint8_t>{3, 0, 0, 0}));
  // The DMA register reads "QEMU CFG" in memory order (what QEMU 7.2 answers to inl 0x514).
  ck_assert_uint_eq(dev->regions()[1].read(0, 4), 0x554d4551);
  ck_assert_uint_eq(dev->regions()[1].read(4, 4), 0x47464320);
  ck_assert_uint_eq(dev->regions()[1].read(0, 8), 0x47464320554d4551ull);
  ck_assert_uint_eq(dev->regions()[1].read(3, 1), 'U');
}
END_TEST

START_TEST(test_directory) {
  RamHost host;
  auto dev = make_io(&host);
  ck_assert(dev->add_file("etc/tpm/log", std::vector<uint8_t>(0x10000, 0)).is_ok());
  ck_assert(dev->add_file("etc/acpi/tables", numbered(300)).is_ok());
  realize(dev.get());
  // Files added after realize are listed too.
  ck_assert(dev->add_file("etc/tpm/config", {0x00, 0x50, 0xd4, 0xfe, 0x02, 0x01}).is_ok());
  ck_assert(dev->add_file("bootorder", {}).is_ok());

  const size_t kDirSize = 4 + 64 * FwCfgLimits::kDefaultFileSlots;
  std::vector<uint8_t> dir = read_item(dev.get(), FwCfgKey::kFileDir, kDirSize + 2);
  ck_assert_uint_eq(dir[kDirSize], 0);  // past the end
  ck_assert(std::vector<uint8_t>(dir.begin(), dir.begin() + 4) ==
            (std::vector<uint8_t>{0, 0, 0, 4}));
  struct Want {
    const char *name;
    uint32_t size;
  } want[] = {{"bootorder", 0}, {"etc/acpi/tables", 300}, {"etc/tpm/config", 6},
              {"etc/tpm/log", 0x10000}};
  for (size_t i = 0; i < 4; i++) {
    const uint8_t *e = dir.data() + 4 + 64 * i;
    uint32_t size = static_cast<uint32_t>(e[0]) << 24 | e[1] << 16 | e[2] << 8 | e[3];
    uint16_t key = static_cast<uint16_t>(e[4] << 8 | e[5]);
    ck_assert_uint_eq(size, want[i].size);
    ck_assert_uint_eq(key, 0x20 + i);
    ck_assert_uint_eq(e[6] | e[7], 0);
    ck_assert_str_eq(reinterpret_cast<const char *>(e + 8), want[i].name);
    for (size_t k = 8 + strlen(want[i].name); k < 64; k++) ck_assert_uint_eq(e[k], 0);
    ck_assert_uint_eq(dev->file_key(want[i].name), 0x20 + i);
  }
  for (size_t k = 4 + 64 * 4; k < kDirSize; k++) ck_assert_uint_eq(dir[k], 0);
  ck_assert_uint_eq(dev->file_key("nope"), 0);

  // Byte-by-byte file read through the ports; re-selecting starts over.
  std::vector<uint8_t> cfg = read_item(dev.get(), 0x22, 8);
  ck_assert(cfg == (std::vector<uint8_t>{0x00, 0x50, 0xd4, 0xfe, 0x02, 0x01, 0, 0}));
  ck_assert(read_item(dev.get(), 0x21, 300) == numbered(300));
  ck_assert(read_item(dev.get(), 0x21, 2) == (std::vector<uint8_t>{1, 8}));
}
END_TEST

START_TEST(test_unknown_keys_and_bad_accesses) {
  RamHost host;
  auto dev = make_io(&host);
  ck_assert(dev->add_file("a", {1, 2, 3}).is_ok());
  realize(dev.get());
  // An empty numbered item, an empty file slot, an arch-local key: selected, reads zeros.
  for (uint16_t key : {uint16_t{0x05}, uint16_t{0x21}, uint16_t{0x3f}, uint16_t{0x8000}}) {
    ck_assert(read_item(dev.get(), key, 3) == (std::vector<uint8_t>{0, 0, 0}));
    ck_assert_uint_eq(dev->current_key(), key);
  }
  // Beyond the last slot: nothing is selected.
  for (uint16_t key : {uint16_t{0x40}, uint16_t{0x3fff}, uint16_t{0xffff}}) {
    ck_assert(read_item(dev.get(), key, 2) == (std::vector<uint8_t>{0, 0}));
    ck_assert_uint_eq(dev->current_key(), FwCfgKey::kInvalid);
  }
  // The obsolete write-channel bit is ignored when selecting.
  ck_assert(read_item(dev.get(), 0x4020, 3) == (std::vector<uint8_t>{1, 2, 3}));

  unsigned long errors = log_guest_count(LogCategory::kGuestError);
  AccessOutcome o;
  outw_select(dev.get(), 0x20);
  ck_assert_uint_eq(dev->regions()[0].read(0, 2, false, &o), 0);  // 16-bit reads are refused
  ck_assert(o == AccessOutcome::kBadSize);
  ck_assert_uint_eq(dev->current_offset(), 0);
  dev->regions()[0].write(1, 0x55, 1, &o);  // data writes are ignored
  ck_assert(o == AccessOutcome::kIgnored);
  ck_assert(read_item(dev.get(), 0x20, 3) == (std::vector<uint8_t>{1, 2, 3}));
  dev->regions()[1].write(2, 0x1234, 2, &o);  // DMA register: only 4 at +0/+4 or 8 at +0
  ck_assert(o == AccessOutcome::kBadSize);
  ck_assert_uint_gt(log_guest_count(LogCategory::kGuestError), errors);
  // A peek does not consume data.
  outw_select(dev.get(), 0x20);
  dev->regions()[0].read(1, 1, true);
  ck_assert_uint_eq(inb_data(dev.get()), 1);
}
END_TEST

START_TEST(test_dma_read_select_skip) {
  RamHost host;
  auto dev = make_io(&host);
  ck_assert(dev->add_file("f", numbered(10)).is_ok());
  realize(dev.get());
  uint16_t key = dev->file_key("f");
  // Select + read 4 bytes.
  dma(dev.get(), &host, kDesc, key << 16 | FwCfgDmaControl::kSelect | FwCfgDmaControl::kRead, 4,
      kBuf);
  ck_assert_uint_eq(control_word(&host, kDesc), 0);
  ck_assert(ram_bytes(&host, kBuf, 5) == (std::vector<uint8_t>{1, 8, 15, 22, 0xee}));
  // Skip 2 (the buffer is untouched), then read on from offset 6.
  dma(dev.get(), &host, kDesc, FwCfgDmaControl::kSkip, 2, kBuf + 0x100);
  ck_assert_uint_eq(control_word(&host, kDesc), 0);
  ck_assert_uint_eq(*host.at(kBuf + 0x100), 0xee);
  ck_assert_uint_eq(dev->current_offset(), 6);
  // Read 8 more: 4 bytes of data, then zeros; exactly 8 bytes written.
  dma(dev.get(), &host, kDesc, FwCfgDmaControl::kRead, 8, kBuf + 0x200);
  ck_assert_uint_eq(control_word(&host, kDesc), 0);
  ck_assert(ram_bytes(&host, kBuf + 0x200, 9) ==
            (std::vector<uint8_t>{43, 50, 57, 64, 0, 0, 0, 0, 0xee}));
  // The offset stops at the item's end (zeros past it are not counted) ...
  ck_assert_uint_eq(dev->current_offset(), 10);
  // ... and port I/O there reads zeros.
  ck_assert_uint_eq(inb_data(dev.get()), 0);
  // Skip with select restarts the item; a read after it continues from there.
  dma(dev.get(), &host, kDesc, key << 16 | FwCfgDmaControl::kSelect | FwCfgDmaControl::kSkip, 9,
      0);
  ck_assert_uint_eq(inb_data(dev.get()), 64);
  // No operation bit: nothing happens, control is cleared.
  dma(dev.get(), &host, kDesc, key << 16 | FwCfgDmaControl::kSelect, 4, kBuf + 0x300);
  ck_assert_uint_eq(control_word(&host, kDesc), 0);
  ck_assert_uint_eq(*host.at(kBuf + 0x300), 0xee);
  // Reading an unknown item gives zeros.
  dma(dev.get(), &host, kDesc, 0x05 << 16 | FwCfgDmaControl::kSelect | FwCfgDmaControl::kRead, 3,
      kBuf + 0x400);
  ck_assert_uint_eq(control_word(&host, kDesc), 0);
  ck_assert(ram_bytes(&host, kBuf + 0x400, 4) == (std::vector<uint8_t>{0, 0, 0, 0xee}));
  // Read takes precedence over write and skip, as in QEMU.
  dma(dev.get(), &host, kDesc,
      key << 16 | FwCfgDmaControl::kSelect | FwCfgDmaControl::kRead | FwCfgDmaControl::kWrite |
          FwCfgDmaControl::kSkip,
      2, kBuf + 0x500);
  ck_assert_uint_eq(control_word(&host, kDesc), 0);
  ck_assert(ram_bytes(&host, kBuf + 0x500, 2) == (std::vector<uint8_t>{1, 8}));
}
END_TEST

START_TEST(test_dma_errors) {
  RamHost host(0x4000);
  auto dev = make_io(&host);
  ck_assert(dev->add_file("f", numbered(0x100)).is_ok());
  realize(dev.get());
  uint16_t key = dev->file_key("f");
  uint32_t sel_read = key << 16 | FwCfgDmaControl::kSelect | FwCfgDmaControl::kRead;
  uint64_t ram_end = kRamBase + host.ram.size();

  // Destination outside RAM: error, nothing written there or around.
  int writes = host.writes;
  dma(dev.get(), &host, kDesc, sel_read, 4, ram_end + 0x1000);
  ck_assert_uint_eq(control_word(&host, kDesc), FwCfgDmaControl::kError);
  ck_assert_int_eq(host.writes, writes + 1);  // only the control word
  // Straddling the end of RAM: error, no partial copy past the end.
  dma(dev.get(), &host, kDesc, sel_read, 0x10, ram_end - 8);
  ck_assert_uint_eq(control_word(&host, kDesc), FwCfgDmaControl::kError);
  ck_assert_uint_eq(*host.at(ram_end - 8), 0xee);
  // A huge length past the item's end: the item's bytes land, the zero fill then runs out of
  // RAM and reports the error; nothing beyond RAM is touched (the fake refuses it).
  dma(dev.get(), &host, kDesc, sel_read, 0xffffffff, kBuf);
  ck_assert_uint_eq(control_word(&host, kDesc), FwCfgDmaControl::kError);
  ck_assert(ram_bytes(&host, kBuf, 4) == (std::vector<uint8_t>{1, 8, 15, 22}));
  // Address arithmetic that wraps: refused.
  dma(dev.get(), &host, kDesc, sel_read, 0x10, 0xfffffffffffffff8ull);
  ck_assert_uint_eq(control_word(&host, kDesc), FwCfgDmaControl::kError);
  // DMA write: every item is read-only.
  std::memset(host.at(kBuf), 0x5a, 8);
  dma(dev.get(), &host, kDesc, key << 16 | FwCfgDmaControl::kSelect | FwCfgDmaControl::kWrite, 8,
      kBuf);
  ck_assert_uint_eq(control_word(&host, kDesc), FwCfgDmaControl::kError);
  ck_assert(dev->file("f")->at(0) == 1);
  // Descriptor outside RAM: nothing is done and nothing breaks.
  writes = host.writes;
  dma(dev.get(), &host, kDesc, 0, 0, 0);  // writes the descriptor, then:
  const MemoryRegion &r = dev->regions()[1];
  r.write(0, 0, 4);
  r.write(4, bswap32(0x10), 4);  // descriptor at 0x10: not RAM
  ck_assert_int_eq(host.writes, writes + 1);  // (the valid transfer before it)
  // Descriptor straddling the end of RAM: unreadable, but its control word is RAM, and gets
  // the error bit (as QEMU writes it).
  r.write(0, 0, 4);
  r.write(4, bswap32(static_cast<uint32_t>(ram_end - 8)), 4);
  ck_assert_uint_eq(control_word(&host, ram_end - 8), FwCfgDmaControl::kError);
  // The device still works.
  dma(dev.get(), &host, kDesc, sel_read, 2, kBuf);
  ck_assert_uint_eq(control_word(&host, kDesc), 0);
  ck_assert(ram_bytes(&host, kBuf, 2) == (std::vector<uint8_t>{1, 8}));
  // Without a host, a transfer is refused quietly.
  auto lonely = make_io(nullptr);
  realize(lonely.get());
  lonely->write_dma_address(kDesc);
}
END_TEST

START_TEST(test_dma_address_register) {
  RamHost host;
  auto dev = make_io(&host);
  ck_assert(dev->add_file("f", numbered(4)).is_ok());
  realize(dev.get());
  uint16_t key = dev->file_key("f");
  // A stale high half from before a reset must not leak into the next address.
  dma(dev.get(), &host, kDesc, key << 16 | FwCfgDmaControl::kSelect | FwCfgDmaControl::kRead, 2,
      kBuf);
  const MemoryRegion &r = dev->regions()[1];
  r.write(0, bswap32(1), 4);  // high half = 1
  dev->reset();
  *host.at(kBuf) = 0xee;
  write_descriptor(&host, kDesc, key << 16 | FwCfgDmaControl::kSelect | FwCfgDmaControl::kRead,
                   2, kBuf);
  r.write(4, bswap32(static_cast<uint32_t>(kDesc)), 4);  // low half: transfer from kDesc
  ck_assert_uint_eq(*host.at(kBuf), 1);
  // A single 64-bit big-endian write starts a transfer as well.
  *host.at(kBuf) = 0xee;
  write_descriptor(&host, kDesc, key << 16 | FwCfgDmaControl::kSelect | FwCfgDmaControl::kRead,
                   2, kBuf);
  r.write(0, __builtin_bswap64(kDesc), 8);
  ck_assert_uint_eq(*host.at(kBuf), 1);
}
END_TEST

START_TEST(test_mem_mapping) {
  RamHost host;
  auto dev = make<FwCfgMem>(kTypeFwCfgMem, &host);
  ck_assert(dev->add_file("etc/tpm/log", numbered(16)).is_ok());
  realize(dev.get());
  ck_assert_uint_eq(dev->regions().size(), 3);
  const MemoryRegion &data = dev->regions()[0];
  const MemoryRegion &ctl = dev->regions()[1];
  const MemoryRegion &dmar = dev->regions()[2];
  ck_assert_uint_eq(*data.fixed_address(), 0x09020000);
  ck_assert_uint_eq(*ctl.fixed_address(), 0x09020008);
  ck_assert_uint_eq(*dmar.fixed_address(), 0x09020010);
  ck_assert(data.space() == MemoryRegion::Space::kMemory &&
            ctl.space() == MemoryRegion::Space::kMemory &&
            dmar.space() == MemoryRegion::Space::kMemory);

  // The selector is big endian: firmware on a little-endian CPU writes cpu_to_be16(key).
  ctl.write(0, __builtin_bswap16(FwCfgKey::kSignature), 2);
  ck_assert_uint_eq(data.read(0, 8), 0x00000000554d4551ull);  // "QEMU" then zeros
  ctl.write(0, __builtin_bswap16(FwCfgKey::kFileDir), 2);
  ck_assert_uint_eq(data.read(0, 4), 0x01000000);  // count 1, big endian in memory
  ctl.write(0, __builtin_bswap16(0x20), 2);
  ck_assert_uint_eq(data.read(0, 2), 0x0801);  // bytes 1, 8
  ck_assert_uint_eq(data.read(0, 1), 15);
  AccessOutcome o;
  ck_assert_uint_eq(data.read(4, 4, false, &o), 0);  // only +0 is the data register
  ck_assert(o == AccessOutcome::kBadSize);
  ctl.write(0, 0x20, 1, &o);  // 8-bit selector writes are refused
  ck_assert(o == AccessOutcome::kBadSize);
  ck_assert_uint_eq(data.read(0, 1), 22);
  ck_assert_uint_eq(ctl.read(0, 2, false, &o), 0);
  ck_assert(o == AccessOutcome::kBadSize);
  ck_assert_uint_eq(dmar.read(0, 8), 0x47464320554d4551ull);

  // DMA through a 64-bit big-endian write, as edk2 on Arm does.
  dev->select(0x20);
  uint8_t *d = host.at(kDesc);
  uint32_t control = FwCfgDmaControl::kRead;
  std::memset(d, 0, 16);
  d[3] = static_cast<uint8_t>(control);
  d[7] = 4;
  for (int i = 0; i < 8; i++) d[8 + i] = static_cast<uint8_t>(kBuf >> (56 - 8 * i));
  dmar.write(0, __builtin_bswap64(kDesc), 8);
  ck_assert_uint_eq(control_word(&host, kDesc), 0);
  ck_assert(ram_bytes(&host, kBuf, 4) == (std::vector<uint8_t>{1, 8, 15, 22}));

  auto narrow = make<FwCfgMem>(kTypeFwCfgMem, &host, {{"data_width", "3"}});
  Status s = narrow->realize();
  ck_assert_str_eq(s.message().c_str(), "fw_cfg: data_width must be 1, 2, 4 or 8 (got 3)");
}
END_TEST

START_TEST(test_add_file_errors) {
  RamHost host;
  auto dev = make_io(&host, {{"x-file-slots", "0x10"}});
  ck_assert(!dev->add_file("", {}).is_ok());
  ck_assert(!dev->add_file(std::string(56, 'a'), {}).is_ok());
  ck_assert(dev->add_file(std::string(55, 'a'), {}).is_ok());
  ck_assert(!dev->add_file(std::string("a\0b", 3), {}).is_ok());
  ck_assert(dev->add_file("dup", {1}).is_ok());
  Status s = dev->add_file("dup", {2});
  ck_assert_str_eq(s.message().c_str(), "fw_cfg: duplicate file name 'dup'");
  ck_assert_uint_eq(dev->file("dup")->at(0), 1);
  for (int i = 0; i < 14; i++) ck_assert(dev->add_file("f" + std::to_string(i), {}).is_ok());
  s = dev->add_file("one-too-many", {});
  ck_assert_str_eq(s.message().c_str(),
                   "fw_cfg: no free file slot for 'one-too-many' (x-file-slots=0x10)");
  realize(dev.get());
  ck_assert(read_item(dev.get(), FwCfgKey::kFileDir, 4) == (std::vector<uint8_t>{0, 0, 0, 16}));

  ck_assert(dev->set_item(0x05, {9}).is_ok());
  ck_assert(read_item(dev.get(), 0x05, 1) == (std::vector<uint8_t>{9}));
  ck_assert(dev->set_item(0x8003, {7}).is_ok());
  ck_assert(read_item(dev.get(), 0x8003, 1) == (std::vector<uint8_t>{7}));
  ck_assert(read_item(dev.get(), 0x03, 1) == (std::vector<uint8_t>{0}));  // not arch-local
  for (uint16_t bad : {FwCfgKey::kSignature, FwCfgKey::kId, FwCfgKey::kFileDir, uint16_t{0x20},
                       uint16_t{0x4005}})
    ck_assert(!dev->set_item(bad, {1}).is_ok());

  auto few = make_io(&host, {{"x-file-slots", "8"}});
  s = few->realize();
  ck_assert_str_eq(s.message().c_str(), "fw_cfg: x-file-slots must be between 0x10 and 0x3fe0");
}
END_TEST

START_TEST(test_saved_state) {
  RamHost host;
  auto dev = make_io(&host);
  ck_assert(dev->add_file("f", numbered(10)).is_ok());
  realize(dev.get());
  read_item(dev.get(), 0x20, 3);
  std::vector<uint8_t> blob = dev->save_state().finish();

  outw_select(dev.get(), FwCfgKey::kId);  // mutate, and show that it did
  ck_assert_uint_eq(dev->current_key(), FwCfgKey::kId);
  StateReader r;
  ck_assert(StateReader::parse(blob, &r).is_ok());
  ck_assert(dev->load_state(r).is_ok());
  ck_assert_uint_eq(dev->current_key(), 0x20);
  ck_assert_uint_eq(inb_data(dev.get()), 22);  // the 4th byte
  ck_assert(dev->save_state().finish() != blob);  // the offset moved on

  // A key beyond the slots is refused and changes nothing.
  StateWriter w("fw_cfg", 1);
  w.put_u16("cur_key", 0x1234);
  w.put_u32("cur_offset", 0);
  w.put_u64("dma_address", 0);
  std::vector<uint8_t> bad = w.finish();
  ck_assert(StateReader::parse(bad, &r).is_ok());
  ck_assert(!dev->load_state(r).is_ok());
  ck_assert_uint_eq(dev->current_key(), 0x20);
  StateWriter v2("fw_cfg", 2);
  std::vector<uint8_t> newer = v2.finish();
  ck_assert(StateReader::parse(newer, &r).is_ok());
  ck_assert(!dev->load_state(r).is_ok());
}
END_TEST

// The TPM's firmware files, served by fw_cfg, fetched by DMA as SeaBIOS/OVMF would, and linked.
START_TEST(test_serves_acpi_files) {
  RamHost host(0x40000);
  auto dev = make_io(&host);
  TpmAcpiDescription tpm = qtpm::testing::tis_description(TpmVersion::k2_0, true);
  acpi::FirmwareFiles files;
  ck_assert(acpi::build_firmware_files(&tpm, acpi::AcpiMachine::kX86Q35, {}, &files).is_ok());
  for (const acpi::FirmwareFile &f : files.files) ck_assert(dev->add_file(f.name, f.data).is_ok());
  realize(dev.get());

  // Read the directory, then every file, through DMA.
  dma(dev.get(), &host, kDesc, FwCfgKey::kFileDir << 16 | FwCfgDmaControl::kSelect |
                                   FwCfgDmaControl::kRead, 4, kBuf);
  const uint8_t *c = host.at(kBuf);
  uint32_t count = static_cast<uint32_t>(c[0]) << 24 | c[1] << 16 | c[2] << 8 | c[3];
  ck_assert_uint_eq(count, files.files.size());
  dma(dev.get(), &host, kDesc, FwCfgDmaControl::kRead, 64 * count, kBuf);
  std::vector<acpi::FirmwareFile> fetched;
  std::vector<uint8_t> dir = ram_bytes(&host, kBuf, 64 * count);
  for (uint32_t i = 0; i < count; i++) {
    const uint8_t *e = dir.data() + 64 * i;
    uint32_t size = static_cast<uint32_t>(e[0]) << 24 | e[1] << 16 | e[2] << 8 | e[3];
    uint16_t key = static_cast<uint16_t>(e[4] << 8 | e[5]);
    std::string name(reinterpret_cast<const char *>(e + 8));
    ck_assert_uint_le(size, 0x20000);
    dma(dev.get(), &host, kDesc, key << 16 | FwCfgDmaControl::kSelect | FwCfgDmaControl::kRead,
        size, kBuf + 0x1000);
    ck_assert_uint_eq(control_word(&host, kDesc), 0);
    fetched.push_back({name, ram_bytes(&host, kBuf + 0x1000, size)});
    ck_assert_msg(fetched.back().data == files.find(name)->data, "%s differs", name.c_str());
  }
  std::map<std::string, acpi::LinkedFile> linked;
  Status s = acpi::link_tables(fetched, *dev->file(acpi::kTableLoaderFile), {}, &linked);
  ck_assert_msg(s.is_ok(), "%s", s.message().c_str());
  ck_assert_uint_eq(linked.size(), 3);  // tables, log, rsdp
}
END_TEST

int main() {
  Suite *s = suite_create("fw-cfg");
  TCase *tc = tcase_create("fw_cfg");
  tcase_add_test(tc, test_types);
  tcase_add_test(tc, test_io_regions);
  tcase_add_test(tc, test_signature_and_id);
  tcase_add_test(tc, test_directory);
  tcase_add_test(tc, test_unknown_keys_and_bad_accesses);
  tcase_add_test(tc, test_dma_read_select_skip);
  tcase_add_test(tc, test_dma_errors);
  tcase_add_test(tc, test_dma_address_register);
  tcase_add_test(tc, test_mem_mapping);
  tcase_add_test(tc, test_add_file_errors);
  tcase_add_test(tc, test_saved_state);
  tcase_add_test(tc, test_serves_acpi_files);
  suite_add_tcase(s, tc);
  return qtpm::testing::run_suite(s);
}
