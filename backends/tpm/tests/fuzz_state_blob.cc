// SPDX-License-Identifier: GPL-2.0-or-later
//
// libFuzzer target for swtpm's state-blob envelope (tpm_state_blob.h): state files and
// migration blobs are untrusted.  Every input decodes or is refused without reading out of
// bounds, and whatever decodes survives an encode/decode round trip unchanged.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "backends/tpm/tpm_state_blob.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::vector<uint8_t> payload;
  qtpm::Status st = qtpm::swtpm_blob_decode(std::span<const uint8_t>(data, size), "input", &payload);
  if (!st) return 0;
  std::vector<uint8_t> again;
  if (!qtpm::swtpm_blob_decode(qtpm::swtpm_blob_encode(payload), "re-encoded", &again) ||
      again != payload) {
    std::abort();
  }
  return 0;
}
