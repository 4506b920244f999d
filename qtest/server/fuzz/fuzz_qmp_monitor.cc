// SPDX-License-Identifier: GPL-2.0-or-later
//
// libFuzzer target: arbitrary bytes on a QMP monitor connection (qtest/server/qmp_monitor.h).
// The first input byte chooses whether the session is negotiated first, so both the
// negotiation mode and the full command set are reached.  Any input must get error replies or
// be dropped - never a crash, a hang or unbounded buffering.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "qtest/server/fuzz/fuzz_host_rig.h"
#include "qtest/server/qmp_monitor.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  using namespace qtpm::host;
  FuzzHost &rig = fuzz_host();
  QmpMonitor monitor(rig.qmp, size > 0 && (data[0] & 2));
  size_t replied = 0;
  monitor.set_sender([&replied](std::string_view s) { replied += s.size(); });
  monitor.start();
  if (size > 0 && (data[0] & 1)) monitor.feed("{\"execute\": \"qmp_capabilities\"}\n");
  // Feed in a few pieces, as a socket would deliver them.
  std::string_view input(reinterpret_cast<const char *>(data), size);
  size_t step = size > 0 ? (data[0] >> 2) + 1 : 1;
  for (size_t pos = 0; pos < input.size(); pos += step) monitor.feed(input.substr(pos, step));
  rig.loop.run_pending();
  return 0;
}
