// SPDX-License-Identifier: GPL-2.0-or-later
//
// CompletionLoop implementations (see main_loop.h).
#include "qom/main_loop.h"

#include <chrono>

namespace qtpm {

GlibCompletionLoop::GlibCompletionLoop(GMainContext *context)
    : context_(context ? g_main_context_ref(context) : nullptr) {}

GlibCompletionLoop::~GlibCompletionLoop() {
  if (context_) g_main_context_unref(context_);
}

void GlibCompletionLoop::post(std::function<void()> fn) {
  // An idle source owns a heap copy of the closure; GLib frees it with the source.
  auto *heap = new std::function<void()>(std::move(fn));
  GSource *source = g_idle_source_new();
  g_source_set_priority(source, G_PRIORITY_DEFAULT);
  g_source_set_callback(
      source,
      [](gpointer data) -> gboolean {
        (*static_cast<std::function<void()> *>(data))();
        return G_SOURCE_REMOVE;
      },
      heap, [](gpointer data) { delete static_cast<std::function<void()> *>(data); });
  g_source_attach(source, context_);
  g_source_unref(source);
  g_main_context_wakeup(context_);
}

void QueueCompletionLoop::post(std::function<void()> fn) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(std::move(fn));
  }
  cv_.notify_all();
}

int QueueCompletionLoop::run_pending() {
  std::deque<std::function<void()>> batch;
  {
    std::lock_guard<std::mutex> lock(mu_);
    batch.swap(queue_);
  }
  for (auto &fn : batch) fn();
  return static_cast<int>(batch.size());
}

int QueueCompletionLoop::wait_and_run(int timeout_ms) {
  {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [this] { return !queue_.empty(); });
  }
  return run_pending();
}

}  // namespace qtpm
