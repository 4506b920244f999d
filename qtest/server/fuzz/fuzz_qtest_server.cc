// SPDX-License-Identifier: GPL-2.0-or-later
//
// libFuzzer target: arbitrary bytes on the qtest connection (qtest/server/qtest_server.h),
// against a machine with a fake TPM.  Malformed requests must get ERR/FAIL replies - never a
// crash, a hang or an allocation larger than the protocol's bounds.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "qtest/server/fuzz/fuzz_host_rig.h"
#include "qtest/server/qtest_server.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  using namespace qtpm::host;
  FuzzHost &rig = fuzz_host();
  QtestServer server(rig.host->machine(), rig.host->root(), true);
  server.set_max_line(1 << 16);
  size_t replied = 0;
  server.set_sender([&replied](std::string_view s) { replied += s.size(); });
  server.opened();
  server.feed(std::string_view(reinterpret_cast<const char *>(data), size));
  server.feed("\n");
  rig.loop.run_pending();
  return 0;
}
