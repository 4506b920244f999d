// SPDX-License-Identifier: GPL-2.0-or-later
//
// CompletionLoop implementations: one over a GLib main context (qtpm's host, and the default for
// embedders that run GLib), and a plain queue for unit tests and embedders with their own loop.
#pragma once

#include <glib.h>

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>

#include "qom/host_services.h"

namespace qtpm {

// Posts closures to a GMainContext (NULL: the global default context).
class GlibCompletionLoop : public CompletionLoop {
 public:
  explicit GlibCompletionLoop(GMainContext *context = nullptr);
  ~GlibCompletionLoop() override;
  void post(std::function<void()> fn) override;

 private:
  GMainContext *context_;
};

// A queue drained explicitly by its owner (tests; embedders that poll).
class QueueCompletionLoop : public CompletionLoop {
 public:
  void post(std::function<void()> fn) override;
  // Runs everything queued so far; returns how many closures ran.
  int run_pending();
  // Waits up to timeout_ms for at least one closure, then runs all pending; returns the count.
  int wait_and_run(int timeout_ms);

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
};

}  // namespace qtpm
