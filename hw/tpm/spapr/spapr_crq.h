// SPDX-License-Identifier: GPL-2.0-or-later
//
// Command/Response Queue (CRQ) elements of PAPR virtual I/O, and the messages of the IBM vTPM
// that travel in them (the protocol of Linux's tpm_ibmvtpm driver and QEMU 7.2's tpm-spapr).
//
// An element is 16 bytes, big-endian:
//
//   byte 0     valid   0x80 command/response, 0xc0 initialization, 0 = slot free
//   byte 1     msg     message type; a response is the request's type | 0x80
//   bytes 2-3  len     TPM command/response length, or the RTCE buffer size
//   bytes 4-7  data    I/O bus address of the TPM buffer, the version, or an error code
//   bytes 8-15 reserved
//
// A guest sends one with H_SEND_CRQ(unit, word0, word1): the two registers are the element's two
// big-endian 64-bit halves.  The device answers by writing elements into the queue the guest
// registered (H_REG_CRQ).
#pragma once

#include <array>
#include <cstdint>
#include <span>

namespace qtpm::spapr {

inline constexpr size_t kCrqElementSize = 16;

struct CrqElement {
  uint8_t valid = 0;
  uint8_t msg = 0;
  uint16_t len = 0;
  uint32_t data = 0;
  uint64_t reserved = 0;

  // From H_SEND_CRQ's registers.
  static constexpr CrqElement from_words(uint64_t word0, uint64_t word1) {
    CrqElement e;
    e.valid = uint8_t(word0 >> 56);
    e.msg = uint8_t(word0 >> 48);
    e.len = uint16_t(word0 >> 32);
    e.data = uint32_t(word0);
    e.reserved = word1;
    return e;
  }
  constexpr uint64_t word0() const {
    return uint64_t(valid) << 56 | uint64_t(msg) << 48 | uint64_t(len) << 32 | data;
  }
  constexpr uint64_t word1() const { return reserved; }

  // Guest memory image (big-endian).
  std::array<uint8_t, kCrqElementSize> encode() const {
    std::array<uint8_t, kCrqElementSize> out{};
    for (unsigned i = 0; i < 8; i++) {
      out[i] = uint8_t(word0() >> (56 - 8 * i));
      out[8 + i] = uint8_t(word1() >> (56 - 8 * i));
    }
    return out;
  }
  static CrqElement decode(std::span<const uint8_t, kCrqElementSize> in) {
    uint64_t w0 = 0, w1 = 0;
    for (unsigned i = 0; i < 8; i++) {
      w0 = w0 << 8 | in[i];
      w1 = w1 << 8 | in[8 + i];
    }
    return from_words(w0, w1);
  }
  constexpr bool operator==(const CrqElement &) const = default;
};

// ---------------------------------------------------------------------------------------------
// The vTPM's messages

// valid byte
inline constexpr uint8_t kCrqValidCommand = 0x80;  // also the valid byte of responses
inline constexpr uint8_t kCrqValidInit = 0xc0;

// msg, with valid = kCrqValidInit (the response repeats the message type)
inline constexpr uint8_t kCrqInit = 0x01;
inline constexpr uint8_t kCrqInitComplete = 0x02;

// msg, with valid = kCrqValidCommand
inline constexpr uint8_t kVtpmGetVersion = 0x01;
inline constexpr uint8_t kVtpmTpmCommand = 0x02;
inline constexpr uint8_t kVtpmGetRtceBufferSize = 0x03;
inline constexpr uint8_t kVtpmPrepareToSuspend = 0x04;
inline constexpr uint8_t kVtpmResponse = 0x80;  // or-ed into the request's type
inline constexpr uint8_t kVtpmError = 0xff;     // data carries one of the codes below

// error codes in `data` of a kVtpmError response
inline constexpr uint32_t kVtpmErrCopyInFailed = 0x3;   // the command could not be read
inline constexpr uint32_t kVtpmErrCopyOutFailed = 0x4;  // the response could not be written

// GET_VERSION's data: the TPM family behind the device.
inline constexpr uint32_t kVtpmVersion12 = 1;
inline constexpr uint32_t kVtpmVersion20 = 2;

// QEMU's TPM_SPAPR_BUFFER_MAX: the RTCE buffer never exceeds one 4 KiB page.
inline constexpr uint32_t kVtpmBufferMax = 4096;

}  // namespace qtpm::spapr
