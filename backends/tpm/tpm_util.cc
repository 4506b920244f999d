// SPDX-License-Identifier: GPL-2.0-or-later
//
// TPM helpers shared by the stream backends (see tpm_util.h).
#include "backends/tpm/tpm_util.h"

#include <algorithm>

#include "qom/trace.h"

namespace qtpm {

namespace {

// Tags and codes from TPM 1.2 Main Part 2 and TPM 2.0 Library Part 2.
constexpr uint16_t kTag12RqCommand = 0x00C1;
constexpr uint16_t kTag12RspCommand = 0x00C4;
constexpr uint16_t kTag12RspAuth1 = 0x00C5;
constexpr uint16_t kTag12RspAuth2 = 0x00C6;
constexpr uint16_t kTag20NoSessions = 0x8001;
constexpr uint16_t kTag20Sessions = 0x8002;

constexpr uint32_t kOrd12GetTicks = 0xF1;
constexpr uint32_t kOrd12GetCapability = 0x65;
constexpr uint32_t kOrd12ContinueSelfTest = 0x53;
constexpr uint32_t kCap12Property = 5;
constexpr uint32_t kCap12PropInputBuffer = 0x124;

constexpr uint32_t kCc20ReadClock = 0x181;
constexpr uint32_t kCc20GetCapability = 0x17A;
constexpr uint32_t kCap20TpmProperties = 6;
constexpr uint32_t kPt20MaxCommandSize = 0x11E;
constexpr uint32_t kPt20MaxResponseSize = 0x11F;

// A header-only command: tag, size 10, ordinal.
std::vector<uint8_t> bare_command(uint16_t tag, uint32_t ordinal) {
  std::vector<uint8_t> c(kTpmHeaderSize);
  c[0] = static_cast<uint8_t>(tag >> 8);
  c[1] = static_cast<uint8_t>(tag);
  put_be32(&c[2], kTpmHeaderSize);
  put_be32(&c[6], ordinal);
  return c;
}

// A header plus three u32 parameters (both GetCapability forms have this shape: 22 bytes).
std::vector<uint8_t> command_3u32(uint16_t tag, uint32_t ordinal, uint32_t a, uint32_t b,
                                  uint32_t c) {
  std::vector<uint8_t> cmd = bare_command(tag, ordinal);
  cmd.resize(kTpmHeaderSize + 12);
  put_be32(&cmd[2], static_cast<uint32_t>(cmd.size()));
  put_be32(&cmd[10], a);
  put_be32(&cmd[14], b);
  put_be32(&cmd[18], c);
  return cmd;
}

// Sends `cmd` and returns the response tag (0 when the answer is shorter than a header).
Status probe_tag(const TpmTransact &transact, const std::vector<uint8_t> &cmd, uint16_t *tag) {
  std::vector<uint8_t> rsp;
  Status st = transact(cmd, &rsp);
  if (!st) return st;
  *tag = rsp.size() >= kTpmHeaderSize ? tpm_header_tag(rsp.data()) : 0;
  return Status::ok();
}

Status plausible_size(uint32_t size) {
  if (size < kTpmHeaderSize || size > kTpmBufferSizeMax) {
    return Status::errorf("the TPM reports an implausible buffer size of %u bytes", size);
  }
  return Status::ok();
}

Status buffer_size_12(const TpmTransact &transact, uint32_t *out) {
  // TPM_GetCapability(capArea, subCapSize = 4, subCap): the response carries a u32 length and
  // the u32 value.
  std::vector<uint8_t> rsp;
  Status st = transact(command_3u32(kTag12RqCommand, kOrd12GetCapability, kCap12Property, 4,
                                    kCap12PropInputBuffer),
                       &rsp);
  if (!st) return st;
  if (rsp.size() != kTpmHeaderSize + 8 || tpm_header_code(rsp.data()) != 0 ||
      get_be32(&rsp[10]) != 4) {
    return Status::errorf("the TPM 1.2 did not answer GetCapability(INPUT_BUFFER) as expected "
                          "(%zu bytes, result 0x%x)",
                          rsp.size(), rsp.size() >= kTpmHeaderSize ? tpm_header_code(rsp.data())
                                                                   : 0u);
  }
  *out = get_be32(&rsp[14]);
  return plausible_size(*out);
}

Status buffer_size_20(const TpmTransact &transact, uint32_t *out) {
  // TPM2_GetCapability(TPM_CAP_TPM_PROPERTIES, MAX_COMMAND_SIZE, count 2): the response is
  // moreData u8, capability u32, count u32, then (property u32, value u32) pairs; the two asked
  // for are MAX_COMMAND_SIZE and MAX_RESPONSE_SIZE, in that order.
  std::vector<uint8_t> rsp;
  Status st = transact(command_3u32(kTag20NoSessions, kCc20GetCapability, kCap20TpmProperties,
                                    kPt20MaxCommandSize, 2),
                       &rsp);
  if (!st) return st;
  constexpr size_t kExpected = kTpmHeaderSize + 1 + 4 + 4 + 2 * 8;  // 35
  if (rsp.size() != kExpected || tpm_header_code(rsp.data()) != 0 ||
      get_be32(&rsp[11]) != kCap20TpmProperties || get_be32(&rsp[15]) != 2 ||
      get_be32(&rsp[19]) != kPt20MaxCommandSize || get_be32(&rsp[27]) != kPt20MaxResponseSize) {
    return Status::errorf("the TPM 2.0 did not answer GetCapability(MAX_COMMAND_SIZE) as "
                          "expected (%zu bytes, result 0x%x)",
                          rsp.size(), rsp.size() >= kTpmHeaderSize ? tpm_header_code(rsp.data())
                                                                   : 0u);
  }
  *out = std::max(get_be32(&rsp[23]), get_be32(&rsp[31]));
  return plausible_size(*out);
}

}  // namespace

bool tpm_util_response_tag_valid(uint16_t tag) {
  switch (tag) {
    case kTag12RspCommand:
    case kTag12RspAuth1:
    case kTag12RspAuth2:
    case kTag20NoSessions:
    case kTag20Sessions:
      return true;
    default:
      return false;
  }
}

Status tpm_util_probe_version(const TpmTransact &transact, TpmVersion *version) {
  *version = TpmVersion::kUnspec;
  uint16_t tag = 0;
  Status st = probe_tag(transact, bare_command(kTag20NoSessions, kCc20ReadClock), &tag);
  if (!st) return st;
  if (tag == kTag20NoSessions) {
    *version = TpmVersion::k2_0;
    return Status::ok();
  }
  st = probe_tag(transact, bare_command(kTag12RqCommand, kOrd12GetTicks), &tag);
  if (!st) return st;
  if (tag == kTag12RspCommand) {
    *version = TpmVersion::k1_2;
    return Status::ok();
  }
  return Status::errorf("it answers neither TPM2_ReadClock nor TPM_GetTicks (response tag "
                        "0x%04x)", tag);
}

Status tpm_util_query_buffer_size(const TpmTransact &transact, TpmVersion version,
                                  uint32_t *buffer_size) {
  switch (version) {
    case TpmVersion::k1_2: return buffer_size_12(transact, buffer_size);
    case TpmVersion::k2_0: return buffer_size_20(transact, buffer_size);
    case TpmVersion::kUnspec: break;
  }
  return Status::error("the TPM version is unknown");
}

bool tpm_util_is_selftest(std::span<const uint8_t> command) {
  return command.size() >= kTpmHeaderSize &&
         tpm_header_code(command.data()) == kOrd12ContinueSelfTest;
}

void tpm_util_note_selftest(TpmRequest &request) {
  if (!tpm_util_is_selftest(request.command)) return;
  request.selftest_done =
      request.response.size() >= kTpmHeaderSize && tpm_header_code(request.response.data()) == 0;
}

void tpm_util_show_buffer(const char *label, std::span<const uint8_t> buffer) {
  if (!trace_event_enabled("tpm_util_show_buffer")) return;
  size_t len = buffer.size();
  if (len >= kTpmHeaderSize) len = std::min<size_t>(len, tpm_header_size(buffer.data()));
  std::string hex;
  for (size_t i = 0; i < len; i++) {
    hex += strprintf("%.2X ", buffer[i]);
    if (i % 16 == 15 && i + 1 < len) hex += "\n";
  }
  trace_event("tpm_util_show_buffer", "%s (%zu bytes):\n%s", label, len, hex.c_str());
}

const char *tpm_util_strerror(uint32_t result) {
  // TPM 1.2 codes (Main Part 2, section 16) and the few TPM 2.0 codes a backend meets.
  switch (result) {
    case 0x00: return "success";
    case 0x03: return "bad parameter";
    case 0x09: return "operation failed";
    case 0x0a: return "unknown command, or not allowed in the TPM's current state";
    case 0x0d: return "key not found";
    case 0x19: return "bad parameter size";
    case 0x1f: return "I/O error";
    case 0x20: return "encryption error";
    case 0x21: return "decryption error";
    case 0x28: return "bad key property";
    case 0x2c: return "bad (encryption) mode";
    case 0x2e: return "bad version";
    case 0x3d: return "bad locality";
    case 0x9a: return "insufficient data";
    case 0x101: return "operation failed";
    case 0x907: return "bad locality";
    default: return "unknown error";
  }
}

}  // namespace qtpm
