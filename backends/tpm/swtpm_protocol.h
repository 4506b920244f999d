// SPDX-License-Identifier: GPL-2.0-or-later
//
// The swtpm control-channel protocol, as facts: command codes, capability bits, flags and the
// wire sizes of requests and replies.  Shared by the emulator backend and the fake swtpm used in
// tests, so neither re-types a number.
//
// Source of the facts: swtpm_ioctls(3) (swtpm 0.7.1 and later) and the measurements in
// docs/backends.md.  Over a socket every integer is big-endian; a request is a u32 command code
// followed by the command's request fields; a reply carries only the reply fields, always
// starting with a u32 TPM result code.  An error reply may be only that 4-byte result (swtpm
// answers e.g. SET_BUFFERSIZE on a running TPM with just TPM_BAD_ORDINAL), so a client reads the
// result word first and the rest only when it says success.
#pragma once

#include <cstdint>

namespace qtpm::swtpm {

// Control command codes.
enum class Cmd : uint32_t {
  kGetCapability = 0x01,
  kInit = 0x02,
  kShutdown = 0x03,
  kGetTpmEstablished = 0x04,
  kSetLocality = 0x05,
  kHashStart = 0x06,
  kHashData = 0x07,
  kHashEnd = 0x08,
  kCancelTpmCmd = 0x09,
  kStoreVolatile = 0x0a,
  kResetTpmEstablished = 0x0b,
  kGetStateBlob = 0x0c,
  kSetStateBlob = 0x0d,
  kStop = 0x0e,
  kGetConfig = 0x0f,
  kSetDataFd = 0x10,
  kSetBufferSize = 0x11,
  kGetInfo = 0x12,
  kLockStorage = 0x13,  // swtpm 0.8 and later
};

// A readable name for traces and messages ("SET_LOCALITY").
constexpr const char *cmd_name(uint32_t code) {
  constexpr const char *kNames[] = {
      "?",           "GET_CAPABILITY", "INIT",           "SHUTDOWN",      "GET_TPMESTABLISHED",
      "SET_LOCALITY", "HASH_START",    "HASH_DATA",      "HASH_END",      "CANCEL_TPM_CMD",
      "STORE_VOLATILE", "RESET_TPMESTABLISHED", "GET_STATEBLOB", "SET_STATEBLOB", "STOP",
      "GET_CONFIG",  "SET_DATAFD",     "SET_BUFFERSIZE", "GET_INFO",      "LOCK_STORAGE",
  };
  return code < sizeof kNames / sizeof kNames[0] ? kNames[code] : "?";
}

// Capability bits in the GET_CAPABILITY reply.
namespace cap {
inline constexpr uint32_t kInit = 1u << 0;
inline constexpr uint32_t kShutdown = 1u << 1;
inline constexpr uint32_t kGetTpmEstablished = 1u << 2;
inline constexpr uint32_t kSetLocality = 1u << 3;
inline constexpr uint32_t kHashing = 1u << 4;
inline constexpr uint32_t kCancelTpmCmd = 1u << 5;
inline constexpr uint32_t kStoreVolatile = 1u << 6;
inline constexpr uint32_t kResetTpmEstablished = 1u << 7;
inline constexpr uint32_t kGetStateBlob = 1u << 8;
inline constexpr uint32_t kSetStateBlob = 1u << 9;
inline constexpr uint32_t kStop = 1u << 10;
inline constexpr uint32_t kGetConfig = 1u << 11;
inline constexpr uint32_t kSetDataFd = 1u << 12;
inline constexpr uint32_t kSetBufferSize = 1u << 13;
inline constexpr uint32_t kGetInfo = 1u << 14;
inline constexpr uint32_t kSendCommandHeader = 1u << 15;  // TPM 2 only
inline constexpr uint32_t kLockStorage = 1u << 16;        // swtpm 0.8 and later

// What a backend needs to drive a TPM 1.2 / 2.0 (the same sets QEMU requires).
inline constexpr uint32_t kRequired12 =
    kInit | kShutdown | kGetTpmEstablished | kSetLocality | kSetDataFd | kStop | kSetBufferSize;
inline constexpr uint32_t kRequired20 = kRequired12 | kResetTpmEstablished;
static_assert(kRequired12 == 0x340F && kRequired20 == 0x348F);
// What saving and restoring the TPM state needs.
inline constexpr uint32_t kMigration = kGetStateBlob | kSetStateBlob | kStop;
static_assert(kMigration == 0x700);

// The name of capability bit `bit` ("RESET_TPMESTABLISHED"), as in swtpm_ioctls(3).
constexpr const char *bit_name(unsigned bit) {
  constexpr const char *kNames[] = {
      "INIT",         "SHUTDOWN",       "GET_TPMESTABLISHED", "SET_LOCALITY",
      "HASHING",      "CANCEL_TPM_CMD", "STORE_VOLATILE",     "RESET_TPMESTABLISHED",
      "GET_STATEBLOB", "SET_STATEBLOB", "STOP",               "GET_CONFIG",
      "SET_DATAFD",   "SET_BUFFERSIZE", "GET_INFO",           "SEND_COMMAND_HEADER",
      "LOCK_STORAGE",
  };
  return bit < sizeof kNames / sizeof kNames[0] ? kNames[bit] : "?";
}
}  // namespace cap

// CMD_INIT flags.
inline constexpr uint32_t kInitDeleteVolatile = 1u << 0;

// State blob types and flags (GET/SET_STATEBLOB).
enum class BlobType : uint32_t { kPermanent = 1, kVolatile = 2, kSavestate = 3 };
inline constexpr uint32_t kStateFlagDecrypted = 1u << 0;  // request: hand out plain state
inline constexpr uint32_t kStateFlagEncrypted = 1u << 1;  // reply: the blob is encrypted

// TPM result codes swtpm uses in control replies.
inline constexpr uint32_t kResultSuccess = 0;
inline constexpr uint32_t kResultBadParameter = 0x03;
inline constexpr uint32_t kResultFail = 0x09;
inline constexpr uint32_t kResultBadOrdinal = 0x0a;  // unknown command, or wrong TPM state
inline constexpr uint32_t kResultIoError = 0x1f;
inline constexpr uint32_t kResultBadLocality = 0x3d;
// GET_STATEBLOB: a result with this bit is non-fatal (e.g. no savestate blob exists); the reply
// still carries its full header, with an empty blob.
inline constexpr uint32_t kResultNonFatalMask = 0x800;

// Wire sizes (bytes after the 4-byte command code / whole reply).
inline constexpr uint32_t kCmdCodeSize = 4;
inline constexpr uint32_t kResultSize = 4;
inline constexpr uint32_t kReplyGetCapability = 8;      // result, caps
inline constexpr uint32_t kReplyGetEstablished = 8;     // result, u8 bit, 3 pad
inline constexpr uint32_t kReplySetBufferSize = 16;     // result, buffersize, minsize, maxsize
inline constexpr uint32_t kReplyGetStateBlobHeader = 16;  // result, flags, totlength, length
inline constexpr uint32_t kRequestGetStateBlob = 12;    // flags, type, offset
inline constexpr uint32_t kRequestSetStateBlobHeader = 12;  // flags, type, length
inline constexpr uint32_t kRequestU32 = 4;              // INIT flags, SET_BUFFERSIZE, retries
inline constexpr uint32_t kRequestLocality = 4;         // u8 locality, 3 zero bytes

// swtpm gives a sender 500 ms to deliver a whole control message, so a request is always
// written in one piece (a header and a state blob body may follow each other immediately).
}  // namespace qtpm::swtpm
