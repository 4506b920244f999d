// SPDX-License-Identifier: GPL-2.0-or-later
//
// tpm-spapr saved state (docs/spapr.md): save -> mutate -> restore -> save round trips, a golden
// version-1 blob, a response that completes while the state is taken (parked, carried in the
// state and delivered by the loading side, as QEMU's post_load does), and corrupt blobs - every
// truncation and every semantic corruption is refused and leaves the device unchanged.
#include "qom/testing.h"

#include <thread>

#include "hw/tpm/spapr/tests/spapr_rig.h"

using namespace qtpm;
using namespace qtpm::spapr;
using namespace qtpm::testing;

namespace {

using Rig = SpaprRig;
constexpr uint64_t kBuf = Rig::kBufferIoba;

std::vector<uint8_t> command(uint32_t code) {
  return {0x80, 0x01, 0, 0, 0, 10, uint8_t(code >> 24), uint8_t(code >> 16), uint8_t(code >> 8),
          uint8_t(code)};
}

std::vector<uint8_t> save(TpmSpapr &dev) {
  ck_assert(dev.prepare_save().is_ok());
  return dev.save_state().finish();
}

Status load(TpmSpapr &dev, const std::vector<uint8_t> &blob) {
  StateReader r;
  if (Status st = StateReader::parse(blob, &r); !st) return st;
  return dev.load_state(r);
}

// A device in a state worth saving: driver set up, signalling on, one command done.
void drive(Rig &rig) {
  ck_assert(rig.start().is_ok());
  rig.setup_driver();
  rig.transact(command(0x17b));
  ck_assert_int_eq(rig.send(kCrqValidCommand, kVtpmGetVersion), kHSuccess);
  ck_assert(rig.pop().has_value());
}

// The fields of a hand-made blob; tests corrupt one at a time.
struct Blob {
  std::string section = "tpm-spapr";
  uint32_t version = 1;
  std::string vio_section = "spapr-vio";
  uint32_t reg = kVioRegBase;
  uint32_t irq = kIrqVio;
  uint64_t signal = 1;
  uint64_t qladdr = 0;
  uint32_t qsize = 0x1000;
  uint32_t qnext = 0x20;
  uint8_t state = 2;
  uint32_t ioba = 0x1000;
  std::optional<std::vector<uint8_t>> parked;
  bool drop_state = false;

  std::vector<uint8_t> encode() const {
    StateWriter vio(vio_section, 1);
    vio.put_u32("reg", reg);
    vio.put_u32("irq", irq);
    vio.put_u64("signal_state", signal);
    vio.put_u64("crq_qladdr", qladdr);
    vio.put_u32("crq_qsize", qsize);
    vio.put_u32("crq_qnext", qnext);
    StateWriter w(section, version);
    w.put_section("vio", vio);
    if (!drop_state) w.put_u8("state", state);
    w.put_u32("command_ioba", ioba);
    if (parked) w.put_bytes("parked_response", *parked);
    return w.finish();
  }
};

}  // namespace

START_TEST(test_round_trip) {
  Rig rig;
  drive(rig);
  std::vector<uint8_t> saved = save(*rig.dev);
  // Mutate everything the state covers.
  ck_assert_int_eq(rig.hcall(kHVioSignal, {rig.unit(), 0}), kHSuccess);
  ck_assert_int_eq(rig.hcall(kHFreeCrq, {rig.unit()}), kHSuccess);
  ck_assert_int_eq(rig.hcall(kHRegCrq, {rig.unit(), 0x3000, 0x2000}), kHSuccess);
  ck_assert_int_eq(rig.put_tce(0x3000, 0x50000), kHSuccess);
  rig.write_buffer(command(0x144), 0x50000);
  ck_assert_int_eq(rig.send(kCrqValidCommand, kVtpmTpmCommand, 10, 0x3000), kHSuccess);
  ck_assert(rig.host.run_until([&] { return rig.dev->command_ioba() == 0x3000 &&
                                            rig.dev->state() == TpmSpapr::State::kCompletion; }));
  std::vector<uint8_t> mutated = save(*rig.dev);
  ck_assert(mutated != saved);  // the mutation shows
  Status st = load(*rig.dev, saved);
  ck_assert_msg(st.is_ok(), "%s", st.message().c_str());
  ck_assert(save(*rig.dev) == saved);
  // And the device behaves as saved: the queue is the one registered first, signalling is on.
  ck_assert_uint_eq(rig.dev->crq_queue().qladdr, Rig::kQueueIoba);
  ck_assert_uint_eq(rig.dev->signal_state(), 1);
  ck_assert_int_eq(rig.hcall(kHRegCrq, {rig.unit(), 0, 0x1000}), kHResource);
  ck_assert_uint_eq(rig.dev->command_ioba(), kBuf);
}
END_TEST

START_TEST(test_golden_v1) {
  // Version 1 as this build writes it; a change of the format must be deliberate.
  Blob b;
  b.parked = std::vector<uint8_t>{0x80, 0x01, 0, 0, 0, 10, 0, 0, 0, 0};
  const std::vector<uint8_t> golden = {
      0x00, 0x09, 't', 'p', 'm', '-', 's', 'p', 'a', 'p', 'r', 0, 0, 0, 1, 0, 0, 0, 0xd9,
      // vio
      7, 0x00, 0x03, 'v', 'i', 'o', 0, 0, 0, 0x8b,
      0x00, 0x09, 's', 'p', 'a', 'p', 'r', '-', 'v', 'i', 'o', 0, 0, 0, 1, 0, 0, 0, 0x78,
      3, 0, 3, 'r', 'e', 'g', 0, 0, 0, 4, 0x71, 0, 0, 0,
      3, 0, 3, 'i', 'r', 'q', 0, 0, 0, 4, 0, 0, 0x11, 0,
      4, 0, 12, 's', 'i', 'g', 'n', 'a', 'l', '_', 's', 't', 'a', 't', 'e', 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 1,
      4, 0, 10, 'c', 'r', 'q', '_', 'q', 'l', 'a', 'd', 'd', 'r', 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0,
      3, 0, 9, 'c', 'r', 'q', '_', 'q', 's', 'i', 'z', 'e', 0, 0, 0, 4, 0, 0, 0x10, 0,
      3, 0, 9, 'c', 'r', 'q', '_', 'q', 'n', 'e', 'x', 't', 0, 0, 0, 4, 0, 0, 0, 0x20,
      // device
      1, 0, 5, 's', 't', 'a', 't', 'e', 0, 0, 0, 1, 2,
      3, 0, 12, 'c', 'o', 'm', 'm', 'a', 'n', 'd', '_', 'i', 'o', 'b', 'a', 0, 0, 0, 4, 0, 0, 0x10, 0,
      6, 0, 15, 'p', 'a', 'r', 'k', 'e', 'd', '_', 'r', 'e', 's', 'p', 'o', 'n', 's', 'e', 0, 0, 0, 10,
      0x80, 0x01, 0, 0, 0, 10, 0, 0, 0, 0};
  ck_assert(b.encode() == golden);
  // It loads into a device at that unit, and the parked response reaches the guest.
  Rig rig;
  ck_assert(rig.start().is_ok());
  ck_assert_int_eq(rig.put_tce(0, Rig::kQueueGpa), kHSuccess);
  ck_assert_int_eq(rig.put_tce(kBuf, Rig::kBufferGpa), kHSuccess);
  Status st = load(*rig.dev, golden);
  ck_assert_msg(st.is_ok(), "%s", st.message().c_str());
  ck_assert(rig.read_buffer(10) == *b.parked);
  CrqElement e = rig.slot(2);
  ck_assert_uint_eq(e.msg, kVtpmTpmCommand | kVtpmResponse);
  ck_assert_uint_eq(e.len, 10);
  ck_assert_uint_eq(rig.dev->parked_response_length(), 0);
  ck_assert_int_eq(rig.irq_pulses, 1);
}
END_TEST

START_TEST(test_response_completing_during_save) {
  Rig src({.builtin_units = true});
  ck_assert(src.start().is_ok());
  src.setup_driver();
  src.backend.set_hold(true);
  std::vector<uint8_t> reply = {0x80, 0x01, 0, 0, 0, 12, 0, 0, 0, 0, 0xca, 0xfe};
  src.backend.push_reply({reply});
  src.write_buffer(command(0x17b));
  ck_assert_int_eq(src.send(kCrqValidCommand, kVtpmTpmCommand, 10, uint32_t(kBuf)), kHSuccess);
  ck_assert(src.backend.wait_held());
  std::vector<uint8_t> ram_before = src.ram->bytes;
  // The command finishes while the state is taken (prepare_save drains it).
  std::thread releaser([&] {
    src.backend.set_hold(false);
    src.backend.release();
  });
  ck_assert(src.dev->prepare_save().is_ok());
  releaser.join();
  src.host.loop.run_pending();
  // Guest memory did not change: the response is parked and travels in the state.
  ck_assert(src.ram->bytes == ram_before);
  ck_assert_uint_eq(src.dev->parked_response_length(), reply.size());
  std::vector<uint8_t> blob = src.dev->save_state().finish();
  std::vector<uint8_t> tce = src.bus.find_tce_table(src.unit())->save_state().finish();

  // The destination: same machine, guest memory and TCE table restored first, then the device.
  Rig dst({.builtin_units = true});
  ck_assert(dst.start().is_ok());
  dst.ram->bytes = src.ram->bytes;
  StateReader tr;
  ck_assert(StateReader::parse(tce, &tr).is_ok());
  ck_assert(dst.bus.find_tce_table(dst.unit())->load_state(tr).is_ok());
  Status st = load(*dst.dev, blob);
  ck_assert_msg(st.is_ok(), "%s", st.message().c_str());
  std::optional<CrqElement> e = dst.pop();
  ck_assert(e.has_value());
  ck_assert_uint_eq(e->msg, kVtpmTpmCommand | kVtpmResponse);
  ck_assert_uint_eq(e->len, reply.size());
  ck_assert(dst.read_buffer(reply.size()) == reply);
  ck_assert_int_eq(dst.irq_pulses, 1);
  ck_assert(dst.dev->state() == TpmSpapr::State::kCompletion);
  ck_assert_uint_eq(dst.dev->parked_response_length(), 0);
  // The destination's next command works.
  ck_assert(dst.transact(command(0x144)) == tpm2_response(0));

  // A source that goes on running (a snapshot) delivers the parked response itself.
  src.dev->deliver_parked_response();
  std::optional<CrqElement> se = src.pop();
  ck_assert(se.has_value() && se->len == reply.size());
  ck_assert(src.read_buffer(reply.size()) == reply);
  src.dev->deliver_parked_response();  // only once
  ck_assert(!src.pop().has_value());
}
END_TEST

START_TEST(test_nothing_parked_without_a_command) {
  Rig rig;
  drive(rig);
  ck_assert(rig.dev->prepare_save().is_ok());
  ck_assert_uint_eq(rig.dev->parked_response_length(), 0);
  StateReader r;
  ck_assert(StateReader::parse(rig.dev->save_state().finish(), &r).is_ok());
  ck_assert(!r.has("parked_response"));
}
END_TEST

START_TEST(test_corrupt_blobs_rejected) {
  Rig rig;
  drive(rig);
  std::vector<uint8_t> before = save(*rig.dev);
  std::vector<std::pair<Blob, const char *>> cases;
  auto add = [&](const char *expect, auto mutate) {
    Blob b;
    mutate(b);
    cases.emplace_back(b, expect);
  };
  add("'tpm-spapr'", [](Blob &b) { b.section = "tpm-crb"; });
  add("version 2", [](Blob &b) { b.version = 2; });
  add("vio:", [](Blob &b) { b.vio_section = "spapr-vty"; });
  add("unit address 0x71000001", [](Blob &b) { b.reg = 0x71000001; });
  add("interrupt 0x1101", [](Blob &b) { b.irq = 0x1101; });
  add("signal mode 0x2", [](Blob &b) { b.signal = 2; });
  add("H_REG_CRQ", [](Blob &b) { b.qsize = 0x800; });
  add("H_REG_CRQ", [](Blob &b) { b.qsize = 0x10001000; });
  add("H_REG_CRQ", [](Blob &b) { b.qladdr = 0x10; });
  add("not a slot", [](Blob &b) { b.qnext = 0x18; });
  add("not a slot", [](Blob &b) { b.qnext = 0x1000; });
  add("without a queue", [](Blob &b) { b.qsize = 0; });
  add("in flight", [](Blob &b) { b.state = 1; });
  add("state 3", [](Blob &b) { b.state = 3; });
  add("'state'", [](Blob &b) { b.drop_state = true; });
  add("parked response without", [](Blob &b) {
    b.state = 0;
    b.parked = std::vector<uint8_t>(10, 1);
  });
  add("empty parked", [](Blob &b) { b.parked = std::vector<uint8_t>(); });
  add("parked_response", [](Blob &b) { b.parked = std::vector<uint8_t>(4097, 1); });
  for (auto &[blob, expect] : cases) {
    Status st = load(*rig.dev, blob.encode());
    ck_assert_msg(!st.is_ok(), "accepted a blob that should fail with '%s'", expect);
    ck_assert_msg(st.message().find(expect) != std::string::npos, "'%s' does not mention '%s'",
                  st.message().c_str(), expect);
    ck_assert_msg(st.message().rfind("tpm-spapr: ", 0) == 0 || st.message().find("tpm-spapr") != std::string::npos,
                  "'%s' does not name the device", st.message().c_str());
    ck_assert(save(*rig.dev) == before);
  }
  // The unmodified hand-made blob is fine (so each case above fails for its one change).
  Status ok = load(*rig.dev, Blob{}.encode());
  ck_assert_msg(ok.is_ok(), "%s", ok.message().c_str());
}
END_TEST

START_TEST(test_truncated_and_flipped_blobs) {
  Rig rig;
  drive(rig);
  std::vector<uint8_t> good = save(*rig.dev);
  for (size_t n = 0; n < good.size(); n++) {
    std::vector<uint8_t> cut(good.begin(), good.begin() + n);
    ck_assert_msg(!load(*rig.dev, cut).is_ok(), "a blob cut at %zu bytes loaded", n);
    ck_assert(save(*rig.dev) == good);
  }
  // Every single-bit flip either fails and changes nothing, or loads a state that saves back as
  // it was loaded (never half).
  for (size_t i = 0; i < good.size(); i++) {
    for (int bit = 0; bit < 8; bit++) {
      std::vector<uint8_t> flipped = good;
      flipped[i] ^= uint8_t(1 << bit);
      Status st = load(*rig.dev, flipped);
      if (st) {
        ck_assert(save(*rig.dev) == flipped);
        ck_assert(load(*rig.dev, good).is_ok());
      }
      ck_assert(save(*rig.dev) == good);
    }
  }
}
END_TEST

int main() {
  Suite *s = suite_create("tpm-spapr-state");
  TCase *tc = tcase_create("state");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_round_trip);
  tcase_add_test(tc, test_golden_v1);
  tcase_add_test(tc, test_response_completing_during_save);
  tcase_add_test(tc, test_nothing_parked_without_a_command);
  tcase_add_test(tc, test_corrupt_blobs_rejected);
  tcase_add_test(tc, test_truncated_and_flipped_blobs);
  suite_add_tcase(s, tc);
  return run_suite(s);
}
