// SPDX-License-Identifier: GPL-2.0-or-later
//
// Small RAII helpers over the GLib default main context for the migration code: a descriptor
// watch, a one-shot timer and a child-exit watch.  Each removes its GLib source when reset or
// destroyed, and may be reset (or re-armed) from inside its own callback.
#pragma once

#include <glib.h>
#include <sys/types.h>

#include <functional>

namespace qtpm::host {

class FdWatch {
 public:
  // Return false to remove the watch.
  using Fn = std::function<bool(GIOCondition)>;
  FdWatch() = default;
  FdWatch(const FdWatch &) = delete;
  FdWatch &operator=(const FdWatch &) = delete;
  ~FdWatch() { reset(); }
  void watch(int fd, GIOCondition condition, Fn fn);
  void reset();
  bool active() const { return id_ != 0; }

 private:
  static gboolean dispatch(gint fd, GIOCondition condition, gpointer self);
  guint id_ = 0;
  Fn fn_;
};

class OneShotTimer {
 public:
  OneShotTimer() = default;
  OneShotTimer(const OneShotTimer &) = delete;
  OneShotTimer &operator=(const OneShotTimer &) = delete;
  ~OneShotTimer() { reset(); }
  void start(unsigned ms, std::function<void()> fn);
  void reset();

 private:
  static gboolean dispatch(gpointer self);
  guint id_ = 0;
  std::function<void()> fn_;
};

// Watches a child started with G_SPAWN_DO_NOT_REAP_CHILD; GLib reaps it and reports the wait
// status.  reset() before the exit leaves the child to the caller (reap_child()).
class ChildWatch {
 public:
  ChildWatch() = default;
  ChildWatch(const ChildWatch &) = delete;
  ChildWatch &operator=(const ChildWatch &) = delete;
  ~ChildWatch() { reset(); }
  void watch(pid_t child, std::function<void(int wait_status)> fn);
  void reset();
  bool active() const { return id_ != 0; }

 private:
  static void dispatch(GPid pid, gint status, gpointer self);
  guint id_ = 0;
  std::function<void(int)> fn_;
};

}  // namespace qtpm::host
