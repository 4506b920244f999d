// SPDX-License-Identifier: GPL-2.0-or-later
//
// TPM 2.0 command builders and response parsers for the demo (see tpm2_commands.h).
#include "qtest/demo/tpm2_commands.h"

#include <glib.h>

#include "backends/tpm/tpm_backend.h"

namespace qtpm::demo {

namespace {

constexpr uint16_t kTagNoSessions = 0x8001;
constexpr uint16_t kTagSessions = 0x8002;
constexpr uint32_t kCcStartup = 0x144, kCcSelfTest = 0x143, kCcGetCapability = 0x17a,
                   kCcGetRandom = 0x17b, kCcPcrExtend = 0x182, kCcPcrRead = 0x17e;
constexpr uint32_t kCapPcrs = 5;
constexpr uint32_t kRsPw = 0x40000009;  // password authorization session

constexpr PcrBank kBanks[] = {
    {0x0004, "sha1", 20},
    {0x000b, "sha256", 32},
    {0x000c, "sha384", 48},
    {0x000d, "sha512", 64},
};

void put16(std::vector<uint8_t> &b, uint16_t v) {
  b.push_back(uint8_t(v >> 8));
  b.push_back(uint8_t(v));
}

void put32(std::vector<uint8_t> &b, uint32_t v) {
  for (int i = 3; i >= 0; i--) b.push_back(uint8_t(v >> (8 * i)));
}

// Header with the size filled in by finish().
std::vector<uint8_t> begin(uint16_t tag, uint32_t cc) {
  std::vector<uint8_t> b;
  put16(b, tag);
  put32(b, 0);
  put32(b, cc);
  return b;
}

std::vector<uint8_t> finish(std::vector<uint8_t> b) {
  uint32_t n = uint32_t(b.size());
  for (int i = 0; i < 4; i++) b[2 + i] = uint8_t(n >> (8 * (3 - i)));
  return b;
}

// A bounds-checked reader over a response body.
class Reader {
 public:
  Reader(const std::vector<uint8_t> &b, size_t pos) : b_(b), pos_(pos) {}
  bool u8(uint8_t *v) { return take(1) && (*v = b_[pos_ - 1], true); }
  bool u16(uint16_t *v) {
    if (!take(2)) return false;
    *v = uint16_t(b_[pos_ - 2] << 8 | b_[pos_ - 1]);
    return true;
  }
  bool u32(uint32_t *v) {
    if (!take(4)) return false;
    *v = uint32_t(b_[pos_ - 4]) << 24 | uint32_t(b_[pos_ - 3]) << 16 | uint32_t(b_[pos_ - 2]) << 8 |
         b_[pos_ - 1];
    return true;
  }
  bool bytes(size_t n, std::vector<uint8_t> *out) {
    if (!take(n)) return false;
    out->assign(b_.begin() + long(pos_ - n), b_.begin() + long(pos_));
    return true;
  }

 private:
  bool take(size_t n) {
    if (n > b_.size() - pos_) return false;
    pos_ += n;
    return true;
  }
  const std::vector<uint8_t> &b_;
  size_t pos_;
};

}  // namespace

const PcrBank *find_bank(uint16_t alg) {
  for (const PcrBank &b : kBanks)
    if (b.alg == alg) return &b;
  return nullptr;
}

std::vector<uint8_t> cmd_startup_clear() {
  std::vector<uint8_t> b = begin(kTagNoSessions, kCcStartup);
  put16(b, 0x0000);  // TPM_SU_CLEAR
  return finish(b);
}

std::vector<uint8_t> cmd_self_test_full() {
  std::vector<uint8_t> b = begin(kTagNoSessions, kCcSelfTest);
  b.push_back(1);  // fullTest = YES
  return finish(b);
}

std::vector<uint8_t> cmd_get_capability_pcrs() {
  std::vector<uint8_t> b = begin(kTagNoSessions, kCcGetCapability);
  put32(b, kCapPcrs);
  put32(b, 0);  // property
  put32(b, 1);  // count
  return finish(b);
}

std::vector<uint8_t> cmd_get_random(uint16_t bytes) {
  std::vector<uint8_t> b = begin(kTagNoSessions, kCcGetRandom);
  put16(b, bytes);
  return finish(b);
}

std::vector<uint8_t> cmd_pcr_extend(
    uint32_t pcr, const std::vector<std::pair<uint16_t, std::vector<uint8_t>>> &digests) {
  std::vector<uint8_t> b = begin(kTagSessions, kCcPcrExtend);
  put32(b, pcr);
  put32(b, 9);  // authorizationSize: handle, empty nonce, attributes, empty password
  put32(b, kRsPw);
  put16(b, 0);
  b.push_back(0);
  put16(b, 0);
  put32(b, uint32_t(digests.size()));  // TPML_DIGEST_VALUES
  for (const auto &[alg, digest] : digests) {
    put16(b, alg);
    b.insert(b.end(), digest.begin(), digest.end());
  }
  return finish(b);
}

std::vector<uint8_t> cmd_pcr_read(uint16_t alg) {
  std::vector<uint8_t> b = begin(kTagNoSessions, kCcPcrRead);
  put32(b, 1);  // TPML_PCR_SELECTION with one bank
  put16(b, alg);
  b.push_back(3);  // sizeofSelect
  b.push_back(0xff);  // PCRs 0..7
  b.push_back(0);
  b.push_back(0);
  return finish(b);
}

Status check_rc(const std::vector<uint8_t> &rsp, const char *what) {
  if (rsp.size() < kTpmHeaderSize) return Status::errorf("%s: short response", what);
  uint32_t rc = tpm_header_code(rsp.data());
  if (rc != 0) return Status::errorf("%s: TPM response code 0x%x", what, rc);
  return Status::ok();
}

Status parse_active_banks(const std::vector<uint8_t> &rsp, std::vector<uint16_t> *algs) {
  Reader r(rsp, kTpmHeaderSize);
  uint8_t more;
  uint32_t cap, count;
  if (!r.u8(&more) || !r.u32(&cap) || cap != kCapPcrs || !r.u32(&count) || count > 16)
    return Status::error("GetCapability(PCRS): malformed response");
  algs->clear();
  for (uint32_t i = 0; i < count; i++) {
    uint16_t alg;
    uint8_t size;
    std::vector<uint8_t> select;
    if (!r.u16(&alg) || !r.u8(&size) || !r.bytes(size, &select))
      return Status::error("GetCapability(PCRS): malformed selection");
    bool any = false;
    for (uint8_t s : select) any |= s != 0;
    if (any) algs->push_back(alg);  // an allocated bank selects its PCRs
  }
  return Status::ok();
}

Status parse_random(const std::vector<uint8_t> &rsp, std::vector<uint8_t> *bytes) {
  Reader r(rsp, kTpmHeaderSize);
  uint16_t n;
  if (!r.u16(&n) || !r.bytes(n, bytes)) return Status::error("GetRandom: malformed response");
  return Status::ok();
}

Status parse_pcr_read(const std::vector<uint8_t> &rsp, std::vector<std::vector<uint8_t>> *digests) {
  Reader r(rsp, kTpmHeaderSize);
  uint32_t update, banks, count;
  uint16_t alg;
  uint8_t size;
  std::vector<uint8_t> select;
  if (!r.u32(&update) || !r.u32(&banks) || banks != 1 || !r.u16(&alg) || !r.u8(&size) ||
      !r.bytes(size, &select) || !r.u32(&count) || count > 8)
    return Status::error("PCR_Read: malformed response");
  digests->assign(count, {});
  for (uint32_t i = 0; i < count; i++) {
    uint16_t n;
    if (!r.u16(&n) || !r.bytes(n, &(*digests)[i])) return Status::error("PCR_Read: bad digest");
  }
  return Status::ok();
}

std::vector<uint8_t> bank_hash(const PcrBank &bank, const std::vector<uint8_t> &data) {
  GChecksumType type = bank.alg == 0x0004   ? G_CHECKSUM_SHA1
                       : bank.alg == 0x000b ? G_CHECKSUM_SHA256
                       : bank.alg == 0x000c ? G_CHECKSUM_SHA384
                                            : G_CHECKSUM_SHA512;
  GChecksum *c = g_checksum_new(type);
  g_checksum_update(c, data.data(), gssize(data.size()));
  std::vector<uint8_t> out(bank.digest_size);
  gsize len = out.size();
  g_checksum_get_digest(c, out.data(), &len);
  g_checksum_free(c);
  return out;
}

}  // namespace qtpm::demo
