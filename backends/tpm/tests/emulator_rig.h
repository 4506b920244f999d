// SPDX-License-Identifier: GPL-2.0-or-later
//
// Test rig for the emulator backend: a TestHost, a client chardev connected to a swtpm control
// socket (real or fake), the backend on it, a recording frontend and the captured user messages.
#pragma once

#include <stdlib.h>
#include <unistd.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "backends/tpm/tpm_emulator.h"
#include "qom/chardev.h"
#include "qom/testing.h"

namespace qtpm::testing {

// Records completions, as a frontend would receive them.
class RecordingFrontend : public TpmFrontend {
 public:
  void tpm_request_completed(std::unique_ptr<TpmRequest> r) override {
    done.push_back(std::move(r));
  }
  TpmVersion tpm_version() const override { return TpmVersion::k2_0; }
  const char *tpm_model() const override { return "test"; }
  std::vector<std::unique_ptr<TpmRequest>> done;
};

// A private directory under $TMPDIR (or /tmp), removed with its files at the end.
class TempDir {
 public:
  TempDir() {
    const char *base = getenv("TMPDIR");
    path_ = std::string(base && *base ? base : "/tmp") + "/qtpm-emu-XXXXXX";
    if (!mkdtemp(path_.data())) path_.clear();
  }
  ~TempDir() {
    if (!path_.empty()) {
      std::string cmd = "rm -rf '" + path_ + "'";
      (void)!system(cmd.c_str());
    }
  }
  const std::string &path() const { return path_; }
  std::string file(const char *name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

class EmulatorRig {
 public:
  EmulatorRig() { register_builtin_types(); }
  ~EmulatorRig() {
    backend_obj.reset();  // the backend talks to swtpm through the chardev: it goes first
    chardev_obj.reset();
  }

  // Connects a chardev to `ctrl_path` and realizes a tpm-emulator on it.
  Status realize(const std::string &ctrl_path, uint32_t timeout_ms = 500) {
    chardev_obj = object_new("chardev-socket");
    chardev = object_cast<Chardev>(chardev_obj.get());
    chardev->set_id("chr0");
    Status st = chardev->set_property("path", ctrl_path);
    if (st) st = chardev->realize();
    if (!st) return st;
    host.chardevs["chr0"] = chardev;
    backend_obj = object_new(kTypeTpmEmulator);
    backend = object_cast<EmulatorBackend>(backend_obj.get());
    backend->set_id("tpm0");
    backend->set_host(&host);
    backend->error_reporter().set_sink([this](const std::string &line) {
      std::lock_guard<std::mutex> lock(mu);
      messages.push_back(line);
    });
    st = backend->set_property("chardev", "chr0");
    if (st && timeout_ms) st = backend->set_property("x-timeout-ms", std::to_string(timeout_ms));
    if (st) st = backend->realize();
    return st;
  }

  Status start(uint32_t buffer_size = 4096) {
    Status st = backend->attach(&frontend);
    return st ? backend->startup(buffer_size) : st;
  }

  // Runs one command to completion (bounded); nullptr if no completion arrived.
  TpmRequest *run(const std::vector<uint8_t> &cmd, uint8_t locality = 0,
                  uint32_t max_response = 4096, int wait_ms = 10000) {
    auto req = std::make_unique<TpmRequest>();
    req->command = cmd;
    req->locality = locality;
    req->max_response = max_response;
    size_t before = frontend.done.size();
    if (backend->deliver(std::move(req))) return nullptr;
    if (!host.run_until([&] { return frontend.done.size() > before; }, wait_ms)) return nullptr;
    return frontend.done.back().get();
  }

  std::vector<std::string> lines() {
    std::lock_guard<std::mutex> lock(mu);
    return messages;
  }

  TestHost host;
  std::unique_ptr<Object> chardev_obj;
  Chardev *chardev = nullptr;
  std::unique_ptr<Object> backend_obj;
  EmulatorBackend *backend = nullptr;
  RecordingFrontend frontend;
  std::mutex mu;
  std::vector<std::string> messages;
};

// Header fields of a response.
inline uint32_t rc_of(const TpmRequest *r) {
  return r && r->response.size() >= kTpmHeaderSize ? tpm_header_code(r->response.data()) : ~0u;
}

inline bool is_fatal_response(const TpmRequest *r) {
  return r && r->response.size() == kTpmHeaderSize && tpm_header_tag(r->response.data()) == 0xC4 &&
         tpm_header_code(r->response.data()) == 9;
}

}  // namespace qtpm::testing
