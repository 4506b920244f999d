// SPDX-License-Identifier: GPL-2.0-or-later
//
// Unit tests for qtpm-system's pseries VIO bus and TCE tables (qtest/server/spapr_vio_bus.h,
// spapr_tce_table.h; QEMU 7.2 hw/ppc/spapr_vio.c and spapr_iommu.c): unit addresses with and
// without QEMU's default devices, H_PUT_TCE / H_GET_TCE, DMA translation page by page with its
// permissions, all-or-nothing failures, reset, and the table's saved state.
#include "qom/testing.h"

#include "hw/tpm/spapr/tests/spapr_rig.h"

using namespace qtpm;
using namespace qtpm::host;
using namespace qtpm::spapr;
using namespace qtpm::testing;

namespace {

constexpr uint64_t kRam = 1 << 20;

struct Table {
  Table() {
    SpaprVioBus::register_type();
    std::unique_ptr<Object> o = object_new(kTypeSpaprTceTable);
    table.reset(object_cast<SpaprTceTable>(o.release()));
    table->configure(0x71000004, 0x10000000, &ram);
  }
  FlatGuestMemory ram{kRam};
  std::unique_ptr<SpaprTceTable> table;
};

std::vector<uint8_t> pattern(size_t n, uint8_t seed) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; i++) v[i] = uint8_t(seed + i * 7);
  return v;
}

}  // namespace

START_TEST(test_put_get_tce) {
  Table t;
  ck_assert_str_eq(t.table->type_name().c_str(), "spapr-tce-table");
  ck_assert_uint_eq(t.table->window_size(), 0x10000000);
  ck_assert_int_eq(t.table->put_tce(0x2345, 0x7003), kHSuccess);  // cut to page 0x2000
  uint64_t tce = 1;
  ck_assert_int_eq(t.table->get_tce(0x2000, &tce), kHSuccess);
  ck_assert_uint_eq(tce, 0x7003);
  ck_assert_int_eq(t.table->get_tce(0x2fff, &tce), kHSuccess);
  ck_assert_uint_eq(tce, 0x7003);
  ck_assert_int_eq(t.table->get_tce(0x3000, &tce), kHSuccess);
  ck_assert_uint_eq(tce, 0);
  ck_assert_int_eq(t.table->put_tce(0xffff000, 1), kHSuccess);  // the last page
  ck_assert_int_eq(t.table->put_tce(0x10000000, 1), kHParameter);
  ck_assert_int_eq(t.table->put_tce(~uint64_t{0}, 1), kHParameter);
  ck_assert_int_eq(t.table->get_tce(0x10000000, &tce), kHParameter);
}
END_TEST

START_TEST(test_dma_translation_and_permissions) {
  Table t;
  // ioba 0x1000..0x2fff -> guest 0x9000 (read+write) and 0x4000 (read only).
  ck_assert_int_eq(t.table->put_tce(0x1000, 0x9000 | kTceRead | kTceWrite), kHSuccess);
  ck_assert_int_eq(t.table->put_tce(0x2000, 0x4000 | kTceRead), kHSuccess);
  std::vector<uint8_t> data = pattern(0x200, 3);
  std::memcpy(t.ram.bytes.data() + 0x9f00, data.data(), 0x100);
  std::memcpy(t.ram.bytes.data() + 0x4000, data.data() + 0x100, 0x100);
  std::vector<uint8_t> out(0x200);
  ck_assert(t.table->dma_read(0x1f00, out));
  ck_assert(out == data);
  // A write needs write permission on every page: nothing is written when one page lacks it.
  std::vector<uint8_t> w = pattern(0x800, 99);
  std::vector<uint8_t> ram_before = t.ram.bytes;
  ck_assert(!t.table->dma_write(0x1f00, std::span<const uint8_t>(w).first(0x200)));
  ck_assert(t.ram.bytes == ram_before);
  ck_assert(t.table->dma_write(0x1800, std::span<const uint8_t>(w).first(0x800)));
  ck_assert(std::equal(w.begin(), w.begin() + 0x800, t.ram.bytes.begin() + 0x9800));
  // Write-only pages cannot be read by the device; unmapped ones neither.
  ck_assert_int_eq(t.table->put_tce(0x3000, 0x5000 | kTceWrite), kHSuccess);
  ck_assert(!t.table->dma_read(0x3000, std::span<uint8_t>(out).first(1)));
  ck_assert(!t.table->dma_read(0x4000, std::span<uint8_t>(out).first(1)));
  // The window's end and the 64-bit end.
  ck_assert_int_eq(t.table->put_tce(0xffff000, 0x6000 | kTceRead), kHSuccess);
  ck_assert(t.table->dma_read(0xfffff00, std::span<uint8_t>(out).first(0x100)));
  ck_assert(!t.table->dma_read(0xfffff00, std::span<uint8_t>(out).first(0x101)));
  ck_assert(!t.table->dma_read(~uint64_t{0}, std::span<uint8_t>(out).first(2)));
  ck_assert(t.table->dma_read(0x5000, std::span<uint8_t>()));  // nothing to copy
  // A TCE pointing past guest RAM.
  ck_assert_int_eq(t.table->put_tce(0x7000, (kRam + 0x1000) | kTceRead), kHSuccess);
  ck_assert(!t.table->dma_read(0x7000, std::span<uint8_t>(out).first(1)));
  // Reset unmaps everything.
  t.table->dma_reset();
  ck_assert(!t.table->dma_read(0x1f00, std::span<uint8_t>(out).first(1)));
  uint64_t tce = 1;
  ck_assert_int_eq(t.table->get_tce(0x1000, &tce), kHSuccess);
  ck_assert_uint_eq(tce, 0);
}
END_TEST

START_TEST(test_tce_state) {
  Table a;
  ck_assert_int_eq(a.table->put_tce(0x0, 0x1003), kHSuccess);
  ck_assert_int_eq(a.table->put_tce(0xffff000, 0x2001), kHSuccess);
  std::vector<uint8_t> blob = a.table->save_state().finish();
  Table b;
  ck_assert_int_eq(b.table->put_tce(0x5000, 0x3003), kHSuccess);  // replaced by the load
  StateReader r;
  ck_assert(StateReader::parse(blob, &r).is_ok());
  ck_assert(b.table->load_state(r).is_ok());
  ck_assert(b.table->save_state().finish() == blob);
  uint64_t tce = 1;
  ck_assert_int_eq(b.table->get_tce(0x5000, &tce), kHSuccess);
  ck_assert_uint_eq(tce, 0);

  // Corrupt entries: out of range, out of order, duplicate, zero, odd length; another window.
  auto entries_blob = [](uint32_t liobn, std::vector<uint8_t> entries) {
    StateWriter w("spapr-tce-table", 1);
    w.put_u32("liobn", liobn);
    w.put_u64("window", 0x10000000);
    w.put_bytes("entries", entries);
    return w.finish();
  };
  auto entry = [](uint32_t index, uint64_t tce) {
    std::vector<uint8_t> e;
    for (int s = 24; s >= 0; s -= 8) e.push_back(uint8_t(index >> s));
    for (int s = 56; s >= 0; s -= 8) e.push_back(uint8_t(tce >> s));
    return e;
  };
  auto cat = [](std::vector<uint8_t> x, const std::vector<uint8_t> &y) {
    x.insert(x.end(), y.begin(), y.end());
    return x;
  };
  std::vector<std::vector<uint8_t>> bad = {
      entries_blob(0x71000004, entry(0x10000, 3)),
      entries_blob(0x71000004, cat(entry(5, 3), entry(4, 3))),
      entries_blob(0x71000004, cat(entry(5, 3), entry(5, 3))),
      entries_blob(0x71000004, entry(5, 0)),
      entries_blob(0x71000004, std::vector<uint8_t>(13, 0)),
      entries_blob(0x71000005, {}),
  };
  std::vector<uint8_t> before = b.table->save_state().finish();
  for (const auto &blob_bad : bad) {
    StateReader rb;
    ck_assert(StateReader::parse(blob_bad, &rb).is_ok());
    Status st = b.table->load_state(rb);
    ck_assert(!st.is_ok());
    ck_assert_ptr_nonnull(strstr(st.message().c_str(), "spapr-tce-table"));
    ck_assert(b.table->save_state().finish() == before);
  }
}
END_TEST

START_TEST(test_bus_units) {
  // QEMU 7.2 under libqtest: vty, nvram, vlan, vscsi take 0x71000000..3, a TPM gets ...4.
  SpaprRig with_defaults({.builtin_units = true});
  ck_assert(with_defaults.start().is_ok());
  const std::vector<SpaprVioBus::Unit> &units = with_defaults.bus.units();
  ck_assert_uint_eq(units.size(), 5);
  const char *types[] = {"spapr-vty", "spapr-nvram", "spapr-vlan", "spapr-vscsi", "tpm-spapr"};
  for (size_t i = 0; i < units.size(); i++) {
    ck_assert_str_eq(units[i].type.c_str(), types[i]);
    ck_assert_uint_eq(units[i].reg, kVioRegBase + i);
    ck_assert_uint_eq(units[i].irq, kIrqVio + i);
  }
  ck_assert_ptr_null(units[1].device);
  // The reserved units are not modelled: their hcalls fail as for no unit at all.
  ck_assert_int_eq(with_defaults.hcall(kHEnableCrq, {0x71000001}), kHParameter);
  ck_assert_int_eq(with_defaults.hcall(kHPutTce, {0x71000003, 0, 3}), kHParameter);
  ck_assert_ptr_eq(with_defaults.bus.find_device(0x71000004), with_defaults.dev.get());

  // Unplug frees the unit and the window; the next plug gets a new address (QEMU never reuses).
  with_defaults.bus.unplug(*with_defaults.dev);
  ck_assert_ptr_null(with_defaults.bus.find_device(0x71000004));
  ck_assert_ptr_null(with_defaults.bus.find_tce_table(0x71000004));
  ck_assert_ptr_null(with_defaults.dev->child("tce-table-71000004"));
  ck_assert_ptr_null(with_defaults.dev->dma());
  ck_assert(with_defaults.bus.plug(*with_defaults.dev).is_ok());
  ck_assert_uint_eq(with_defaults.dev->reg(), 0x71000004);  // the device keeps its address
  ck_assert_ptr_nonnull(with_defaults.bus.find_tce_table(0x71000004));
}
END_TEST

START_TEST(test_hcall_arguments) {
  SpaprRig rig;
  ck_assert(rig.start().is_ok());
  // Missing arguments are zero; extra ones beyond nine are ignored.
  ck_assert_int_eq(rig.bus.hcall(kHEnableCrq, std::vector<uint64_t>{}).status, kHParameter);
  std::vector<uint64_t> many(12, 0);
  many[0] = rig.unit();
  ck_assert_int_eq(rig.bus.hcall(kHEnableCrq, many).status, kHSuccess);
  ck_assert_int_eq(rig.bus.hcall(kHGetTce, std::vector<uint64_t>{rig.unit()}).status, kHSuccess);
  ck_assert_int_eq(rig.bus.hcall(0xffffffffffffffffull, many).status, kHFunction);
  ck_assert_str_eq(hcall_name(kHSendCrq), "H_SEND_CRQ");
  ck_assert_ptr_null(hcall_name(0x4));
}
END_TEST

int main() {
  Suite *s = suite_create("spapr-vio-bus");
  TCase *tc = tcase_create("bus");
  tcase_add_test(tc, test_put_get_tce);
  tcase_add_test(tc, test_dma_translation_and_permissions);
  tcase_add_test(tc, test_tce_state);
  tcase_add_test(tc, test_bus_units);
  tcase_add_test(tc, test_hcall_arguments);
  suite_add_tcase(s, tc);
  return run_suite(s);
}
