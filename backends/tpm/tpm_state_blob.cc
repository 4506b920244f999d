// SPDX-License-Identifier: GPL-2.0-or-later
//
// swtpm's state-blob envelope: encoding and validated decoding (see tpm_state_blob.h).
#include "backends/tpm/tpm_state_blob.h"

namespace qtpm {

namespace {

uint16_t be16(const uint8_t *p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
uint32_t be32(const uint8_t *p) {
  return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3];
}
void put16(std::vector<uint8_t> &v, uint16_t x) {
  v.push_back(static_cast<uint8_t>(x >> 8));
  v.push_back(static_cast<uint8_t>(x));
}
void put32(std::vector<uint8_t> &v, uint32_t x) {
  put16(v, static_cast<uint16_t>(x >> 16));
  put16(v, static_cast<uint16_t>(x));
}

constexpr uint16_t kEncryptionFlags = kSwtpmBlobFlagEncrypted | kSwtpmBlobFlagMigrationEncrypted |
                                      kSwtpmBlobFlagEncrypted256 | kSwtpmBlobFlagMigration256;

Status encrypted_error(const std::string &what) {
  return Status::errorf("%s is encrypted (swtpm --key or --migration-key); the libtpms backend "
                        "reads only unencrypted state",
                        what.c_str());
}

bool is_encrypted_tag(uint16_t tag) {
  switch (static_cast<SwtpmTlvTag>(tag)) {
    case SwtpmTlvTag::kEncryptedData:
    case SwtpmTlvTag::kEncryptedMigrationData:
    case SwtpmTlvTag::kIvecEncryptedData:
    case SwtpmTlvTag::kIvecEncryptedMigrationData:
      return true;
    default:
      return false;
  }
}

// Walks the TLVs of a version-2 blob in [offset, blob.size()) and takes the first DATA element
// (or MIGRATION_DATA, which swtpm's GET_STATEBLOB uses with the MIGRATION_DATA flag).
Status decode_tlvs(std::span<const uint8_t> blob, size_t offset, uint16_t flags,
                   const std::string &what, std::vector<uint8_t> *payload) {
  const uint16_t wanted = (flags & kSwtpmBlobFlagMigrationData)
                              ? static_cast<uint16_t>(SwtpmTlvTag::kMigrationData)
                              : static_cast<uint16_t>(SwtpmTlvTag::kData);
  while (offset < blob.size()) {
    // Both the TLV header and its value must lie inside the blob; sizes are compared as
    // remaining lengths so that a huge `len` cannot overflow the sum.
    if (blob.size() - offset < kSwtpmTlvHeaderSize) {
      return Status::errorf("%s is corrupt: truncated element header at offset %zu", what.c_str(),
                            offset);
    }
    uint16_t tag = be16(&blob[offset]);
    uint32_t len = be32(&blob[offset + 2]);
    offset += kSwtpmTlvHeaderSize;
    if (len > blob.size() - offset) {
      return Status::errorf("%s is corrupt: element of %u bytes at offset %zu overruns the blob",
                            what.c_str(), len, offset - kSwtpmTlvHeaderSize);
    }
    if (is_encrypted_tag(tag)) return encrypted_error(what);
    if (tag == wanted) {
      payload->assign(blob.begin() + static_cast<ptrdiff_t>(offset),
                      blob.begin() + static_cast<ptrdiff_t>(offset + len));
      return Status::ok();
    }
    offset += len;  // HMAC and unknown elements carry nothing we need
  }
  return Status::errorf("%s holds no TPM state (no data element)", what.c_str());
}

}  // namespace

std::vector<uint8_t> swtpm_blob_encode(std::span<const uint8_t> payload) {
  std::vector<uint8_t> out;
  const uint32_t total = static_cast<uint32_t>(kSwtpmBlobHeaderSize + kSwtpmTlvHeaderSize +
                                               payload.size());
  out.reserve(total);
  out.push_back(kSwtpmBlobVersion);
  out.push_back(kSwtpmBlobMinVersion);
  put16(out, kSwtpmBlobHeaderSize);
  put16(out, 0);  // flags: plain data
  put32(out, total);
  put16(out, static_cast<uint16_t>(SwtpmTlvTag::kData));
  put32(out, static_cast<uint32_t>(payload.size()));
  out.insert(out.end(), payload.begin(), payload.end());
  return out;
}

Status swtpm_blob_decode(std::span<const uint8_t> blob, const std::string &what,
                         std::vector<uint8_t> *payload) {
  if (blob.empty()) return Status::errorf("%s is empty", what.c_str());
  // swtpm recognises its header by the total length matching the blob; anything else is a bare
  // libtpms blob from before the header existed (libtpms validates it with its own magic).
  if (blob.size() < kSwtpmBlobHeaderSize || be32(&blob[6]) != blob.size()) {
    payload->assign(blob.begin(), blob.end());
    return Status::ok();
  }
  const uint8_t version = blob[0];
  const uint8_t min_version = blob[1];
  const uint16_t hdrsize = be16(&blob[2]);
  const uint16_t flags = be16(&blob[4]);
  if (min_version > kSwtpmBlobVersion) {
    return Status::errorf("%s needs a newer state format (minimum version %u; this build reads "
                          "up to version %u)",
                          what.c_str(), min_version, kSwtpmBlobVersion);
  }
  if (hdrsize < kSwtpmBlobHeaderSize || hdrsize > blob.size()) {
    return Status::errorf("%s is corrupt: header size %u for a blob of %zu bytes", what.c_str(),
                          hdrsize, blob.size());
  }
  if (flags & kEncryptionFlags) return encrypted_error(what);
  if (version <= 1) {
    payload->assign(blob.begin() + hdrsize, blob.end());
    return Status::ok();
  }
  return decode_tlvs(blob, hdrsize, flags, what, payload);
}

}  // namespace qtpm
