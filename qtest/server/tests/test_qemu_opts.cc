// SPDX-License-Identifier: GPL-2.0-or-later
//
// Unit tests for QEMU option strings: implied names, ",," escaping, flags, help, ids, sizes.
#include "qom/testing.h"
#include "qtest/server/tests/check_str.h"

#include "qtest/server/qemu_opts.h"

using namespace qtpm;
using namespace qtpm::host;

namespace {

QemuOpts parse_ok(const char *text, const char *implied) {
  QemuOpts opts;
  Status st = QemuOpts::parse(text, implied, &opts);
  ck_assert_msg(st.is_ok(), "%s: %s", text, st.message().c_str());
  return opts;
}

START_TEST(implied_first_option) {
  QemuOpts o = parse_ok("tpm-tis,tpmdev=tpm0,irq=7", "driver");
  CHECK_STR(o.get("driver")->c_str(), "tpm-tis");
  CHECK_STR(o.get("tpmdev")->c_str(), "tpm0");
  CHECK_STR(o.get("irq")->c_str(), "7");
  ck_assert_int_eq(o.items().size(), 3);
  // An explicit key in first position is just a key.
  QemuOpts e = parse_ok("driver=tpm-crb", "driver");
  CHECK_STR(e.get("driver")->c_str(), "tpm-crb");
}
END_TEST

START_TEST(comma_escaping) {
  QemuOpts o = parse_ok("socket,id=c,path=/tmp/a,,b,,,,c", "backend");
  CHECK_STR(o.get("path")->c_str(), "/tmp/a,b,,c");
  // An implied value is escaped the same way.
  QemuOpts i = parse_ok("x,,y,a=b", "type");
  CHECK_STR(i.get("type")->c_str(), "x,y");
  // A trailing ",," is a literal comma at the end.
  QemuOpts t = parse_ok("a=b,,", nullptr);
  CHECK_STR(t.get("a")->c_str(), "b,");
}
END_TEST

START_TEST(flags_and_no_prefix) {
  QemuOpts o = parse_ok("socket,id=c,server,nowait", "backend");
  CHECK_STR(o.get("server")->c_str(), "on");
  CHECK_STR(o.get("wait")->c_str(), "off");
}
END_TEST

START_TEST(help_flag) {
  QemuOpts o = parse_ok("tpm-tis,help", "driver");
  ck_assert(o.help_wanted());
  ck_assert(!o.has("help"));
  QemuOpts q = parse_ok("tpm-tis,?", "driver");
  ck_assert(q.help_wanted());
  // As the implied value, "help" is a value (the caller decides it means a list).
  QemuOpts d = parse_ok("help", "driver");
  ck_assert(!d.help_wanted());
  ck_assert(is_help_option(*d.get("driver")));
}
END_TEST

START_TEST(last_value_wins) {
  QemuOpts o = parse_ok("a=1,a=2", nullptr);
  CHECK_STR(o.get("a")->c_str(), "2");
  o.erase("a");
  ck_assert(!o.has("a"));
}
END_TEST

START_TEST(ids) {
  QemuOpts o = parse_ok("emulator,id=tpm0,chardev=c", "type");
  CHECK_STR(o.id()->c_str(), "tpm0");
  ck_assert(!o.has("id"));
  for (const char *bad : {"emulator,id=0abc", "emulator,id=a b", "emulator,id=", "emulator,id=a/b"}) {
    QemuOpts x;
    Status st = QemuOpts::parse(bad, "type", &x);
    ck_assert_msg(!st.is_ok(), "%s", bad);
    CHECK_STR(st.message().c_str(), "Parameter 'id' expects an identifier");
  }
  ck_assert(id_wellformed("a-b.c_d9"));
  ck_assert(!id_wellformed("-a"));
}
END_TEST

START_TEST(validate_names_the_parameter) {
  QemuOpts o = parse_ok("size=1G,bogus=1", "size");
  Status st = o.validate({"size", "slots"});
  CHECK_STR(st.message().c_str(), "Invalid parameter 'bogus'");
}
END_TEST

START_TEST(empty_and_odd_strings) {
  QemuOpts o = parse_ok("", "driver");
  ck_assert(o.items().empty());
  QemuOpts c = parse_ok(",", "driver");
  CHECK_STR(c.get("driver")->c_str(), "");
  QemuOpts eq = parse_ok("=x", nullptr);
  CHECK_STR(eq.get("")->c_str(), "x");
}
END_TEST

START_TEST(sizes) {
  const uint64_t M = 1 << 20;
  ck_assert_uint_eq(*parse_size("512", M), 512 * M);
  ck_assert_uint_eq(*parse_size("1G", M), 1024 * M);
  ck_assert_uint_eq(*parse_size("1g", M), 1024 * M);
  ck_assert_uint_eq(*parse_size("1.5G", M), 1536 * M);
  ck_assert_uint_eq(*parse_size("4096b", M), 4096);
  ck_assert_uint_eq(*parse_size("2k", 1), 2048);
  for (const char *bad : {"", "G", "1.5", "1.5B", "-1", "1X", "1GG", "1 G", "16E", "99999999999999999999"}) {
    ck_assert_msg(!parse_size(bad, 1), "%s", bad);
  }
  ck_assert_uint_eq(*parse_size("15E", 1), 15ull << 60);
}
END_TEST

}  // namespace

int main() {
  Suite *s = suite_create("qemu-opts");
  TCase *tc = tcase_create("opts");
  tcase_add_test(tc, implied_first_option);
  tcase_add_test(tc, comma_escaping);
  tcase_add_test(tc, flags_and_no_prefix);
  tcase_add_test(tc, help_flag);
  tcase_add_test(tc, last_value_wins);
  tcase_add_test(tc, ids);
  tcase_add_test(tc, validate_names_the_parameter);
  tcase_add_test(tc, empty_and_odd_strings);
  tcase_add_test(tc, sizes);
  suite_add_tcase(s, tc);
  return qtpm::testing::run_suite(s);
}
