// SPDX-License-Identifier: GPL-2.0-or-later
//
// Unit tests for guest address spaces: QEMU's access splitting, RAM, unassigned bytes, overlaps.
#include "qom/testing.h"
#include "qtest/server/tests/check_str.h"

#include <cstring>
#include <vector>

#include "qtest/server/address_space.h"
#include "qtest/server/virtual_clock.h"

using namespace qtpm;
using namespace qtpm::host;

namespace {

// Records accesses; a read returns byte values offset, offset+1, ... (little-endian).
class Recorder : public MmioHandler {
 public:
  struct Access {
    uint64_t offset;
    unsigned size;
    bool write;
    uint64_t value;
  };
  uint64_t mmio_read(uint64_t offset, unsigned size, bool, AccessOutcome *) override {
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++) v |= ((offset + i) & 0xff) << (8 * i);
    log.push_back({offset, size, false, v});
    return v;
  }
  void mmio_write(uint64_t offset, uint64_t value, unsigned size, AccessOutcome *outcome) override {
    log.push_back({offset, size, true, value});
    if (offset >= 0x80) *outcome = AccessOutcome::kIgnored;
  }
  std::vector<Access> log;
};

START_TEST(piece_sizes) {
  // memory_access_size(): max access, offset alignment, power of two.
  ck_assert_uint_eq(mmio_piece_size(4, 0, 8), 4);
  ck_assert_uint_eq(mmio_piece_size(4, 0x18, 2), 2);
  ck_assert_uint_eq(mmio_piece_size(4, 0x19, 2), 1);  // unaligned readw -> byte accesses
  ck_assert_uint_eq(mmio_piece_size(4, 0x1a, 3), 2);
  ck_assert_uint_eq(mmio_piece_size(4, 0x18, 3), 2);
  ck_assert_uint_eq(mmio_piece_size(8, 0, 8), 8);
  ck_assert_uint_eq(mmio_piece_size(0, 0, 8), 4);  // regions that say nothing allow 4
  ck_assert_uint_eq(mmio_piece_size(16, 0, 16), 8);
}
END_TEST

START_TEST(mmio_splitting) {
  Recorder dev;
  AddressSpace as("memory", 0, 0);
  ck_assert(as.map(0x1000, MemoryRegion::mmio("dev", 0x100, &dev, 4), &dev).is_ok());
  uint8_t buf[8];
  as.read(0x1019, buf, 2);  // TIS burst count at +0x19
  ck_assert_int_eq(dev.log.size(), 2);
  ck_assert_uint_eq(dev.log[0].offset, 0x19);
  ck_assert_uint_eq(dev.log[0].size, 1);
  ck_assert_uint_eq(dev.log[1].offset, 0x1a);
  ck_assert_int_eq(buf[0], 0x19);
  ck_assert_int_eq(buf[1], 0x1a);
  dev.log.clear();
  as.read(0x1000, buf, 8);  // readq of a 4-byte region: two 4-byte accesses, low first
  ck_assert_int_eq(dev.log.size(), 2);
  ck_assert_uint_eq(dev.log[0].size, 4);
  ck_assert_uint_eq(dev.log[1].offset, 4);
  for (int i = 0; i < 8; i++) ck_assert_int_eq(buf[i], i);
  dev.log.clear();
  const uint8_t data[4] = {0x11, 0x22, 0x33, 0x44};
  as.write(0x1010, data, 4);
  ck_assert_int_eq(dev.log.size(), 1);
  ck_assert_uint_eq(dev.log[0].value, 0x44332211);
  ck_assert(dev.log[0].write);
}
END_TEST

START_TEST(boundaries_ram_and_gaps) {
  Recorder dev;
  std::vector<uint8_t> ram(0x100, 0xaa);
  AddressSpace as("memory", 0, 0);
  ck_assert(as.map(0x2000, MemoryRegion::ram("ram", ram.data(), ram.size()), nullptr).is_ok());
  ck_assert(as.map(0x2100, MemoryRegion::mmio("dev", 0x10, &dev, 4), &dev).is_ok());
  // A read spanning RAM, MMIO and unassigned space.
  uint8_t buf[0x20];
  as.read(0x20f8, buf, sizeof buf);
  for (int i = 0; i < 8; i++) ck_assert_int_eq(buf[i], 0xaa);
  for (int i = 0; i < 16; i++) ck_assert_int_eq(buf[8 + i], i);
  for (int i = 24; i < 32; i++) ck_assert_int_eq(buf[i], 0);
  // MMIO part in 4-byte pieces.
  ck_assert_int_eq(dev.log.size(), 4);
  // Writes to unassigned space vanish; RAM takes its bytes.
  uint8_t w[4] = {1, 2, 3, 4};
  as.write(0x20fe, w, 4);
  ck_assert_int_eq(ram[0xfe], 1);
  ck_assert_int_eq(ram[0xff], 2);
  ck_assert_uint_eq(dev.log.back().value, 0x0403);
  ck_assert_uint_eq(dev.log.back().size, 2);
  as.write(0x9000, w, 4);  // nothing there
  as.fill(0x2000, 0x5a, 0x1000000);  // huge fill over RAM, MMIO and a gap
  ck_assert_int_eq(ram[0], 0x5a);
  ck_assert_int_eq(ram[0xff], 0x5a);
  ck_assert_uint_eq(dev.log.back().value, 0x5a5a5a5a);
  // The top of the 64-bit range reads as unassigned without wrapping.
  uint8_t top[8];
  as.read(UINT64_MAX - 7, top, 8);
  ck_assert_int_eq(top[7], 0);
  ck_assert(AddressSpace::range_ok(UINT64_MAX - 7, 8));
  ck_assert(!AddressSpace::range_ok(UINT64_MAX - 6, 8));
  ck_assert(AddressSpace::range_ok(UINT64_MAX, 0));
}
END_TEST

START_TEST(io_space_unassigned_reads_ones) {
  AddressSpace io("io", 0x10000, 0xff);
  uint8_t buf[4] = {0, 0, 0, 0};
  io.read(0xfffe, buf, 4);  // runs past the end of the space
  for (uint8_t b : buf) ck_assert_int_eq(b, 0xff);
  Recorder dev;
  ck_assert(!io.map(0xfff0, MemoryRegion::mmio("big", 0x20, &dev), &dev).is_ok());
}
END_TEST

START_TEST(overlaps_are_errors) {
  Recorder a, b;
  AddressSpace as("memory", 0, 0);
  ck_assert(as.map(0xfed40000, MemoryRegion::mmio("tpm-tis-mmio", 0x5000, &a), &a).is_ok());
  Status st = as.map(0xfed40000, MemoryRegion::mmio("tpm-crb-mmio", 0x80, &b), &b);
  CHECK_STR(st.message().c_str(),
                   "memory region 'tpm-crb-mmio' [0xfed40000, 0xfed4007f] overlaps 'tpm-tis-mmio' "
                   "[0xfed40000, 0xfed44fff]");
  ck_assert(!as.map(0xfed3ffff, MemoryRegion::mmio("x", 2, &b), &b).is_ok());
  ck_assert(!as.map(0xfed44fff, MemoryRegion::mmio("x", 2, &b), &b).is_ok());
  ck_assert(as.map(0xfed45000, MemoryRegion::mmio("ppi", 0x400, &b), &b).is_ok());
  ck_assert(!as.map(UINT64_MAX, MemoryRegion::mmio("wrap", 2, &b), &b).is_ok());
  ck_assert(!as.map(0, MemoryRegion::mmio("empty", 0, &b), &b).is_ok());
  as.unmap_owner(&a);
  ck_assert(as.lookup(0xfed40000) == nullptr);
  ck_assert(as.map(0xfed40000, MemoryRegion::mmio("tpm-crb-mmio", 0x80, &b), &b).is_ok());
}
END_TEST

START_TEST(virtual_clock) {
  VirtualClock c;
  ck_assert_int_eq(c.step_to_next_deadline(), 0);  // no timers: nothing moves
  std::vector<int> fired;
  c.add_timer(100, [&] { fired.push_back(1); });
  c.add_timer(50, [&] { fired.push_back(2); });
  VirtualClock::TimerId t3 = c.add_timer(70, [&] { fired.push_back(3); });
  c.cancel_timer(t3);
  ck_assert_int_eq(c.next_deadline(), 50);
  ck_assert_int_eq(c.step(10), 10);
  ck_assert(fired.empty());
  ck_assert_int_eq(c.step_to_next_deadline(), 50);
  ck_assert_int_eq(fired.size(), 1);
  ck_assert_int_eq(c.set(40), 50);  // never backwards
  ck_assert_int_eq(c.set(1000), 1000);
  ck_assert_int_eq(fired.size(), 2);
  ck_assert_int_eq(fired[1], 1);
  ck_assert_int_eq(c.step(-5), 1000);
  ck_assert_int_eq(c.step(INT64_MAX), INT64_MAX);  // saturates
}
END_TEST

}  // namespace

int main() {
  Suite *s = suite_create("address-space");
  TCase *tc = tcase_create("as");
  tcase_add_test(tc, piece_sizes);
  tcase_add_test(tc, mmio_splitting);
  tcase_add_test(tc, boundaries_ram_and_gaps);
  tcase_add_test(tc, io_space_unassigned_reads_ones);
  tcase_add_test(tc, overlaps_are_errors);
  tcase_add_test(tc, virtual_clock);
  suite_add_tcase(s, tc);
  return qtpm::testing::run_suite(s);
}
