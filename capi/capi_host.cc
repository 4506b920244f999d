// SPDX-License-Identifier: GPL-2.0-or-later
//
// QtpmHost: HostServices over the embedder's C callbacks (see capi_host.h).
#include "capi/capi_host.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "qom/trace.h"

namespace qtpm::capi {

void PostQueue::push(std::function<void()> fn) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!closed_) queue_.push_back(std::move(fn));
}

int PostQueue::run_pending() {
  std::deque<std::function<void()>> batch;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return 0;
    batch.swap(queue_);
  }
  for (auto &fn : batch) fn();
  return static_cast<int>(batch.size());
}

void PostQueue::close() {
  std::lock_guard<std::mutex> lock(mu_);
  closed_ = true;
  queue_.clear();
}

namespace {

// What the embedder runs on its main loop: drain the queue it refers to.  `work` is a heap
// shared_ptr, so the queue outlives the host for as long as a drain request is scheduled.
void drain_queue(void *work) {
  auto *queue = static_cast<std::shared_ptr<PostQueue> *>(work);
  (*queue)->run_pending();
  delete queue;
}

}  // namespace

void HostCompletionLoop::post(std::function<void()> fn) {
  queue_->push(std::move(fn));
  ops_.post(opaque_, drain_queue, new std::shared_ptr<PostQueue>(queue_));
}

int fail(char **errmsg, int code, const std::string &message) {
  if (errmsg) *errmsg = dup_string(message);
  return code;
}

int succeed(char **errmsg) {
  if (errmsg) *errmsg = nullptr;
  return QTPM_OK;
}

char *dup_string(const std::string &s) {
  char *p = static_cast<char *>(std::malloc(s.size() + 1));
  if (p) std::memcpy(p, s.c_str(), s.size() + 1);
  return p;
}

uint8_t *dup_bytes(const uint8_t *data, size_t len) {
  auto *p = static_cast<uint8_t *>(std::malloc(len ? len : 1));
  if (p && len) std::memcpy(p, data, len);
  return p;
}

}  // namespace qtpm::capi

QtpmHost::QtpmHost(const QtpmHostOps &host_ops, void *host_opaque)
    : opaque(host_opaque), loop(ops, host_opaque) {
  // Copy only what the embedder's struct has: an older, shorter QtpmHostOps leaves the newer
  // callbacks NULL.
  std::memcpy(&ops, &host_ops, std::min(sizeof ops, host_ops.size));
  ops.size = sizeof ops;
}

QtpmHost::~QtpmHost() {
  loop.queue().close();
  chardevs.clear();
}

qtpm::Object *QtpmHost::find_tpm_backend(std::string_view id) {
  auto it = backends.find(id);
  return it == backends.end() ? nullptr : it->second->object.get();
}

qtpm::Chardev *QtpmHost::find_chardev(std::string_view id) {
  auto it = chardevs.find(id);
  return it == chardevs.end() ? nullptr : it->second.get();
}

void QtpmHost::clear_guest_ram() {
  if (ops.clear_guest_ram) ops.clear_guest_ram(opaque);
}

bool QtpmHost::incoming_migration_pending() const {
  return ops.incoming_migration_pending && ops.incoming_migration_pending(opaque);
}

void QtpmHost::report_error(std::string_view message) {
  std::string line(message);
  if (ops.report_error) {
    ops.report_error(opaque, line.c_str());
  } else {
    std::fprintf(stderr, "%s\n", line.c_str());
  }
}

extern "C" void qtpm_trace_enable(const char *pattern) {
  if (pattern && *pattern) qtpm::trace_enable_pattern(pattern);
}
