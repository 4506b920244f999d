// SPDX-License-Identifier: GPL-2.0-or-later
//
// tpm-tis and tpm-tis-device in front of real TPMs, no host program: the emulator backend
// (`-tpmdev emulator`) on a real `swtpm socket` process, TPM 2.0 and TPM 1.2, driven through the
// TIS registers the way Linux's tpm_tis_core does; and on the fault-injecting fake swtpm
// (backends/tpm/tests/fake_swtpm.h) for what a real swtpm will not do on demand: refuse to start,
// take long enough to cancel, die mid-command.
//
// TPM 2.0 commands: TPM 2.0 Library Specification rev 1.59 Part 3 (Startup 0x144, GetRandom
// 0x17b, GetCapability 0x17a, PCR_Extend 0x182, PCR_Read 0x17e).  TPM 1.2 commands: TPM Main
// Specification 1.2 rev 116 Part 3 (TPM_Startup 0x99, TPM_ContinueSelfTest 0x53, TPM_GetRandom
// 0x46).
#include <glib.h>

#include <cstring>

#include "backends/tpm/tests/fake_swtpm.h"
#include "backends/tpm/tests/swtpm_process.h"
#include "backends/tpm/tpm_emulator.h"
#include "hw/tpm/tis/tests/tis_fixture.h"

using namespace qtpm;
using namespace qtpm::tis;
using namespace qtpm::testing;

namespace {

using Bytes = std::vector<uint8_t>;
constexpr int kTpmTimeoutMs = 60000;  // a guard against a hang, not a timing assertion

void put16(Bytes &b, uint16_t v) {
  b.push_back(uint8_t(v >> 8));
  b.push_back(uint8_t(v));
}
void put32(Bytes &b, uint32_t v) {
  put16(b, uint16_t(v >> 16));
  put16(b, uint16_t(v));
}
uint32_t get32(const Bytes &b, size_t at) {
  ck_assert_uint_ge(b.size(), at + 4);
  return uint32_t(b[at]) << 24 | uint32_t(b[at + 1]) << 16 | uint32_t(b[at + 2]) << 8 | b[at + 3];
}

Bytes command(uint16_t tag, uint32_t code, const Bytes &body) {
  Bytes c;
  put16(c, tag);
  put32(c, uint32_t(kTpmHeaderSize + body.size()));
  put32(c, code);
  c.insert(c.end(), body.begin(), body.end());
  return c;
}

Bytes tpm2(uint32_t code, std::initializer_list<uint32_t> words32, Bytes tail = {}) {
  Bytes body;
  for (uint32_t w : words32) put32(body, w);
  body.insert(body.end(), tail.begin(), tail.end());
  return command(0x8001, code, body);
}

Bytes tpm2_startup_clear() { return command(0x8001, 0x144, {0x00, 0x00}); }

Bytes pcr_extend(uint32_t pcr, const Bytes &sha256) {
  Bytes body;
  put32(body, pcr);
  put32(body, 9);           // one password session, empty password
  put32(body, 0x40000009);  // TPM_RS_PW
  put16(body, 0);
  body.push_back(0);
  put16(body, 0);
  put32(body, 1);       // TPML_DIGEST_VALUES.count
  put16(body, 0x000b);  // TPM_ALG_SHA256
  body.insert(body.end(), sha256.begin(), sha256.end());
  return command(0x8002, 0x182, body);
}

Bytes pcr_read(uint32_t pcr) {
  Bytes body;
  put32(body, 1);
  put16(body, 0x000b);
  body.push_back(3);
  Bytes select(3, 0);
  select[pcr / 8] = uint8_t(1u << (pcr % 8));
  body.insert(body.end(), select.begin(), select.end());
  return command(0x8001, 0x17e, body);
}

Bytes pcr_value(const Bytes &rsp) {
  constexpr size_t kDigests = kTpmHeaderSize + 4 + 10;
  ck_assert_uint_ge(rsp.size(), kDigests + 4 + 2 + 32);
  ck_assert_uint_eq(tpm_header_code(rsp.data()), 0);
  return Bytes(rsp.begin() + kDigests + 6, rsp.begin() + kDigests + 6 + 32);
}

Bytes sha256(const Bytes &a, const Bytes &b) {
  GChecksum *c = g_checksum_new(G_CHECKSUM_SHA256);
  g_checksum_update(c, a.data(), a.size());
  g_checksum_update(c, b.data(), b.size());
  Bytes out(32);
  gsize len = out.size();
  g_checksum_get_digest(c, out.data(), &len);
  g_checksum_free(c);
  return out;
}

// The emulator backend on a chardev to `ctrl_path`; destroyed after the device using it.
struct EmulatorTpm {
  std::unique_ptr<Object> chardev;
  std::unique_ptr<Object> object;
  EmulatorBackend *backend() { return object_cast<EmulatorBackend>(object.get()); }

  void create(const std::string &ctrl_path) {
    register_builtin_types();
    chardev = object_new("chardev-socket");
    chardev->set_id("chrtpm");
    ck_assert(chardev->set_property("path", ctrl_path).is_ok());
    Status st = chardev->realize();
    ck_assert_msg(st.is_ok(), "%s", st.message().c_str());
    object = object_new(kTypeTpmEmulator);
    ck_assert_ptr_nonnull(backend());
    ck_assert(object->set_property("chardev", "chrtpm").is_ok());
  }
  // With the fixture's host in place: realize the backend, then the device.
  void start(TisFixture &f, std::vector<std::string> *peer_lines = nullptr) {
    f.host.chardevs["chrtpm"] = object_cast<Chardev>(chardev.get());
    if (peer_lines) {
      backend()->error_reporter().set_sink(
          [peer_lines](const std::string &line) { peer_lines->push_back(line); });
    }
    Status st = backend()->realize();
    ck_assert_msg(st.is_ok(), "%s", st.message().c_str());
    f.finish_setup();
  }
  ~EmulatorTpm() {
    object.reset();  // the emulator shuts swtpm down through the chardev first
    chardev.reset();
  }
};

TisOptions on(EmulatorTpm &tpm, int variant_index, TpmVersion v) {
  TisOptions o;
  o.variant = variant_index ? TisVariant::kSysbus : TisVariant::kIsa;
  o.version = v;
  o.backend = tpm.backend();
  o.realize = false;
  return o;
}

}  // namespace

// TPM 2.0 on a real swtpm: startup, the negotiated buffer, random numbers, a PCR chain; from
// locality 0 and, after a seize, locality 3.
START_TEST(test_swtpm_tpm2) {
  SwtpmProcess swtpm(true);
  ck_assert_msg(swtpm.wait_ready(), "swtpm did not start (scripts/install-deps --tests)");
  EmulatorTpm tpm;
  tpm.create(swtpm.ctrl_path());
  TisFixture f(on(tpm, _i, TpmVersion::k2_0));
  tpm.start(f);
  ck_assert(f.host.errors.empty());
  ck_assert(f.dev->tpm_version() == TpmVersion::k2_0);
  ck_assert_uint_eq(f.readl(0, reg::kIntfCapability), 0x30000697);
  ck_assert_uint_eq(f.dev->core().buffer_size(), 4096);
  f.request_locality(0);

  Bytes rsp = f.transmit(0, tpm2_startup_clear(), kTpmTimeoutMs);
  ck_assert_uint_eq(tpm_header_code(rsp.data()), 0);
  // TPM_PT_MAX_COMMAND_SIZE: the TIS buffer the backend negotiated with swtpm.
  rsp = f.transmit(0, tpm2(0x17a, {6, 0x11e, 1}), kTpmTimeoutMs);
  ck_assert_uint_eq(tpm_header_code(rsp.data()), 0);
  ck_assert_uint_eq(get32(rsp, kTpmHeaderSize + 9), 0x11e);
  ck_assert_uint_eq(get32(rsp, kTpmHeaderSize + 13), 4096);
  // GetRandom(32): 32 bytes, and not the same twice.
  Bytes r1 = f.transmit(0, command(0x8001, 0x17b, {0x00, 0x20}), kTpmTimeoutMs);
  Bytes r2 = f.transmit(0, command(0x8001, 0x17b, {0x00, 0x20}), kTpmTimeoutMs);
  ck_assert_uint_eq(r1.size(), kTpmHeaderSize + 2 + 32);
  ck_assert(r1 != r2);

  Bytes before = pcr_value(f.transmit(0, pcr_read(10), kTpmTimeoutMs));
  ck_assert(before == Bytes(32, 0));
  Bytes digest = sha256(Bytes{'t', 'i', 's'}, {});
  rsp = f.transmit(0, pcr_extend(10, digest), kTpmTimeoutMs);
  ck_assert_uint_eq(tpm_header_code(rsp.data()), 0);
  Bytes after = pcr_value(f.transmit(0, pcr_read(10), kTpmTimeoutMs));
  ck_assert(after == sha256(before, digest));

  // Locality 3 seizes the TPM and extends too (PCR 10 is extendable from any locality).
  f.writeb(3, reg::kAccess, access::kSeize);
  ck_assert_uint_eq(f.access(0) & access::kBeenSeized, access::kBeenSeized);
  rsp = f.transmit(3, pcr_extend(10, digest), kTpmTimeoutMs);
  ck_assert_uint_eq(tpm_header_code(rsp.data()), 0);
  Bytes after2 = pcr_value(f.transmit(3, pcr_read(10), kTpmTimeoutMs));
  ck_assert(after2 == sha256(after, digest));
  f.check_invariants();
}
END_TEST

// TPM 1.2 on a real swtpm: startup, ContinueSelfTest (selfTestDone in every locality), random.
START_TEST(test_swtpm_tpm12) {
  SwtpmProcess swtpm(false);
  ck_assert_msg(swtpm.wait_ready(), "swtpm did not start (scripts/install-deps --tests)");
  EmulatorTpm tpm;
  tpm.create(swtpm.ctrl_path());
  TisFixture f(on(tpm, _i, TpmVersion::k1_2));
  tpm.start(f);
  ck_assert(f.dev->tpm_version() == TpmVersion::k1_2);
  ck_assert_uint_eq(f.readl(0, reg::kIntfCapability), 0x20000697);
  ck_assert_uint_eq(f.readl(0, reg::kInterfaceId), 0xffffffff);
  f.request_locality(0);
  ck_assert_uint_eq(f.sts(0) & sts::kFamily.mask(), 0);

  Bytes rsp = f.transmit(0, command(0x00c1, 0x99, {0x00, 0x01}), kTpmTimeoutMs);  // ST_CLEAR
  ck_assert_uint_eq(tpm_header_tag(rsp.data()), 0x00c4);
  ck_assert_uint_eq(tpm_header_code(rsp.data()), 0);
  ck_assert(!(f.sts(0) & sts::kSelfTestDone));
  rsp = f.transmit(0, command(0x00c1, 0x53, {}), kTpmTimeoutMs);
  ck_assert_uint_eq(tpm_header_code(rsp.data()), 0);
  ck_assert(f.sts(0) & sts::kSelfTestDone);
  rsp = f.transmit(0, command(0x00c1, 0x46, {0, 0, 0, 16}), kTpmTimeoutMs);
  ck_assert_uint_eq(tpm_header_code(rsp.data()), 0);
  ck_assert_uint_eq(get32(rsp, kTpmHeaderSize), 16);
  f.writeb(2, reg::kAccess, access::kRequestUse);
  f.writeb(0, reg::kAccess, access::kActiveLocality);
  ck_assert(f.sts(2) & sts::kSelfTestDone);
  f.check_invariants();
}
END_TEST

// A swtpm that refuses to start: one line for the user, no TPM for the guest; the next reset
// finds it working.
START_TEST(test_fake_swtpm_startup_failure) {
  TempDir dir;
  FakeSwtpm fake(dir.file("ctrl"));
  ck_assert(fake.listening());
  EmulatorTpm tpm;
  tpm.create(fake.ctrl_path());
  TisOptions o = on(tpm, _i, TpmVersion::k2_0);
  o.reset = false;
  TisFixture f(o);
  std::vector<std::string> peer_lines;
  tpm.start(f, &peer_lines);
  fake.inject_ctrl(static_cast<uint32_t>(swtpm::Cmd::kInit), FAKE_SWTPM_CTRL_RESULT, 1,
                   swtpm::kResultFail);
  f.dev->reset();
  ck_assert_uint_eq(f.host.errors.size(), 1);
  ck_assert(f.host.errors[0].find("failed to start") != std::string::npos);
  ck_assert_uint_eq(f.readl(0, reg::kAccess), 0);
  ck_assert_uint_eq(f.readl(0, reg::kDidVid), 0);
  f.dev->reset();
  ck_assert_uint_eq(f.host.errors.size(), 1);
  ck_assert_uint_eq(f.access(0) & access::kRegValidSts, access::kRegValidSts);
  f.request_locality(0);
  ck_assert_uint_eq(tpm_header_code(f.transmit(0, tpm2_startup_clear()).data()), 0);
}
END_TEST

// Cancel and abort reach swtpm; the locality and resetEstablishment travel to it.
START_TEST(test_fake_swtpm_cancel_locality) {
  TempDir dir;
  FakeSwtpm fake(dir.file("ctrl"));
  EmulatorTpm tpm;
  tpm.create(fake.ctrl_path());
  TisFixture f(on(tpm, _i, TpmVersion::k2_0));
  tpm.start(f);
  f.request_locality(0);
  ck_assert_uint_eq(tpm_header_code(f.transmit(0, tpm2_startup_clear()).data()), 0);
  size_t sent = fake.data_count();
  // commandCancel while swtpm works on a slow command.
  fake.inject_data(FAKE_SWTPM_DATA_SLOW, 1, 30000);
  f.send(0, command(0x8001, 0x17b, {0x00, 0x08}));
  ck_assert(fake.wait_data_commands(sent + 1, kTpmTimeoutMs));
  f.writel(0, reg::kSts, sts::kCommandCancel);
  f.wait_response(0, kTpmTimeoutMs);
  ck_assert_uint_ge(fake.cancels(), 1);
  f.receive(0);
  // commandReady while executing: cancelled, the response dropped, ready again.
  fake.inject_data(FAKE_SWTPM_DATA_SLOW, 1, 30000);
  f.send(0, command(0x8001, 0x17b, {0x00, 0x08}));
  ck_assert(fake.wait_data_commands(sent + 2, kTpmTimeoutMs));
  f.writeb(0, reg::kSts, sts::kCommandReady);
  ck_assert(f.host.run_until([&] { return f.dev->core().state(0) == TisState::kReady; },
                             kTpmTimeoutMs));
  ck_assert_uint_ge(fake.cancels(), 2);
  ck_assert_uint_eq(f.readl(0, reg::kDataFifo), 0xffffffff);
  // Locality 3 sends; swtpm is told the locality; resetEstablishment from it.
  f.writeb(3, reg::kAccess, access::kSeize);
  f.transmit(3, command(0x8001, 0x17b, {0x00, 0x08}));
  std::vector<uint8_t> localities = fake.localities();
  ck_assert(!localities.empty() && localities.back() == 3);
  f.writel(3, reg::kSts, sts::kResetEstablishment);
  ck_assert_uint_eq(fake.reset_established_localities().size(), 1);
  ck_assert_uint_eq(fake.reset_established_localities()[0], 3);
  f.check_invariants();
}
END_TEST

// swtpm dying or answering garbage mid-command: the guest reads a TPM failure response.
START_TEST(test_fake_swtpm_peer_failures) {
  TempDir dir;
  FakeSwtpm fake(dir.file("ctrl"));
  EmulatorTpm tpm;
  tpm.create(fake.ctrl_path());
  TisFixture f(on(tpm, _i, TpmVersion::k2_0));
  std::vector<std::string> peer_lines;
  tpm.start(f, &peer_lines);
  f.request_locality(0);
  ck_assert_uint_eq(tpm_header_code(f.transmit(0, tpm2_startup_clear()).data()), 0);
  const Bytes fatal = {0x00, 0xc4, 0, 0, 0, 0x0a, 0, 0, 0, 0x09};
  for (fake_swtpm_fault fault : {FAKE_SWTPM_DATA_OVERSIZED, FAKE_SWTPM_DATA_UNDERSIZED,
                                 FAKE_SWTPM_DATA_GARBAGE, FAKE_SWTPM_DATA_DIE}) {
    fake.inject_data(fault);
    Bytes rsp = f.transmit(0, command(0x8001, 0x17b, {0x00, 0x08}), kTpmTimeoutMs);
    ck_assert_msg(rsp == fatal, "fault %d", static_cast<int>(fault));
    f.check_invariants();
  }
  ck_assert(!peer_lines.empty());
}
END_TEST

int main() {
  Suite *s = suite_create("tis-real-tpm");
  TCase *tc = tcase_create("real-tpm");
  tcase_set_timeout(tc, 120);
  tcase_add_loop_test(tc, test_swtpm_tpm2, 0, 2);
  tcase_add_loop_test(tc, test_swtpm_tpm12, 0, 2);
  tcase_add_loop_test(tc, test_fake_swtpm_startup_failure, 0, 2);
  tcase_add_loop_test(tc, test_fake_swtpm_cancel_locality, 0, 2);
  tcase_add_loop_test(tc, test_fake_swtpm_peer_failures, 0, 2);
  suite_add_tcase(s, tc);
  return qtpm::testing::run_suite(s);
}
