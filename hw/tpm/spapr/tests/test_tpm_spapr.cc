// SPDX-License-Identifier: GPL-2.0-or-later
//
// Unit tests for tpm-spapr (the IBM vTPM CRQ protocol as QEMU 7.2 serves it, Linux tpm_ibmvtpm as
// the consumer): type and realize, unit address and interrupt, the device-tree node, every CRQ
// hcall's checks and return codes, every message, TPM commands over DMA, H_BUSY, DMA failures,
// a full queue, signalling, reset and startup failure.  The device sits on the VIO bus of
// qtpm-system over a flat guest memory (spapr_rig.h) with a scripted backend.
#include "qom/testing.h"

#include <thread>

#include "hw/tpm/spapr/tests/spapr_rig.h"
#include "qom/trace.h"

using namespace qtpm;
using namespace qtpm::spapr;
using namespace qtpm::testing;

namespace {

using Rig = SpaprRig;
constexpr uint64_t kBuf = Rig::kBufferIoba;

bool started_ok(Rig &rig) {
  Status st = rig.start();
  if (!st) std::fprintf(stderr, "start: %s\n", st.message().c_str());
  return st.is_ok();
}

// A TPM2 command: header (tag 0x8001, size, code) + body.
std::vector<uint8_t> tpm2_command(uint32_t code, size_t body = 0) {
  uint32_t size = uint32_t(kTpmHeaderSize + body);
  std::vector<uint8_t> c = {0x80, 0x01, uint8_t(size >> 24), uint8_t(size >> 16), uint8_t(size >> 8),
                            uint8_t(size), uint8_t(code >> 24), uint8_t(code >> 16), uint8_t(code >> 8),
                            uint8_t(code)};
  for (size_t i = 0; i < body; i++) c.push_back(uint8_t(i));
  return c;
}

void expect_element(const std::optional<CrqElement> &e, uint8_t valid, uint8_t msg, uint16_t len,
                    uint32_t data) {
  ck_assert_msg(e.has_value(), "expected a response 0x%02x/0x%02x", valid, msg);
  ck_assert_uint_eq(e->valid, valid);
  ck_assert_uint_eq(e->msg, msg);
  ck_assert_uint_eq(e->len, len);
  ck_assert_uint_eq(e->data, data);
  ck_assert_uint_eq(e->reserved, 0);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Type, properties, realize, plug

START_TEST(test_type_registration) {
  register_builtin_types();
  const TypeInfo *t = type_find(kTypeTpmSpapr);
  ck_assert_ptr_nonnull(t);
  ck_assert_str_eq(t->parent.c_str(), kTypeVioSpaprDevice);
  ck_assert_str_eq(t->bus.c_str(), "spapr-vio");
  ck_assert(type_is_a(kTypeTpmSpapr, kTypeTpmIf));
  ck_assert(type_is_a(kTypeTpmSpapr, kTypeDevice));
  ck_assert(!t->abstract);
  ck_assert(t->user_creatable);
  ck_assert(type_find(kTypeVioSpaprDevice)->abstract);
  Rig rig;
  ck_assert(rig.dev->get_property("reg") == std::string("4294967295"));
  ck_assert(rig.dev->get_property("tpmdev") == std::string(""));
  ck_assert_str_eq(rig.dev->tpm_model(), "tpm-spapr");
  ck_assert_str_eq(rig.dev->state_section(), "tpm-spapr");
  ck_assert_uint_eq(rig.dev->signal_mask(), 1);
  ck_assert_uint_eq(rig.dev->rtce_window_size(), 0x10000000);
}
END_TEST

START_TEST(test_realize_errors) {
  {
    Rig rig;
    Status st = rig.dev->realize();
    ck_assert_str_eq(st.message().c_str(), "'tpmdev' property is required");
  }
  {
    Rig rig;
    ck_assert(rig.dev->set_property("tpmdev", "nope").is_ok());
    Status st = rig.dev->realize();
    ck_assert_str_eq(st.message().c_str(), "Property 'tpm-spapr.tpmdev' can't find value 'nope'");
  }
  {
    Rig rig;
    ck_assert(started_ok(rig));
    std::unique_ptr<Object> second = object_new(kTypeTpmSpapr);
    auto *dev2 = object_cast<TpmSpapr>(second.get());
    dev2->set_host(&rig.host);
    ck_assert(dev2->set_property("tpmdev", "tpm0").is_ok());
    Status st = dev2->realize();
    ck_assert_str_eq(st.message().c_str(), "TPM backend 'tpm0' is already initialized");
  }
  {
    Rig rig;
    ck_assert(!rig.dev->set_property("reg", "0x100000000").is_ok());
    ck_assert(!rig.dev->set_property("reg", "-1").is_ok());
  }
}
END_TEST

START_TEST(test_unit_address_and_interrupt) {
  {
    // An empty bus: the first address QEMU hands out.
    Rig rig;
    ck_assert(started_ok(rig));
    ck_assert_uint_eq(rig.unit(), kVioRegBase);
    ck_assert_uint_eq(rig.dev->irq_number(), kIrqVio);
    ck_assert(rig.dev->get_property("reg") == std::to_string(kVioRegBase));
  }
  {
    // After pseries' default VIO devices (vty, nvram, vlan, vscsi), as QEMU under libqtest.
    Rig rig({.builtin_units = true});
    ck_assert(started_ok(rig));
    ck_assert_uint_eq(rig.unit(), 0x71000004);
    ck_assert_uint_eq(rig.dev->irq_number(), 0x1104);
    ck_assert_str_eq(rig.dev->id().c_str(), "vtpm@71000004");
    ck_assert_ptr_nonnull(rig.dev->child("tce-table-71000004"));
  }
  {
    Rig rig({.builtin_units = true, .reg = "0x71000001"});
    Status st = rig.start();
    ck_assert_str_eq(st.message().c_str(), "tpm-spapr and spapr-nvram devices conflict at address 0x71000001");
  }
  {
    // reg 0 maps to the vty's interrupt (QEMU: "IRQ 4352 is not free").
    Rig rig({.builtin_units = true, .reg = "0"});
    Status st = rig.start();
    ck_assert_str_eq(st.message().c_str(), "IRQ 4352 is not free");
  }
  {
    // libvirt's numbering: 0x1000 * n, and 0x30000000 + 0x1000 * n for ttys.
    Rig rig({.builtin_units = true, .reg = "0x30001000"});
    ck_assert(started_ok(rig));
    ck_assert_uint_eq(rig.dev->irq_number(), 0x11f1);
    ck_assert_ptr_nonnull(rig.bus.find_tce_table(0x30001000));
  }
  ck_assert_uint_eq(vio_reg_to_irq(0x2000), 0x1102);
  ck_assert_uint_eq(vio_reg_to_irq(0x710000ff), 0x11ff);
}
END_TEST

START_TEST(test_device_tree_node) {
  Rig rig({.builtin_units = true});
  ck_assert(started_ok(rig));
  DtNode node = rig.dev->device_tree_node();
  ck_assert_str_eq(node.name.c_str(), "vtpm@71000004");
  std::vector<std::string> names;
  for (const DtProperty &p : node.properties) names.push_back(p.name);
  std::vector<std::string> expected = {"reg", "device_type", "compatible", "interrupts",
                                       "ibm,#dma-address-cells", "ibm,#dma-size-cells",
                                       "ibm,my-dma-window"};
  ck_assert(names == expected);
  ck_assert(node.find("reg")->value == (std::vector<uint8_t>{0x71, 0, 0, 4}));
  ck_assert(node.find("device_type")->value == DtProperty::string("", "IBM,vtpm").value);
  ck_assert(node.find("compatible")->value == DtProperty::string("", "IBM,vtpm20").value);
  ck_assert(node.find("interrupts")->value == (std::vector<uint8_t>{0, 0, 0x11, 0x04, 0, 0, 0, 0}));
  ck_assert(node.find("ibm,my-dma-window")->value ==
            DtProperty::cells("", {0x71000004, 0, 0, 0, 0x10000000}).value);
  ck_assert(node.find("ibm,#dma-size-cells")->value == DtProperty::cells("", {2}).value);

  // TPM 1.2: the older compatible string (Linux then drives it as a TPM 1.2).
  Rig rig12;
  rig12.backend.tpm_version = TpmVersion::k1_2;
  ck_assert(started_ok(rig12));
  std::string compatible = rig12.dev->dt_compatible();
  ck_assert_str_eq(compatible.c_str(), "IBM,vtpm");
}
END_TEST

// ---------------------------------------------------------------------------------------------
// Hypervisor calls

START_TEST(test_reg_crq_checks) {
  Rig rig;
  ck_assert(started_ok(rig));
  uint64_t u = rig.unit();
  // QEMU's order: size, alignment, (CRQ support), already registered.
  ck_assert_int_eq(rig.hcall(kHRegCrq, {u + 1, 0, 0x1000}), kHParameter);  // no such unit
  ck_assert_int_eq(rig.hcall(kHRegCrq, {u, 0, 0xfff}), kHParameter);
  ck_assert_int_eq(rig.hcall(kHRegCrq, {u, 0, 0x10000001}), kHParameter);
  ck_assert_int_eq(rig.hcall(kHRegCrq, {u, 0x800, 0x1000}), kHParameter);
  ck_assert(!rig.dev->crq_queue().registered());
  ck_assert_int_eq(rig.hcall(kHRegCrq, {u, 0x2000, 0x10000000}), kHSuccess);
  ck_assert_uint_eq(rig.dev->crq_queue().qladdr, 0x2000);
  ck_assert_uint_eq(rig.dev->crq_queue().qsize, 0x10000000);
  ck_assert_int_eq(rig.hcall(kHRegCrq, {u, 0, 0x1000}), kHResource);
  // Linux's ibmvtpm_reset_crq: free, then register again.
  ck_assert_int_eq(rig.hcall(kHFreeCrq, {u}), kHSuccess);
  ck_assert(!rig.dev->crq_queue().registered());
  ck_assert_int_eq(rig.hcall(kHFreeCrq, {u}), kHSuccess);  // freeing nothing is fine
  ck_assert_int_eq(rig.hcall(kHRegCrq, {u, 0, 0x1000}), kHSuccess);
  ck_assert_int_eq(rig.hcall(kHEnableCrq, {u}), kHSuccess);
  // A unit address wider than 32 bits is no unit.
  ck_assert_int_eq(rig.hcall(kHEnableCrq, {u | (uint64_t{1} << 32)}), kHParameter);
  for (uint64_t op : {kHFreeCrq, kHSendCrq, kHEnableCrq, kHVioSignal}) {
    ck_assert_int_eq(rig.hcall(op, {0x12345678}), kHParameter);
  }
}
END_TEST

START_TEST(test_vio_signal_and_unknown_hcalls) {
  Rig rig;
  ck_assert(started_ok(rig));
  uint64_t u = rig.unit();
  ck_assert_int_eq(rig.hcall(kHVioSignal, {u, 2}), kHParameter);
  ck_assert_int_eq(rig.hcall(kHVioSignal, {u, 3}), kHParameter);
  ck_assert_uint_eq(rig.dev->signal_state(), 0);
  ck_assert_int_eq(rig.hcall(kHVioSignal, {u, 1}), kHSuccess);
  ck_assert_uint_eq(rig.dev->signal_state(), 1);
  ck_assert_int_eq(rig.hcall(kHVioSignal, {u, 0}), kHSuccess);
  ck_assert_uint_eq(rig.dev->signal_state(), 0);
  ck_assert_int_eq(rig.hcall(0x4, {u}), kHFunction);      // H_REMOVE: not on this bus
  ck_assert_int_eq(rig.hcall(0x110, {u}), kHFunction);    // H_COPY_RDMA: not implemented
  ck_assert_int_eq(rig.hcall(kHPutTce, {u + 1, 0, 0}), kHParameter);  // no such LIOBN
  ck_assert_int_eq(rig.hcall(kHPutTce, {u, 0x10000000, 3}), kHParameter);  // past the window
  ck_assert_int_eq(rig.hcall(kHPutTce, {u, 0x0ffff123, 0x5003}), kHSuccess);
  host::HcallResult get = rig.bus.hcall(kHGetTce, std::vector<uint64_t>{u, 0x0ffff000});
  ck_assert_int_eq(get.status, kHSuccess);
  ck_assert_uint_eq(get.outputs.size(), 1);
  ck_assert_uint_eq(get.outputs[0], 0x5003);
  ck_assert_int_eq(rig.bus.hcall(kHGetTce, std::vector<uint64_t>{u, 0x10000000}).status, kHParameter);
}
END_TEST

// ---------------------------------------------------------------------------------------------
// Messages

START_TEST(test_init_handshake) {
  Rig rig;
  ck_assert(started_ok(rig));
  rig.setup_driver();
  // Linux: INIT_CRQ_CMD = 0xC001000000000000, INIT_CRQ_COMP_CMD = 0xC002000000000000.
  ck_assert_int_eq(rig.hcall(kHSendCrq, {rig.unit(), 0xC001000000000000ull, 0}), kHSuccess);
  expect_element(rig.pop(), kCrqValidInit, kCrqInit, 0, 0);
  ck_assert_int_eq(rig.hcall(kHSendCrq, {rig.unit(), 0xC002000000000000ull, 0}), kHSuccess);
  expect_element(rig.pop(), kCrqValidInit, kCrqInitComplete, 0, 0);
  // Unknown init messages and valid bytes: no answer, and the hcall still succeeds.
  unsigned long errors = log_guest_count(LogCategory::kGuestError);
  ck_assert_int_eq(rig.send(kCrqValidInit, 0x03), kHSuccess);
  ck_assert_int_eq(rig.send(0x40, kCrqInit), kHSuccess);
  ck_assert_int_eq(rig.send(kCrqValidCommand, 0x05), kHSuccess);
  ck_assert_int_eq(rig.send(0, 0), kHSuccess);
  ck_assert(!rig.pop().has_value());
  ck_assert_uint_eq(log_guest_count(LogCategory::kGuestError), errors + 4);
  ck_assert_int_eq(rig.irq_pulses, 2);
}
END_TEST

START_TEST(test_get_version) {
  for (TpmVersion v : {TpmVersion::k2_0, TpmVersion::k1_2}) {
    Rig rig;
    rig.backend.tpm_version = v;
    ck_assert(started_ok(rig));
    rig.setup_driver();
    // The request's len and data are ignored, the response's len is 0.
    ck_assert_int_eq(rig.send(kCrqValidCommand, kVtpmGetVersion, 77, 0xdead), kHSuccess);
    expect_element(rig.pop(), kCrqValidCommand, kVtpmGetVersion | kVtpmResponse, 0,
                   v == TpmVersion::k2_0 ? kVtpmVersion20 : kVtpmVersion12);
    ck_assert(rig.dev->tpm_version() == v);
  }
}
END_TEST

START_TEST(test_get_rtce_buffer_size) {
  for (uint32_t backend_size : {4096u, 2048u, 8192u}) {
    Rig rig;
    rig.backend.max_buffer = backend_size;
    ck_assert(started_ok(rig));
    rig.setup_driver();
    ck_assert_int_eq(rig.send(kCrqValidCommand, kVtpmGetRtceBufferSize), kHSuccess);
    uint16_t expected = uint16_t(std::min(backend_size, kVtpmBufferMax));
    expect_element(rig.pop(), kCrqValidCommand, kVtpmGetRtceBufferSize | kVtpmResponse, expected, 0);
    // The TPM was started with that size.
    ck_assert_uint_eq(rig.backend.startups().back(), expected);
  }
}
END_TEST

START_TEST(test_prepare_to_suspend) {
  Rig rig;
  ck_assert(started_ok(rig));
  rig.setup_driver();
  ck_assert_int_eq(rig.send(kCrqValidCommand, kVtpmPrepareToSuspend, 9, 9), kHSuccess);
  expect_element(rig.pop(), kCrqValidCommand, kVtpmPrepareToSuspend | kVtpmResponse, 0, 0);
}
END_TEST

// ---------------------------------------------------------------------------------------------
// TPM commands

START_TEST(test_command_round_trip) {
  Rig rig;
  ck_assert(started_ok(rig));
  rig.setup_driver();
  std::vector<uint8_t> reply = tpm2_response(0);
  reply.push_back(0xab);
  reply[5] = 11;
  rig.backend.push_reply({reply});
  std::vector<uint8_t> command = tpm2_command(0x17b, 2);
  std::vector<uint8_t> response = rig.transact(command);
  ck_assert(response == reply);
  ck_assert_uint_eq(rig.backend.commands().size(), 1);
  ck_assert(rig.backend.commands()[0] == command);
  ck_assert(rig.dev->state() == TpmSpapr::State::kCompletion);
  ck_assert_uint_eq(rig.dev->command_ioba(), kBuf);
  // A second one (the buffer is reused).
  ck_assert(rig.transact(tpm2_command(0x144)) == tpm2_response(0));
  // A backend that answers nothing at all (found by the fuzzer): an empty response, no crash.
  rig.backend.push_reply({std::vector<uint8_t>()});
  rig.write_buffer(tpm2_command(0x144));
  ck_assert_int_eq(rig.send(kCrqValidCommand, kVtpmTpmCommand, 10, uint32_t(kBuf)), kHSuccess);
  expect_element(rig.wait_response(), kCrqValidCommand, kVtpmTpmCommand | kVtpmResponse, 0, uint32_t(kBuf));
  ck_assert_int_eq(rig.irq_pulses, 3);
}
END_TEST

START_TEST(test_command_length_from_header) {
  Rig rig;
  ck_assert(started_ok(rig));
  rig.setup_driver();
  // A header claiming 5 bytes: a whole header goes to the TPM, which judges it.
  std::vector<uint8_t> shorty = tpm2_command(0x17b);
  shorty[5] = 5;
  rig.transact(shorty);
  ck_assert_uint_eq(rig.backend.commands().back().size(), kTpmHeaderSize);
  // One claiming more than the buffer is cut at the RTCE buffer size (QEMU's MIN).
  std::vector<uint8_t> huge = tpm2_command(0x17b, 100);
  huge[2] = 0x7f;
  rig.transact(huge);
  ck_assert_uint_eq(rig.backend.commands().back().size(), kVtpmBufferMax);
  // The CRQ's len does not matter, the header does.
  rig.write_buffer(tpm2_command(0x17b, 4));
  ck_assert_int_eq(rig.send(kCrqValidCommand, kVtpmTpmCommand, 3, uint32_t(kBuf)), kHSuccess);
  ck_assert(rig.wait_response().has_value());
  ck_assert_uint_eq(rig.backend.commands().back().size(), kTpmHeaderSize + 4);
}
END_TEST

START_TEST(test_command_crosses_pages) {
  // The buffer spans two I/O pages mapped to guest pages in reverse order.
  Rig rig;
  ck_assert(started_ok(rig));
  rig.setup_driver();
  ck_assert_int_eq(rig.put_tce(0x4000, 0x31000), kHSuccess);
  ck_assert_int_eq(rig.put_tce(0x5000, 0x30000), kHSuccess);
  std::vector<uint8_t> command = tpm2_command(0x17b, 300);
  uint64_t ioba = 0x4f00;
  std::vector<uint8_t> first(command.begin(), command.begin() + 0x100);
  std::vector<uint8_t> second(command.begin() + 0x100, command.end());
  rig.write_buffer(first, 0x31f00);
  rig.write_buffer(second, 0x30000);
  std::vector<uint8_t> reply(400, 0x5a);
  reply[0] = 0x80;
  reply[1] = 0x01;
  reply[2] = reply[3] = reply[4] = 0;
  reply[5] = uint8_t(400 - 256);
  reply[4] = 1;
  rig.backend.push_reply({reply});
  ck_assert_int_eq(rig.send(kCrqValidCommand, kVtpmTpmCommand, uint16_t(command.size()), uint32_t(ioba)), kHSuccess);
  std::optional<CrqElement> r = rig.wait_response();
  expect_element(r, kCrqValidCommand, kVtpmTpmCommand | kVtpmResponse, 400, uint32_t(ioba));
  ck_assert(rig.backend.commands().back() == command);
  std::vector<uint8_t> got = rig.read_buffer(0x100, 0x31f00);
  std::vector<uint8_t> rest = rig.read_buffer(400 - 0x100, 0x30000);
  got.insert(got.end(), rest.begin(), rest.end());
  ck_assert(got == reply);
}
END_TEST

START_TEST(test_busy_while_executing) {
  Rig rig;
  ck_assert(started_ok(rig));
  rig.setup_driver();
  rig.backend.set_hold(true);
  rig.write_buffer(tpm2_command(0x17b));
  ck_assert_int_eq(rig.send(kCrqValidCommand, kVtpmTpmCommand, 10, uint32_t(kBuf)), kHSuccess);
  ck_assert(rig.backend.wait_held());
  ck_assert(rig.dev->state() == TpmSpapr::State::kExecution);
  // Linux's driver waits; a second command gets H_BUSY and is not run.
  ck_assert_int_eq(rig.send(kCrqValidCommand, kVtpmTpmCommand, 10, uint32_t(kBuf)), kHBusy);
  // Other messages are still answered.
  ck_assert_int_eq(rig.send(kCrqValidCommand, kVtpmGetVersion), kHSuccess);
  expect_element(rig.pop(), kCrqValidCommand, kVtpmGetVersion | kVtpmResponse, 0, kVtpmVersion20);
  ck_assert(!rig.pop().has_value());
  rig.backend.set_hold(false);
  rig.backend.release();
  expect_element(rig.wait_response(), kCrqValidCommand, kVtpmTpmCommand | kVtpmResponse, 10, uint32_t(kBuf));
  ck_assert_uint_eq(rig.backend.commands().size(), 1);
  ck_assert(rig.transact(tpm2_command(0x17b)) == tpm2_response(0));
}
END_TEST

START_TEST(test_copy_in_failure) {
  Rig rig;
  ck_assert(started_ok(rig));
  rig.setup_driver();
  unsigned long errors = log_guest_count(LogCategory::kGuestError);
  // Not mapped at all.
  ck_assert_int_eq(rig.send(kCrqValidCommand, kVtpmTpmCommand, 10, 0x9000), kHSuccess);
  expect_element(rig.pop(), kCrqValidCommand, kVtpmError, 0, kVtpmErrCopyInFailed);
  // Mapped for device writes only.
  ck_assert_int_eq(rig.put_tce(0x9000, 0x40000, kTceWrite), kHSuccess);
  ck_assert_int_eq(rig.send(kCrqValidCommand, kVtpmTpmCommand, 10, 0x9000), kHSuccess);
  expect_element(rig.pop(), kCrqValidCommand, kVtpmError, 0, kVtpmErrCopyInFailed);
  // The header is readable, the rest of the command is not.
  ck_assert_int_eq(rig.put_tce(0xa000, 0x41000, kTceRead), kHSuccess);
  std::vector<uint8_t> command = tpm2_command(0x17b, 100);
  rig.write_buffer(command, 0x41fa0);
  ck_assert_int_eq(rig.send(kCrqValidCommand, kVtpmTpmCommand, 110, 0xafa0), kHSuccess);
  expect_element(rig.pop(), kCrqValidCommand, kVtpmError, 0, kVtpmErrCopyInFailed);
  // Nothing ran (QEMU would send its stale buffer to the TPM), and the device is not busy.
  ck_assert_uint_eq(rig.backend.commands().size(), 0);
  ck_assert(rig.dev->state() == TpmSpapr::State::kNone);
  ck_assert_uint_eq(log_guest_count(LogCategory::kGuestError), errors + 3);
  ck_assert(rig.transact(tpm2_command(0x17b)) == tpm2_response(0));
}
END_TEST

START_TEST(test_copy_out_failure) {
  Rig rig;
  ck_assert(started_ok(rig));
  rig.setup_driver();
  // The buffer page may be read by the device but not written.
  ck_assert_int_eq(rig.put_tce(kBuf, Rig::kBufferGpa, kTceRead), kHSuccess);
  std::vector<uint8_t> command = tpm2_command(0x17b);
  rig.write_buffer(command);
  ck_assert_int_eq(rig.send(kCrqValidCommand, kVtpmTpmCommand, 10, uint32_t(kBuf)), kHSuccess);
  expect_element(rig.wait_response(), kCrqValidCommand, kVtpmError, 0, kVtpmErrCopyOutFailed);
  ck_assert_uint_eq(rig.backend.commands().size(), 1);
  ck_assert(rig.read_buffer(command.size()) == command);  // untouched
  ck_assert(rig.dev->state() == TpmSpapr::State::kCompletion);
  // The guest unmaps the page before the response: the same.
  ck_assert_int_eq(rig.put_tce(kBuf, Rig::kBufferGpa), kHSuccess);
  rig.backend.set_hold(true);
  ck_assert_int_eq(rig.send(kCrqValidCommand, kVtpmTpmCommand, 10, uint32_t(kBuf)), kHSuccess);
  ck_assert(rig.backend.wait_held());
  ck_assert_int_eq(rig.put_tce(kBuf, 0, 0), kHSuccess);
  rig.backend.set_hold(false);
  rig.backend.release();
  expect_element(rig.wait_response(), kCrqValidCommand, kVtpmError, 0, kVtpmErrCopyOutFailed);
}
END_TEST

START_TEST(test_queue_full_and_wrap) {
  Rig rig;
  ck_assert(started_ok(rig));
  rig.setup_driver();
  // Fill every slot without consuming.
  for (unsigned i = 0; i < Rig::kSlots; i++) {
    ck_assert_int_eq(rig.send(kCrqValidCommand, kVtpmGetVersion), kHSuccess);
  }
  ck_assert_uint_eq(rig.dev->crq_queue().qnext, 0);  // wrapped to the first slot
  int pulses = rig.irq_pulses;
  unsigned long errors = log_guest_count(LogCategory::kGuestError);
  // The next response has no free slot: lost (as in QEMU), logged, no interrupt, slot intact.
  ck_assert_int_eq(rig.send(kCrqValidCommand, kVtpmPrepareToSuspend), kHSuccess);
  ck_assert_uint_eq(log_guest_count(LogCategory::kGuestError), errors + 1);
  ck_assert_int_eq(rig.irq_pulses, pulses);
  ck_assert_uint_eq(rig.slot(0).msg, kVtpmGetVersion | kVtpmResponse);
  // A TPM command's response is lost the same way; the device is ready for the next.
  rig.write_buffer(tpm2_command(0x17b));
  ck_assert_int_eq(rig.send(kCrqValidCommand, kVtpmTpmCommand, 10, uint32_t(kBuf)), kHSuccess);
  ck_assert(rig.host.run_until([&] { return rig.dev->state() == TpmSpapr::State::kCompletion; }));
  ck_assert_uint_eq(log_guest_count(LogCategory::kGuestError), errors + 2);
  // Consume everything: 256 version responses.
  for (unsigned i = 0; i < Rig::kSlots; i++) {
    expect_element(rig.pop(), kCrqValidCommand, kVtpmGetVersion | kVtpmResponse, 0, kVtpmVersion20);
  }
  ck_assert(!rig.pop().has_value());
  // Room again, and the queue keeps wrapping.
  for (unsigned i = 0; i < 3 * Rig::kSlots + 5; i++) {
    ck_assert_int_eq(rig.send(kCrqValidCommand, kVtpmPrepareToSuspend), kHSuccess);
    expect_element(rig.pop(), kCrqValidCommand, kVtpmPrepareToSuspend | kVtpmResponse, 0, 0);
  }
  ck_assert_uint_eq(rig.dev->crq_queue().qnext, 5 * kCrqElementSize);
}
END_TEST

START_TEST(test_queue_not_mapped_or_missing) {
  Rig rig;
  ck_assert(started_ok(rig));
  // No queue registered: the message is handled, the answer has nowhere to go.
  ck_assert_int_eq(rig.send(kCrqValidCommand, kVtpmGetVersion), kHSuccess);
  // A TPM command still runs (QEMU does the same), its response is lost.
  ck_assert_int_eq(rig.put_tce(kBuf, Rig::kBufferGpa), kHSuccess);
  rig.write_buffer(tpm2_command(0x17b));
  ck_assert_int_eq(rig.send(kCrqValidCommand, kVtpmTpmCommand, 10, uint32_t(kBuf)), kHSuccess);
  ck_assert(rig.host.run_until([&] { return rig.dev->state() == TpmSpapr::State::kCompletion; }));
  ck_assert_uint_eq(rig.backend.commands().size(), 1);
  // A queue registered at an address the window does not map.
  ck_assert_int_eq(rig.hcall(kHRegCrq, {rig.unit(), 0x100000, 0x1000}), kHSuccess);
  unsigned long errors = log_guest_count(LogCategory::kGuestError);
  ck_assert_int_eq(rig.send(kCrqValidCommand, kVtpmGetVersion), kHSuccess);
  ck_assert_uint_eq(log_guest_count(LogCategory::kGuestError), errors + 1);
  ck_assert_uint_eq(rig.dev->crq_queue().qnext, 0);
}
END_TEST

START_TEST(test_signal_pulses) {
  Rig rig;
  ck_assert(started_ok(rig));
  rig.setup_driver(false);
  ck_assert_int_eq(rig.send(kCrqValidCommand, kVtpmGetVersion), kHSuccess);
  ck_assert(rig.pop().has_value());
  ck_assert_int_eq(rig.irq_pulses, 0);
  ck_assert_int_eq(rig.hcall(kHVioSignal, {rig.unit(), 1}), kHSuccess);
  ck_assert_int_eq(rig.send(kCrqValidCommand, kVtpmGetVersion), kHSuccess);
  ck_assert(rig.pop().has_value());
  ck_assert_int_eq(rig.irq_pulses, 1);
  ck_assert(!rig.irq_level);  // a pulse, not a level
  rig.transact(tpm2_command(0x17b));
  ck_assert_int_eq(rig.irq_pulses, 2);
}
END_TEST

// ---------------------------------------------------------------------------------------------
// Reset

START_TEST(test_reset_quiesces) {
  Rig rig;
  ck_assert(started_ok(rig));
  rig.setup_driver();
  rig.transact(tpm2_command(0x17b));
  size_t startups = rig.backend.startups().size();
  rig.dev->reset();
  ck_assert(!rig.dev->crq_queue().registered());
  ck_assert_uint_eq(rig.dev->signal_state(), 0);
  ck_assert(rig.dev->state() == TpmSpapr::State::kNone);
  ck_assert_uint_eq(rig.backend.startups().size(), startups + 1);
  // Every TCE is gone: the guest maps and registers again (H_RESOURCE would mean a stale queue).
  host::HcallResult get = rig.bus.hcall(kHGetTce, std::vector<uint64_t>{rig.unit(), kBuf});
  ck_assert_uint_eq(get.outputs.at(0), 0);
  // So a command from the old mapping cannot be read, and nothing runs.
  size_t commands = rig.backend.commands().size();
  rig.write_buffer(tpm2_command(0x17b));
  ck_assert_int_eq(rig.send(kCrqValidCommand, kVtpmTpmCommand, 10, uint32_t(kBuf)), kHSuccess);
  rig.host.loop.run_pending();
  ck_assert(rig.dev->state() == TpmSpapr::State::kNone);
  ck_assert_uint_eq(rig.backend.commands().size(), commands);
  // The driver probes again from scratch: H_REG_CRQ succeeds (no stale queue).
  std::memset(rig.ram->bytes.data() + Rig::kQueueGpa, 0, Rig::kQueueSize);
  rig.setup_driver();
  ck_assert(rig.transact(tpm2_command(0x17b)) == tpm2_response(0));
}
END_TEST

START_TEST(test_reset_while_executing) {
  Rig rig;
  ck_assert(started_ok(rig));
  rig.setup_driver();
  rig.backend.set_hold(true);
  rig.write_buffer(tpm2_command(0x17b));
  ck_assert_int_eq(rig.send(kCrqValidCommand, kVtpmTpmCommand, 10, uint32_t(kBuf)), kHSuccess);
  ck_assert(rig.backend.wait_held());
  std::vector<uint8_t> before = rig.read_buffer(64);
  std::thread releaser([&] {
    rig.backend.set_hold(false);
    rig.backend.release();
  });
  rig.dev->reset();  // waits for the command; its response goes nowhere
  releaser.join();
  rig.host.loop.run_pending();
  ck_assert(rig.dev->state() == TpmSpapr::State::kNone);
  ck_assert(rig.read_buffer(64) == before);
  ck_assert_uint_eq(rig.slot(0).valid, 0);
  rig.setup_driver();
  ck_assert(rig.transact(tpm2_command(0x17b)) == tpm2_response(0));
}
END_TEST

START_TEST(test_startup_failure_keeps_running) {
  Rig rig;
  ck_assert(started_ok(rig));
  rig.backend.fail_startup = true;
  rig.dev->reset();  // QEMU calls exit(1) here
  ck_assert_uint_eq(rig.host.errors.size(), 1);
  ck_assert_ptr_nonnull(strstr(rig.host.errors[0].c_str(), "tpm-spapr: TPM startup failed"));
  ck_assert(rig.dev->tpm_version() == TpmVersion::kUnspec);
  rig.setup_driver();
  // The guest still gets answers; TPM commands get the fatal response.
  ck_assert_int_eq(rig.send(kCrqValidCommand, kVtpmGetVersion), kHSuccess);
  expect_element(rig.pop(), kCrqValidCommand, kVtpmGetVersion | kVtpmResponse, 0, kVtpmVersion20);
  std::vector<uint8_t> response = rig.transact(tpm2_command(0x17b));
  ck_assert_uint_eq(response.size(), kTpmHeaderSize);
  ck_assert_uint_ne(tpm_header_code(response.data()), 0);
  // The next reset with a working backend recovers.
  rig.backend.fail_startup = false;
  rig.dev->reset();
  ck_assert(rig.dev->tpm_version() == TpmVersion::k2_0);
  ck_assert_uint_eq(rig.host.errors.size(), 1);
}
END_TEST

START_TEST(test_crq_sender_override) {
  // An embedder with its own CRQ layer (QEMU's) takes the responses.
  Rig rig;
  ck_assert(started_ok(rig));
  std::vector<CrqElement> sent;
  rig.dev->set_crq_sender([&](const CrqElement &e) {
    sent.push_back(e);
    return CrqSendResult::kSent;
  });
  ck_assert_int_eq(rig.send(kCrqValidInit, kCrqInit), kHSuccess);
  ck_assert_uint_eq(sent.size(), 1);
  ck_assert(sent[0] == (CrqElement{.valid = kCrqValidInit, .msg = kCrqInit}));
}
END_TEST

int main() {
  if (const char *t = std::getenv("QTPM_TRACE")) trace_enable_pattern(t);
  Suite *s = suite_create("tpm-spapr");
  TCase *tc = tcase_create("device");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_type_registration);
  tcase_add_test(tc, test_realize_errors);
  tcase_add_test(tc, test_unit_address_and_interrupt);
  tcase_add_test(tc, test_device_tree_node);
  tcase_add_test(tc, test_reg_crq_checks);
  tcase_add_test(tc, test_vio_signal_and_unknown_hcalls);
  tcase_add_test(tc, test_init_handshake);
  tcase_add_test(tc, test_get_version);
  tcase_add_test(tc, test_get_rtce_buffer_size);
  tcase_add_test(tc, test_prepare_to_suspend);
  tcase_add_test(tc, test_command_round_trip);
  tcase_add_test(tc, test_command_length_from_header);
  tcase_add_test(tc, test_command_crosses_pages);
  tcase_add_test(tc, test_busy_while_executing);
  tcase_add_test(tc, test_copy_in_failure);
  tcase_add_test(tc, test_copy_out_failure);
  tcase_add_test(tc, test_queue_full_and_wrap);
  tcase_add_test(tc, test_queue_not_mapped_or_missing);
  tcase_add_test(tc, test_signal_pulses);
  tcase_add_test(tc, test_reset_quiesces);
  tcase_add_test(tc, test_reset_while_executing);
  tcase_add_test(tc, test_startup_failure_keeps_running);
  tcase_add_test(tc, test_crq_sender_override);
  suite_add_tcase(s, tc);
  return run_suite(s);
}
