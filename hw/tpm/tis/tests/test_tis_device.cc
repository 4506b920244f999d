// SPDX-License-Identifier: GPL-2.0-or-later
//
// The two TIS devices as objects: QOM types and properties, realize errors, regions and IRQ
// output, the tpm-if side, ACPI descriptions, device-tree facts, the PPI page and its reset, the
// startup-error state, and unrealize.
#include <cstring>

#include "hw/tpm/tis/tests/tis_fixture.h"
#include "hw/tpm/tis/tpm_tis_isa.h"

using namespace qtpm;
using namespace qtpm::tis;
using namespace qtpm::testing;

namespace {

TisOptions unrealized(TisVariant v, std::vector<std::pair<std::string, std::string>> props = {}) {
  TisOptions o;
  o.variant = v;
  o.properties = std::move(props);
  o.realize = false;
  return o;
}

}  // namespace

START_TEST(test_types) {
  register_builtin_types();
  const TypeInfo *isa = type_find("tpm-tis");
  ck_assert_ptr_nonnull(isa);
  ck_assert_str_eq(isa->parent.c_str(), "device");
  ck_assert_str_eq(isa->bus.c_str(), "isa");
  ck_assert_str_eq(isa->description.c_str(), "");
  ck_assert(type_is_a("tpm-tis", "tpm-if"));
  ck_assert(!isa->abstract && isa->user_creatable);
  const TypeInfo *sys = type_find("tpm-tis-device");
  ck_assert_ptr_nonnull(sys);
  ck_assert_str_eq(sys->parent.c_str(), "device");
  ck_assert_str_eq(sys->bus.c_str(), "sysbus");
  ck_assert(type_is_a("tpm-tis-device", "tpm-if"));
  bool listed = false;
  for (const TypeInfo *t : type_list("tpm-if", false)) listed |= t->name == "tpm-tis-device";
  ck_assert(listed);
}
END_TEST

START_TEST(test_properties) {
  register_builtin_types();
  auto isa = object_new("tpm-tis");
  const Property *irq = isa->find_property("irq");
  ck_assert_ptr_nonnull(irq);
  ck_assert_str_eq(irq->type.c_str(), "uint32");
  ck_assert_str_eq(irq->default_value.c_str(), "5");
  const Property *tpmdev = isa->find_property("tpmdev");
  ck_assert_ptr_nonnull(tpmdev);
  ck_assert_str_eq(tpmdev->type.c_str(), "str");
  ck_assert_str_eq(tpmdev->description.c_str(), "ID of a tpm to use as a backend");
  const Property *ppi = isa->find_property("ppi");
  ck_assert_ptr_nonnull(ppi);
  ck_assert_str_eq(ppi->type.c_str(), "bool");
  ck_assert_str_eq(ppi->default_value.c_str(), "true");
  // QEMU's order: irq, tpmdev, ppi.
  ck_assert_str_eq(isa->properties().at(0).name.c_str(), "irq");
  ck_assert_str_eq(isa->properties().at(1).name.c_str(), "tpmdev");
  ck_assert_str_eq(isa->properties().at(2).name.c_str(), "ppi");
  auto sys = object_new("tpm-tis-device");
  ck_assert_ptr_nonnull(sys->find_property("irq"));
  ck_assert_ptr_nonnull(sys->find_property("tpmdev"));
  ck_assert_ptr_null(sys->find_property("ppi"));  // removed in QEMU 7.2.6
  Status st = sys->set_property("ppi", "on");
  ck_assert(!st.is_ok());
  ck_assert_str_eq(st.message().c_str(), "Property 'tpm-tis-device.ppi' not found");
}
END_TEST

START_TEST(test_realize_errors) {
  TisVariant v = _i ? TisVariant::kSysbus : TisVariant::kIsa;
  const char *type = variant_type(v);
  {
    TisFixture f(unrealized(v));
    ck_assert(f.dev->set_property("tpmdev", "").is_ok());
    Status st = f.dev->realize();
    ck_assert_str_eq(st.message().c_str(), "'tpmdev' property is required");
    ck_assert(!f.dev->realized());
  }
  {
    TisFixture f(unrealized(v, {{"tpmdev", "nosuch"}}));
    Status st = f.dev->realize();
    std::string want = strprintf("Property '%s.tpmdev' can't find value 'nosuch'", type);
    ck_assert_str_eq(st.message().c_str(), want.c_str());
  }
  {
    TisFixture f(unrealized(v, {{"irq", "16"}}));
    Status st = f.dev->realize();
    if (v == TisVariant::kIsa) {
      ck_assert_str_eq(st.message().c_str(), "IRQ 16 is outside valid range of 0 to 15");
      ck_assert_ptr_null(f.backend.frontend());  // nothing bound on failure
    } else {
      ck_assert(st.is_ok());  // only INT_VECTOR's value on a platform bus
    }
  }
  {
    TisFixture f(unrealized(v));
    TisFixture other;  // a realized device bound to its own backend "tpm0"
    f.host.backends["tpm0"] = &other.backend;
    Status st = f.dev->realize();
    ck_assert_str_eq(st.message().c_str(), "TPM backend 'tpm0' is already initialized");
  }
}
END_TEST

START_TEST(test_regions_and_frontend) {
  TisFixture isa;
  ck_assert_uint_eq(isa.dev->regions().size(), 2);
  const MemoryRegion &mmio = isa.dev->regions()[0];
  ck_assert_str_eq(mmio.name().c_str(), "tpm-tis-mmio");
  ck_assert_uint_eq(mmio.size(), 0x5000);
  ck_assert_uint_eq(mmio.max_access(), 4);
  ck_assert(mmio.fixed_address() && *mmio.fixed_address() == 0xfed40000);
  const MemoryRegion &ppi = isa.dev->regions()[1];
  ck_assert_str_eq(ppi.name().c_str(), "tpm-ppi");
  ck_assert(ppi.kind() == MemoryRegion::Kind::kRam);
  ck_assert_uint_eq(ppi.size(), 0x400);
  ck_assert(ppi.fixed_address() && *ppi.fixed_address() == 0xfed45000);
  ck_assert_uint_eq(isa.dev->irq_count(), 1);
  ck_assert_str_eq(isa.dev->tpm_model(), "tpm-tis");
  ck_assert(isa.dev->tpm_version() == TpmVersion::k2_0);
  ck_assert_ptr_eq(isa.backend.frontend(), static_cast<TpmFrontend *>(isa.dev));

  TisOptions off;
  off.properties = {{"ppi", "off"}};
  TisFixture no_ppi(off);
  ck_assert_uint_eq(no_ppi.dev->regions().size(), 1);
  ck_assert_ptr_null(no_ppi.dev->ppi());

  TisOptions so;
  so.variant = TisVariant::kSysbus;
  so.version = TpmVersion::k1_2;
  TisFixture sys(so);
  ck_assert_uint_eq(sys.dev->regions().size(), 1);
  ck_assert(!sys.dev->regions()[0].fixed_address());
  ck_assert_uint_eq(sys.dev->irq_count(), 1);
  ck_assert_str_eq(sys.dev->tpm_model(), "tpm-tis");
  ck_assert(sys.dev->tpm_version() == TpmVersion::k1_2);
  ck_assert_ptr_null(sys.dev->ppi());
  // Unrealize hands the backend back.
  sys.dev->unrealize();
  ck_assert_ptr_null(sys.backend.frontend());
  ck_assert(sys.dev->regions().empty());
}
END_TEST

START_TEST(test_acpi_descriptions) {
  TisFixture isa;
  TpmAcpiDescription d = isa.dev->acpi_description();
  ck_assert(d.interface == TpmAcpiDescription::Interface::kTis);
  ck_assert(d.version == TpmVersion::k2_0);
  ck_assert_uint_eq(d.resources.size(), 1);
  ck_assert_uint_eq(d.resources[0].address, 0xfed40000);
  ck_assert_uint_eq(d.resources[0].length, 0x5000);
  ck_assert_uint_eq(d.irq, 0);  // not advertised: docs/tis.md
  ck_assert(d.ppi);
  ck_assert_uint_eq(d.start_method, 6);
  ck_assert_uint_eq(d.control_area, 0);
  ck_assert_str_eq(d.name.c_str(), "TPM");
  ck_assert_uint_eq(d.uid, 1);
  ck_assert(d.has_sta);

  TisOptions o;
  o.properties = {{"ppi", "off"}};
  o.version = TpmVersion::k1_2;
  TisFixture isa12(o);
  d = isa12.dev->acpi_description();
  ck_assert(!d.ppi);
  ck_assert(d.version == TpmVersion::k1_2);

  TisOptions so;
  so.variant = TisVariant::kSysbus;
  so.realize = false;
  TisFixture sys(so);
  ck_assert(sys.dev->realize().is_ok());
  auto *sysbus = object_cast<TpmTisSysbus>(sys.dev);
  ck_assert(sysbus->acpi_description().resources.empty());  // not mapped yet
  ck_assert(!sysbus->fdt_node());
  sysbus->set_mapped_address(0x0c000000);
  d = sysbus->acpi_description();
  ck_assert_uint_eq(d.resources.size(), 1);
  ck_assert_uint_eq(d.resources[0].address, 0x0c000000);
  ck_assert_uint_eq(d.resources[0].length, 0x5000);
  ck_assert_str_eq(d.name.c_str(), "TPM0");
  ck_assert_uint_eq(d.uid, 0);
  ck_assert(!d.has_sta);
  ck_assert(!d.ppi);
  ck_assert_uint_eq(d.irq, 0);
  ck_assert_uint_eq(d.start_method, 6);
  auto node = sysbus->fdt_node();
  ck_assert(node.has_value());
  ck_assert_str_eq(TisFdtNode::kCompatible, "tcg,tpm-tis-mmio");
  std::string node_name = node->node_name();
  ck_assert_str_eq(node_name.c_str(), "tpm_tis@c000000");
  ck_assert_uint_eq(node->base, 0x0c000000);
  ck_assert_uint_eq(node->size, 0x5000);
}
END_TEST

// The PPI page is reset first at machine reset: with movv bit 0 set, guest RAM is cleared.
START_TEST(test_ppi_reset) {
  TisFixture f;
  ck_assert_int_eq(f.host.ram_clears, 0);
  const MemoryRegion &page = f.dev->regions()[1];
  page.write(PpiLayout::kMovv, 1, 1);
  ck_assert_uint_eq(f.dev->ppi()->data()[PpiLayout::kMovv], 1);
  f.dev->reset();
  ck_assert_int_eq(f.host.ram_clears, 1);
  f.dev->reset();  // firmware did not clear the flag: cleared again, as QEMU
  ck_assert_int_eq(f.host.ram_clears, 2);
  // Also when the backend then fails to start.
  f.backend.set_fail_startup(true);
  f.dev->reset();
  ck_assert_int_eq(f.host.ram_clears, 3);
}
END_TEST

// A backend that fails to start: one line for the user, and the guest sees no TPM (every read
// 0, every write ignored) until a reset finds the backend working again.
START_TEST(test_startup_error) {
  TisOptions o;
  o.variant = _i ? TisVariant::kSysbus : TisVariant::kIsa;
  TisFixture f(o);
  f.request_locality(0);
  f.backend.set_fail_startup(true);
  f.dev->reset();
  ck_assert_uint_eq(f.host.errors.size(), 1);
  const std::string &line = f.host.errors[0];
  ck_assert(line.find(variant_type(o.variant)) == 0);
  ck_assert(line.find("'tpm0'") != std::string::npos);
  ck_assert(line.find("fake: refused to start") != std::string::npos);
  ck_assert(line.find('\n') == std::string::npos);
  ck_assert(f.dev->core().startup_error());
  ck_assert(f.dev->tpm_version() == TpmVersion::kUnspec);
  ck_assert(f.dev->acpi_description().version == TpmVersion::kUnspec);
  for (uint8_t l = 0; l < kLocalities; l++) {
    for (uint32_t off : {reg::kAccess, reg::kSts, reg::kIntfCapability, reg::kInterfaceId,
                         reg::kDidVid, reg::kRid, reg::kDataFifo, 0x04u}) {
      ck_assert_uint_eq(f.readl(l, off), 0);
    }
  }
  AccessOutcome out;
  f.write(0, reg::kAccess, access::kRequestUse, 1, &out);
  ck_assert(out == AccessOutcome::kIgnored);
  ck_assert_uint_eq(f.dev->core().active_locality(), kNoLocality);
  // Fixed backend, next reset: a working TPM again, no further message.
  f.backend.set_fail_startup(false);
  f.dev->reset();
  ck_assert(!f.dev->core().startup_error());
  ck_assert_uint_eq(f.host.errors.size(), 1);
  ck_assert_uint_eq(f.access(0), 0x81);
  f.request_locality(0);
  ck_assert(f.transmit(0, tpm2_get_random()).size() == 10);
}
END_TEST

int main() {
  Suite *s = suite_create("tis-device");
  TCase *tc = tcase_create("device");
  tcase_add_test(tc, test_types);
  tcase_add_test(tc, test_properties);
  tcase_add_loop_test(tc, test_realize_errors, 0, 2);
  tcase_add_test(tc, test_regions_and_frontend);
  tcase_add_test(tc, test_acpi_descriptions);
  tcase_add_test(tc, test_ppi_reset);
  tcase_add_loop_test(tc, test_startup_error, 0, 2);
  suite_add_tcase(s, tc);
  return qtpm::testing::run_suite(s);
}
