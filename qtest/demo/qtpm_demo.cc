// SPDX-License-Identifier: GPL-2.0-or-later
//
// qtpm-demo: what firmware and an operating system do with a TPM, run against qtpm's devices on
// the embedded default backend (libtpms, in-process), through the real registers:
//   firmware: find the TPM, TPM2_Startup, self-test, measure boot components into PCRs;
//   OS:       read the PCR banks, check them against a replay of the measurements, get random;
//   tables:   the ACPI objects and tables firmware would hand the OS for this device.
//
//   qtpm-demo [--interface tis|crb] [--state DIR]
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include "backends/tpm/tpm_backend.h"
#include "hw/core/device.h"
#include "qom/main_loop.h"
#include "qom/object.h"
#include "qtest/demo/demo_tables.h"
#include "qtest/demo/guest_drivers.h"
#include "qtest/demo/tpm2_commands.h"
#include "qtpm/qtpm.h"

using namespace qtpm;
using namespace qtpm::demo;

namespace {

// What the demo "machine" gives its devices: one backend, a queue loop, no guest RAM to clear.
class DemoHost : public HostServices {
 public:
  Object *find_tpm_backend(std::string_view id) override {
    return id == "tpm0" ? backend : nullptr;
  }
  Chardev *find_chardev(std::string_view) override { return nullptr; }
  CompletionLoop &completion_loop() override { return loop; }
  void clear_guest_ram() override {}
  Object *backend = nullptr;
  QueueCompletionLoop loop;
};

struct Options {
  std::string interface = "tis";
  std::string state;
};

bool parse_args(int argc, char **argv, Options *o) {
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    if ((a == "--interface" || a == "--state") && i + 1 < argc) {
      (a == "--interface" ? o->interface : o->state) = argv[++i];
    } else {
      std::fprintf(stderr, "usage: qtpm-demo [--interface tis|crb] [--state DIR]\n");
      return false;
    }
  }
  if (o->interface != "tis" && o->interface != "crb") {
    std::fprintf(stderr, "qtpm-demo: --interface must be 'tis' or 'crb'\n");
    return false;
  }
  return true;
}

std::string hex(const std::vector<uint8_t> &b) {
  std::string s;
  for (uint8_t x : b) s += strprintf("%02x", x);
  return s;
}

int fail(const Status &st) {
  std::fprintf(stderr, "qtpm-demo: %s\n", st.message().c_str());
  return 1;
}

// One boot component: where it is measured and what it is.
struct Measurement {
  uint32_t pcr;
  const char *what;
};

constexpr Measurement kBoot[] = {
    {0, "firmware code (qtpm demo BIOS 1.0)"},
    {1, "firmware configuration: boot order disk,net"},
    {4, "boot loader: grubx64.efi"},
    {7, "secure boot policy: enabled, db=demo"},
    {0, "separator"}, {1, "separator"}, {4, "separator"}, {7, "separator"},
};

// Firmware and OS, in order.  Returns a failed Status at the first problem.
Status run_boot(TpmDriver &tpm, int *failures) {
  std::string identity;
  if (Status st = tpm.probe(&identity); !st) return st;
  std::printf("firmware: found a TPM on the %s interface: %s\n", tpm.name(), identity.c_str());

  std::vector<uint8_t> rsp;
  auto run = [&](const std::vector<uint8_t> &cmd, const char *what) -> Status {
    if (Status st = tpm.transmit(cmd, &rsp); !st) return st;
    return check_rc(rsp, what);
  };
  if (Status st = run(cmd_startup_clear(), "TPM2_Startup(CLEAR)"); !st) return st;
  std::printf("firmware: TPM2_Startup(CLEAR) ok\n");
  if (Status st = run(cmd_self_test_full(), "TPM2_SelfTest(full)"); !st) return st;
  std::printf("firmware: TPM2_SelfTest(full) ok\n");
  std::vector<uint16_t> algs;
  if (Status st = run(cmd_get_capability_pcrs(), "TPM2_GetCapability(PCRS)"); !st) return st;
  if (Status st = parse_active_banks(rsp, &algs); !st) return st;
  std::vector<const PcrBank *> banks;
  std::printf("firmware: active PCR banks:");
  for (uint16_t alg : algs) {
    const PcrBank *b = find_bank(alg);
    std::printf(" %s", b ? b->name : strprintf("alg-0x%04x", alg).c_str());
    if (b) banks.push_back(b);
  }
  std::printf("\n");

  // Measure each component into every bank, and keep a software replay (the event log).
  std::vector<std::vector<std::vector<uint8_t>>> replay(banks.size());
  for (size_t i = 0; i < banks.size(); i++) replay[i].assign(8, std::vector<uint8_t>(banks[i]->digest_size, 0));
  for (const Measurement &m : kBoot) {
    std::vector<uint8_t> event(m.what, m.what + std::strlen(m.what));
    std::vector<std::pair<uint16_t, std::vector<uint8_t>>> digests;
    for (size_t i = 0; i < banks.size(); i++) {
      std::vector<uint8_t> d = bank_hash(*banks[i], event);
      digests.emplace_back(banks[i]->alg, d);
      std::vector<uint8_t> cat = replay[i][m.pcr];
      cat.insert(cat.end(), d.begin(), d.end());
      replay[i][m.pcr] = bank_hash(*banks[i], cat);
    }
    if (Status st = run(cmd_pcr_extend(m.pcr, digests), "TPM2_PCR_Extend"); !st) return st;
    std::printf("firmware: measured into PCR %u: %s\n", m.pcr, m.what);
  }

  if (Status st = run(cmd_get_random(16), "TPM2_GetRandom"); !st) return st;
  std::vector<uint8_t> random;
  if (Status st = parse_random(rsp, &random); !st) return st;
  std::printf("\nos: TPM2_GetRandom(16) = %s\n", hex(random).c_str());

  for (size_t i = 0; i < banks.size(); i++) {
    if (Status st = run(cmd_pcr_read(banks[i]->alg), "TPM2_PCR_Read"); !st) return st;
    std::vector<std::vector<uint8_t>> pcrs;
    if (Status st = parse_pcr_read(rsp, &pcrs); !st) return st;
    std::printf("os: PCR bank %s\n", banks[i]->name);
    for (size_t p = 0; p < pcrs.size() && p < 8; p++) {
      bool ok = pcrs[p] == replay[i][p];
      if (!ok) ++*failures;
      std::printf("  %zu: %s%s\n", p, hex(pcrs[p]).c_str(), ok ? "" : "  <- does not match the log");
    }
  }
  std::printf("os: %s\n", *failures ? "PCRs do NOT match the replayed measurements"
                                    : "every PCR matches the replayed measurements");
  return Status::ok();
}

}  // namespace

int main(int argc, char **argv) {
  Options opt;
  if (!parse_args(argc, argv, &opt)) return 2;
  qtpm_init();
  DemoHost host;

  std::unique_ptr<Object> be_obj = object_new("tpm-libtpms");
  if (!be_obj) return fail(Status::error("this build has no libtpms backend"));
  auto *backend = object_cast<TpmBackend>(be_obj.get());
  backend->set_id("tpm0");
  backend->set_host(&host);
  if (!opt.state.empty()) {
    if (Status st = backend->set_property("state", opt.state); !st) return fail(st);
  }
  if (Status st = backend->realize(); !st) return fail(st);
  host.backend = backend;

  const char *type = opt.interface == "crb" ? "tpm-crb" : "tpm-tis";
  std::unique_ptr<Object> dev_obj = object_new(type);
  if (!dev_obj) return fail(Status::errorf("this build has no %s device", type));
  auto *device = object_cast<Device>(dev_obj.get());
  device->set_host(&host);
  if (Status st = device->set_property("tpmdev", "tpm0"); !st) return fail(st);
  if (Status st = device->realize(); !st) return fail(st);
  device->reset();  // machine start: the frontend starts the TPM

  std::printf("qtpm %s demo: %s on the libtpms backend (in-process TPM %s, %s)\n\n",
              qtpm_version(), type, tpm_version_name(backend->version()),
              opt.state.empty() ? "ephemeral state" : ("state in " + opt.state).c_str());

  GuestBus bus(host.loop);
  uint64_t base = 0;
  for (const MemoryRegion &r : device->regions()) {
    if (r.fixed_address()) bus.map(r, *r.fixed_address());
    if (r.fixed_address() && base == 0) base = *r.fixed_address();
  }
  std::unique_ptr<TpmDriver> driver;
  if (opt.interface == "crb") driver = std::make_unique<CrbDriver>(bus, base);
  else driver = std::make_unique<TisDriver>(bus, base);

  int failures = 0;
  if (Status st = run_boot(*driver, &failures); !st) return fail(st);
  std::printf("\n%llu register and buffer accesses in all\n\n",
              static_cast<unsigned long long>(bus.accesses()));

  print_acpi_tables(*device);

  device->unrealize();
  backend->unrealize();
  return failures ? 1 : 0;
}
