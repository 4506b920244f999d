// SPDX-License-Identifier: GPL-2.0-or-later
//
// A host for the fuzz targets: x86 pc with 2 MiB of RAM (so whole-memory requests stay cheap),
// a fake ISA TPM (MMIO at 0xfed40000, IRQ 5) and a fake backend, QMP commands registered.
// Built once per fuzzer process.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "qtest/server/host.h"
#include "qtest/server/qmp_commands.h"
#include "qtest/server/run_control.h"
#include "qtest/server/tests/fake_tpm.h"

namespace qtpm::host {

struct FuzzHost {
  Config config;
  QueueCompletionLoop loop;
  std::unique_ptr<Host> host;
  QmpDispatcher qmp;
  std::unique_ptr<RunControl> run;

  FuzzHost() {
    qtpm::testing::register_fake_types();
    std::vector<std::string> args = {"qtpm-system-x86_64", "-accel", "qtest", "-m", "2M", "-tpmdev",
                                     "fake,id=t", "-device", "fake-tpm-isa,tpmdev=t,id=tis"};
    ParseResult r = parse_command_line(args, &config);
    if (!r.run) __builtin_trap();
    host = std::make_unique<Host>(config, &loop);
    if (!host->build()) __builtin_trap();
    run = std::make_unique<RunControl>(*host, qmp);
    register_builtin_commands(qmp, *host, *run);
  }
};

inline FuzzHost &fuzz_host() {
  static FuzzHost *rig = new FuzzHost();  // never destroyed: the fuzzer exits without teardown
  return *rig;
}

}  // namespace qtpm::host
