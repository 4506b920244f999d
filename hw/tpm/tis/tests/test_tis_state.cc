// SPDX-License-Identifier: GPL-2.0-or-later
//
// The "tpm-tis" saved state: save -> mutate -> restore -> save gives the same bytes and the
// mutation is undone; states taken mid-command (receiving, response half read, command in
// flight) carry on in a fresh device; the PPI page travels with tpm-tis; a golden version-1
// blob still loads; and corrupt states are refused with the device left exactly as it was.
#include <cstdio>

#include "hw/tpm/tis/tests/tis_fixture.h"

using namespace qtpm;
using namespace qtpm::tis;
using namespace qtpm::testing;

namespace {

TisOptions variant(int i, TpmVersion v = TpmVersion::k2_0) {
  TisOptions o;
  o.variant = (i & 1) ? TisVariant::kSysbus : TisVariant::kIsa;
  o.version = v;
  return o;
}

std::vector<uint8_t> save(TisFixture &f) {
  ck_assert(f.dev->prepare_save().is_ok());
  return f.dev->save_state().finish();
}

Status load(TisFixture &f, const std::vector<uint8_t> &blob) {
  StateReader r;
  Status st = StateReader::parse(blob, &r);
  if (!st) return st;
  return f.dev->load_state(r);
}

// Everything a guest can read without side effects, for "unchanged" checks.
std::vector<uint64_t> snapshot_registers(TisFixture &f) {
  std::vector<uint64_t> v;
  for (uint8_t l = 0; l < kLocalities; l++) {
    for (const RegisterSpec &r : kRegisters) v.push_back(f.peek(l, r.offset, 4));
  }
  v.push_back(f.dev->irq(0).level());
  return v;
}

// Brings the device into a busy state: locality 2 owns the TPM with a response half read,
// locality 1 waits, interrupts enabled with bits pending, interface locked.
std::vector<uint8_t> make_busy(TisFixture &f, const std::vector<uint8_t> &rsp) {
  f.request_locality(2);
  f.writeb(1, reg::kAccess, access::kRequestUse);
  f.writel(2, reg::kIntEnable, 0x8000008f);
  f.writel(0, reg::kInterfaceId, iface_id::kIntfSelLock);
  f.backend.push_response({rsp});
  f.send(2, tpm2_get_random(16));
  f.wait_response(2);
  std::vector<uint8_t> got;
  for (int i = 0; i < 7; i++) got.push_back(f.readb(2, reg::kDataFifo));
  return got;
}

}  // namespace

START_TEST(test_round_trip) {
  TisFixture f(variant(_i));
  std::vector<uint8_t> rsp = tpm2_response(25);
  make_busy(f, rsp);
  ck_assert(f.dev->irq(0).level());
  std::vector<uint64_t> regs = snapshot_registers(f);
  std::vector<uint8_t> a = save(f);
  // Mutate: read more, clear interrupts, hand the TPM over, reset.
  for (int i = 0; i < 5; i++) f.readb(2, reg::kDataFifo);
  f.writel(2, reg::kIntStatus, 0xff);
  f.writeb(2, reg::kAccess, access::kActiveLocality);
  ck_assert_uint_eq(f.dev->core().active_locality(), 1);
  f.dev->reset();
  ck_assert(snapshot_registers(f) != regs);
  ck_assert(!f.dev->irq(0).level());
  // Restore: identical state, identical bytes, the interrupt asserted again.
  Status st = load(f, a);
  ck_assert_msg(st.is_ok(), "%s", st.message().c_str());
  ck_assert(snapshot_registers(f) == regs);
  ck_assert(f.dev->irq(0).level());
  ck_assert(save(f) == a);
  // And the response continues where the state was taken.
  for (int i = 7; i < 25; i++) ck_assert_uint_eq(f.readb(2, reg::kDataFifo), rsp[i]);
  ck_assert(!(f.sts(2) & sts::kDataAvail));
  f.check_invariants();
}
END_TEST

// A command in flight at save time finishes first (prepare_save), so a fresh device restored
// from the state serves its response.
START_TEST(test_in_flight_then_fresh_device) {
  TisFixture src(variant(_i));
  std::vector<uint8_t> rsp = tpm2_response(33);
  src.request_locality(0);
  src.backend.push_response({rsp});
  src.backend.hold();
  src.send(0, tpm2_get_random());
  ck_assert(src.backend.wait_executing());
  src.backend.release();
  std::vector<uint8_t> blob = save(src);
  ck_assert(src.dev->core().state(0) == TisState::kCompletion);
  TisFixture dst(variant(_i));
  Status st = load(dst, blob);
  ck_assert_msg(st.is_ok(), "%s", st.message().c_str());
  ck_assert(dst.receive(0) == rsp);
  dst.check_invariants();
  // The late completion in the source is not delivered twice.
  src.host.loop.wait_and_run(20);
  ck_assert(src.receive(0) == rsp);
}
END_TEST

// A state taken while a command is being written: the rest can be written after restore.
START_TEST(test_mid_reception) {
  TisFixture src(variant(_i));
  std::vector<uint8_t> cmd = tpm2_get_random(99);
  src.request_locality(3);
  src.writeb(3, reg::kSts, sts::kCommandReady);
  for (int i = 0; i < 8; i++) src.writeb(3, reg::kDataFifo, cmd[i]);
  std::vector<uint8_t> blob = save(src);
  TisFixture dst(variant(_i));
  ck_assert(load(dst, blob).is_ok());
  ck_assert_uint_eq(TisFixture::burst(dst.sts(3)), 4096 - 8);
  for (size_t i = 8; i < cmd.size(); i++) dst.writeb(3, reg::kDataFifo, cmd[i]);
  ck_assert(!(dst.sts(3) & sts::kExpect));
  dst.writeb(3, reg::kSts, sts::kGo);
  dst.wait_response(3);
  ck_assert(dst.backend.commands().at(0) == cmd);
  ck_assert_uint_eq(dst.backend.localities().at(0), 3);
}
END_TEST

// tpm-tis carries its PPI page; devices without one refuse such a state and vice versa.
START_TEST(test_ppi_page) {
  TisFixture isa;
  isa.dev->ppi()->data()[0x10] = 3;
  isa.dev->ppi()->data()[PpiLayout::kMovv] = 1;
  std::vector<uint8_t> blob = save(isa);
  isa.dev->ppi()->data()[0x10] = 0;
  ck_assert(load(isa, blob).is_ok());
  ck_assert_uint_eq(isa.dev->ppi()->data()[0x10], 3);
  TisOptions so;
  so.variant = TisVariant::kSysbus;
  TisFixture sys(so);
  Status st = load(sys, blob);
  ck_assert(!st.is_ok());
  ck_assert(st.message().find("ppi") != std::string::npos);
  TisOptions off;
  off.properties = {{"ppi", "off"}};
  TisFixture isa_off(off);
  ck_assert(!load(isa_off, blob).is_ok());
  ck_assert(!load(isa, save(isa_off)).is_ok());  // no page for a device that needs one
  ck_assert(load(sys, save(isa_off)).is_ok());   // same shape: fine
}
END_TEST

// Version 1 of the schema, as this build writes it for: tpm-tis-device, TPM 2.0, locality 0 owns
// the TPM in completion with a 10-byte response of which 3 bytes were read, interrupts enabled
// with commandReady|dataAvail|stsValid pending.  A change here is a schema change: bump the
// version and keep loading this one.
const char kGoldenV1[] =
    "000774706d2d746973000000010000030202000972775f6f666673657400000002000301000f616374697665"
    "5f6c6f63616c697479000000010001001161626f7274696e675f6c6f63616c69747900000001ff01000d6e65"
    "78745f6c6f63616c69747900000001ff0600066275666665720000000a80010000000a000000000700096c6f"
    "63616c6974793000000074001074706d2d7469732f6c6f63616c697479000000010000005a01000573746174"
    "65000000010201000661636365737300000001a0030003737473000000040400009003000869666163655f69"
    "640000000400002100030004696e7465000000048000008f030004696e747300000004000000830700096c6f"
    "63616c6974793100000074001074706d2d7469732f6c6f63616c697479000000010000005a01000573746174"
    "6500000001000100066163636573730000000180030003737473000000040400000003000869666163655f69"
    "640000000400002100030004696e74650000000400000008030004696e747300000004000000000700096c6f"
    "63616c6974793200000074001074706d2d7469732f6c6f63616c697479000000010000005a01000573746174"
    "6500000001000100066163636573730000000180030003737473000000040400000003000869666163655f69"
    "640000000400002100030004696e74650000000400000008030004696e747300000004000000000700096c6f"
    "63616c6974793300000074001074706d2d7469732f6c6f63616c697479000000010000005a01000573746174"
    "6500000001000100066163636573730000000180030003737473000000040400000003000869666163655f69"
    "640000000400002100030004696e74650000000400000008030004696e747300000004000000000700096c6f"
    "63616c6974793400000074001074706d2d7469732f6c6f63616c697479000000010000005a01000573746174"
    "6500000001000100066163636573730000000180030003737473000000040400000003000869666163655f69"
    "640000000400002100030004696e74650000000400000008030004696e74730000000400000000";

std::vector<uint8_t> from_hex(const char *hex) {
  std::vector<uint8_t> out;
  for (size_t i = 0; hex[i] && hex[i + 1]; i += 2) {
    out.push_back(static_cast<uint8_t>(std::stoi(std::string(hex + i, 2), nullptr, 16)));
  }
  return out;
}

std::string to_hex(const std::vector<uint8_t> &blob) {
  std::string hex;
  for (uint8_t b : blob) {
    char buf[3];
    std::snprintf(buf, sizeof buf, "%02x", b);
    hex += buf;
  }
  return hex;
}

START_TEST(test_golden_v1) {
  TisOptions o;
  o.variant = TisVariant::kSysbus;
  std::vector<uint8_t> golden = from_hex(kGoldenV1);
  // The checked-in blob loads into a fresh device and reads back byte for byte.
  TisFixture g(o);
  Status st = load(g, golden);
  ck_assert_msg(st.is_ok(), "%s", st.message().c_str());
  ck_assert_uint_eq(g.dev->core().active_locality(), 0);
  ck_assert_uint_eq(TisFixture::burst(g.sts(0)), 7);
  ck_assert_uint_eq(g.readl(0, reg::kIntStatus), 0x83);
  ck_assert(g.dev->irq(0).level());
  ck_assert(save(g) == golden);
  // The same state reached by driving a device encodes to the same bytes.
  TisFixture f(o);
  f.request_locality(0);
  f.writel(0, reg::kIntEnable, 0x8000008f);
  f.send(0, tpm2_get_random());
  f.wait_response(0);
  for (int i = 0; i < 3; i++) f.readb(0, reg::kDataFifo);
  std::string hex = to_hex(save(f));
  ck_assert_msg(hex == to_hex(golden), "encoding drifted:\n%s", hex.c_str());
}
END_TEST

// ---------------------------------------------------------------------------------------------
// Corrupt states: hand-written blobs with one wrong field each.

namespace {

struct Fields {
  std::string section = "tpm-tis";
  uint32_t version = 1;
  uint16_t rw_offset = 0;
  uint8_t active = 0;
  uint8_t aborting = kNoLocality;
  uint8_t next = kNoLocality;
  std::vector<uint8_t> buffer;
  struct Loc {
    uint8_t state = 0;
    uint8_t access = 0x80;
    uint32_t sts = 0x04000000;
    uint32_t iface_id = 0x2100;
    uint32_t inte = 0x08;
    uint32_t ints = 0;
  };
  std::array<Loc, 5> loc;
  std::string omit;  // a top-level key left out
  bool ppi = true;   // include a PPI page (tpm-tis with ppi=on)
};

// A valid state: locality 0 owns the TPM in reception with 8 bytes received.
Fields valid_fields() {
  Fields f;
  f.buffer = tpm2_get_random(99);
  f.buffer.resize(8);
  f.rw_offset = 8;
  f.loc[0].state = static_cast<uint8_t>(TisState::kReception);
  f.loc[0].access = 0xa0;
  f.loc[0].sts = 0x04000000 | sts::kValid | sts::kExpect;
  return f;
}

std::vector<uint8_t> encode(const Fields &f) {
  StateWriter w(f.section, f.version);
  if (f.omit != "rw_offset") w.put_u16("rw_offset", f.rw_offset);
  if (f.omit != "active_locality") w.put_u8("active_locality", f.active);
  w.put_u8("aborting_locality", f.aborting);
  w.put_u8("next_locality", f.next);
  if (f.omit != "buffer") w.put_bytes("buffer", f.buffer);
  for (unsigned l = 0; l < 5; l++) {
    if (f.omit == strprintf("locality%u", l)) continue;
    StateWriter lw("tpm-tis/locality", 1);
    lw.put_u8("state", f.loc[l].state);
    lw.put_u8("access", f.loc[l].access);
    lw.put_u32("sts", f.loc[l].sts);
    lw.put_u32("iface_id", f.loc[l].iface_id);
    lw.put_u32("inte", f.loc[l].inte);
    lw.put_u32("ints", f.loc[l].ints);
    w.put_section(strprintf("locality%u", l), lw);
  }
  if (f.ppi) w.put_bytes("ppi", std::vector<uint8_t>(PpiLayout::kSize, 0));
  return w.finish();
}

using Mutation = void (*)(Fields &);

const std::pair<const char *, Mutation> kMutations[] = {
    {"section name", [](Fields &f) { f.section = "tpm-crb"; }},
    {"newer version", [](Fields &f) { f.version = 2; }},
    {"missing field", [](Fields &f) { f.omit = "rw_offset"; }},
    {"missing locality", [](Fields &f) { f.omit = "locality3"; }},
    {"missing ppi", [](Fields &f) { f.ppi = false; }},
    {"state out of range", [](Fields &f) { f.loc[0].state = 9; }},
    {"executing", [](Fields &f) { f.loc[0].state = 3; }},
    {"computed ACCESS bit", [](Fields &f) { f.loc[1].access |= access::kPendingRequest; }},
    {"ACCESS not valid", [](Fields &f) { f.loc[1].access = 0; }},
    {"seize pending", [](Fields &f) { f.loc[1].access |= access::kSeize; }},
    {"two active", [](Fields &f) { f.loc[2].access |= access::kActiveLocality; }},
    {"active bit elsewhere", [](Fields &f) { f.active = 1; }},
    {"locality 4 active",
     [](Fields &f) {
       f.active = 4;
       f.loc[0].access = 0x80;
       f.loc[4].access = 0xa0;
     }},
    {"active out of range", [](Fields &f) { f.active = 7; }},
    {"owner requests", [](Fields &f) { f.loc[0].access |= access::kRequestUse; }},
    {"abort pending",
     [](Fields &f) {
       f.aborting = 0;
       f.next = 1;
     }},
    {"busy non-owner", [](Fields &f) { f.loc[1].state = 1, f.loc[1].sts |= sts::kCommandReady; }},
    {"offset beyond data", [](Fields &f) { f.rw_offset = 9; }},
    {"offset short of data", [](Fields &f) { f.rw_offset = 7; }},
    {"STS write-only bit", [](Fields &f) { f.loc[0].sts |= sts::kGo; }},
    {"STS flags for state", [](Fields &f) { f.loc[0].sts |= sts::kDataAvail; }},
    {"family mismatch", [](Fields &f) { f.loc[2].sts = 0; }},
    {"iface mismatch", [](Fields &f) { f.loc[2].iface_id = 0xffffffff; }},
    {"lock differs", [](Fields &f) { f.loc[2].iface_id |= iface_id::kIntfSelLock; }},
    {"selftest differs", [](Fields &f) { f.loc[3].sts |= sts::kSelfTestDone; }},
    {"INT_ENABLE bits", [](Fields &f) { f.loc[0].inte |= 0x40; }},
    {"INT_STATUS bits", [](Fields &f) { f.loc[0].ints |= 0x08; }},
    {"buffer too big", [](Fields &f) { f.buffer.resize(4097), f.rw_offset = 4097; }},
    {"data without owner",
     [](Fields &f) {
       f.active = kNoLocality;
       f.loc[0] = Fields::Loc{};
     }},
    {"request without owner",
     [](Fields &f) {
       f.active = kNoLocality;
       f.loc[0] = Fields::Loc{};
       f.buffer.clear();
       f.rw_offset = 0;
       f.loc[1].access |= access::kRequestUse;
     }},
    {"idle with data",
     [](Fields &f) {
       f.loc[0].state = 0;
       f.loc[0].sts = 0x04000000;
     }},
};

}  // namespace

START_TEST(test_valid_hand_written_state) {
  TisFixture f;
  Status st = load(f, encode(valid_fields()));
  ck_assert_msg(st.is_ok(), "%s", st.message().c_str());
  ck_assert_uint_eq(f.dev->core().active_locality(), 0);
  ck_assert(f.dev->core().state(0) == TisState::kReception);
  f.check_invariants();
}
END_TEST

START_TEST(test_corrupt_states_refused) {
  for (const auto &[name, mutate] : kMutations) {
    TisFixture f;
    std::vector<uint8_t> rsp = tpm2_response(12);
    make_busy(f, rsp);
    std::vector<uint64_t> regs = snapshot_registers(f);
    std::vector<uint8_t> before = save(f);
    Fields fields = valid_fields();
    mutate(fields);
    Status st = load(f, encode(fields));
    ck_assert_msg(!st.is_ok(), "mutation '%s' was accepted", name);
    ck_assert_msg(st.message().find('\n') == std::string::npos, "%s", name);
    ck_assert_msg(snapshot_registers(f) == regs, "mutation '%s' changed the device", name);
    ck_assert_msg(save(f) == before, "mutation '%s' changed the state", name);
  }
}
END_TEST

// Truncated and bit-flipped blobs: refused, or accepted only as a state the device could be in.
START_TEST(test_damaged_blobs) {
  TisFixture f;
  make_busy(f, tpm2_response(12));
  std::vector<uint8_t> good = save(f);
  std::vector<uint64_t> regs = snapshot_registers(f);
  for (size_t len = 0; len < good.size(); len += 7) {
    std::vector<uint8_t> cut(good.begin(), good.begin() + len);
    ck_assert(!load(f, cut).is_ok());
    ck_assert(snapshot_registers(f) == regs);
  }
  unsigned accepted = 0;
  for (size_t i = 0; i < good.size(); i++) {
    std::vector<uint8_t> bad = good;
    bad[i] ^= static_cast<uint8_t>(1u << (i % 8));
    Status st = load(f, bad);
    if (st.is_ok()) {
      accepted++;
      f.check_invariants();
      ck_assert(load(f, good).is_ok());  // back to the reference state
    }
    ck_assert(snapshot_registers(f) == regs);
  }
  // Only flips inside the PPI page or the buffer's data bytes can be harmless.
  ck_assert_uint_lt(accepted, PpiLayout::kSize + 12 + 24);
}
END_TEST

int main() {
  Suite *s = suite_create("tis-state");
  TCase *tc = tcase_create("state");
  tcase_set_timeout(tc, 60);
  tcase_add_loop_test(tc, test_round_trip, 0, 2);
  tcase_add_loop_test(tc, test_in_flight_then_fresh_device, 0, 2);
  tcase_add_loop_test(tc, test_mid_reception, 0, 2);
  tcase_add_test(tc, test_ppi_page);
  tcase_add_test(tc, test_golden_v1);
  tcase_add_test(tc, test_valid_hand_written_state);
  tcase_add_test(tc, test_corrupt_states_refused);
  tcase_add_test(tc, test_damaged_blobs);
  suite_add_tcase(s, tc);
  return qtpm::testing::run_suite(s);
}
