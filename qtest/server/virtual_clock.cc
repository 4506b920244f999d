// SPDX-License-Identifier: GPL-2.0-or-later
//
// The qtest virtual clock (see virtual_clock.h).
#include "qtest/server/virtual_clock.h"

#include <limits>

namespace qtpm::host {

VirtualClock::TimerId VirtualClock::add_timer(int64_t deadline_ns, std::function<void()> fn) {
  TimerId id = next_id_++;
  timers_.emplace(std::make_pair(deadline_ns, id), std::move(fn));
  return id;
}

void VirtualClock::cancel_timer(TimerId id) {
  std::erase_if(timers_, [id](const auto &entry) { return entry.first.second == id; });
}

int64_t VirtualClock::next_deadline() const {
  return timers_.empty() ? -1 : timers_.begin()->first.first;
}

void VirtualClock::warp(int64_t target) {
  // Fire due timers one at a time: a timer may add or cancel others.
  while (!timers_.empty() && timers_.begin()->first.first <= target) {
    auto it = timers_.begin();
    if (it->first.first > now_) now_ = it->first.first;
    std::function<void()> fn = std::move(it->second);
    timers_.erase(it);
    fn();
  }
  if (target > now_) now_ = target;
}

int64_t VirtualClock::step(int64_t ns) {
  if (ns > 0) {
    // Saturate instead of overflowing on absurd steps.
    int64_t room = std::numeric_limits<int64_t>::max() - now_;
    warp(ns > room ? std::numeric_limits<int64_t>::max() : now_ + ns);
  }
  return now_;
}

int64_t VirtualClock::step_to_next_deadline() {
  int64_t deadline = next_deadline();
  if (deadline >= 0) warp(deadline > now_ ? deadline : now_);
  return now_;
}

int64_t VirtualClock::set(int64_t target) {
  if (target > now_) warp(target);
  return now_;
}

}  // namespace qtpm::host
