// SPDX-License-Identifier: GPL-2.0-or-later
//
// GLib watch helpers (see migration_watch.h).
#include "qtest/server/migration_watch.h"

#include <glib-unix.h>

namespace qtpm::host {

void FdWatch::watch(int fd, GIOCondition condition, Fn fn) {
  reset();
  fn_ = std::move(fn);
  id_ = g_unix_fd_add(fd, condition, &FdWatch::dispatch, this);
}

void FdWatch::reset() {
  if (id_) g_source_remove(id_);
  id_ = 0;
}

gboolean FdWatch::dispatch(gint, GIOCondition condition, gpointer opaque) {
  auto *self = static_cast<FdWatch *>(opaque);
  guint mine = self->id_;
  Fn fn = self->fn_;  // the callback may reset or re-arm this watch
  bool keep = fn(condition);
  if (self->id_ != mine) return G_SOURCE_REMOVE;  // reset or replaced: this source is done
  if (!keep) self->id_ = 0;
  return keep ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

void OneShotTimer::start(unsigned ms, std::function<void()> fn) {
  reset();
  fn_ = std::move(fn);
  id_ = g_timeout_add(ms, &OneShotTimer::dispatch, this);
}

void OneShotTimer::reset() {
  if (id_) g_source_remove(id_);
  id_ = 0;
}

gboolean OneShotTimer::dispatch(gpointer opaque) {
  auto *self = static_cast<OneShotTimer *>(opaque);
  self->id_ = 0;  // one shot: GLib removes the source when we return
  std::function<void()> fn = std::move(self->fn_);
  fn();
  return G_SOURCE_REMOVE;
}

void ChildWatch::watch(pid_t child, std::function<void(int)> fn) {
  reset();
  fn_ = std::move(fn);
  id_ = g_child_watch_add(child, &ChildWatch::dispatch, this);
}

void ChildWatch::reset() {
  if (id_) g_source_remove(id_);
  id_ = 0;
}

void ChildWatch::dispatch(GPid, gint status, gpointer opaque) {
  auto *self = static_cast<ChildWatch *>(opaque);
  self->id_ = 0;  // GLib removes a child watch after it fired
  std::function<void(int)> fn = std::move(self->fn_);
  fn(status);
}

}  // namespace qtpm::host
