// SPDX-License-Identifier: GPL-2.0-or-later
//
// Unit tests for machines and the host: object creation in QEMU's order and its error lines,
// region placement, IRQ wiring, reset, teardown, HostServices.
#include "qom/testing.h"
#include "qtest/server/tests/check_str.h"

#include <unistd.h>

#include <string>
#include <vector>

#include "qtest/server/host.h"
#include "qtest/server/tests/fake_tpm.h"

using namespace qtpm;
using namespace qtpm::host;
using qtpm::testing::FakeBackend;
using qtpm::testing::FakeTpmDevice;

namespace {

struct Built {
  Config config;
  QueueCompletionLoop loop;
  std::unique_ptr<Host> host;
  Status status;
};

std::unique_ptr<Built> build(std::vector<std::string> args, const char *prog = "qtpm-system-x86_64") {
  auto b = std::make_unique<Built>();
  args.insert(args.begin(), prog);
  ParseResult r = parse_command_line(args, &b->config);
  ck_assert_msg(r.run, "%s", r.err.c_str());
  b->host = std::make_unique<Host>(b->config, &b->loop);
  b->status = b->host->build();
  return b;
}

void expect_build_error(std::vector<std::string> args, const char *line, const char *prog = "qtpm-system-x86_64") {
  auto b = build(std::move(args), prog);
  ck_assert_msg(!b->status.is_ok(), "expected: %s", line);
  CHECK_STR(b->status.message().c_str(), line);
}

FakeTpmDevice *device_at(Host &host, const char *path) {
  return dynamic_cast<FakeTpmDevice *>(object_resolve_path(host.root(), path));
}

START_TEST(isa_tpm_on_pc) {
  auto b = build({"-tpmdev", "fake,id=tpm0,chardev=x", "-device", "fake-tpm-isa,tpmdev=tpm0,id=tis,irq=7"});
  ck_assert_msg(b->status.is_ok(), "%s", b->status.message().c_str());
  Host &h = *b->host;
  FakeTpmDevice *dev = device_at(h, "/machine/peripheral/tis");
  ck_assert_ptr_nonnull(dev);
  ck_assert(dev->realized());
  ck_assert_int_eq(dev->resets, 1);  // machine reset at start
  ck_assert_ptr_eq(h.find_tpm_backend("tpm0"), dev->backend);
  ck_assert_int_eq(static_cast<FakeBackend *>(dev->backend)->resets, 1);
  // Region at its fixed address; IRQ 7 reaches IOAPIC input 7.
  const AddressSpace::Mapping *m = h.machine().memory().lookup(0xfed40000);
  ck_assert_ptr_nonnull(m);
  CHECK_STR(m->region.name().c_str(), "fake-tpm-isa-mmio");
  auto *ioapic = dynamic_cast<InterruptController *>(object_resolve_path(h.root(), "/machine/i440fx/ioapic"));
  ck_assert_ptr_nonnull(ioapic);
  ck_assert_ptr_eq(object_resolve_path(h.root(), "ioapic"), ioapic);
  CHECK_STR(ioapic->type_name().c_str(), "ioapic");
  dev->irq(0).raise();
  ck_assert(ioapic->input_level(7));
  dev->irq(0).lower();
  ck_assert(!ioapic->input_level(7));
  ck_assert(h.run_state() == RunState::kRunning);
  CHECK_STR(h.root()->child("machine")->type_name().c_str(), "pc-i440fx-7.2-machine");
}
END_TEST

START_TEST(q35_ram_split_and_clear) {
  auto b = build({"-M", "q35", "-m", "3G"});
  ck_assert(b->status.is_ok());
  Host &h = *b->host;
  ck_assert_ptr_nonnull(object_resolve_path(h.root(), "/machine/q35/ioapic"));
  AddressSpace &mem = h.machine().memory();
  // q35: 3 GiB >= 2.75 GiB keeps 2 GiB low, the rest at 4 GiB.
  CHECK_STR(mem.lookup(0x7fffffff)->region.name().c_str(), "ram-below-4g");
  ck_assert_ptr_null(mem.lookup(0x80000000));
  CHECK_STR(mem.lookup(0x100000000)->region.name().c_str(), "ram-above-4g");
  ck_assert_ptr_null(mem.lookup(0x140000000));
  uint8_t v = 0x77;
  mem.write(0x13fffffff, &v, 1);
  mem.write(0x1000, &v, 1);
  h.clear_guest_ram();
  uint8_t r = 1;
  mem.read(0x13fffffff, &r, 1);
  ck_assert_int_eq(r, 0);
  mem.read(0x1000, &r, 1);
  ck_assert_int_eq(r, 0);
  // Small pc RAM stays in one block at 0.
  auto p = build({"-m", "64M"});
  CHECK_STR(p->host->machine().memory().lookup(0)->region.name().c_str(), "pc.ram");
  ck_assert_ptr_null(p->host->machine().memory().lookup(64 << 20));
}
END_TEST

START_TEST(virt_platform_bus_and_gic) {
  auto b = build({"-machine", "virt,gic-version=max", "-accel", "tcg", "-tpmdev", "fake,id=t",
                  "-device", "fake-tpm-sysbus,tpmdev=t"},
                 "qtpm-system-aarch64");
  ck_assert_msg(b->status.is_ok(), "%s", b->status.message().c_str());
  Host &h = *b->host;
  FakeTpmDevice *dev = device_at(h, "/machine/peripheral-anon/device[0]");
  ck_assert_ptr_nonnull(dev);
  const AddressSpace::Mapping *m = h.machine().memory().lookup(0x0c000000);
  ck_assert_ptr_nonnull(m);
  ck_assert_ptr_eq(m->owner, dev);
  CHECK_STR(h.machine().memory().lookup(0x40000000)->region.name().c_str(), "mach-virt.ram");
  auto *gic = dynamic_cast<InterruptController *>(object_resolve_path(h.root(), "/machine/gic"));
  ck_assert_ptr_nonnull(gic);
  CHECK_STR(gic->type_name().c_str(), "arm-gicv3");
  dev->irq(0).raise();
  ck_assert(gic->input_level(112));  // first platform-bus SPI
}
END_TEST

START_TEST(platform_bus_placement_order) {
  // Two sysbus devices (the second is not a TPM, so "at most one TPM" does not apply): the
  // second lands at the next 0x8000-aligned slot and gets the next SPI.
  TypeInfo t = make_type<FakeTpmDevice>("fake-blob-sysbus", kTypeDevice, "");
  t.bus = "sysbus";
  type_register(t);
  auto b = build({"-M", "virt", "-tpmdev", "fake,id=t", "-device", "fake-tpm-sysbus,tpmdev=t,id=a",
                  "-device", "fake-blob-sysbus,id=b"},
                 "qtpm-system-aarch64");
  ck_assert_msg(b->status.is_ok(), "%s", b->status.message().c_str());
  Host &h = *b->host;
  FakeTpmDevice *second = device_at(h, "/machine/peripheral/b");
  ck_assert_ptr_eq(h.machine().memory().lookup(0x0c008000)->owner, second);
  ck_assert_ptr_null(h.machine().memory().lookup(0x0c005000));
  second->irq(0).raise();
  auto *gic = dynamic_cast<InterruptController *>(object_resolve_path(h.root(), "gic"));
  ck_assert(gic->input_level(113));
}
END_TEST

START_TEST(crb_and_spapr) {
  auto b = build({"-tpmdev", "fake,id=t", "-device", "fake-tpm-crb,tpmdev=t"});
  ck_assert(b->status.is_ok());
  AddressSpace &mem = b->host->machine().memory();
  CHECK_STR(mem.lookup(0xfed40080)->region.name().c_str(), "fake-crb-cmd");
  uint8_t v = 0x42, r = 0;
  mem.write(0xfed40100, &v, 1);
  mem.read(0xfed40100, &r, 1);
  ck_assert_int_eq(r, 0x42);
  // tpm-crb has no bus in QEMU: it goes on x86 "none" too.
  ck_assert(build({"-M", "none", "-tpmdev", "fake,id=t", "-device", "fake-tpm-crb,tpmdev=t"})->status.is_ok());
  ck_assert(build({"-tpmdev", "fake,id=t", "-device", "fake-tpm-spapr,tpmdev=t"}, "qtpm-system-ppc64")->status.is_ok());
}
END_TEST

START_TEST(port_io_regions) {
  auto b = build({"-device", "fake-ports-isa"});
  ck_assert_msg(b->status.is_ok(), "%s", b->status.message().c_str());
  ck_assert_ptr_nonnull(b->host->machine().io().lookup(0x511));
  CHECK_STR(b->host->machine().memory().lookup(0x520)->region.name(), "pc.ram");  // ports are apart
  expect_build_error({"-device", "fake-ports-isa", "-device", "fake-ports-isa"},
                     "qtpm-system-x86_64: -device fake-ports-isa: memory region 'fake-ports' [0x520, 0x521] overlaps "
                     "'fake-ports' [0x520, 0x521]");
}
END_TEST

START_TEST(tpmdev_errors) {
  // softmmu/tpm.c's checks, in its order, located at the -tpmdev option.
  expect_build_error({"-tpmdev", "fake,id=a", "-tpmdev", "fake,id=b"},
                     "qtpm-system-x86_64: -tpmdev fake,id=b: Only one TPM is allowed.");
  expect_build_error({"-tpmdev", "fake"}, "qtpm-system-x86_64: -tpmdev fake: Parameter 'id' is missing");
  expect_build_error({"-tpmdev", "id=a"}, "qtpm-system-x86_64: -tpmdev id=a: Parameter 'type' is missing");
  expect_build_error({"-tpmdev", "nonesuch,id=a"},
                     "qtpm-system-x86_64: -tpmdev nonesuch,id=a: Parameter 'type' expects a TPM backend type");
  expect_build_error({"-tpmdev", "backend,id=a"},
                     "qtpm-system-x86_64: -tpmdev backend,id=a: Parameter 'type' expects a TPM backend type");
  expect_build_error({"-tpmdev", "fake,id=a,path=/dev/tpm0"},
                     "qtpm-system-x86_64: -tpmdev fake,id=a,path=/dev/tpm0: Invalid parameter 'path'");
  expect_build_error({"-tpmdev", "fake,id=a,fail=maybe"},
                     "qtpm-system-x86_64: -tpmdev fake,id=a,fail=maybe: Parameter 'fail' expects 'on' or 'off'");
  expect_build_error({"-tpmdev", "fake,id=a,fail=on"},
                     "qtpm-system-x86_64: -tpmdev fake,id=a,fail=on: tpm-fake: realize failed as asked");
}
END_TEST

START_TEST(device_errors) {
  const char *p = "qtpm-system-x86_64: -device ";
  auto e = [&](std::vector<std::string> args, std::string msg) { expect_build_error(std::move(args), (p + msg).c_str()); };
  e({"-device", "nonesuch"}, "nonesuch: 'nonesuch' is not a valid device model name");
  e({"-device", "fake-tpm-sysbus"}, "fake-tpm-sysbus: 'fake-tpm-sysbus' is not a valid device model name");
  e({"-device", "ioapic"}, "ioapic: 'ioapic' is not a valid device model name");
  e({"-device", "device"}, "device: Parameter 'driver' expects a non-abstract device type");
  e({"-device", "fake-nouser-isa"}, "fake-nouser-isa: Parameter 'driver' expects a pluggable device type");
  e({"-device", "id=x"}, "id=x: Parameter 'driver' is missing");
  e({"-M", "none", "-device", "fake-tpm-isa"}, "fake-tpm-isa: No 'ISA' bus found for device 'fake-tpm-isa'");
  e({"-tpmdev", "fake,id=t", "-device", "fake-tpm-isa"}, "fake-tpm-isa: 'tpmdev' property is required");
  e({"-device", "fake-tpm-isa,tpmdev=nope"}, "fake-tpm-isa,tpmdev=nope: Property 'fake-tpm-isa.tpmdev' can't find value 'nope'");
  e({"-device", "fake-blob-isa,bogus=1"}, "fake-blob-isa,bogus=1: Property 'fake-blob-isa.bogus' not found");
  e({"-device", "fake-blob-isa,irq=x"}, "fake-blob-isa,irq=x: Parameter 'irq' expects uint32_t");
  e({"-device", "fake-blob-isa,irq=16"}, "fake-blob-isa,irq=16: IRQ 16 is outside valid range of 0 to 15");
  e({"-tpmdev", "fake,id=t", "-device", "fake-tpm-isa,tpmdev=t", "-device", "fake-tpm-crb,tpmdev=t"},
    "fake-tpm-crb,tpmdev=t: at most one TPM device is permitted");
  e({"-device", "fake-blob-isa", "-device", "fake-blob-isa"},
    "fake-blob-isa: memory region 'fake-blob-isa-mmio' [0xfed40000, 0xfed400ff] overlaps 'fake-blob-isa-mmio' "
    "[0xfed40000, 0xfed400ff]");
  e({"-device", "{\"driver\":\"fake-blob-isa\",\"ppi\":1}"},
    "{\"driver\":\"fake-blob-isa\",\"ppi\":1}: Invalid parameter type for 'ppi', expected: boolean");
  e({"-device", "{\"driver\":\"fake-blob-isa\",\"irq\":\"5\"}"},
    "{\"driver\":\"fake-blob-isa\",\"irq\":\"5\"}: Invalid parameter type for 'irq', expected: integer");
  e({"-device", "{\"driver\":\"fake-blob-isa\",\"tpmdev\":true}"},
    "{\"driver\":\"fake-blob-isa\",\"tpmdev\":true}: Invalid parameter type for 'tpmdev', expected: string");
  expect_build_error({"-M", "none", "-device", "fake-tpm-sysbus"},
                     "qtpm-system-aarch64: -device fake-tpm-sysbus: Parameter 'driver' expects a dynamic sysbus device "
                     "type for the machine",
                     "qtpm-system-aarch64");
  expect_build_error({"-M", "none", "-device", "fake-tpm-spapr"},
                     "qtpm-system-ppc64: -device fake-tpm-spapr: No 'spapr-vio-bus' bus found for device 'fake-tpm-spapr'",
                     "qtpm-system-ppc64");
  // JSON devices with correct kinds work.
  auto ok = build({"-device", "{\"driver\":\"fake-blob-isa\",\"ppi\":false,\"irq\":3,\"tpmdev\":\"\",\"id\":\"j\"}"});
  ck_assert_msg(ok->status.is_ok(), "%s", ok->status.message().c_str());
  CHECK_STR(object_resolve_path(ok->host->root(), "j")->get_property("irq")->c_str(), "3");
}
END_TEST

START_TEST(chardev_and_monitor_errors) {
  expect_build_error({"-chardev", "socket,id=c,path=/nonexistent/qtpm.sock"},
                     "qtpm-system-x86_64: -chardev socket,id=c,path=/nonexistent/qtpm.sock: Failed to connect to "
                     "'/nonexistent/qtpm.sock': No such file or directory");
  expect_build_error({"-mon", "chardev=nope,mode=control"},
                     "qtpm-system-x86_64: -mon chardev=nope,mode=control: chardev \"nope\" not found");
  expect_build_error({"-qtest", "stdio"}, "qtpm-system-x86_64: -qtest stdio: Failed to initialize device for qtest: \"stdio\"");
  expect_build_error({"-qtest", "unix:/nonexistent/q.sock"},
                     "qtpm-system-x86_64: -qtest unix:/nonexistent/q.sock: Failed to connect to '/nonexistent/q.sock': No "
                     "such file or directory");
  // A listening chardev (wait=off) works and is found through HostServices.
  std::string path = "/tmp/qtpm-test-chardev-" + std::to_string(getpid());
  auto b = build({"-chardev", "socket,id=m,path=" + path + ",server=on,wait=off", "-mon", "chardev=m,mode=control"});
  ck_assert_msg(b->status.is_ok(), "%s", b->status.message().c_str());
  Chardev *c = b->host->find_chardev("m");
  ck_assert_ptr_nonnull(c);
  ck_assert(c->is_server());
  ck_assert_ptr_eq(object_resolve_path(b->host->root(), "/chardevs/m"), c);
  ck_assert_ptr_null(b->host->find_chardev("x"));
  expect_build_error({"-chardev", "socket,id=m,path=" + path + "2,server=on,wait=off", "-mon", "chardev=m,mode=control",
                      "-mon", "chardev=m,mode=control"},
                     ("qtpm-system-x86_64: -mon chardev=m,mode=control: Device 'm' is in use"));
}
END_TEST

START_TEST(reset_teardown_and_states) {
  int finalized = FakeBackend::finalized;
  auto b = build({"-tpmdev", "fake,id=t", "-device", "fake-tpm-isa,tpmdev=t,id=tis", "-device", "fake-tpm-spapr,tpmdev=t"},
                 "qtpm-system-x86_64");
  // The spapr fake is not on x86: the build fails and everything created so far is undone.
  ck_assert(!b->status.is_ok());
  b->host->shutdown();
  ck_assert_int_eq(FakeBackend::finalized, finalized + 1);

  auto g = build({"-tpmdev", "fake,id=t", "-device", "fake-tpm-isa,tpmdev=t,id=tis", "-S"});
  ck_assert(g->status.is_ok());
  Host &h = *g->host;
  ck_assert(h.run_state() == RunState::kPrelaunch);
  FakeTpmDevice *dev = device_at(h, "tis");
  h.reset_devices();
  ck_assert_int_eq(dev->resets, 2);
  ck_assert(!h.incoming_migration_pending());
  h.shutdown();
  ck_assert_int_eq(FakeBackend::finalized, finalized + 2);
  ck_assert_ptr_null(h.root());
  h.shutdown();  // idempotent

  auto in = build({"-incoming", "defer"});
  ck_assert(in->host->run_state() == RunState::kInmigrate);
  ck_assert(in->host->incoming_migration_pending());
  in->host->set_incoming_done();
  ck_assert(!in->host->incoming_migration_pending());
}
END_TEST

START_TEST(completion_loop_is_the_hosts) {
  auto b = build({});
  int ran = 0;
  b->host->completion_loop().post([&] { ran++; });
  ck_assert_int_eq(b->loop.run_pending(), 1);
  ck_assert_int_eq(ran, 1);
}
END_TEST

}  // namespace

int main() {
  qtpm::testing::register_fake_types();
  Suite *s = suite_create("machine");
  TCase *tc = tcase_create("host");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, isa_tpm_on_pc);
  tcase_add_test(tc, q35_ram_split_and_clear);
  tcase_add_test(tc, virt_platform_bus_and_gic);
  tcase_add_test(tc, platform_bus_placement_order);
  tcase_add_test(tc, crb_and_spapr);
  tcase_add_test(tc, port_io_regions);
  tcase_add_test(tc, tpmdev_errors);
  tcase_add_test(tc, device_errors);
  tcase_add_test(tc, chardev_and_monitor_errors);
  tcase_add_test(tc, reset_teardown_and_states);
  tcase_add_test(tc, completion_loop_is_the_hosts);
  suite_add_tcase(s, tc);
  return qtpm::testing::run_suite(s);
}
