// SPDX-License-Identifier: GPL-2.0-or-later
//
// The envelope swtpm puts around every TPM state blob it stores (swtpm 0.7.1 directory backend,
// and the blobs of its GET_STATEBLOB control command), so that a state directory moves freely
// between swtpm and qtpm's in-process libtpms backend.
//
// Layout (network byte order, packed), as measured on files written by swtpm_setup 0.7.1:
//
//   u8 version (2)  u8 min_version (1)  u16 hdrsize (10)  u16 flags  u32 totlen (whole blob)
//   then, from hdrsize to totlen, TLVs {u16 tag, u32 length, bytes}; tag 1 carries the
//   libtpms blob itself.
//
// A version-1 header carries the libtpms blob right after the header (no TLV), and a file with
// no valid header at all is taken as a bare libtpms blob, as swtpm does for very old files.
// Encrypted state (swtpm --key / --migration-key) is recognised and refused with a clear message.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "qom/status.h"

namespace qtpm {

inline constexpr uint8_t kSwtpmBlobVersion = 2;
inline constexpr uint8_t kSwtpmBlobMinVersion = 1;
inline constexpr uint16_t kSwtpmBlobHeaderSize = 10;
inline constexpr size_t kSwtpmTlvHeaderSize = 6;

// Header flags.
inline constexpr uint16_t kSwtpmBlobFlagEncrypted = 0x01;
inline constexpr uint16_t kSwtpmBlobFlagMigrationEncrypted = 0x02;
inline constexpr uint16_t kSwtpmBlobFlagMigrationData = 0x04;
inline constexpr uint16_t kSwtpmBlobFlagEncrypted256 = 0x08;
inline constexpr uint16_t kSwtpmBlobFlagMigration256 = 0x10;

// TLV tags.
enum class SwtpmTlvTag : uint16_t {
  kData = 1,
  kEncryptedData = 2,
  kHmac = 3,
  kMigrationData = 4,
  kEncryptedMigrationData = 5,
  kIvecEncryptedData = 6,
  kIvecEncryptedMigrationData = 7,
};

// The blob swtpm writes to its state directory for `payload`: header (flags 0) + one DATA TLV.
std::vector<uint8_t> swtpm_blob_encode(std::span<const uint8_t> payload);

// Extracts the libtpms blob.  `what` names the blob in error messages (a file path, or
// "the permanent state blob").  Fails for encrypted blobs, for a blob that needs a newer swtpm,
// and for a corrupt header or TLV list; never reads outside `blob`.
Status swtpm_blob_decode(std::span<const uint8_t> blob, const std::string &what,
                         std::vector<uint8_t> *payload);

}  // namespace qtpm
