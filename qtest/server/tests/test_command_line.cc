// SPDX-License-Identifier: GPL-2.0-or-later
//
// Unit tests for the qtpm-system command line: what parses, every error line, help outputs.
#include "qom/testing.h"
#include "qtest/server/tests/check_str.h"

#include <cstdio>
#include <string>
#include <vector>

#include "qtest/server/command_line.h"
#include "qtest/server/tests/fake_tpm.h"

using namespace qtpm;
using namespace qtpm::host;

namespace {

ParseResult parse(std::vector<std::string> args, Config *c, const char *prog = "qtpm-system-x86_64") {
  args.insert(args.begin(), std::string("/some/dir/") + prog);
  return parse_command_line(args, c);
}

// Asserts that the command line fails with exactly `line` (plus newline) on stderr, status 1.
void expect_error(std::vector<std::string> args, const char *line, const char *prog = "qtpm-system-x86_64") {
  Config c;
  ParseResult r = parse(std::move(args), &c, prog);
  ck_assert_msg(!r.run, "expected failure: %s", line);
  ck_assert_int_eq(r.exit_code, 1);
  CHECK_STR(r.err.c_str(), (std::string(line) + "\n").c_str());
  CHECK_STR(r.out.c_str(), "");
}

Config parse_ok(std::vector<std::string> args, const char *prog = "qtpm-system-x86_64") {
  Config c;
  ParseResult r = parse(std::move(args), &c, prog);
  ck_assert_msg(r.run, "unexpected failure: %s", r.err.c_str());
  return c;
}

START_TEST(libqtest_command_line) {
  // Exactly what QEMU 7.2's libqtest runs (tests/qtest/libqtest.c).
  Config c = parse_ok({"-qtest", "unix:/tmp/qtest-1.sock", "-qtest-log", "/dev/null", "-chardev",
                       "socket,path=/tmp/qtest-1.qmp,id=char0", "-mon", "chardev=char0,mode=control",
                       "-display", "none", "-accel", "qtest"});
  CHECK_STR(c.program.c_str(), "qtpm-system-x86_64");
  CHECK_STR(c.arch->name.c_str(), "x86_64");
  CHECK_STR(c.machine->name.c_str(), "pc-i440fx-7.2");
  CHECK_STR(c.accel.c_str(), "qtest");
  CHECK_STR(c.qtest->c_str(), "unix:/tmp/qtest-1.sock");
  CHECK_STR(c.qtest_log->c_str(), "/dev/null");
  ck_assert_int_eq(c.chardevs.size(), 1);
  CHECK_STR(c.chardevs[0].id.c_str(), "char0");
  ck_assert_int_eq(c.monitors.size(), 1);
  CHECK_STR(c.monitors[0].chardev.c_str(), "char0");
  ck_assert_uint_eq(c.ram_size, 128u << 20);
  ck_assert(!c.start_paused);
}
END_TEST

START_TEST(tpm_test_command_lines) {
  // tests/qtest/tpm-tis-device-swtpm-test.c on aarch64, plus libqtest's own options.
  Config c = parse_ok({"-machine", "virt,gic-version=max", "-accel", "tcg", "-chardev",
                       "socket,id=chr,path=/tmp/sock", "-tpmdev", "emulator,id=tpm0,chardev=chr",
                       "-device", "tpm-tis-device,tpmdev=tpm0", "-accel", "qtest"},
                      "qtpm-system-aarch64");
  CHECK_STR(c.machine->name.c_str(), "virt-7.2");
  CHECK_STR(c.accel.c_str(), "tcg");  // the first accelerator that works wins
  ck_assert_int_eq(c.tpmdevs.size(), 1);
  CHECK_STR(c.tpmdevs[0].type.c_str(), "emulator");
  CHECK_STR(c.tpmdevs[0].id.c_str(), "tpm0");
  CHECK_STR(c.tpmdevs[0].props[0].first.c_str(), "chardev");
  ck_assert_int_eq(c.devices.size(), 1);
  CHECK_STR(c.devices[0].driver.c_str(), "tpm-tis-device");
  CHECK_STR(c.devices[0].props[0].value.c_str(), "tpm0");
  CHECK_STR(c.devices[0].loc.text().c_str(), "-device tpm-tis-device,tpmdev=tpm0");
  // Migration destination.
  Config d = parse_ok({"-incoming", "unix:/tmp/mig", "-S"});
  CHECK_STR(d.incoming->c_str(), "unix:/tmp/mig");
  ck_assert(d.start_paused);
}
END_TEST

START_TEST(accelerators) {
  Config c = parse_ok({"-accel", "kvm", "-accel", "qtest", "-qtest", "unix:/x"});
  CHECK_STR(c.accel.c_str(), "qtest");
  // Without -qtest QEMU reports the failed kvm and the fallback (warnings; it still runs).
  Config w;
  ParseResult r = parse({"-accel", "kvm", "-accel", "qtest"}, &w);
  ck_assert(r.run);
  CHECK_STR(r.err.c_str(),
                   "qtpm-system-x86_64: failed to initialize kvm: No such file or directory\n"
                   "qtpm-system-x86_64: falling back to qtest\n");
  CHECK_STR(parse_ok({"-machine", "q35,accel=qtest"}).accel.c_str(), "qtest");
  CHECK_STR(parse_ok({"-machine", "accel=kvm:qtest", "-qtest", "unix:/x"}).accel.c_str(), "qtest");
  CHECK_STR(parse_ok({}).accel.c_str(), "tcg");
  CHECK_STR(parse_ok({"-accel", "tcg,thread=single"}).accel.c_str(), "tcg");
  expect_error({"-accel", "foo"}, "qtpm-system-x86_64: invalid accelerator foo");
  expect_error({"-accel", "kvm"}, "qtpm-system-x86_64: failed to initialize kvm: No such file or directory");
  expect_error({"-accel", "qtest", "-machine", "accel=qtest"},
               "qtpm-system-x86_64: The -accel and \"-machine accel=\" options are incompatible");
  expect_error({"-accel", "qtest,foo=1"}, "qtpm-system-x86_64: -accel qtest,foo=1: Property 'qtest-accel.foo' not found");
  expect_error({"-accel", "thread=single"}, "qtpm-system-x86_64: -accel thread=single: Parameter 'accel' is missing");
  Config h;
  ParseResult help = parse({"-accel", "help"}, &h);
  ck_assert(!help.run);
  ck_assert_int_eq(help.exit_code, 0);
  CHECK_STR(help.out.c_str(), "Accelerators supported in QEMU binary:\nkvm\nqtest\ntcg\n");
}
END_TEST

START_TEST(machines) {
  CHECK_STR(parse_ok({"-M", "q35"}).machine->name.c_str(), "pc-q35-7.2");
  CHECK_STR(parse_ok({"-machine", "pc-q35-7.2"}).machine->name.c_str(), "pc-q35-7.2");
  CHECK_STR(parse_ok({"-machine", "none"}).machine->name.c_str(), "none");
  CHECK_STR(parse_ok({}, "qtpm-system-ppc64").machine->name.c_str(), "pseries-7.2");
  CHECK_STR(parse_ok({}, "qtpm-system-i386").machine->name.c_str(), "pc-i440fx-7.2");
  CHECK_STR(parse_ok({}, "qtpm-system").arch->name.c_str(), "x86_64");
  // -machine options merge; the last type wins.
  Config m = parse_ok({"-machine", "virt", "-machine", "gic-version=3"}, "qtpm-system-aarch64");
  CHECK_STR(m.machine->name.c_str(), "virt-7.2");
  CHECK_STR(m.machine_props[0].second.c_str(), "3");
  expect_error({}, "qtpm-system-aarch64: No machine specified, and there is no default", "qtpm-system-aarch64");
  expect_error({"-machine", "foo"}, "qtpm-system-x86_64: -machine foo: unsupported machine type");
  expect_error({"-machine", "virt"}, "qtpm-system-x86_64: -machine virt: unsupported machine type");
  expect_error({"-machine", "pc,gic-version=3"},
               "qtpm-system-x86_64: -machine pc,gic-version=3: Property 'pc-i440fx-7.2-machine.gic-version' not found");
  expect_error({"-machine", "virt,gic-version=5"},
               "qtpm-system-aarch64: -machine virt,gic-version=5: Invalid gic-version value", "qtpm-system-aarch64");
  expect_error({"-machine", "pc,usb=maybe"}, "qtpm-system-x86_64: -machine pc,usb=maybe: Parameter 'usb' expects 'on' or 'off'");
  expect_error({}, "qtpm-system-riscv64: unsupported target architecture 'riscv64'", "qtpm-system-riscv64");
  Config h;
  ParseResult r = parse({"-machine", "help"}, &h, "qtpm-system-aarch64");
  ck_assert_int_eq(r.exit_code, 0);
  CHECK_STR(r.out.c_str(),
                   "Supported machines are:\n"
                   "virt                 QEMU 7.2 ARM Virtual Machine (alias of virt-7.2)\n"
                   "virt-7.2             QEMU 7.2 ARM Virtual Machine\n"
                   "none                 empty machine\n");
}
END_TEST

START_TEST(option_syntax_errors) {
  expect_error({"-foo"}, "qtpm-system-x86_64: -foo: invalid option");
  expect_error({"disk.img"}, "qtpm-system-x86_64: disk.img: invalid option");
  expect_error({"-device"}, "qtpm-system-x86_64: -device: requires an argument");
  expect_error({"-display", "gtk"}, "qtpm-system-x86_64: -display gtk: Display 'gtk' is not available.");
  expect_error({"-name", "x,bogus=1"}, "qtpm-system-x86_64: -name x,bogus=1: Invalid parameter 'bogus'");
  // "--option" is accepted as QEMU does.
  Config c = parse_ok({"--nodefaults", "--S", "-nographic", "-no-user-config", "-name", "guest=vm1"});
  ck_assert(c.start_paused);
  CHECK_STR(c.name.c_str(), "vm1");
  Config v;
  ParseResult r = parse({"-version"}, &v);
  ck_assert(!r.run);
  ck_assert_int_eq(r.exit_code, 0);
  ck_assert(r.out.rfind("QEMU emulator version 7.2.0 (qtpm ", 0) == 0);
  ParseResult h = parse({"-h"}, &v);
  ck_assert(h.out.rfind("usage: qtpm-system-x86_64 ", 0) == 0);
}
END_TEST

START_TEST(memory_sizes) {
  ck_assert_uint_eq(parse_ok({"-m", "512"}).ram_size, 512u << 20);
  ck_assert_uint_eq(parse_ok({"-m", "size=1G"}).ram_size, 1u << 30);
  ck_assert_uint_eq(parse_ok({"-m", "0"}).ram_size, 128u << 20);
  ck_assert_uint_eq(parse_ok({"-m", "1000k"}).ram_size, 1024000u);  // 8 KiB aligned
  ck_assert_uint_eq(parse_ok({"-m", "1001k"}).ram_size, 1032192u);  // rounded up to 8 KiB
  expect_error({"-m", "foo"}, "qtpm-system-x86_64: -m foo: Parameter 'size' expects a non-negative number below 2^64");
  expect_error({"-m", "size="}, "qtpm-system-x86_64: -m size=: missing 'size' option value");
  expect_error({"-m", "1G,bogus=2"}, "qtpm-system-x86_64: -m 1G,bogus=2: Invalid parameter 'bogus'");
  expect_error({"-m", "2T"}, "qtpm-system-x86_64: ram size too large");
  expect_error({"-machine", "virt", "-m", "256G"}, "qtpm-system-aarch64: mach-virt: cannot model more than 255GB RAM",
               "qtpm-system-aarch64");
}
END_TEST

START_TEST(chardevs) {
  Config c = parse_ok({"-chardev", "socket,id=c0,path=/tmp/s,,x,server=on,wait=off"});
  CHECK_STR(c.chardevs[0].backend.c_str(), "socket");
  CHECK_STR(c.chardevs[0].props[0].second.c_str(), "/tmp/s,x");
  expect_error({"-chardev", "socket,path=/tmp/s"}, "qtpm-system-x86_64: -chardev socket,path=/tmp/s: chardev: no id specified");
  expect_error({"-chardev", "pty,id=c"}, "qtpm-system-x86_64: -chardev pty,id=c: 'pty' is not a valid char driver name");
  expect_error({"-chardev", "id=c"}, "qtpm-system-x86_64: -chardev id=c: chardev: \"c\" missing backend");
  expect_error({"-chardev", "socket,id=c"}, "qtpm-system-x86_64: -chardev socket,id=c: chardev: socket: no host given");
  expect_error({"-chardev", "socket,id=c,path=/x,port=1"}, "qtpm-system-x86_64: -chardev socket,id=c,path=/x,port=1: Invalid parameter 'port'");
  expect_error({"-chardev", "socket,id=c,path=/x,server=maybe"},
               "qtpm-system-x86_64: -chardev socket,id=c,path=/x,server=maybe: Parameter 'server' expects 'on' or 'off'");
  expect_error({"-chardev", "socket,id=c,path=/x", "-chardev", "socket,id=c,path=/y"},
               "qtpm-system-x86_64: -chardev socket,id=c,path=/y: Duplicate ID 'c' for chardev");
  Config q = parse_ok({"-qmp", "unix:/tmp/q,server=on,wait=off"});
  CHECK_STR(q.chardevs[0].id.c_str(), "compat_monitor0");
  CHECK_STR(q.monitors[0].chardev.c_str(), "compat_monitor0");
  expect_error({"-qmp", "tcp:1:2"}, "qtpm-system-x86_64: -qmp tcp:1:2: only 'unix:PATH' sockets are supported");
}
END_TEST

START_TEST(monitors) {
  Config c = parse_ok({"-mon", "chardev=m,mode=control,pretty=on"});
  ck_assert(c.monitors[0].pretty);
  expect_error({"-mon", "mode=control"}, "qtpm-system-x86_64: -mon mode=control: chardev is required");
  expect_error({"-mon", "chardev=m"},
               "qtpm-system-x86_64: -mon chardev=m: mode=readline (HMP) is not supported; use mode=control");
  expect_error({"-mon", "chardev=m,mode=control,x=1"}, "qtpm-system-x86_64: -mon chardev=m,mode=control,x=1: Invalid parameter 'x'");
}
END_TEST

START_TEST(tpmdev_parsing) {
  Config c = parse_ok({"-tpmdev", "type=emulator,id=t,chardev=c"});
  CHECK_STR(c.tpmdevs[0].type.c_str(), "emulator");
  expect_error({"-tpmdev", "fake,id=t", "-tpmdev", "fake,id=t"},
               "qtpm-system-x86_64: -tpmdev fake,id=t: Duplicate ID 't' for tpmdev");
  expect_error({"-tpmdev", "fake,id=1t"}, "qtpm-system-x86_64: -tpmdev fake,id=1t: Parameter 'id' expects an identifier");
  // softmmu/tpm.c: the list goes to stderr and the status is 1.
  Config h;
  ParseResult r = parse({"-tpmdev", "help"}, &h);
  ck_assert(!r.run);
  ck_assert_int_eq(r.exit_code, 1);
  CHECK_STR(r.out.c_str(), "");
  ck_assert_msg(r.err.rfind("Supported TPM types (choose only one):\n", 0) == 0, "%s", r.err.c_str());
  ck_assert(r.err.find("\n        fake   Fake TPM backend driver\n") != std::string::npos);
  // QEMU's enum order: passthrough, then emulator, then the others.
  size_t pt = r.err.find(" passthrough   "), em = r.err.find("    emulator   ");
  if (pt != std::string::npos && em != std::string::npos) ck_assert_uint_lt(pt, em);
}
END_TEST

// Other modules' real devices and backends may be linked in too: the checks look for the fakes
// and the format, not for an exact list.
void expect_device_list(const std::string &out, const std::vector<std::string> &lines) {
  ck_assert_msg(out.rfind("Misc devices:\n", 0) == 0, "%s", out.c_str());
  size_t pos = 0;
  for (const std::string &line : lines) {
    size_t at = out.find(line + "\n", pos);
    ck_assert_msg(at != std::string::npos, "missing or out of order: %s", line.c_str());
    pos = at;
  }
  for (size_t p = out.find('\n') + 1; p < out.size(); p = out.find('\n', p) + 1) {
    ck_assert_msg(out.compare(p, 6, "name \"") == 0, "bad line at %zu: %s", p, out.c_str());
  }
}

START_TEST(device_help) {
  Config c;
  ParseResult r = parse({"-device", "help"}, &c);
  ck_assert(!r.run);
  ck_assert_int_eq(r.exit_code, 0);
  expect_device_list(r.out, {"name \"fake-blob-isa\", bus ISA", "name \"fake-tpm-crb\"", "name \"fake-tpm-isa\", bus ISA"});
  ck_assert(r.out.find("fake-nouser-isa") == std::string::npos);
  ck_assert(r.out.find("fake-tpm-sysbus") == std::string::npos);
  ck_assert(r.out.find("fake-tpm-spapr") == std::string::npos);
  ParseResult a = parse({"-device", "?"}, &c, "qtpm-system-aarch64");
  expect_device_list(a.out, {"name \"fake-tpm-sysbus\", bus System"});
  ck_assert(a.out.find("fake-tpm-isa") == std::string::npos);
  ParseResult p = parse({"-device", "help"}, &c, "qtpm-system-ppc64");
  expect_device_list(p.out, {"name \"fake-tpm-spapr\", bus spapr-vio-bus"});

  ParseResult t = parse({"-device", "fake-tpm-isa,help"}, &c);
  ck_assert_int_eq(t.exit_code, 0);
  CHECK_STR(t.out.c_str(),
                   "fake-tpm-isa options:\n"
                   "  irq=<uint32>           - IRQ number (default: 5)\n"
                   "  ppi=<bool>             -  (default: true)\n"
                   "  tpmdev=<str>           - ID of a tpm to use as a backend\n");
  expect_error({"-device", "fake-tpm-sysbus,help"}, "qtpm-system-x86_64: -device fake-tpm-sysbus,help: Device 'fake-tpm-sysbus' not found");
  expect_error({"-device", "nonesuch,help"}, "qtpm-system-x86_64: -device nonesuch,help: Device 'nonesuch' not found");
  expect_error({"-device", "device,help"},
               "qtpm-system-x86_64: -device device,help: Parameter 'typename' expects a non-abstract device type");
}
END_TEST

START_TEST(device_parsing) {
  Config c = parse_ok({"-device", "{\"driver\":\"fake-tpm-crb\",\"tpmdev\":\"tpm-tpm0\",\"id\":\"tpm0\",\"ppi\":false,\"irq\":7}"});
  const DeviceConfig &d = c.devices[0];
  CHECK_STR(d.driver.c_str(), "fake-tpm-crb");
  CHECK_STR(d.id->c_str(), "tpm0");
  ck_assert_int_eq(d.props.size(), 3);
  CHECK_STR(d.props[0].value.c_str(), "tpm-tpm0");
  ck_assert(d.props[0].kind == DeviceProp::Kind::kString);
  CHECK_STR(d.props[1].value.c_str(), "off");
  ck_assert(d.props[1].kind == DeviceProp::Kind::kBool);
  CHECK_STR(d.props[2].value.c_str(), "7");
  ck_assert(d.props[2].kind == DeviceProp::Kind::kNumber);
  expect_error({"-device", "{\"driver\":"}, "qtpm-system-x86_64: -device {\"driver\":: JSON parse error, unexpected end of data");
  expect_error({"-device", "{\"driver\":1}"}, "qtpm-system-x86_64: -device {\"driver\":1}: Invalid parameter type for 'driver', expected: string");
  expect_error({"-device", "{\"driver\":\"x\",\"id\":\"9\"}"},
               "qtpm-system-x86_64: -device {\"driver\":\"x\",\"id\":\"9\"}: Parameter 'id' expects an identifier");
  expect_error({"-device", "fake-tpm-isa,id=a", "-device", "fake-tpm-crb,id=a"},
               "qtpm-system-x86_64: -device fake-tpm-crb,id=a: Duplicate ID 'a' for device");
}
END_TEST

START_TEST(logging_options) {
  Config c = parse_ok({"-trace", "tpm_*", "-trace", "enable=qmp_*", "-d", "guest_errors,unimp,in_asm,trace:x_*"});
  ck_assert_int_eq(c.trace_patterns.size(), 3);
  CHECK_STR(c.trace_patterns[0].c_str(), "tpm_*");
  CHECK_STR(c.trace_patterns[1].c_str(), "qmp_*");
  CHECK_STR(c.trace_patterns[2].c_str(), "x_*");
  ck_assert(c.log_guest_errors && c.log_unimp);
  expect_error({"-d", "guest_errors,bogus"}, "qtpm-system-x86_64: -d guest_errors,bogus: unknown log item 'bogus'");
  expect_error({"-trace", "file=/tmp/t"}, "qtpm-system-x86_64: -trace file=/tmp/t: Invalid parameter 'file'");
  char path[] = "/tmp/qtpm-trace-XXXXXX";
  int fd = mkstemp(path);
  ck_assert_int_ge(fd, 0);
  FILE *f = fdopen(fd, "w");
  std::fputs("# comment\nfoo_*\nbar\n", f);
  std::fclose(f);
  Config e = parse_ok({"-trace", std::string("events=") + path});
  std::remove(path);
  ck_assert_int_eq(e.trace_patterns.size(), 2);
  CHECK_STR(e.trace_patterns[1].c_str(), "bar");
}
END_TEST

}  // namespace

int main() {
  qtpm::testing::register_fake_types();
  Suite *s = suite_create("command-line");
  TCase *tc = tcase_create("parse");
  tcase_add_test(tc, libqtest_command_line);
  tcase_add_test(tc, tpm_test_command_lines);
  tcase_add_test(tc, accelerators);
  tcase_add_test(tc, machines);
  tcase_add_test(tc, option_syntax_errors);
  tcase_add_test(tc, memory_sizes);
  tcase_add_test(tc, chardevs);
  tcase_add_test(tc, monitors);
  tcase_add_test(tc, tpmdev_parsing);
  tcase_add_test(tc, device_help);
  tcase_add_test(tc, device_parsing);
  tcase_add_test(tc, logging_options);
  suite_add_tcase(s, tc);
  return qtpm::testing::run_suite(s);
}
