// SPDX-License-Identifier: GPL-2.0-or-later
//
// Unit tests for the generic register bank: byte lanes, sizes, masks, streams, unmapped bytes.
#include "qom/testing.h"

#include <array>

#include "hw/core/register_bank.h"

using namespace qtpm;

namespace {

constexpr std::array<RegisterSpec, 5> kRegs = {{
    {"CTRL", 0x00, 4, 0x11223344, 0x0000ffff, 0},
    {"STATUS", 0x04, 4, 0x000000ff, 0, 0x000000f0},
    {"BYTE", 0x08, 1, 0x80, 0x7f, 0},
    {"FIFO", 0x0c, 4, 0, 0, 0, RegisterSpec::kStream},
    {"STRICT", 0x10, 4, 0xcafe, 0xffffffff, 0, RegisterSpec::kAligned},
}};

}  // namespace

START_TEST(test_reads_and_lanes) {
  RegisterBank bank(kRegs, 0x20, 0xff);
  AccessOutcome o;
  ck_assert_uint_eq(bank.mmio_read(0x00, 4, false, &o), 0x11223344);
  ck_assert(o == AccessOutcome::kOk);
  ck_assert_uint_eq(bank.mmio_read(0x01, 1, false, &o), 0x33);
  ck_assert_uint_eq(bank.mmio_read(0x02, 2, false, &o), 0x1122);
  // Unaligned across two registers: bytes 3 of CTRL and 0..2 of STATUS.
  ck_assert_uint_eq(bank.mmio_read(0x03, 4, false, &o), 0x0000ff11);
  // BYTE is 1 wide: bytes 9..b are unmapped and read 0xff.
  ck_assert_uint_eq(bank.mmio_read(0x08, 4, false, &o), 0xffffff80);
  ck_assert(o == AccessOutcome::kUnmapped);
  ck_assert_uint_eq(bank.mmio_read(0x1c, 4, false, &o), 0xffffffff);
  ck_assert(o == AccessOutcome::kUnmapped);
}
END_TEST

START_TEST(test_write_masks) {
  RegisterBank bank(kRegs, 0x20, 0xff);
  bank.mmio_write(0x00, 0xaaaaaaaa, 4, nullptr);
  ck_assert_uint_eq(bank.stored(0), 0x1122aaaa);  // upper half read-only
  bank.mmio_write(0x01, 0x55, 1, nullptr);         // one lane only
  ck_assert_uint_eq(bank.stored(0), 0x112255aa);
  bank.mmio_write(0x04, 0x30, 4, nullptr);         // w1c: clear bits 4,5
  ck_assert_uint_eq(bank.stored(1), 0xcf);
  bank.mmio_write(0x04, 0x0f, 4, nullptr);         // non-w1c read-only bits stay
  ck_assert_uint_eq(bank.stored(1), 0xcf);
  bank.mmio_write(0x08, 0xff, 1, nullptr);
  ck_assert_uint_eq(bank.stored(2), 0xff);
  bank.reset();
  ck_assert_uint_eq(bank.stored(0), 0x11223344);
}
END_TEST

START_TEST(test_hooks) {
  RegisterBank bank(kRegs, 0x20, 0xff);
  uint32_t seen_old = 0, seen_new = 0, seen_enable = 0;
  bank.set_hooks(0, {.read = [](uint32_t stored, bool) { return stored ^ 1; },
                     .write = [&](uint32_t o, uint32_t n, uint32_t, uint32_t e) {
                       seen_old = o;
                       seen_new = n;
                       seen_enable = e;
                     }});
  ck_assert_uint_eq(bank.mmio_read(0, 4, false, nullptr), 0x11223345);
  bank.mmio_write(0x01, 0x77, 1, nullptr);
  ck_assert_uint_eq(seen_old, 0x11223344);
  ck_assert_uint_eq(seen_new, 0x11227744);
  ck_assert_uint_eq(seen_enable, 0x0000ff00);
}
END_TEST

START_TEST(test_stream_and_aligned) {
  RegisterBank bank(kRegs, 0x20, 0xff);
  uint32_t last_off = 99;
  unsigned last_size = 0, pops = 0;
  bank.set_hooks(3, {.stream_read = [&](uint32_t off, unsigned size, bool peek) -> uint64_t {
                       last_off = off;
                       last_size = size;
                       if (!peek) pops++;
                       return 0xab;
                     },
                     .stream_write = [&](uint32_t off, uint64_t, unsigned size) {
                       last_off = off;
                       last_size = size;
                     }});
  ck_assert_uint_eq(bank.mmio_read(0x0d, 2, false, nullptr), 0xab);
  ck_assert_uint_eq(last_off, 1);
  ck_assert_uint_eq(last_size, 2);
  bank.mmio_read(0x0c, 1, true, nullptr);
  ck_assert_uint_eq(pops, 1);  // peek has no side effect
  bank.mmio_write(0x0c, 0x1, 4, nullptr);
  ck_assert_uint_eq(last_size, 4);
  AccessOutcome o;
  ck_assert_uint_eq(bank.mmio_read(0x10, 4, false, &o), 0xcafe);
  bank.mmio_read(0x11, 1, false, &o);
  ck_assert(o == AccessOutcome::kBadSize);
  bank.mmio_write(0x10, 0, 2, &o);
  ck_assert(o == AccessOutcome::kBadSize);
  ck_assert_uint_eq(bank.stored(4), 0xcafe);
}
END_TEST

int main() {
  Suite *s = suite_create("register-bank");
  TCase *tc = tcase_create("bank");
  tcase_add_test(tc, test_reads_and_lanes);
  tcase_add_test(tc, test_write_masks);
  tcase_add_test(tc, test_hooks);
  tcase_add_test(tc, test_stream_and_aligned);
  suite_add_tcase(s, tc);
  return qtpm::testing::run_suite(s);
}
