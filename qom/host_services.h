// SPDX-License-Identifier: GPL-2.0-or-later
//
// What an embedder (qtpm's own host, or QEMU through the glue) provides to devices and backends.
//
// Devices and backends hold no globals and open no sockets of their own accord: everything that
// reaches outside the object comes through this narrow interface (STYLE.md practice 6), handed
// in before realize.  Unit tests supply a small fake.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <string_view>

namespace qtpm {

class Object;
class Chardev;

// Runs closures on the embedder's main-loop thread.  post() is thread-safe and never runs `fn`
// synchronously; completions of backend requests travel through it.
class CompletionLoop {
 public:
  virtual ~CompletionLoop() = default;
  virtual void post(std::function<void()> fn) = 0;
};

class HostServices {
 public:
  virtual ~HostServices() = default;

  // The -tpmdev object with this id (a TpmBackend), or nullptr.
  virtual Object *find_tpm_backend(std::string_view id) = 0;
  // The -chardev with this id, or nullptr.
  virtual Chardev *find_chardev(std::string_view id) = 0;
  virtual CompletionLoop &completion_loop() = 0;
  // Zeroes all guest RAM (PPI memory clear at reset).  Device-owned RAM (the PPI page itself) is
  // not guest RAM and stays.
  virtual void clear_guest_ram() = 0;
  // True while the machine waits for an incoming migration (-incoming): backends then defer the
  // TPM's start until the state has been loaded.
  virtual bool incoming_migration_pending() const { return false; }
  // Guest-physical memory for devices that do DMA (fw_cfg).  Copies `len` bytes; false, with
  // nothing guaranteed about partial copies, when any byte of [addr, addr + len) is not guest
  // RAM (or the range wraps).  Embedders without DMA keep the defaults: every DMA then fails,
  // which the device reports to the guest as an error.
  virtual bool dma_read(uint64_t addr, void *buf, size_t len) { return false; }
  virtual bool dma_write(uint64_t addr, const void *buf, size_t len) { return false; }
  // Tells the user, in one line, about a runtime failure that no Status can carry back to a
  // caller (a backend that fails to start at machine reset).  The message already names the
  // device and the option or peer.  Embedders route it to their error log; the default is stderr.
  virtual void report_error(std::string_view message) {
    std::fprintf(stderr, "qtpm: %.*s\n", static_cast<int>(message.size()), message.data());
  }
};

}  // namespace qtpm
