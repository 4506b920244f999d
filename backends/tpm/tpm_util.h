// SPDX-License-Identifier: GPL-2.0-or-later
//
// TPM helpers shared by the backends that talk to a TPM over a byte stream (passthrough to a
// host /dev/tpmN, the swtpm emulator): which TPM version answers, how large its buffers are,
// whether a command was a TPM 1.2 self-test, and readable TPM result codes.
//
// Commands and responses follow the TPM 1.2 Main Specification Part 2/3 (rev 116: GetTicks,
// GetCapability) and the TPM 2.0 Library Specification Part 2/3 (rev 1.59: ReadClock,
// GetCapability); the probe order and the interpretation of the answers are QEMU 7.2's, which
// guests and libvirt have grown used to.  The header accessors live in tpm_backend.h.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "backends/tpm/tpm_backend.h"
#include "qom/status.h"

namespace qtpm {

// Sends one command and returns the complete response (header size already checked against the
// bytes received by the caller's transport).  A failed Status means the transport failed.
using TpmTransact =
    std::function<Status(std::span<const uint8_t> command, std::vector<uint8_t> *response)>;

// Response tags a TPM may send: TPM 1.2 RSP_COMMAND / AUTH1 / AUTH2, TPM 2.0 NO_SESSIONS /
// SESSIONS.  Anything else is not a TPM response.
bool tpm_util_response_tag_valid(uint16_t tag);

// Finds the TPM version by asking TPM2_ReadClock (a TPM 2 answers with tag 0x8001, even with an
// error code, even before it was started) and then TPM_GetTicks (a TPM 1.2 answers with tag
// 0x00C4).  Fails when the transport fails or neither answer looks like a TPM.
Status tpm_util_probe_version(const TpmTransact &transact, TpmVersion *version);

// Asks the TPM for its buffer size: TPM 1.2 GetCapability(TPM_CAP_PROPERTY, INPUT_BUFFER);
// TPM 2.0 GetCapability(TPM_PROPERTIES, MAX_COMMAND_SIZE, 2) and the larger of
// MAX_COMMAND_SIZE and MAX_RESPONSE_SIZE.  The reply must have exactly the expected shape.
Status tpm_util_query_buffer_size(const TpmTransact &transact, TpmVersion version,
                                  uint32_t *buffer_size);

// Plausible buffer sizes: a TPM that claims less than a header or more than this is not believed.
inline constexpr uint32_t kTpmBufferSizeMax = 64 * 1024;

// TPM 1.2 TPM_ContinueSelfTest (ordinal 0x53); TIS reports its success in STS.selfTestDone.
bool tpm_util_is_selftest(std::span<const uint8_t> command);
// Sets request.selftest_done when the command was a self-test that the TPM answered with success.
void tpm_util_note_selftest(TpmRequest &request);

// With the trace event "tpm_util_show_buffer" enabled, dumps a command or response (at most its
// header's size) as hex, 16 bytes a line.
void tpm_util_show_buffer(const char *label, std::span<const uint8_t> buffer);

// A short description of a TPM result code ("bad locality"), or "unknown error".
const char *tpm_util_strerror(uint32_t result);

// Big-endian helpers for building and parsing TPM and swtpm messages.
inline void put_be32(uint8_t *p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}
inline uint32_t get_be32(const uint8_t *p) {
  return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3];
}

}  // namespace qtpm
