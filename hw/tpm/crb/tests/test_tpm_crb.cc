// SPDX-License-Identifier: GPL-2.0-or-later
//
// Unit tests for tpm-crb (TCG PTP 1.05 CRB, QEMU 7.2 behaviour): type and realize, every INTF_ID
// field, locality, idle/ready, commands, cancel, the error latch, both buffer layouts, PPI and
// memory clear, startup errors.  The checks mirror what Linux tpm_crb, EDK2 Tpm2Ptp.c and SeaBIOS
// rely on (peers-and-consumers.md 5.2-5.4).
#include "qom/testing.h"

#include <thread>

#include "hw/tpm/crb/tests/crb_rig.h"
#include "hw/tpm/tpm_fw_cfg.h"
#include "qom/trace.h"

using namespace qtpm;
using namespace qtpm::crb;
using namespace qtpm::testing;

namespace {

constexpr uint64_t kBase = kBaseAddress;
constexpr uint32_t kTpmCcGetRandom = 0x17b;

bool started_ok(CrbRig &rig) {
  Status st = rig.start();
  if (!st) std::fprintf(stderr, "start: %s\n", st.message().c_str());
  return st.is_ok();
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Type, properties, realize

START_TEST(test_type_registration) {
  register_builtin_types();
  const TypeInfo *t = type_find(kTypeTpmCrb);
  ck_assert_ptr_nonnull(t);
  ck_assert_str_eq(t->parent.c_str(), "device");
  ck_assert_str_eq(t->bus.c_str(), "pc-system");
  ck_assert(type_is_a(kTypeTpmCrb, kTypeTpmIf));
  ck_assert(!t->abstract);
  CrbRig rig;
  ck_assert(rig.crb->get_property("ppi") == std::string("true"));
  ck_assert(rig.crb->get_property("buffer-layout") == std::string("qemu"));
  ck_assert(rig.crb->get_property("tpmdev") == std::string(""));
  ck_assert_str_eq(rig.crb->tpm_model(), "tpm-crb");
  ck_assert_str_eq(rig.crb->state_section(), "tpm-crb");
}
END_TEST

START_TEST(test_realize_errors) {
  {
    CrbRig rig;
    Status st = rig.crb->realize();
    ck_assert_str_eq(st.message().c_str(), "'tpmdev' property is required");
    ck_assert(!rig.crb->realized());
  }
  {
    CrbRig rig;
    ck_assert(rig.crb->set_property("tpmdev", "nope").is_ok());
    Status st = rig.crb->realize();
    ck_assert_str_eq(st.message().c_str(), "Property 'tpm-crb.tpmdev' can't find value 'nope'");
  }
  {
    CrbRig rig;
    rig.backend.tpm_version = TpmVersion::k1_2;
    Status st = rig.start();
    ck_assert(!st.is_ok());
    ck_assert_ptr_nonnull(strstr(st.message().c_str(), "needs a TPM 2.0"));
    ck_assert_ptr_nonnull(strstr(st.message().c_str(), "TPM 1.2"));
    ck_assert_ptr_null(rig.backend.frontend());  // not bound
  }
  {
    CrbRig rig({.layout = "sideways"});
    Status st = rig.start();
    ck_assert_str_eq(st.message().c_str(),
                     "tpm-crb: property 'buffer-layout' must be 'qemu' or 'page-aligned', not "
                     "'sideways'");
    ck_assert_ptr_null(rig.backend.frontend());
  }
  {
    // A backend serves one frontend.
    CrbRig rig;
    ck_assert(started_ok(rig));
    std::unique_ptr<Object> second = object_new(kTypeTpmCrb);
    auto *crb2 = object_cast<TpmCrb>(second.get());
    crb2->set_host(&rig.host);
    ck_assert(crb2->set_property("tpmdev", "tpm0").is_ok());
    Status st = crb2->realize();
    ck_assert_str_eq(st.message().c_str(), "TPM backend 'tpm0' is already initialized");
  }
  {
    CrbRig rig;
    ck_assert(rig.crb->set_property("ppi", "maybe").is_ok() == false);
  }
}
END_TEST

// ---------------------------------------------------------------------------------------------
// Identification and reset values

START_TEST(test_intf_id_fields) {
  CrbRig rig;
  ck_assert(started_ok(rig));
  uint32_t id = rig.reg(A_INTF_ID);
  ck_assert_uint_eq(id, 0x00025811);
  ck_assert_uint_eq(intf_id::kInterfaceType.extract(id), 1);      // CRB interface active
  ck_assert_uint_eq(intf_id::kInterfaceVersion.extract(id), 1);   // CRB
  ck_assert_uint_eq(intf_id::kCapLocality.extract(id), 0);        // locality 0 only
  ck_assert_uint_eq(intf_id::kCapCrbIdleBypass.extract(id), 0);
  ck_assert_uint_eq(intf_id::kCapDataXferSizeSupport.extract(id), 3);  // 64 bytes
  ck_assert_uint_eq(intf_id::kCapFifo.extract(id), 0);
  ck_assert_uint_eq(intf_id::kCapCrb.extract(id), 1);
  ck_assert_uint_eq(intf_id::kInterfaceSelector.extract(id), 1);  // CRB selected
  ck_assert_uint_eq(intf_id::kIntfSelLock.extract(id), 0);
  ck_assert_uint_eq(intf_id::kRid.extract(id), 0);
  uint32_t id2 = rig.reg(A_INTF_ID2);
  ck_assert_uint_eq(intf_id2::kVid.extract(id2), 0x1014);
  ck_assert_uint_eq(intf_id2::kDid.extract(id2), 0);
  // Sub-word reads see the same bytes (EDK2 reads INTF_ID as a whole; SeaBIOS bytes too).
  ck_assert_uint_eq(rig.read(kBase + A_INTF_ID + 1, 1), 0x58);
  ck_assert_uint_eq(rig.read(kBase + A_INTF_ID + 2, 2), 0x0002);
  // 64-bit read of INTF_ID as the PTP defines it.
  ck_assert_uint_eq(rig.read(kBase + A_INTF_ID, 8), 0x0000101400025811ull);
  // SeaBIOS selects CRB and locks the selector: the register does not change.
  rig.set_reg(A_INTF_ID, (1u << 17) | (1u << 19));
  ck_assert_uint_eq(rig.reg(A_INTF_ID), intf_id::kValue);
}
END_TEST

START_TEST(test_reset_values) {
  CrbRig rig;
  ck_assert(started_ok(rig));
  // Not established: tpmEstablished reads 1; the register file is valid; nothing assigned.
  ck_assert_uint_eq(rig.reg(A_LOC_STATE), 0x81);
  rig.backend.established = true;
  ck_assert_uint_eq(rig.reg(A_LOC_STATE), 0x80);
  ck_assert_uint_eq(rig.reg(A_LOC_STS), 0);
  ck_assert_uint_eq(rig.reg(A_LOC_CTRL), 0);
  ck_assert_uint_eq(rig.reg(A_CTRL_REQ), 0);
  ck_assert_uint_eq(rig.reg(A_CTRL_STS), ctrl_sts::kTpmIdle.mask());
  ck_assert_uint_eq(rig.reg(A_CTRL_CANCEL), 0);
  ck_assert_uint_eq(rig.reg(A_CTRL_START), 0);
  ck_assert_uint_eq(rig.reg(A_CTRL_EXT), 0);
  ck_assert_uint_eq(rig.reg(A_INT_ENABLE), 0);
  ck_assert_uint_eq(rig.reg(A_INT_STS), 0);
  ck_assert_uint_eq(rig.reg(A_CTRL_CMD_SIZE), 0xf80);
  ck_assert_uint_eq(rig.reg(A_CTRL_CMD_LADDR), 0xfed40080);
  ck_assert_uint_eq(rig.reg(A_CTRL_CMD_HADDR), 0);  // SeaBIOS requires it
  ck_assert_uint_eq(rig.reg(A_CTRL_RSP_SIZE), 0xf80);
  ck_assert_uint_eq(rig.read(kBase + A_CTRL_RSP_ADDR, 8), 0xfed40080);
  // EDK2's presence test: the first byte is not 0xff.
  ck_assert_uint_ne(rig.read(kBase, 1), 0xff);
  // Reserved space reads 0 and is reported as unmapped.
  AccessOutcome o;
  ck_assert_uint_eq(rig.read(kBase + 0x04, 4, &o), 0);
  ck_assert(o == AccessOutcome::kUnmapped);
  ck_assert_uint_eq(rig.read(kBase + 0x70, 4, &o), 0);
  ck_assert(o == AccessOutcome::kUnmapped);
  // Backend startup got the negotiated size.
  ck_assert_int_eq(rig.backend.startups().size(), 1);
  ck_assert_uint_eq(rig.backend.startups()[0], 0xf80);
  ck_assert_uint_eq(rig.crb->backend_buffer_size(), 0xf80);
}
END_TEST

START_TEST(test_buffer_address_writes_ignored) {
  // OVMF writes the buffer registers before START; the device keeps its own values.
  CrbRig rig;
  ck_assert(started_ok(rig));
  AccessOutcome o;
  rig.write(kBase + A_CTRL_CMD_LADDR, 0x12345678, 4, &o);
  ck_assert(o == AccessOutcome::kIgnored);
  rig.set_reg(A_CTRL_CMD_SIZE, 0x10);
  rig.set_reg(A_CTRL_RSP_ADDR, 0);
  rig.set_reg(A_CTRL_STS, 0xffffffff);
  rig.set_reg(A_LOC_STATE, 0);
  rig.set_reg(A_LOC_STS, 3);
  ck_assert_uint_eq(rig.reg(A_CTRL_CMD_LADDR), 0xfed40080);
  ck_assert_uint_eq(rig.reg(A_CTRL_CMD_SIZE), 0xf80);
  ck_assert_uint_eq(rig.reg(A_CTRL_RSP_ADDR), 0xfed40080);
  ck_assert_uint_eq(rig.reg(A_CTRL_STS), 2);
  ck_assert_uint_eq(rig.reg(A_LOC_STATE), 0x81);
  ck_assert_uint_eq(rig.reg(A_LOC_STS), 0);
}
END_TEST

// ---------------------------------------------------------------------------------------------
// Locality and idle

START_TEST(test_locality_transitions) {
  CrbRig rig;
  ck_assert(started_ok(rig));
  rig.set_reg(A_LOC_CTRL, loc_ctrl::kRequestAccess);
  uint32_t state = rig.reg(A_LOC_STATE);
  ck_assert_uint_eq(loc_state::kLocAssigned.extract(state), 1);
  ck_assert_uint_eq(loc_state::kActiveLocality.extract(state), 0);
  ck_assert_uint_eq(loc_state::kTpmRegValidSts.extract(state), 1);
  ck_assert_uint_eq(rig.reg(A_LOC_STS), loc_sts::kGranted.mask());
  ck_assert_uint_eq(rig.reg(A_LOC_CTRL), 0);  // holds no state
  // Requesting again changes nothing.
  rig.set_reg(A_LOC_CTRL, loc_ctrl::kRequestAccess);
  ck_assert_uint_eq(rig.reg(A_LOC_STATE), 0x83);
  // Seize and resetEstablishment are not for locality 0: ignored, and noticed.
  unsigned long errors = log_guest_count(LogCategory::kGuestError);
  rig.set_reg(A_LOC_CTRL, loc_ctrl::kSeize);
  rig.set_reg(A_LOC_CTRL, loc_ctrl::kResetEstablishmentBit);
  ck_assert_uint_eq(log_guest_count(LogCategory::kGuestError), errors + 2);
  ck_assert_uint_eq(rig.reg(A_LOC_STATE), 0x83);
  ck_assert_uint_eq(rig.reg(A_LOC_STS), 1);
  // Exact values only: relinquish|request together is no command.
  rig.set_reg(A_LOC_CTRL, loc_ctrl::kRelinquish | loc_ctrl::kRequestAccess);
  ck_assert_uint_eq(rig.reg(A_LOC_STATE), 0x83);
  rig.set_reg(A_LOC_CTRL, loc_ctrl::kRelinquish);
  ck_assert_uint_eq(rig.reg(A_LOC_STATE), 0x81);
  ck_assert_uint_eq(rig.reg(A_LOC_STS), 0);
  // SeaBIOS: writeb(LOC_CTRL, 1).
  rig.write(kBase + A_LOC_CTRL, loc_ctrl::kRequestAccess, 1);
  ck_assert_uint_eq(rig.reg(A_LOC_STATE), 0x83);
  // A byte at the wrong offset is not a command (QEMU decodes the exact address).
  rig.write(kBase + A_LOC_CTRL + 1, loc_ctrl::kRelinquish, 1);
  ck_assert_uint_eq(rig.reg(A_LOC_STATE), 0x83);
  // A 16-bit write with the value in the low byte is.
  rig.write(kBase + A_LOC_CTRL, loc_ctrl::kRelinquish, 2);
  ck_assert_uint_eq(rig.reg(A_LOC_STATE), 0x81);
  // Reset returns the locality.
  rig.set_reg(A_LOC_CTRL, loc_ctrl::kRequestAccess);
  rig.crb->reset();
  ck_assert_uint_eq(rig.reg(A_LOC_STATE), 0x81);
  ck_assert_uint_eq(rig.reg(A_LOC_STS), 0);
}
END_TEST

START_TEST(test_idle_ready) {
  CrbRig rig;
  ck_assert(started_ok(rig));
  ck_assert_uint_eq(ctrl_sts::kTpmIdle.extract(rig.reg(A_CTRL_STS)), 1);
  rig.set_reg(A_CTRL_REQ, ctrl_req::kCmdReady);
  // Linux waits for CTRL_REQ.cmdReady to clear and CTRL_STS.tpmIdle to clear.
  ck_assert_uint_eq(rig.reg(A_CTRL_REQ), 0);
  ck_assert_uint_eq(rig.reg(A_CTRL_STS), 0);
  rig.set_reg(A_CTRL_REQ, ctrl_req::kGoIdle);
  ck_assert_uint_eq(rig.reg(A_CTRL_REQ), 0);
  ck_assert_uint_eq(rig.reg(A_CTRL_STS), ctrl_sts::kTpmIdle.mask());
  // Both bits at once, or junk: ignored.
  rig.set_reg(A_CTRL_REQ, ctrl_req::kGoIdle | ctrl_req::kCmdReady);
  ck_assert_uint_eq(rig.reg(A_CTRL_STS), ctrl_sts::kTpmIdle.mask());
  rig.set_reg(A_CTRL_REQ, 0x100 | ctrl_req::kCmdReady);
  ck_assert_uint_eq(rig.reg(A_CTRL_STS), ctrl_sts::kTpmIdle.mask());
  // Byte write of cmdReady works.
  rig.write(kBase + A_CTRL_REQ, ctrl_req::kCmdReady, 1);
  ck_assert_uint_eq(rig.reg(A_CTRL_STS), 0);
  // Idle does not gate START (QEMU): a command runs from the idle state too.
  rig.set_reg(A_CTRL_REQ, ctrl_req::kGoIdle);
  rig.set_reg(A_LOC_CTRL, loc_ctrl::kRequestAccess);
  rig.copy_in(0xfed40080, tpm2_command(kTpmCcGetRandom, {0, 8}));
  rig.set_reg(A_CTRL_START, 1);
  ck_assert(rig.host.run_until([&] { return rig.reg(A_CTRL_START) == 0; }));
  ck_assert_int_eq(rig.backend.commands().size(), 1);
}
END_TEST

// ---------------------------------------------------------------------------------------------
// Commands

START_TEST(test_full_command) {
  CrbRig rig;
  ck_assert(started_ok(rig));
  std::vector<uint8_t> reply = {0x80, 0x01, 0, 0, 0, 0x14, 0, 0, 0, 0, 0, 0x08,
                                1,    2,    3, 4, 5, 6,    7, 8};
  rig.backend.push_reply({reply});
  std::vector<uint8_t> command = tpm2_command(kTpmCcGetRandom, {0, 8});
  rig.set_reg(A_LOC_CTRL, loc_ctrl::kRequestAccess);
  rig.set_reg(A_CTRL_REQ, ctrl_req::kCmdReady);
  rig.copy_in(rig.reg(A_CTRL_CMD_LADDR), command);
  // Junk after the command must not be sent: the header's size decides.
  rig.write(0xfed40080 + command.size(), 0xdeadbeef, 4);
  rig.set_reg(A_CTRL_START, 1);
  // Asynchronous: START stays set until the completion runs on the main loop.
  ck_assert_uint_eq(rig.reg(A_CTRL_START), 1);
  ck_assert(rig.host.run_until([&] { return rig.reg(A_CTRL_START) == 0; }));
  ck_assert_int_eq(rig.backend.commands().size(), 1);
  ck_assert(rig.backend.commands()[0] == command);
  ck_assert(rig.copy_out(rig.reg(A_CTRL_RSP_ADDR), reply.size()) == reply);
  ck_assert_uint_eq(ctrl_sts::kTpmSts.extract(rig.reg(A_CTRL_STS)), 0);
  // And again, through the whole driver sequence.
  ck_assert(rig.transact(command) == tpm2_response(0));
  ck_assert_int_eq(rig.backend.commands().size(), 2);
}
END_TEST

START_TEST(test_start_rules) {
  CrbRig rig;
  ck_assert(started_ok(rig));
  rig.copy_in(0xfed40080, tpm2_command(kTpmCcGetRandom, {0, 8}));
  // No locality: START is ignored.
  rig.set_reg(A_CTRL_START, 1);
  ck_assert_uint_eq(rig.reg(A_CTRL_START), 0);
  rig.host.loop.run_pending();
  ck_assert_int_eq(rig.backend.commands().size(), 0);
  rig.set_reg(A_LOC_CTRL, loc_ctrl::kRequestAccess);
  // Not exactly 1: ignored.
  rig.set_reg(A_CTRL_START, 3);
  rig.write(kBase + A_CTRL_START + 1, 1, 1);
  ck_assert_uint_eq(rig.reg(A_CTRL_START), 0);
  // START while one runs: one command only.
  rig.backend.set_hold(true);
  rig.set_reg(A_CTRL_START, 1);
  ck_assert(rig.backend.wait_held());
  rig.set_reg(A_CTRL_START, 1);
  // goIdle and relinquish while it runs do not disturb it.
  rig.set_reg(A_CTRL_REQ, ctrl_req::kGoIdle);
  ck_assert_uint_eq(rig.reg(A_CTRL_START), 1);
  rig.backend.release();
  ck_assert(rig.host.run_until([&] { return rig.reg(A_CTRL_START) == 0; }));
  rig.host.loop.wait_and_run(20);
  ck_assert_int_eq(rig.backend.commands().size(), 1);
}
END_TEST

START_TEST(test_command_length_bounds) {
  // The backend's buffer is smaller than the CRB's: the device negotiates it.
  CrbRig rig;
  rig.backend.max_buffer = 1024;
  ck_assert(started_ok(rig));
  ck_assert_uint_eq(rig.backend.startups()[0], 1024);
  ck_assert_uint_eq(rig.crb->backend_buffer_size(), 1024);
  // The register still shows the buffer itself, as QEMU's does.
  ck_assert_uint_eq(rig.reg(A_CTRL_CMD_SIZE), 0xf80);
  std::vector<uint8_t> huge = {0x80, 0x01, 0xff, 0xff, 0xff, 0xff, 0, 0, 1, 0x7b};
  rig.transact(huge);
  ck_assert_uint_eq(rig.backend.commands().back().size(), 1024);
  // A header claiming fewer bytes than a header still sends the header.
  std::vector<uint8_t> tiny = {0x80, 0x01, 0, 0, 0, 2, 0, 0, 1, 0x7b};
  rig.transact(tiny);
  ck_assert(rig.backend.commands().back() == tiny);
  // A backend with a larger buffer is held to the CRB's.
  CrbRig big;
  big.backend.max_buffer = 8192;
  ck_assert(started_ok(big));
  ck_assert_uint_eq(big.backend.startups()[0], 0xf80);
  big.transact(huge);
  ck_assert_uint_eq(big.backend.commands().back().size(), 0xf80);
}
END_TEST

START_TEST(test_cancel) {
  CrbRig rig;
  ck_assert(started_ok(rig));
  rig.set_reg(A_LOC_CTRL, loc_ctrl::kRequestAccess);
  // Nothing running: cancel does nothing.
  rig.set_reg(A_CTRL_CANCEL, kCancelInvoke);
  ck_assert_int_eq(rig.backend.cancels(), 0);
  rig.backend.set_hold(true);
  rig.copy_in(0xfed40080, tpm2_command(kTpmCcGetRandom, {0, 8}));
  rig.set_reg(A_CTRL_START, 1);
  ck_assert(rig.backend.wait_held());
  // Linux's "zero CTRL_CANCEL" before a command is no cancel.
  rig.set_reg(A_CTRL_CANCEL, 0);
  rig.set_reg(A_CTRL_CANCEL, 3);
  ck_assert_int_eq(rig.backend.cancels(), 0);
  ck_assert_uint_eq(rig.reg(A_CTRL_CANCEL), 0);
  rig.set_reg(A_CTRL_CANCEL, kCancelInvoke);
  ck_assert_int_eq(rig.backend.cancels(), 1);
  ck_assert_uint_eq(rig.reg(A_CTRL_CANCEL), 0);  // never stored
  ck_assert(rig.host.run_until([&] { return rig.reg(A_CTRL_START) == 0; }));
  ck_assert(rig.copy_out(0xfed40080, 10) == tpm2_response(kTpmRcCanceled));
  // A cancelled command is not a device error.
  ck_assert_uint_eq(ctrl_sts::kTpmSts.extract(rig.reg(A_CTRL_STS)), 0);
}
END_TEST

START_TEST(test_error_latch) {
  CrbRig rig;
  ck_assert(started_ok(rig));
  rig.backend.push_reply({{}, true});
  std::vector<uint8_t> response = rig.transact(tpm2_command(kTpmCcGetRandom, {0, 8}));
  // The backend failed: a fatal response (QEMU's, TPM 1.2 tag) and tpmSts.
  const std::vector<uint8_t> fatal = {0x00, 0xc4, 0, 0, 0, 0x0a, 0, 0, 0, 0x09};
  ck_assert(response == fatal);
  ck_assert_uint_eq(ctrl_sts::kTpmSts.extract(rig.reg(A_CTRL_STS)), 1);
  // Sticky: a good command later does not clear it.
  ck_assert(rig.transact(tpm2_command(kTpmCcGetRandom, {0, 8})) == tpm2_response(0));
  ck_assert_uint_eq(ctrl_sts::kTpmSts.extract(rig.reg(A_CTRL_STS)), 1);
  // A TPM error code is not a device error.
  CrbRig other;
  ck_assert(started_ok(other));
  other.backend.push_reply({tpm2_response(0x101)});
  ck_assert(other.transact(tpm2_command(kTpmCcGetRandom)) == tpm2_response(0x101));
  ck_assert_uint_eq(ctrl_sts::kTpmSts.extract(other.reg(A_CTRL_STS)), 0);
  // Reset clears the latch.
  rig.crb->reset();
  ck_assert_uint_eq(rig.reg(A_CTRL_STS), ctrl_sts::kTpmIdle.mask());
}
END_TEST

START_TEST(test_startup_error) {
  CrbRig rig;
  rig.backend.fail_startup = true;
  ck_assert(started_ok(rig));  // realize succeeds; the failure shows at reset
  ck_assert_int_eq(rig.host.errors.size(), 1);
  ck_assert_ptr_nonnull(strstr(rig.host.errors[0].c_str(), "tpm-crb: TPM startup failed"));
  ck_assert_ptr_nonnull(strstr(rig.host.errors[0].c_str(), "fake: scripted startup failure"));
  ck_assert_ptr_null(strchr(rig.host.errors[0].c_str(), '\n'));
  ck_assert_uint_eq(ctrl_sts::kTpmSts.extract(rig.reg(A_CTRL_STS)), 1);
  // The interface still works; every command gets the fatal response and never reaches the TPM.
  std::vector<uint8_t> response = rig.transact(tpm2_command(kTpmCcGetRandom, {0, 8}));
  ck_assert_uint_eq(tpm_header_code(response.data()), 9);
  ck_assert_int_eq(rig.backend.commands().size(), 0);
  // The next reset that starts the TPM brings it back.
  rig.backend.fail_startup = false;
  rig.crb->reset();
  ck_assert_int_eq(rig.host.errors.size(), 1);
  ck_assert_uint_eq(ctrl_sts::kTpmSts.extract(rig.reg(A_CTRL_STS)), 0);
  ck_assert(rig.transact(tpm2_command(kTpmCcGetRandom, {0, 8})) == tpm2_response(0));
}
END_TEST

START_TEST(test_reset_during_command) {
  CrbRig rig;
  ck_assert(started_ok(rig));
  rig.backend.set_hold(true);
  rig.set_reg(A_LOC_CTRL, loc_ctrl::kRequestAccess);
  rig.copy_in(0xfed40080, tpm2_command(kTpmCcGetRandom, {0, 8}));
  rig.set_reg(A_CTRL_START, 1);
  ck_assert(rig.backend.wait_held());
  // The TPM finishes while the machine resets (reset waits for it, as QEMU's does).
  std::thread finisher([&] { rig.backend.release(); });
  rig.crb->reset();
  finisher.join();
  ck_assert_uint_eq(rig.reg(A_CTRL_START), 0);
  ck_assert_uint_eq(rig.reg(A_LOC_STATE), 0x81);
  // The old response does not survive into the next boot, and no late completion appears.
  ck_assert(rig.copy_out(0xfed40080, 10) == std::vector<uint8_t>(10, 0));
  rig.host.loop.wait_and_run(20);
  ck_assert(rig.copy_out(0xfed40080, 10) == std::vector<uint8_t>(10, 0));
  ck_assert_int_eq(rig.backend.resets, 2);
}
END_TEST

// ---------------------------------------------------------------------------------------------
// Buffer layouts

START_TEST(test_qemu_layout_regions) {
  CrbRig rig;
  ck_assert(started_ok(rig));
  ck_assert(rig.crb->layout().id == BufferLayout::kQemu);
  const MemoryRegion *regs = rig.region(TpmCrb::kRegionRegisters);
  ck_assert_ptr_nonnull(regs);
  ck_assert(regs->kind() == MemoryRegion::Kind::kMmio);
  ck_assert_uint_eq(*regs->fixed_address(), 0xfed40000);
  ck_assert_uint_eq(regs->size(), 0x80);
  ck_assert_uint_eq(regs->max_access(), 4);
  const MemoryRegion *buf = rig.region(TpmCrb::kRegionBuffer);
  ck_assert(buf->kind() == MemoryRegion::Kind::kRam);
  ck_assert_uint_eq(*buf->fixed_address(), 0xfed40080);
  ck_assert_uint_eq(buf->size(), 0xf80);
  ck_assert_ptr_null(rig.region(TpmCrb::kRegionBufferPage));
  ck_assert(!rig.mapped(0xfed41000));
  ck_assert_uint_eq(rig.crb->regions().size(), 3);  // registers, buffer, PPI
  TpmAcpiDescription acpi = rig.crb->acpi_description();
  ck_assert(acpi.interface == TpmAcpiDescription::Interface::kCrb);
  ck_assert(acpi.version == TpmVersion::k2_0);
  ck_assert_int_eq(acpi.resources.size(), 1);
  ck_assert_uint_eq(acpi.resources[0].address, 0xfed40000);
  ck_assert_uint_eq(acpi.resources[0].length, 0x1000);
  ck_assert_uint_eq(acpi.control_area, 0xfed40040);
  ck_assert_uint_eq(acpi.start_method, 7);
  ck_assert_uint_eq(acpi.irq, 0);
  ck_assert(acpi.ppi);
  ck_assert_str_eq(acpi.name.c_str(), "TPM");
  ck_assert_uint_eq(acpi.uid, 1);
}
END_TEST

START_TEST(test_page_aligned_layout) {
  CrbRig rig({.layout = "page-aligned"});
  ck_assert(started_ok(rig));
  ck_assert(rig.crb->get_property("buffer-layout") == std::string("page-aligned"));
  // Registers name one page-aligned buffer for both directions, equal sizes (Linux), below 4 GiB
  // (SeaBIOS).
  ck_assert_uint_eq(rig.reg(A_CTRL_CMD_LADDR), 0xfed41000);
  ck_assert_uint_eq(rig.reg(A_CTRL_CMD_HADDR), 0);
  ck_assert_uint_eq(rig.read(kBase + A_CTRL_RSP_ADDR, 8), 0xfed41000);
  ck_assert_uint_eq(rig.reg(A_CTRL_CMD_SIZE), rig.reg(A_CTRL_RSP_SIZE));
  ck_assert_uint_eq(rig.reg(A_CTRL_CMD_SIZE), 0xf80);
  const MemoryRegion *page = rig.region(TpmCrb::kRegionBufferPage);
  ck_assert_ptr_nonnull(page);
  ck_assert(page->kind() == MemoryRegion::Kind::kRam);
  ck_assert_uint_eq(*page->fixed_address(), 0xfed41000);
  ck_assert_uint_eq(page->size(), 0x1000);  // a whole page: mappable as a memory slot
  ck_assert_uint_eq(reinterpret_cast<uintptr_t>(page->host_ptr()) % 0x1000, 0);
  const MemoryRegion *low = rig.region(TpmCrb::kRegionBuffer);
  ck_assert_uint_eq(*low->fixed_address(), 0xfed40080);
  ck_assert_uint_eq(low->size(), 0xf80);
  // Both views are the same memory, both ways.
  rig.write(0xfed41000, 0x11223344, 4);
  ck_assert_uint_eq(rig.read(0xfed40080, 4), 0x11223344);
  rig.write(0xfed40080 + 0xf7c, 0xa5a5a5a5, 4);
  ck_assert_uint_eq(rig.read(0xfed41000 + 0xf7c, 4), 0xa5a5a5a5);
  // Linux: the buffer inside _CRS, the control area at _CRS start + 0x40.
  TpmAcpiDescription acpi = rig.crb->acpi_description();
  ck_assert_int_eq(acpi.resources.size(), 1);
  uint64_t crs_start = acpi.resources[0].address, crs_end = crs_start + acpi.resources[0].length;
  ck_assert_uint_eq(acpi.control_area, crs_start + 0x40);
  ck_assert_uint_ge(0xfed41000, crs_start);
  ck_assert_uint_le(0xfed41000 + 0xf80, crs_end);
  ck_assert_uint_le(0xfed41000 + page->size(), crs_end);
  ck_assert_uint_eq(acpi.start_method, 7);
}
END_TEST

START_TEST(test_page_aligned_linux_and_ovmf) {
  CrbRig rig({.layout = "page-aligned"});
  ck_assert(started_ok(rig));
  std::vector<uint8_t> reply = {0x80, 0x01, 0, 0, 0, 0x0c, 0, 0, 0, 0, 0xbe, 0xef};
  std::vector<uint8_t> command = tpm2_command(kTpmCcGetRandom, {0, 2});
  // Linux: the address from the registers.
  rig.backend.push_reply({reply});
  ck_assert(rig.transact(command) == reply);
  ck_assert(rig.backend.commands().back() == command);
  // OVMF: base + 0x80 regardless, after writing its own idea of the address registers.
  std::vector<uint8_t> reply2 = {0x80, 0x01, 0, 0, 0, 0x0c, 0, 0, 0, 0, 0xca, 0xfe};
  std::vector<uint8_t> command2 = tpm2_command(kTpmCcGetRandom, {0, 3});
  rig.backend.push_reply({reply2});
  rig.set_reg(A_CTRL_CMD_LADDR, 0xfed40080);
  rig.set_reg(A_CTRL_RSP_ADDR, 0xfed40080);
  ck_assert(rig.transact(command2, kBase + kRegistersSize) == reply2);
  ck_assert(rig.backend.commands().back() == command2);
  // The response is visible at the page too.
  ck_assert(rig.copy_out(0xfed41000, reply2.size()) == reply2);
  ck_assert_uint_eq(rig.reg(A_CTRL_CMD_LADDR), 0xfed41000);
}
END_TEST

// ---------------------------------------------------------------------------------------------
// PPI

START_TEST(test_ppi_region_and_memory_clear) {
  CrbRig rig;
  ck_assert(started_ok(rig));
  const MemoryRegion *ppi = rig.region("tpm-ppi");
  ck_assert_ptr_nonnull(ppi);
  ck_assert(ppi->kind() == MemoryRegion::Kind::kRam);
  ck_assert_uint_eq(*ppi->fixed_address(), PpiLayout::kAddress);
  ck_assert_uint_eq(ppi->size(), 0x400);
  // Guest-visible RAM: what the _DSM writes, firmware reads.
  rig.write(PpiLayout::kAddress + PpiLayout::kPprq, 0x0000000e, 4);
  rig.write(PpiLayout::kAddress + PpiLayout::kFunc + 0x0e, PpiLayout::kFuncAllowedUsrReq, 1);
  ck_assert_uint_eq(rig.crb->ppi().data()[PpiLayout::kPprq], 0x0e);
  ck_assert_uint_eq(rig.read(PpiLayout::kAddress + PpiLayout::kFunc + 0x0e, 1), 3);
  // No memory-overwrite request: reset clears nothing, the page survives.
  int clears = rig.host.ram_clears;
  rig.crb->reset();
  ck_assert_int_eq(rig.host.ram_clears, clears);
  ck_assert_uint_eq(rig.read(PpiLayout::kAddress + PpiLayout::kPprq, 4), 0x0e);
  // The OS asks for a memory clear (TCG reset attack mitigation _DSM sets MOVV).
  rig.write(PpiLayout::kAddress + PpiLayout::kMovv, 1, 1);
  rig.crb->reset();
  ck_assert_int_eq(rig.host.ram_clears, clears + 1);
  // The flag stays set (as QEMU): firmware or the OS clears it; every reset clears until then.
  ck_assert_uint_eq(rig.read(PpiLayout::kAddress + PpiLayout::kMovv, 1), 1);
  rig.crb->reset();
  ck_assert_int_eq(rig.host.ram_clears, clears + 2);
  // Only bit 0 counts.
  rig.write(PpiLayout::kAddress + PpiLayout::kMovv, 0xfe, 1);
  rig.crb->reset();
  ck_assert_int_eq(rig.host.ram_clears, clears + 2);
  // fw_cfg etc/tpm/config for this device.
  auto config = tpm_fw_cfg_config(rig.crb->acpi_description());
  ck_assert(config.has_value());
  const TpmFwCfgConfig expected = {0x00, 0x50, 0xd4, 0xfe, 0x02, 0x01};
  ck_assert(*config == expected);
}
END_TEST

START_TEST(test_ppi_off) {
  CrbRig rig({.ppi = false});
  ck_assert(started_ok(rig));
  ck_assert_ptr_null(rig.region("tpm-ppi"));
  ck_assert(!rig.mapped(PpiLayout::kAddress));
  rig.crb->ppi().data()[PpiLayout::kMovv] = 1;  // unreachable for a guest; still no clear
  rig.crb->reset();
  ck_assert_int_eq(rig.host.ram_clears, 0);
  ck_assert(!rig.crb->acpi_description().ppi);
  ck_assert(!tpm_fw_cfg_config(rig.crb->acpi_description()).has_value());
}
END_TEST

START_TEST(test_unrealize_releases_backend) {
  CrbRig rig;
  ck_assert(started_ok(rig));
  ck_assert_ptr_eq(rig.backend.frontend(), static_cast<TpmFrontend *>(rig.crb.get()));
  rig.crb->unrealize();
  ck_assert_ptr_null(rig.backend.frontend());
  ck_assert_int_eq(rig.crb->regions().size(), 0);
}
END_TEST

int main() {
  Suite *s = suite_create("tpm-crb");
  TCase *tc = tcase_create("device");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_type_registration);
  tcase_add_test(tc, test_realize_errors);
  tcase_add_test(tc, test_intf_id_fields);
  tcase_add_test(tc, test_reset_values);
  tcase_add_test(tc, test_buffer_address_writes_ignored);
  tcase_add_test(tc, test_locality_transitions);
  tcase_add_test(tc, test_idle_ready);
  tcase_add_test(tc, test_full_command);
  tcase_add_test(tc, test_start_rules);
  tcase_add_test(tc, test_command_length_bounds);
  tcase_add_test(tc, test_cancel);
  tcase_add_test(tc, test_error_latch);
  tcase_add_test(tc, test_startup_error);
  tcase_add_test(tc, test_reset_during_command);
  tcase_add_test(tc, test_qemu_layout_regions);
  tcase_add_test(tc, test_page_aligned_layout);
  tcase_add_test(tc, test_page_aligned_linux_and_ovmf);
  tcase_add_test(tc, test_ppi_region_and_memory_clear);
  tcase_add_test(tc, test_ppi_off);
  tcase_add_test(tc, test_unrealize_releases_backend);
  suite_add_tcase(s, tc);
  return run_suite(s);
}
