// SPDX-License-Identifier: GPL-2.0-or-later
//
// tpm-crb in front of a real TPM 2.0, no host program: the emulator backend on a real swtpm
// process (`-tpmdev emulator`), and the in-process libtpms backend (`-tpmdev libtpms`) when it is
// in the build.  TPM2_Startup, TPM2_GetCapability, TPM2_PCR_Extend and TPM2_PCR_Read go through
// the CRB registers and buffer, in both buffer layouts and through OVMF's base + 0x80 view, and
// the PCR is checked against SHA-256(old || digest) computed here with GLib.  Commands: TPM 2.0 Library Specification
// rev 1.59, Part 3 (Startup 0x144, PCR_Extend 0x182, PCR_Read 0x17e, GetCapability 0x17a).
#include "qom/testing.h"

#include <glib.h>

#include "backends/tpm/tests/swtpm_process.h"
#include "hw/tpm/crb/tests/crb_rig.h"
#include "qom/chardev.h"

using namespace qtpm;
using namespace qtpm::crb;
using namespace qtpm::testing;

namespace {

constexpr uint32_t kTpmCcStartup = 0x144;
constexpr uint32_t kTpmCcPcrExtend = 0x182;
constexpr uint32_t kTpmCcPcrRead = 0x17e;
constexpr uint32_t kTpmCcGetCapability = 0x17a;
constexpr uint32_t kTpmRsPw = 0x40000009;
constexpr uint16_t kTpmAlgSha256 = 0x000b;
constexpr uint32_t kPcr = 10;
constexpr int kTpmTimeoutMs = 60000;  // a guard against a hang, not a timing assertion

using Bytes = std::vector<uint8_t>;

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

Bytes with_header(uint16_t tag, uint32_t code, const Bytes &body) {
  Bytes c = tpm2_command(code, body);
  c[0] = uint8_t(tag >> 8);
  c[1] = uint8_t(tag);
  return c;
}

Bytes startup_clear() {
  Bytes body;
  put16(body, 0x0000);  // TPM_SU_CLEAR
  return tpm2_command(kTpmCcStartup, body);
}

Bytes pcr_extend(uint32_t pcr, const Bytes &sha256) {
  Bytes body;
  put32(body, pcr);
  put32(body, 9);  // authorizationSize: one password session with an empty password
  put32(body, kTpmRsPw);
  put16(body, 0);  // nonce
  body.push_back(0);  // session attributes
  put16(body, 0);  // hmac (password)
  put32(body, 1);  // TPML_DIGEST_VALUES.count
  put16(body, kTpmAlgSha256);
  body.insert(body.end(), sha256.begin(), sha256.end());
  return with_header(0x8002, kTpmCcPcrExtend, body);
}

Bytes pcr_read(uint32_t pcr) {
  Bytes body;
  put32(body, 1);  // TPML_PCR_SELECTION.count
  put16(body, kTpmAlgSha256);
  body.push_back(3);  // sizeofSelect
  Bytes select(3, 0);
  select[pcr / 8] = uint8_t(1u << (pcr % 8));
  body.insert(body.end(), select.begin(), select.end());
  return tpm2_command(kTpmCcPcrRead, body);
}

// TPM2_PCR_Read response: header, pcrUpdateCounter, TPML_PCR_SELECTION (count 1: 4 + 2 + 1 + 3),
// TPML_DIGEST (count u32, then TPM2B_DIGEST: size u16 + 32 bytes).
Bytes pcr_value(const Bytes &rsp) {
  constexpr size_t kDigestCount = kTpmHeaderSize + 4 + 10;
  ck_assert_uint_ge(rsp.size(), kDigestCount + 4 + 2 + 32);
  ck_assert_uint_eq(tpm_header_code(rsp.data()), 0);
  ck_assert_uint_eq(rsp[kDigestCount + 3], 1);
  ck_assert_uint_eq(rsp[kDigestCount + 4] << 8 | rsp[kDigestCount + 5], 32);
  return Bytes(rsp.begin() + kDigestCount + 6, rsp.begin() + kDigestCount + 6 + 32);
}

Bytes sha256(const Bytes &a, const Bytes &b) {
  GChecksum *c = g_checksum_new(G_CHECKSUM_SHA256);
  g_checksum_update(c, a.data(), a.size());
  g_checksum_update(c, b.data(), b.size());
  Bytes out(32);
  gsize len = out.size();
  g_checksum_get_digest(c, out.data(), &len);
  g_checksum_free(c);
  ck_assert_uint_eq(len, 32);
  return out;
}

Bytes digest_of(const char *text) {
  return sha256(Bytes(text, text + strlen(text)), {});
}

// A realized TPM 2.0 backend and what it needs; destroyed after the device that uses it.
struct RealTpm {
  std::unique_ptr<SwtpmProcess> swtpm;  // emulator only; stopped last
  std::unique_ptr<Object> chardev;
  std::unique_ptr<Object> object;
  TpmBackend *backend() { return object_cast<TpmBackend>(object.get()); }
};

enum class Kind { kEmulatorSwtpm, kLibtpms };

// Creates the backend; it is realized by the rig's host (which the backend needs first).
RealTpm make_backend(Kind kind) {
  register_builtin_types();
  RealTpm tpm;
  if (kind == Kind::kEmulatorSwtpm) {
    tpm.swtpm = std::make_unique<SwtpmProcess>(true);
    ck_assert_msg(tpm.swtpm->wait_ready(), "swtpm did not start (scripts/install-deps --tests)");
    tpm.chardev = object_new("chardev-socket");
    tpm.chardev->set_id("chrtpm");
    ck_assert(tpm.chardev->set_property("path", tpm.swtpm->ctrl_path()).is_ok());
    Status st = tpm.chardev->realize();
    ck_assert_msg(st.is_ok(), "%s", st.message().c_str());
    tpm.object = object_new("tpm-emulator");
    ck_assert_msg(tpm.object != nullptr, "the emulator backend is not in this build");
    ck_assert(tpm.object->set_property("chardev", "chrtpm").is_ok());
  } else {
    tpm.object = object_new("tpm-libtpms");
    ck_assert_msg(tpm.object != nullptr, "the libtpms backend is not in this build");
  }
  ck_assert_ptr_nonnull(tpm.backend());
  return tpm;
}

void run_pcr_round_trip(Kind kind, const char *layout, bool ovmf_view) {
  RealTpm tpm = make_backend(kind);
  {
    CrbRig rig({.layout = layout}, tpm.backend());
    if (tpm.chardev) rig.host.chardevs["chrtpm"] = object_cast<Chardev>(tpm.chardev.get());
    Status st = tpm.backend()->realize();
    ck_assert_msg(st.is_ok(), "%s", st.message().c_str());
    st = rig.start();
    ck_assert_msg(st.is_ok(), "%s", st.message().c_str());
    ck_assert(!tpm.backend()->had_startup_error());
    ck_assert(rig.host.errors.empty());
    uint64_t buffer = ovmf_view ? kBaseAddress + kRegistersSize : 0;

    Bytes rsp = rig.transact(startup_clear(), buffer, kTpmTimeoutMs);
    ck_assert_uint_eq(tpm_header_code(rsp.data()), 0);

    // The TPM negotiated the CRB's buffer: TPM_PT_MAX_COMMAND_SIZE (0x11e) reads 0xf80.
    Bytes cap;
    put32(cap, 6);      // TPM_CAP_TPM_PROPERTIES
    put32(cap, 0x11e);  // TPM_PT_MAX_COMMAND_SIZE
    put32(cap, 1);
    rsp = rig.transact(tpm2_command(kTpmCcGetCapability, cap), buffer, kTpmTimeoutMs);
    ck_assert_uint_eq(tpm_header_code(rsp.data()), 0);
    // header, moreData u8, capability u32, count u32, then {property u32, value u32}
    ck_assert_uint_eq(get32(rsp, kTpmHeaderSize + 5), 1);
    ck_assert_uint_eq(get32(rsp, kTpmHeaderSize + 9), 0x11e);
    ck_assert_uint_eq(get32(rsp, kTpmHeaderSize + 13), 0xf80);

    Bytes before = pcr_value(rig.transact(pcr_read(kPcr), buffer, kTpmTimeoutMs));
    ck_assert(before == Bytes(32, 0));  // after TPM2_Startup(CLEAR)

    Bytes digest = digest_of("tpm-crb measured this");
    rsp = rig.transact(pcr_extend(kPcr, digest), buffer, kTpmTimeoutMs);
    ck_assert_uint_eq(tpm_header_code(rsp.data()), 0);

    Bytes after = pcr_value(rig.transact(pcr_read(kPcr), buffer, kTpmTimeoutMs));
    ck_assert(after == sha256(before, digest));
    ck_assert_uint_eq(ctrl_sts::kTpmSts.extract(rig.reg(A_CTRL_STS)), 0);

    // A second extend chains on the first.
    Bytes digest2 = digest_of("and this");
    rig.transact(pcr_extend(kPcr, digest2), buffer, kTpmTimeoutMs);
    Bytes after2 = pcr_value(rig.transact(pcr_read(kPcr), buffer, kTpmTimeoutMs));
    ck_assert(after2 == sha256(after, digest2));
  }
  tpm.object.reset();  // unrealize: the emulator shuts swtpm down through the chardev
}

}  // namespace

START_TEST(test_swtpm_qemu_layout) { run_pcr_round_trip(Kind::kEmulatorSwtpm, "qemu", false); }
END_TEST

START_TEST(test_swtpm_page_aligned) {
  run_pcr_round_trip(Kind::kEmulatorSwtpm, "page-aligned", false);
}
END_TEST

START_TEST(test_swtpm_page_aligned_ovmf_view) {
  run_pcr_round_trip(Kind::kEmulatorSwtpm, "page-aligned", true);
}
END_TEST

START_TEST(test_libtpms_qemu_layout) { run_pcr_round_trip(Kind::kLibtpms, "qemu", false); }
END_TEST

START_TEST(test_libtpms_page_aligned) {
  run_pcr_round_trip(Kind::kLibtpms, "page-aligned", false);
}
END_TEST

START_TEST(test_libtpms_page_aligned_ovmf_view) {
  run_pcr_round_trip(Kind::kLibtpms, "page-aligned", true);
}
END_TEST

int main() {
  register_builtin_types();
  // The emulator backend and swtpm are required (scripts/install-deps --tests installs swtpm).
  // The libtpms backend joins when it is in the build; until then its cases are not added, and
  // the run says so.
  Suite *s = suite_create("tpm-crb-real-tpm");
  TCase *swtpm = tcase_create("emulator-swtpm");
  tcase_set_timeout(swtpm, 120);
  tcase_add_test(swtpm, test_swtpm_qemu_layout);
  tcase_add_test(swtpm, test_swtpm_page_aligned);
  tcase_add_test(swtpm, test_swtpm_page_aligned_ovmf_view);
  suite_add_tcase(s, swtpm);
  if (type_find("tpm-libtpms")) {
    TCase *libtpms = tcase_create("libtpms");
    tcase_set_timeout(libtpms, 120);
    tcase_add_test(libtpms, test_libtpms_qemu_layout);
    tcase_add_test(libtpms, test_libtpms_page_aligned);
    tcase_add_test(libtpms, test_libtpms_page_aligned_ovmf_view);
    suite_add_tcase(s, libtpms);
  } else {
    std::fprintf(stderr, "tpm-crb-real-tpm: no libtpms backend in this build; swtpm only\n");
  }
  return run_suite(s);
}
