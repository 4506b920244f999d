// SPDX-License-Identifier: GPL-2.0-or-later
//
// Benchmark: a TPM2_GetRandom(32) round trip through the emulator backend (deliver, worker
// thread, swtpm, completion posted to the loop) against the same command written and read
// directly on a swtpm data socket, both against real swtpm processes in this run.  Prints the
// per-command times and their ratio; the ratio is what to compare between builds.
#include <sys/socket.h>

#include <chrono>
#include <cstdio>

#include "backends/tpm/tests/emulator_rig.h"
#include "backends/tpm/tests/swtpm_process.h"
#include "backends/tpm/tpm_emulator_ctrl.h"
#include "qom/chardev.h"

using namespace qtpm;
using namespace qtpm::testing;

namespace {

const std::vector<uint8_t> kStartup = {0x80, 0x01, 0, 0, 0, 0x0c, 0, 0, 0x01, 0x44, 0, 0};
const std::vector<uint8_t> kGetRandom = {0x80, 0x01, 0, 0, 0, 0x0c, 0, 0, 0x01, 0x7b, 0, 32};
constexpr int kRounds = 2000;

double now_us() {
  return std::chrono::duration<double, std::micro>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Raw: a data socket set up by hand, commands exchanged on the calling thread.
double raw_us(const std::string &ctrl_path) {
  auto chr_obj = object_new("chardev-socket");
  auto *chr = object_cast<Chardev>(chr_obj.get());
  if (!chr->set_property("path", ctrl_path) || !chr->realize()) return -1;
  SwtpmControl ctrl;
  ctrl.attach(chr);
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0 || !ctrl.set_data_fd(sv[1]).ok()) return -1;
  close(sv[1]);
  if (!ctrl.init(0).ok()) return -1;
  std::vector<uint8_t> rsp;
  if (!tpm_stream_exchange(sv[0], kStartup, 4096, Deadline(10000), &rsp).ok()) return -1;
  double t0 = now_us();
  for (int i = 0; i < kRounds; i++) {
    if (!tpm_stream_exchange(sv[0], kGetRandom, 4096, Deadline(10000), &rsp).ok()) return -1;
  }
  double t = (now_us() - t0) / kRounds;
  (void)ctrl.shutdown();
  ctrl.attach(nullptr);
  close(sv[0]);
  return t;
}

double backend_us(const std::string &ctrl_path) {
  EmulatorRig rig;
  if (!rig.realize(ctrl_path, 10000) || !rig.start()) return -1;
  if (!rig.run(kStartup)) return -1;
  double t0 = now_us();
  for (int i = 0; i < kRounds; i++) {
    TpmRequest *r = rig.run(kGetRandom);
    if (!r || !r->status) return -1;
    rig.frontend.done.clear();
  }
  return (now_us() - t0) / kRounds;
}

}  // namespace

int main() {
  register_builtin_types();
  SwtpmProcess raw_tpm(true), backend_tpm(true);
  if (!raw_tpm.wait_ready() || !backend_tpm.wait_ready()) {
    std::fprintf(stderr, "swtpm did not start\n");
    return 1;
  }
  double raw = raw_us(raw_tpm.ctrl_path());
  double be = backend_us(backend_tpm.ctrl_path());
  if (raw <= 0 || be <= 0) {
    std::fprintf(stderr, "benchmark failed\n");
    return 1;
  }
  std::printf("GetRandom(32) x%d: raw data socket %.1f us, emulator backend %.1f us, "
              "ratio %.2f\n", kRounds, raw, be, be / raw);
  return 0;
}
