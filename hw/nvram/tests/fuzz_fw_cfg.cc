// SPDX-License-Identifier: GPL-2.0-or-later
//
// libFuzzer target for fw_cfg: the input is decoded into guest actions against both mappings -
// selector writes, data reads of any size, DMA register writes of any size and offset, bytes
// written into guest RAM (so descriptors can point anywhere, with any length), resets, and
// save/restore round trips.  The fake RAM refuses every byte outside it, so an overrun shows as
// a sanitizer report, and every answer must stay within the documented behaviour.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "hw/nvram/fw_cfg_io.h"
#include "hw/nvram/fw_cfg_mem.h"
#include "qom/testing.h"
#include "qom/fuzzing.h"

using namespace qtpm;

namespace {

constexpr uint64_t kRamBase = 0x1000;
constexpr size_t kRamSize = 0x2000;

class FuzzHost : public testing::TestHost {
 public:
  bool dma_read(uint64_t addr, void *buf, size_t len) override {
    if (!ok(addr, len)) return false;
    std::memcpy(buf, ram + (addr - kRamBase), len);
    return true;
  }
  bool dma_write(uint64_t addr, const void *buf, size_t len) override {
    if (!ok(addr, len)) return false;
    std::memcpy(ram + (addr - kRamBase), buf, len);
    return true;
  }
  static bool ok(uint64_t addr, size_t len) {
    return addr >= kRamBase && len <= kRamSize && addr - kRamBase <= kRamSize - len;
  }
  uint8_t ram[kRamSize] = {};
};

using fuzzing::Input;

FwCfg *make(const char *type, FuzzHost *host) {
  register_builtin_types();
  FwCfg *dev = object_cast<FwCfg>(object_new(type).release());
  dev->set_host(host);
  std::vector<uint8_t> tables(300);
  for (size_t i = 0; i < tables.size(); i++) tables[i] = static_cast<uint8_t>(i);
  (void)dev->add_file("etc/acpi/tables", tables);
  (void)dev->add_file("etc/tpm/config", {0x00, 0x50, 0xd4, 0xfe, 0x02, 0x01});
  (void)dev->add_file("etc/tpm/log", std::vector<uint8_t>(0x10000, 0));
  (void)dev->realize();
  dev->reset();
  return dev;
}

void access(const MemoryRegion &r, Input &in, bool write) {
  static const unsigned kSizes[4] = {1, 2, 4, 8};
  unsigned size = kSizes[in.u8() & 3];
  if (size > r.size()) size = static_cast<unsigned>(r.size());
  uint64_t offset = in.u8() % (r.size() - size + 1);
  if (write)
    r.write(offset, in.u64(), size);
  else
    r.read(offset, size, in.u8() & 1);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  FuzzHost host;
  Input in(data, size);
  FwCfg *dev = make(in.u8() & 1 ? kTypeFwCfgMem : kTypeFwCfgIo, &host);
  const std::vector<MemoryRegion> &regions = dev->regions();
  while (!in.empty()) {
    switch (in.u8() % 6) {
      case 0:
      case 1: access(regions[in.u8() % regions.size()], in, false); break;
      case 2: access(regions[in.u8() % regions.size()], in, true); break;
      case 3: {  // guest writes a few bytes of RAM (descriptors, anything)
        size_t at = in.u16() % kRamSize;
        size_t n = in.u8() % 17;
        for (size_t i = 0; i < n && at + i < kRamSize; i++) host.ram[at + i] = static_cast<uint8_t>(in.u8());
        break;
      }
      case 4: dev->reset(); break;
      case 5: {
        std::vector<uint8_t> blob = dev->save_state().finish();
        StateReader r;
        if (StateReader::parse(blob, &r).is_ok() && !dev->load_state(r).is_ok()) __builtin_trap();
        break;
      }
    }
  }
  delete dev;
  return 0;
}
