// SPDX-License-Identifier: GPL-2.0-or-later
//
// The C API's objects: QtpmHost (HostServices over the embedder's callbacks), QtpmBackend and
// QtpmDevice (handles over qtpm objects).  Shared by the C API's translation units.
//
// Completions.  Backends post closures from their worker threads.  The host keeps them in its
// own queue and asks the embedder, through QtpmHostOps.post, only to "drain this queue soon".
// That makes teardown safe: before an object that posted closures is destroyed, the queue is
// drained on the main thread, and a drain request the embedder runs after the host is gone finds
// the queue closed (it holds a reference to the queue, not to the host).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "backends/tpm/tpm_backend.h"
#include "hw/core/device.h"
#include "qom/chardev.h"
#include "qom/host_services.h"
#include "qtpm/qtpm.h"

namespace qtpm::capi {

// The queue of closures posted to the embedder's main loop.
class PostQueue {
 public:
  void push(std::function<void()> fn);
  // Runs what is queued now (not what those closures post); returns how many ran.
  int run_pending();
  // After close(), pushes are dropped and run_pending does nothing.
  void close();

 private:
  std::mutex mu_;
  std::deque<std::function<void()>> queue_;
  bool closed_ = false;
};

class HostCompletionLoop : public CompletionLoop {
 public:
  HostCompletionLoop(const QtpmHostOps &ops, void *opaque)
      : ops_(ops), opaque_(opaque), queue_(std::make_shared<PostQueue>()) {}
  void post(std::function<void()> fn) override;
  PostQueue &queue() { return *queue_; }

 private:
  const QtpmHostOps &ops_;
  void *opaque_;
  std::shared_ptr<PostQueue> queue_;
};

}  // namespace qtpm::capi

struct QtpmBackend;
struct QtpmDevice;

struct QtpmHost final : public qtpm::HostServices {
  QtpmHost(const QtpmHostOps &ops, void *opaque);
  ~QtpmHost() override;

  // HostServices ------------------------------------------------------------------------------
  qtpm::Object *find_tpm_backend(std::string_view id) override;
  qtpm::Chardev *find_chardev(std::string_view id) override;
  qtpm::CompletionLoop &completion_loop() override { return loop; }
  void clear_guest_ram() override;
  bool incoming_migration_pending() const override;
  void report_error(std::string_view message) override;

  QtpmHostOps ops{};
  void *opaque = nullptr;
  qtpm::capi::HostCompletionLoop loop;
  std::map<std::string, QtpmBackend *, std::less<>> backends;
  std::map<std::string, std::unique_ptr<qtpm::Chardev>, std::less<>> chardevs;
};

struct QtpmBackend {
  QtpmHost *host = nullptr;
  std::unique_ptr<qtpm::Object> object;
  qtpm::TpmBackend *backend = nullptr;  // the same object
  std::string tpmdev_type;              // "emulator"
  int users = 0;                        // realized devices bound to it
  bool released = false;                // the embedder freed it; destroyed when unused
};

struct QtpmDevice {
  // What the embedder attached for the device to point at (capi_spapr.cc: the sPAPR DMA
  // window); declared first so that it outlives the device.
  std::shared_ptr<void> attachment;
  QtpmHost *host = nullptr;
  std::unique_ptr<qtpm::Object> object;
  qtpm::Device *device = nullptr;  // the same object
  QtpmBackend *bound = nullptr;    // the backend it attached to at realize
};

namespace qtpm::capi {

// Stores a message for the caller (NULL errmsg: dropped); returns `code`.
int fail(char **errmsg, int code, const std::string &message);
// Clears *errmsg for a successful call; returns QTPM_OK.
int succeed(char **errmsg);
// malloc'ed copies the caller frees with qtpm_free.
char *dup_string(const std::string &s);
uint8_t *dup_bytes(const uint8_t *data, size_t len);

// Destroys a backend that the embedder released and no device uses any more.
void backend_destroy_if_unused(QtpmBackend *be);

}  // namespace qtpm::capi
