// SPDX-License-Identifier: GPL-2.0-or-later
//
// libFuzzer target: what a TPM peer (swtpm, a host TPM device) sends back is untrusted.  The
// first input byte picks a parser, the rest is the peer's reply:
//   0: tpm_stream_exchange() reading the reply from a socket (framing, size, tag, trailing),
//   1: the version probe, 2/3: the TPM 2.0 / 1.2 buffer-size query (replies split at byte 1
//      of the input into two answers).
// Nothing may crash, overrun or hang; a valid outcome is always a response within its limit.
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cassert>
#include <deque>

#include "backends/tpm/tpm_peer_io.h"
#include "backends/tpm/tpm_util.h"

using namespace qtpm;

namespace {

void fuzz_exchange(const uint8_t *data, size_t size) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0) return;
  // Bounded well below the socket buffer, so the write never blocks.
  size = std::min<size_t>(size, 16384);
  if (size && write(sv[1], data, size) != static_cast<ssize_t>(size)) {
    close(sv[0]);
    close(sv[1]);
    return;
  }
  const uint8_t cmd[10] = {0x80, 0x01, 0, 0, 0, 0x0a, 0, 0, 0x01, 0x81};
  uint32_t limit = size ? 10u + data[0] * 16u : 10u;
  std::vector<uint8_t> rsp;
  TpmExchangeResult r = tpm_stream_exchange(sv[0], cmd, limit, Deadline(0), &rsp);
  if (r.ok()) {
    assert(rsp.size() >= kTpmHeaderSize && rsp.size() <= limit);
    assert(tpm_header_size(rsp.data()) == rsp.size());
  } else {
    assert(rsp.empty());
  }
  close(sv[0]);
  close(sv[1]);
}

TpmTransact script(const uint8_t *data, size_t size, std::deque<std::vector<uint8_t>> *answers) {
  size_t cut = size ? data[0] % (size + 1) : 0;
  answers->emplace_back(data, data + cut);
  answers->emplace_back(data + cut, data + size);
  return [answers](std::span<const uint8_t>, std::vector<uint8_t> *rsp) {
    if (answers->empty()) return Status::error("no more answers");
    *rsp = answers->front();
    answers->pop_front();
    return Status::ok();
  };
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  const uint8_t selector = data[0];
  data++;
  size--;
  std::deque<std::vector<uint8_t>> answers;
  switch (selector % 4) {
    case 0:
      fuzz_exchange(data, size);
      break;
    case 1: {
      TpmVersion v;
      Status st = tpm_util_probe_version(script(data, size, &answers), &v);
      assert(st.is_ok() == (v != TpmVersion::kUnspec));
      break;
    }
    default: {
      uint32_t buffer = 0;
      TpmVersion v = selector % 4 == 2 ? TpmVersion::k2_0 : TpmVersion::k1_2;
      if (tpm_util_query_buffer_size(script(data, size, &answers), v, &buffer).is_ok()) {
        assert(buffer >= kTpmHeaderSize && buffer <= kTpmBufferSizeMax);
      }
      break;
    }
  }
  return 0;
}
