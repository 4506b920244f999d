// SPDX-License-Identifier: GPL-2.0-or-later
//
// TIS interrupts: each source (localityChange, commandReady, dataAvail, stsValid), INT_ENABLE
// masks and globalIntEnable, INT_STATUS write-1-to-clear, the level of IRQ output 0, the
// owner-only writes, INT_VECTOR, and the sequence Linux's tpm_tis_probe_irq_single() runs.
#include <algorithm>

#include "hw/tpm/tis/tests/tis_fixture.h"

using namespace qtpm;
using namespace qtpm::tis;
using namespace qtpm::testing;

namespace {

TisOptions variant(int i) {
  TisOptions o;
  o.variant = i ? TisVariant::kSysbus : TisVariant::kIsa;
  return o;
}

constexpr uint32_t kAllSources = intr::kSupported;
// What Linux writes: the reset value (low-level polarity) | all sources | global enable.
constexpr uint32_t kLinuxMask = 0x08 | kAllSources | intr::kGlobalEnable;

bool line(TisFixture &f) { return f.dev->irq(0).level(); }

}  // namespace

START_TEST(test_each_source) {
  TisFixture f(variant(_i));
  f.request_locality(0);
  f.writel(0, reg::kIntEnable, kLinuxMask);
  ck_assert_uint_eq(f.readl(0, reg::kIntEnable), 0x8000008f);
  ck_assert(!line(f));
  // commandReady: idle -> ready.
  f.writeb(0, reg::kSts, sts::kCommandReady);
  ck_assert_uint_eq(f.readl(0, reg::kIntStatus), intr::kCommandReady);
  ck_assert(line(f));
  f.writel(0, reg::kIntStatus, intr::kCommandReady);
  ck_assert_uint_eq(f.readl(0, reg::kIntStatus), 0);
  ck_assert(!line(f));
  // dataAvail | stsValid: completion.
  f.send(0, tpm2_get_random());
  ck_assert(!line(f));
  f.wait_response(0);
  ck_assert_uint_eq(f.readl(0, reg::kIntStatus), intr::kDataAvail | intr::kStsValid);
  ck_assert(line(f));
  // Write-1-to-clear: one bit at a time; the line stays up until the last one goes.
  f.writel(0, reg::kIntStatus, intr::kDataAvail);
  ck_assert_uint_eq(f.readl(0, reg::kIntStatus), intr::kStsValid);
  ck_assert(line(f));
  f.writel(0, reg::kIntStatus, 0);  // writing 0 clears nothing
  ck_assert(line(f));
  f.writeb(0, reg::kIntStatus, intr::kStsValid);
  ck_assert(!line(f));
  // stsValid: the last response byte read.
  f.receive(0, false);
  ck_assert_uint_eq(f.readl(0, reg::kIntStatus), intr::kStsValid);
  f.writel(0, reg::kIntStatus, 0xffffffff);
  ck_assert_uint_eq(f.readl(0, reg::kIntStatus), 0);
  // commandReady: completion -> ready.
  f.writeb(0, reg::kSts, sts::kCommandReady);
  ck_assert_uint_eq(f.readl(0, reg::kIntStatus), intr::kCommandReady);
  f.writel(0, reg::kIntStatus, kAllSources);
  // localityChange: raised on the new owner, if it enabled it.
  f.writeb(0, reg::kAccess, access::kActiveLocality);
  ck_assert(!line(f));
  f.request_locality(0);
  ck_assert_uint_eq(f.readl(0, reg::kIntStatus), intr::kLocalityChange);
  ck_assert(line(f));
  f.writel(0, reg::kIntStatus, intr::kLocalityChange);
  ck_assert(!line(f));
  // Every rising edge had a falling edge.
  size_t rises = 0;
  for (size_t i = 0; i < f.irq_history.size(); i++) rises += f.irq_history[i];
  ck_assert_uint_eq(rises, 5);
  ck_assert(!f.irq_history.back());
  f.check_invariants();
}
END_TEST

START_TEST(test_masks) {
  TisFixture f(variant(_i));
  f.request_locality(0);
  // Sources enabled but not globalIntEnable: no status bits, no line.
  f.writel(0, reg::kIntEnable, 0x08 | kAllSources);
  ck_assert(f.transmit(0, tpm2_get_random()).size() == 10);
  ck_assert_uint_eq(f.readl(0, reg::kIntStatus), 0);
  ck_assert(std::find(f.irq_history.begin(), f.irq_history.end(), true) == f.irq_history.end());
  // Only dataAvail enabled: completion sets only dataAvail.
  f.writel(0, reg::kIntEnable, intr::kGlobalEnable | intr::kDataAvail);
  f.send(0, tpm2_get_random());
  f.wait_response(0);
  ck_assert_uint_eq(f.readl(0, reg::kIntStatus), intr::kDataAvail);
  ck_assert(line(f));
  // Turning globalIntEnable off drops the line; the status bit stays; on again raises it.
  f.writeb(0, reg::kIntEnable + 3, 0);
  ck_assert_uint_eq(f.readl(0, reg::kIntEnable), intr::kDataAvail);
  ck_assert(!line(f));
  ck_assert_uint_eq(f.readl(0, reg::kIntStatus), intr::kDataAvail);
  f.writeb(0, reg::kIntEnable + 3, intr::kGlobalEnable >> 24);
  ck_assert(line(f));
  // Unsupported bits are not stored; polarity is.
  f.writel(0, reg::kIntEnable, 0xffffffff);
  ck_assert_uint_eq(f.readl(0, reg::kIntEnable), intr::kEnableWritable);
  ck_assert_uint_eq(f.readl(0, reg::kIntEnable), 0x8000009f);
  f.writel(0, reg::kIntStatus, 0xffffffff);
  ck_assert(!line(f));
  f.check_invariants();
}
END_TEST

// Only the owner writes INT_ENABLE and INT_STATUS; everyone reads them.
START_TEST(test_owner_only) {
  TisFixture f(variant(_i));
  AccessOutcome out;
  f.write(1, reg::kIntEnable, kLinuxMask, 4, &out);
  ck_assert(out == AccessOutcome::kIgnored);
  ck_assert_uint_eq(f.readl(1, reg::kIntEnable), 0x08);
  f.request_locality(0);
  f.writel(0, reg::kIntEnable, kLinuxMask);
  f.writeb(0, reg::kSts, sts::kCommandReady);
  ck_assert(line(f));
  f.write(1, reg::kIntStatus, kAllSources, 4, &out);
  ck_assert(out == AccessOutcome::kIgnored);
  ck_assert_uint_eq(f.readl(0, reg::kIntStatus), intr::kCommandReady);
  ck_assert_uint_eq(f.readl(1, reg::kIntStatus), 0);
  ck_assert(line(f));
  // The line is a level over all localities: locality 1 takes over with its own interrupts;
  // clearing its status does not hide locality 0's pending bit.
  f.writeb(1, reg::kAccess, access::kRequestUse);
  f.writeb(0, reg::kAccess, access::kActiveLocality);
  f.writel(1, reg::kIntEnable, kLinuxMask);
  f.writeb(1, reg::kSts, sts::kCommandReady);
  ck_assert_uint_eq(f.readl(1, reg::kIntStatus), intr::kCommandReady);
  f.writel(1, reg::kIntStatus, kAllSources);
  ck_assert(line(f));  // locality 0 still has commandReady pending
  f.writeb(0, reg::kAccess, access::kRequestUse);
  f.writeb(1, reg::kAccess, access::kActiveLocality);
  ck_assert_uint_eq(f.readl(0, reg::kIntStatus), intr::kCommandReady | intr::kLocalityChange);
  f.writel(0, reg::kIntStatus, kAllSources);
  ck_assert(!line(f));
  f.check_invariants();
}
END_TEST

// INT_VECTOR reads the irq property and ignores writes (hard-wired, as QEMU).
START_TEST(test_int_vector) {
  TisOptions o = variant(_i);
  o.properties = {{"irq", _i ? "9" : "7"}};
  TisFixture f(o);
  for (uint8_t l = 0; l < kLocalities; l++) {
    ck_assert_uint_eq(f.readl(l, reg::kIntVector), _i ? 9 : 7);
  }
  AccessOutcome out;
  f.request_locality(0);
  f.write(0, reg::kIntVector, 3, 1, &out);
  ck_assert(out == AccessOutcome::kIgnored);
  ck_assert_uint_eq(f.readb(0, reg::kIntVector), _i ? 9 : 7);
}
END_TEST

// Linux's interrupt probe (tpm_tis_core_init + tpm_tis_probe_irq_single): read INT_ENABLE, add
// the sources, clear globalIntEnable, write it under locality 0; then write INT_VECTOR, clear
// INT_STATUS with what it read, enable globally, and send a command: the interrupt must come,
// and the handler's read / write-back of INT_STATUS must lower the line.
START_TEST(test_linux_probe_sequence) {
  TisFixture f(variant(_i));
  uint32_t mask = f.readl(0, reg::kIntEnable) | kAllSources;
  mask &= ~intr::kGlobalEnable;
  f.request_locality(0);
  f.writel(0, reg::kIntEnable, mask);
  f.writeb(0, reg::kIntVector, 5);
  f.writel(0, reg::kIntStatus, f.readl(0, reg::kIntStatus));
  f.writel(0, reg::kIntEnable, mask | intr::kGlobalEnable);
  f.send(0, tpm2_get_random());
  f.wait_response(0);
  ck_assert(line(f));
  // tis_int_handler: read, act, write back the same value, read again.
  uint32_t status = f.readl(0, reg::kIntStatus);
  ck_assert(status & intr::kDataAvail);
  f.writel(0, reg::kIntStatus, status);
  ck_assert_uint_eq(f.readl(0, reg::kIntStatus), 0);
  ck_assert(!line(f));
  f.receive(0);
  f.check_invariants();
}
END_TEST

int main() {
  Suite *s = suite_create("tis-irq");
  TCase *tc = tcase_create("irq");
  tcase_add_loop_test(tc, test_each_source, 0, 2);
  tcase_add_loop_test(tc, test_masks, 0, 2);
  tcase_add_loop_test(tc, test_owner_only, 0, 2);
  tcase_add_loop_test(tc, test_int_vector, 0, 2);
  tcase_add_loop_test(tc, test_linux_probe_sequence, 0, 2);
  suite_add_tcase(s, tc);
  return qtpm::testing::run_suite(s);
}
