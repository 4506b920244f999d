// SPDX-License-Identifier: GPL-2.0-or-later
//
// bench-backends: what a TPM command costs through each qtpm backend, against the cost of the
// TPM itself.  For GetRandom(32), PCR_Extend(sha256) and PCR_Read(sha256) it measures, in one
// process and one run:
//
//   raw      TPMLIB_Process called directly (libtpms in this process, no backend)
//   libtpms  the libtpms backend: deliver() on this thread, TPMLIB_Process on the backend's
//            worker thread, the completion back through the host's loop, as a frontend sees it
//   emulator the emulator backend talking to a real swtpm (control socket + data fd)
//
// and prints each command's median latency and its ratio to raw.  libtpms is one TPM per
// process, so raw and the libtpms backend run one after the other, never together.
//
//   bench-backends [ITERATIONS]      (default 2000; 200 warm-up commands precede each series)
#include <libtpms/tpm_error.h>
#include <libtpms/tpm_library.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <glib.h>
#include <glib/gstdio.h>

#include "backends/tpm/tests/tpm_test_commands.h"
#include "backends/tpm/tpm_backend.h"
#include "backends/tpm/tpm_libtpms.h"
#include "qom/chardev.h"
#include "qom/main_loop.h"
#include "qom/object.h"

using namespace qtpm;
using qtpm::testing::Bytes;

namespace {

using Clock = std::chrono::steady_clock;

struct Command {
  const char *name;
  Bytes bytes;
};

std::vector<Command> commands() {
  const Bytes digest(32, 0x5a);
  return {{"GetRandom(32)", qtpm::testing::tpm2_get_random(32)},
          {"PCR_Extend", qtpm::testing::tpm2_pcr_extend_sha256(16, digest)},
          {"PCR_Read", qtpm::testing::tpm2_pcr_read_sha256(16)}};
}

// Runs `once` (one command, returns its response code) warm-up + n times; the median in µs.
std::optional<double> median_us(int n, const std::function<uint32_t()> &once) {
  for (int i = 0; i < 200; i++) {
    if (once() != 0) return std::nullopt;
  }
  std::vector<double> samples;
  samples.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; i++) {
    auto t0 = Clock::now();
    uint32_t rc = once();
    auto t1 = Clock::now();
    if (rc != 0) return std::nullopt;
    samples.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
  }
  std::nth_element(samples.begin(), samples.begin() + n / 2, samples.end());
  return samples[static_cast<size_t>(n / 2)];
}

// ---- raw libtpms -----------------------------------------------------------------------------

std::map<std::string, Bytes> g_raw_nv;

TPM_RESULT raw_nv_init() { return TPM_SUCCESS; }
TPM_RESULT raw_nv_load(unsigned char **data, uint32_t *len, uint32_t, const char *name) {
  auto it = g_raw_nv.find(name);
  if (it == g_raw_nv.end()) return TPM_RETRY;
  *data = static_cast<unsigned char *>(std::malloc(it->second.size() + 1));
  std::memcpy(*data, it->second.data(), it->second.size());
  *len = static_cast<uint32_t>(it->second.size());
  return TPM_SUCCESS;
}
TPM_RESULT raw_nv_store(const unsigned char *data, uint32_t len, uint32_t, const char *name) {
  g_raw_nv[name].assign(data, data + len);
  return TPM_SUCCESS;
}
TPM_RESULT raw_nv_delete(uint32_t, const char *name, TPM_BOOL) {
  g_raw_nv.erase(name);
  return TPM_SUCCESS;
}

std::vector<std::optional<double>> bench_raw(int n) {
  struct libtpms_callbacks cbs = {};
  cbs.sizeOfStruct = sizeof cbs;
  cbs.tpm_nvram_init = raw_nv_init;
  cbs.tpm_nvram_loaddata = raw_nv_load;
  cbs.tpm_nvram_storedata = raw_nv_store;
  cbs.tpm_nvram_deletename = raw_nv_delete;
  std::vector<std::optional<double>> out;
  if (TPMLIB_ChooseTPMVersion(TPMLIB_TPM_VERSION_2) != TPM_SUCCESS ||
      TPMLIB_RegisterCallbacks(&cbs) != TPM_SUCCESS || TPMLIB_MainInit() != TPM_SUCCESS) {
    std::fprintf(stderr, "raw libtpms: could not start the TPM\n");
    return std::vector<std::optional<double>>(commands().size());
  }
  unsigned char *resp = nullptr;
  uint32_t resp_size = 0;
  auto process = [&](Bytes &cmd) -> uint32_t {
    uint32_t len = 0;
    if (TPMLIB_Process(&resp, &len, &resp_size, cmd.data(), static_cast<uint32_t>(cmd.size())) !=
        TPM_SUCCESS) {
      return ~0u;
    }
    return len >= 10 ? qtpm::tpm_header_code(resp) : ~0u;
  };
  Bytes startup = qtpm::testing::tpm2_startup(0);
  process(startup);
  for (Command &c : commands()) {
    out.push_back(median_us(n, [&] { return process(c.bytes); }));
  }
  std::free(resp);
  TPMLIB_Terminate();
  return out;
}

// ---- backends through deliver/completion --------------------------------------------------

class BenchHost : public HostServices {
 public:
  Object *find_tpm_backend(std::string_view) override { return nullptr; }
  Chardev *find_chardev(std::string_view id) override {
    auto it = chardevs.find(std::string(id));
    return it == chardevs.end() ? nullptr : it->second;
  }
  CompletionLoop &completion_loop() override { return loop; }
  void clear_guest_ram() override {}
  std::map<std::string, Chardev *> chardevs;
  QueueCompletionLoop loop;
};

class BenchFrontend : public TpmFrontend {
 public:
  void tpm_request_completed(std::unique_ptr<TpmRequest> r) override { done = std::move(r); }
  TpmVersion tpm_version() const override { return TpmVersion::k2_0; }
  const char *tpm_model() const override { return "bench"; }
  std::unique_ptr<TpmRequest> done;
};

// One command as a frontend sends it: deliver, then run the loop until the completion arrives.
uint32_t through_backend(TpmBackend *be, BenchHost &host, BenchFrontend &fe, const Bytes &cmd) {
  auto req = std::make_unique<TpmRequest>();
  req->command = cmd;
  req->max_response = 4096;
  fe.done.reset();
  if (be->deliver(std::move(req))) return ~0u;
  while (!fe.done) host.loop.wait_and_run(1000);
  const Bytes &r = fe.done->response;
  return (fe.done->status.is_ok() && r.size() >= 10) ? tpm_header_code(r.data()) : ~0u;
}

std::vector<std::optional<double>> bench_backend(TpmBackend *be, BenchHost &host,
                                                 BenchFrontend &fe, int n) {
  std::vector<std::optional<double>> out;
  through_backend(be, host, fe, qtpm::testing::tpm2_startup(0));
  for (Command &c : commands()) {
    out.push_back(median_us(n, [&] { return through_backend(be, host, fe, c.bytes); }));
  }
  return out;
}

std::vector<std::optional<double>> bench_libtpms_backend(int n) {
  BenchHost host;
  BenchFrontend fe;
  std::unique_ptr<Object> obj = object_new(kTypeTpmLibtpms);
  auto *be = object_cast<TpmBackend>(obj.get());
  be->set_id("bench-libtpms");
  be->set_host(&host);
  Status st = be->realize();
  if (st) st = be->attach(&fe);
  if (st) st = be->startup(4096);
  if (!st) {
    std::fprintf(stderr, "libtpms backend: %s\n", st.message().c_str());
    return std::vector<std::optional<double>>(commands().size());
  }
  auto out = bench_backend(be, host, fe, n);
  be->detach();
  return out;
}

// The emulator backend with a real swtpm, started as a management layer would (control socket
// only; the backend hands swtpm the data channel with SET_DATAFD).
std::optional<std::vector<std::optional<double>>> bench_emulator_backend(int n,
                                                                         std::string *why) {
  if (!type_find("tpm-emulator")) {
    *why = "not built";
    return std::nullopt;
  }
  gchar *swtpm = g_find_program_in_path("swtpm");
  if (!swtpm) {
    *why = "swtpm not found";
    return std::nullopt;
  }
  g_free(swtpm);
  char tmpl[] = "/tmp/qtpm-bench-XXXXXX";
  std::string dir = g_mkdtemp(tmpl);
  std::string ctrl = dir + "/ctrl.sock";
  std::string state = "dir=" + dir;
  std::string ctrl_opt = "type=unixio,path=" + ctrl;
  const char *argv[] = {"swtpm", "socket", "--tpm2", "--tpmstate", state.c_str(),
                        "--ctrl", ctrl_opt.c_str(), nullptr};
  GPid pid = 0;
  if (!g_spawn_async(nullptr, const_cast<char **>(argv), nullptr,
                     static_cast<GSpawnFlags>(G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD |
                                              G_SPAWN_STDOUT_TO_DEV_NULL |
                                              G_SPAWN_STDERR_TO_DEV_NULL),
                     nullptr, nullptr, &pid, nullptr)) {
    *why = "cannot start swtpm";
    return std::nullopt;
  }
  for (int i = 0; i < 500 && !g_file_test(ctrl.c_str(), G_FILE_TEST_EXISTS); i++) g_usleep(10000);

  std::optional<std::vector<std::optional<double>>> out;
  {
    BenchHost host;
    BenchFrontend fe;
    std::unique_ptr<Object> chr = object_new("chardev-socket");
    chr->set_id("chrtpm");
    Status st = chr->set_property("path", ctrl);
    if (st) st = chr->realize();
    host.chardevs["chrtpm"] = object_cast<Chardev>(chr.get());
    std::unique_ptr<Object> obj = object_new("tpm-emulator");
    auto *be = object_cast<TpmBackend>(obj.get());
    if (st) {
      be->set_id("bench-emulator");
      be->set_host(&host);
      st = be->set_property("chardev", "chrtpm");
    }
    if (st) st = be->realize();
    if (st) st = be->attach(&fe);
    if (st) st = be->startup(4096);
    if (st) {
      out = bench_backend(be, host, fe, n);
      be->detach();
    } else {
      *why = st.message();
    }
  }  // the backend's finalisation shuts swtpm down
  for (int i = 0; i < 300; i++) {
    if (waitpid(pid, nullptr, WNOHANG) == pid) {
      pid = 0;
      break;
    }
    g_usleep(10000);
  }
  if (pid) {
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
  }
  for (const char *f : {"/ctrl.sock", "/tpm2-00.permall", "/tpm2-00.volatilestate", "/.lock"}) {
    g_unlink((dir + f).c_str());
  }
  g_rmdir(dir.c_str());
  return out;
}

std::string cell(const std::optional<double> &us, const std::optional<double> &raw) {
  if (!us) return "failed";
  char buf[64];
  if (raw && *raw > 0) {
    std::snprintf(buf, sizeof buf, "%8.1f us (%5.1fx)", *us, *us / *raw);
  } else {
    std::snprintf(buf, sizeof buf, "%8.1f us", *us);
  }
  return buf;
}

}  // namespace

int main(int argc, char **argv) {
  int n = argc > 1 ? std::atoi(argv[1]) : 2000;
  if (n < 1) n = 2000;
  register_builtin_types();
  const uint32_t v = TPMLIB_GetVersion();
  std::printf("qtpm backend benchmark: libtpms %u.%u.%u, TPM 2.0, %d commands per series "
              "(after 200 warm-up)\n",
              v >> 16, (v >> 8) & 0xff, v & 0xff, n);
  std::printf("median latency per command; (ratio to raw TPMLIB_Process in this run)\n\n");

  // One after the other: libtpms has one TPM per process.
  auto raw = bench_raw(n);
  auto lib = bench_libtpms_backend(n);
  std::string why;
  auto emu = bench_emulator_backend(n, &why);

  std::printf("%-15s %-22s %-22s %-22s\n", "command", "raw TPMLIB_Process", "libtpms backend",
              "emulator backend");
  auto cmds = commands();
  for (size_t i = 0; i < cmds.size(); i++) {
    std::printf("%-15s %-22s %-22s %-22s\n", cmds[i].name, cell(raw[i], std::nullopt).c_str(),
                cell(lib[i], raw[i]).c_str(),
                emu ? cell((*emu)[i], raw[i]).c_str() : ("emulator: " + why).c_str());
  }
  bool ok = true;
  for (size_t i = 0; i < cmds.size(); i++) ok = ok && raw[i] && lib[i] && (!emu || (*emu)[i]);
  return ok ? 0 : 1;
}
