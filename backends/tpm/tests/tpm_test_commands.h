// SPDX-License-Identifier: GPL-2.0-or-later
//
// TPM command builders and response readers for backend tests and benchmarks.
//
// TPM 2.0 commands follow "Trusted Platform Module Library, Part 3: Commands" (rev 1.59) and
// the structures of Part 2; TPM 1.2 commands follow "TPM Main Part 3 Commands" (rev 116).
// Authorised TPM 2.0 commands carry one password session (TPM_RS_PW, empty password).
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

namespace qtpm::testing {

using Bytes = std::vector<uint8_t>;

inline constexpr uint16_t kTpmStNoSessions = 0x8001;
inline constexpr uint16_t kTpmStSessions = 0x8002;
inline constexpr uint16_t kTpm12TagRquCommand = 0x00c1;

inline constexpr uint32_t kTpmRhOwner = 0x40000001;
inline constexpr uint32_t kTpmRhPlatform = 0x4000000c;
inline constexpr uint32_t kTpmRsPw = 0x40000009;
inline constexpr uint16_t kTpmAlgSha256 = 0x000b;

inline constexpr uint32_t kTpmRcSuccess = 0;
inline constexpr uint32_t kTpmRcInitialize = 0x100;  // Startup not yet sent
inline constexpr uint32_t kTpmRcValue = 0x084;       // e.g. Startup(STATE) after no orderly save

// Builds one command: header first, size patched by finish().  Cmd::raw() builds a plain
// structure (no header) the same way.
class Cmd {
 public:
  Cmd(uint16_t tag, uint32_t code) {
    u16(tag);
    u32(0);
    u32(code);
  }
  static Cmd raw() { return Cmd(); }
  Cmd &u8(uint8_t v) {
    b_.push_back(v);
    return *this;
  }
  Cmd &u16(uint16_t v) { return u8(static_cast<uint8_t>(v >> 8)).u8(static_cast<uint8_t>(v)); }
  Cmd &u32(uint32_t v) {
    return u16(static_cast<uint16_t>(v >> 16)).u16(static_cast<uint16_t>(v));
  }
  Cmd &bytes(const Bytes &v) {
    b_.insert(b_.end(), v.begin(), v.end());
    return *this;
  }
  Cmd &tpm2b(const Bytes &v) { return u16(static_cast<uint16_t>(v.size())).bytes(v); }
  // authorizationSize + one empty password session.
  Cmd &password_session() { return u32(9).u32(kTpmRsPw).u16(0).u8(0).u16(0); }
  Bytes finish() {
    if (raw_) return b_;
    const uint32_t n = static_cast<uint32_t>(b_.size());
    b_[2] = static_cast<uint8_t>(n >> 24);
    b_[3] = static_cast<uint8_t>(n >> 16);
    b_[4] = static_cast<uint8_t>(n >> 8);
    b_[5] = static_cast<uint8_t>(n);
    return b_;
  }

 private:
  Cmd() : raw_(true) {}
  bool raw_ = false;
  Bytes b_;
};

inline uint16_t get16(const Bytes &b, size_t off) {
  return off + 2 <= b.size() ? static_cast<uint16_t>(b[off] << 8 | b[off + 1]) : 0;
}
inline uint32_t get32(const Bytes &b, size_t off) {
  return off + 4 <= b.size() ? uint32_t{get16(b, off)} << 16 | get16(b, off + 2) : 0;
}
inline Bytes slice(const Bytes &b, size_t off, size_t len) {
  if (off > b.size() || len > b.size() - off) return {};
  return Bytes(b.begin() + static_cast<ptrdiff_t>(off),
               b.begin() + static_cast<ptrdiff_t>(off + len));
}
// Response code (0xffffffff for a response too short to have one).
inline uint32_t rc_of(const Bytes &resp) { return resp.size() >= 10 ? get32(resp, 6) : ~0u; }

// ---- TPM 2.0 ---------------------------------------------------------------------------------

inline Bytes tpm2_startup(uint16_t su /* 0 CLEAR, 1 STATE */) {
  return Cmd(kTpmStNoSessions, 0x144).u16(su).finish();
}
inline Bytes tpm2_shutdown(uint16_t su) { return Cmd(kTpmStNoSessions, 0x145).u16(su).finish(); }
inline Bytes tpm2_get_random(uint16_t n) { return Cmd(kTpmStNoSessions, 0x17b).u16(n).finish(); }

inline Bytes tpm2_pcr_extend_sha256(uint32_t pcr, const Bytes &digest) {
  return Cmd(kTpmStSessions, 0x182)
      .u32(pcr)
      .password_session()
      .u32(1)
      .u16(kTpmAlgSha256)
      .bytes(digest)
      .finish();
}

inline Bytes tpm2_pcr_read_sha256(uint32_t pcr) {
  uint8_t select[3] = {0, 0, 0};
  select[pcr / 8] = static_cast<uint8_t>(1u << (pcr % 8));
  return Cmd(kTpmStNoSessions, 0x17e)
      .u32(1)
      .u16(kTpmAlgSha256)
      .u8(3)
      .u8(select[0])
      .u8(select[1])
      .u8(select[2])
      .finish();
}
// The single sha256 digest of a PCR_Read response (empty if malformed).
inline Bytes tpm2_pcr_read_digest(const Bytes &resp) {
  // header 10 | updateCounter 4 | selection: count 4, hash 2, size 1, select 3 | digests: count 4
  if (rc_of(resp) != 0 || get32(resp, 24) != 1) return {};
  return slice(resp, 30, get16(resp, 28));
}

// CreatePrimary of an RSA-2048 restricted decryption key (an SRK template) in the owner
// hierarchy.
inline Bytes tpm2_create_primary_rsa() {
  Bytes pub = {0x00, 0x01,              // type RSA
               0x00, 0x0b,              // nameAlg sha256
               0x00, 0x03, 0x00, 0x72,  // fixedTPM fixedParent sensitiveDataOrigin userWithAuth
                                        // restricted decrypt
               0x00, 0x00,              // authPolicy
               0x00, 0x06, 0x00, 0x80, 0x00, 0x43,  // symmetric AES-128-CFB
               0x00, 0x10,                          // scheme NULL
               0x08, 0x00,                          // keyBits 2048
               0x00, 0x00, 0x00, 0x00,              // exponent default
               0x00, 0x00};                         // unique
  return Cmd(kTpmStSessions, 0x131)
      .u32(kTpmRhOwner)
      .password_session()
      .u16(4).u16(0).u16(0)  // inSensitive: userAuth, data empty
      .tpm2b(pub)
      .u16(0)   // outsideInfo
      .u32(0)   // creationPCR: none
      .finish();
}

// CreatePrimary of an ECC NIST P-256 restricted decryption key.
inline Bytes tpm2_create_primary_ecc() {
  Bytes pub = {0x00, 0x23, 0x00, 0x0b, 0x00, 0x03, 0x00, 0x72, 0x00, 0x00,
               0x00, 0x06, 0x00, 0x80, 0x00, 0x43,  // AES-128-CFB
               0x00, 0x10,                          // scheme NULL
               0x00, 0x03,                          // curve NIST P-256
               0x00, 0x10,                          // kdf NULL
               0x00, 0x00, 0x00, 0x00};             // unique x, y empty
  return Cmd(kTpmStSessions, 0x131)
      .u32(kTpmRhOwner)
      .password_session()
      .u16(4).u16(0).u16(0)
      .tpm2b(pub)
      .u16(0)
      .u32(0)
      .finish();
}

inline Bytes tpm2_flush_context(uint32_t handle) {
  return Cmd(kTpmStNoSessions, 0x165).u32(handle).finish();
}

// NV_DefineSpace in the owner hierarchy: ordinary index, owner/auth read and write, no DA.
inline Bytes tpm2_nv_define(uint32_t index, uint16_t size) {
  Bytes nv_public = Cmd::raw()
                        .u32(index)
                        .u16(kTpmAlgSha256)
                        .u32(0x02060006)  // OWNERWRITE AUTHWRITE OWNERREAD AUTHREAD NO_DA
                        .u16(0)           // authPolicy
                        .u16(size)
                        .finish();
  return Cmd(kTpmStSessions, 0x12a)
      .u32(kTpmRhOwner)
      .password_session()
      .u16(0)  // auth
      .tpm2b(nv_public)
      .finish();
}
// NV_DefineSpace of an extend index (TPM_NT_EXTEND, sha256, 32 bytes).
inline Bytes tpm2_nv_define_extend(uint32_t index) {
  Bytes nv_public = Cmd::raw()
                        .u32(index)
                        .u16(kTpmAlgSha256)
                        .u32(0x02060046)  // as above, TPM_NT in bits 4-7 = 4 (extend)
                        .u16(0)
                        .u16(32)
                        .finish();
  return Cmd(kTpmStSessions, 0x12a)
      .u32(kTpmRhOwner)
      .password_session()
      .u16(0)
      .tpm2b(nv_public)
      .finish();
}
inline Bytes tpm2_nv_write(uint32_t index, const Bytes &data, uint16_t offset) {
  return Cmd(kTpmStSessions, 0x137)
      .u32(kTpmRhOwner)
      .u32(index)
      .password_session()
      .tpm2b(data)
      .u16(offset)
      .finish();
}
inline Bytes tpm2_nv_extend(uint32_t index, const Bytes &data) {
  return Cmd(kTpmStSessions, 0x136)
      .u32(kTpmRhOwner)
      .u32(index)
      .password_session()
      .tpm2b(data)
      .finish();
}
inline Bytes tpm2_nv_read(uint32_t auth, uint32_t index, uint16_t size, uint16_t offset) {
  return Cmd(kTpmStSessions, 0x14e)
      .u32(auth)
      .u32(index)
      .password_session()
      .u16(size)
      .u16(offset)
      .finish();
}
// The data of an NV_Read response: header 10 | parameterSize 4 | TPM2B.
inline Bytes tpm2_nv_read_data(const Bytes &resp) {
  if (rc_of(resp) != 0) return {};
  return slice(resp, 16, get16(resp, 14));
}
inline Bytes tpm2_nv_read_public(uint32_t index) {
  return Cmd(kTpmStNoSessions, 0x169).u32(index).finish();
}
struct NvPublic {
  uint32_t index = 0;
  uint32_t attributes = 0;
  uint16_t data_size = 0;
};
// TPM2B_NV_PUBLIC: size 2 | nvIndex 4 | nameAlg 2 | attributes 4 | authPolicy TPM2B | dataSize 2
inline NvPublic tpm2_nv_public_of(const Bytes &resp) {
  NvPublic p;
  if (rc_of(resp) != 0) return p;
  p.index = get32(resp, 12);
  p.attributes = get32(resp, 18);
  p.data_size = get16(resp, 24 + get16(resp, 22));
  return p;
}
inline Bytes tpm2_read_public(uint32_t handle) {
  return Cmd(kTpmStNoSessions, 0x173).u32(handle).finish();
}
// The RSA modulus of a ReadPublic response: `unique`, the last field of TPMT_PUBLIC inside
// outPublic (TPM2B at offset 10), is a TPM2B of `modulus_len` bytes.
inline Bytes tpm2_read_public_rsa_modulus(const Bytes &resp, size_t modulus_len) {
  if (rc_of(resp) != 0) return {};
  const size_t end = 12 + get16(resp, 10);
  if (end > resp.size() || end < 12 + modulus_len + 2) return {};
  if (get16(resp, end - modulus_len - 2) != modulus_len) return {};
  return slice(resp, end - modulus_len, modulus_len);
}
inline Bytes tpm2_read_clock() { return Cmd(kTpmStNoSessions, 0x181).finish(); }
// TPMS_TIME_INFO: time 8 | clockInfo: clock 8, resetCount 4, restartCount 4, safe 1
inline uint32_t tpm2_clock_reset_count(const Bytes &resp) { return get32(resp, 26); }
inline uint8_t tpm2_clock_safe(const Bytes &resp) { return resp.size() > 34 ? resp[34] : 0xff; }
// PP_Commands with empty lists: needs platform authorisation and physical presence.
inline Bytes tpm2_pp_commands() {
  return Cmd(kTpmStSessions, 0x12d)
      .u32(kTpmRhPlatform)
      .password_session()
      .u32(0)
      .u32(0)
      .finish();
}
inline Bytes tpm2_hierarchy_control_disable_platform() {
  return Cmd(kTpmStSessions, 0x121)
      .u32(kTpmRhPlatform)
      .password_session()
      .u32(kTpmRhPlatform)
      .u8(0)
      .finish();
}

// ---- TPM 1.2 ---------------------------------------------------------------------------------

inline Bytes tpm12_startup(uint16_t st /* 1 CLEAR, 2 STATE */) {
  return Cmd(kTpm12TagRquCommand, 0x99).u16(st).finish();
}
inline Bytes tpm12_pcr_read(uint32_t pcr) {
  return Cmd(kTpm12TagRquCommand, 0x15).u32(pcr).finish();
}
inline Bytes tpm12_extend(uint32_t pcr, const Bytes &digest20) {
  return Cmd(kTpm12TagRquCommand, 0x14).u32(pcr).bytes(digest20).finish();
}
inline Bytes tpm12_continue_selftest() { return Cmd(kTpm12TagRquCommand, 0x53).finish(); }
inline Bytes tpm12_save_state() { return Cmd(kTpm12TagRquCommand, 0x98).finish(); }
// The 20-byte value of a TPM_PCRRead or TPM_Extend response.
inline Bytes tpm12_digest_of(const Bytes &resp) {
  return rc_of(resp) == 0 ? slice(resp, 10, 20) : Bytes{};
}

}  // namespace qtpm::testing
