// SPDX-License-Identifier: GPL-2.0-or-later
//
// Unit tests for the object model: types, interfaces, properties, lifecycle, paths.
#include "qom/testing.h"

#include "qom/object.h"

using namespace qtpm;

namespace {

class Widget : public Object {
 public:
  Widget() {
    add_bool_property("ppi", &ppi, true, "enable PPI");
    add_uint32_property("irq", &irq, 5, "IRQ number");
    add_string_property("tpmdev", &tpmdev, "", "backend id");
  }
  bool ppi;
  uint32_t irq;
  std::string tpmdev;
  int resets = 0;

 protected:
  Status do_realize() override {
    if (irq > 15) return Status::errorf("IRQ %u is outside valid range of 0 to 15", irq);
    return Status::ok();
  }
  void do_reset() override { resets++; }
};

void register_test_types() {
  static bool done = false;
  if (done) return;
  done = true;
  TypeInfo iface;
  iface.name = "test-if";
  iface.parent = "interface";
  iface.abstract = iface.is_interface = true;
  type_register(iface);
  TypeInfo base;
  base.name = "test-base";
  base.parent = "object";
  base.abstract = true;
  base.interfaces = {"test-if"};
  type_register(base);
  type_register(make_type<Widget>("test-widget", "test-base", "a widget"));
}

}  // namespace

START_TEST(test_type_hierarchy) {
  register_test_types();
  ck_assert(type_is_a("test-widget", "test-base"));
  ck_assert(type_is_a("test-widget", "test-if"));  // interface through the parent
  ck_assert(type_is_a("test-widget", "object"));
  ck_assert(!type_is_a("test-base", "test-widget"));
  ck_assert(!type_register(make_type<Widget>("test-widget", "object", "dup")));
  ck_assert_ptr_null(object_new("test-base").get());  // abstract
  ck_assert_ptr_null(object_new("no-such-type").get());
  auto list = type_list("test-if", false);
  ck_assert_int_eq(list.size(), 1);
  ck_assert_str_eq(list[0]->name.c_str(), "test-widget");
}
END_TEST

START_TEST(test_properties) {
  register_test_types();
  auto o = object_new("test-widget");
  ck_assert_ptr_nonnull(o.get());
  ck_assert_str_eq(o->type_name().c_str(), "test-widget");
  auto *w = object_cast<Widget>(o.get());
  ck_assert(w->ppi);
  ck_assert_uint_eq(w->irq, 5);
  for (const char *off : {"off", "no", "false"}) {
    ck_assert(o->set_property("ppi", off).is_ok());
    ck_assert(!w->ppi);
    ck_assert(o->set_property("ppi", "on").is_ok());
  }
  ck_assert(o->set_property("ppi", "yes").is_ok());
  Status bad = o->set_property("ppi", "maybe");
  ck_assert(!bad.is_ok());
  ck_assert(w->ppi);  // unchanged
  ck_assert(o->set_property("irq", "0xa").is_ok());
  ck_assert_uint_eq(w->irq, 10);
  ck_assert(!o->set_property("irq", "-1").is_ok());
  ck_assert(!o->set_property("irq", "4294967296").is_ok());
  ck_assert(!o->set_property("irq", "12abc").is_ok());
  ck_assert_uint_eq(w->irq, 10);
  Status missing = o->set_property("nope", "1");
  ck_assert_str_eq(missing.message().c_str(), "Property 'test-widget.nope' not found");
  ck_assert(o->property_was_set("irq"));
  ck_assert(!o->property_was_set("tpmdev"));
  ck_assert(o->get_property("irq") == "10");
  ck_assert(o->get_property("ppi") == "true");
}
END_TEST

START_TEST(test_lifecycle) {
  register_test_types();
  auto o = object_new("test-widget");
  auto *w = object_cast<Widget>(o.get());
  ck_assert(o->set_property("irq", "16").is_ok());
  Status st = o->realize();
  ck_assert(!st.is_ok());
  ck_assert_str_eq(st.message().c_str(), "IRQ 16 is outside valid range of 0 to 15");
  ck_assert(!o->realized());
  o->reset();  // not realized: no effect
  ck_assert_int_eq(w->resets, 0);
  ck_assert(o->set_property("irq", "15").is_ok());
  ck_assert(o->realize().is_ok());
  o->reset();
  ck_assert_int_eq(w->resets, 1);
  ck_assert(!o->set_property("irq", "3").is_ok());  // after realize
  o->unrealize();
  ck_assert(o->phase() == Object::Phase::kUnrealized);
}
END_TEST

START_TEST(test_paths) {
  register_test_types();
  auto root = object_new("container");
  auto machine = object_new("container");
  auto periph = object_new("container");
  auto w = object_new("test-widget");
  Object *wp = w.get();
  ck_assert(periph->add_child("tpm0", std::move(w)).is_ok());
  Object *pp = periph.get();
  ck_assert(machine->add_child("peripheral", std::move(periph)).is_ok());
  Object *mp = machine.get();
  ck_assert(root->add_child("machine", std::move(machine)).is_ok());
  std::string path = wp->canonical_path();
  ck_assert_str_eq(path.c_str(), "/machine/peripheral/tpm0");
  ck_assert_ptr_eq(object_resolve_path(root.get(), "/machine/peripheral/tpm0"), wp);
  ck_assert_ptr_eq(object_resolve_path(root.get(), "tpm0"), wp);
  ck_assert_ptr_eq(object_resolve_path(root.get(), "peripheral/tpm0"), wp);
  ck_assert_ptr_null(object_resolve_path(root.get(), "/machine/tpm0"));
  ck_assert(!pp->add_child("tpm0", object_new("test-widget")).is_ok());
  // A second "tpm0" elsewhere makes the partial path ambiguous.
  ck_assert(mp->add_child("tpm0", object_new("test-widget")).is_ok());
  bool ambiguous = false;
  ck_assert_ptr_null(object_resolve_path(root.get(), "tpm0", &ambiguous));
  ck_assert(ambiguous);
}
END_TEST

START_TEST(test_parse_values) {
  ck_assert(*parse_uint("0x10") == 16);
  ck_assert(*parse_uint("010") == 8);
  ck_assert(!parse_uint(""));
  ck_assert(!parse_uint("-5"));
  ck_assert(!parse_uint("99999999999999999999999"));
  ck_assert(*parse_int("-5") == -5);
  ck_assert(!parse_bool("ON"));
}
END_TEST

int main() {
  Suite *s = suite_create("qom");
  TCase *tc = tcase_create("object");
  tcase_add_test(tc, test_type_hierarchy);
  tcase_add_test(tc, test_properties);
  tcase_add_test(tc, test_lifecycle);
  tcase_add_test(tc, test_paths);
  tcase_add_test(tc, test_parse_values);
  suite_add_tcase(s, tc);
  return qtpm::testing::run_suite(s);
}
