// SPDX-License-Identifier: GPL-2.0-or-later
//
// The few TPM 2.0 commands the demo sends, built and parsed by hand (TCG TPM 2.0 Library
// Specification, Part 3 "Commands", revision 1.59): Startup, SelfTest, GetCapability(PCRS),
// PCR_Extend, PCR_Read, GetRandom.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "qom/status.h"

namespace qtpm::demo {

struct PcrBank {
  uint16_t alg;       // TPM_ALG_ID
  const char *name;   // "sha256"
  size_t digest_size;
};

// The banks the demo knows how to hash (GLib's GChecksum), or nullptr.
const PcrBank *find_bank(uint16_t alg);

std::vector<uint8_t> cmd_startup_clear();
std::vector<uint8_t> cmd_self_test_full();
std::vector<uint8_t> cmd_get_capability_pcrs();
std::vector<uint8_t> cmd_get_random(uint16_t bytes);
// Extends `pcr` in every bank of `digests` (alg, digest) with a password session.
std::vector<uint8_t> cmd_pcr_extend(uint32_t pcr,
                                    const std::vector<std::pair<uint16_t, std::vector<uint8_t>>> &digests);
// Reads PCRs 0..7 of one bank.
std::vector<uint8_t> cmd_pcr_read(uint16_t alg);

// Response parsing; each checks the response code and every length against the response.
Status check_rc(const std::vector<uint8_t> &rsp, const char *what);
Status parse_active_banks(const std::vector<uint8_t> &rsp, std::vector<uint16_t> *algs);
Status parse_random(const std::vector<uint8_t> &rsp, std::vector<uint8_t> *bytes);
Status parse_pcr_read(const std::vector<uint8_t> &rsp, std::vector<std::vector<uint8_t>> *digests);

// Hash of `data` with a bank's algorithm; new_value = H(old || digest) for software replay.
std::vector<uint8_t> bank_hash(const PcrBank &bank, const std::vector<uint8_t> &data);

}  // namespace qtpm::demo
