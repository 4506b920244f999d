// SPDX-License-Identifier: GPL-2.0-or-later
//
// QEMU_CLOCK_VIRTUAL under the qtest accelerator: time moves only when the qtest client says so
// (clock_step, clock_set), and timers due on the way fire in deadline order, as
// softmmu/qtest.c's qtest_clock_warp does.  No device uses timers yet; the API is here so that
// one can (a TIS command timeout, a migration downtime) without touching the protocol.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <utility>

namespace qtpm::host {

class VirtualClock {
 public:
  using TimerId = uint64_t;

  int64_t now_ns() const { return now_; }
  // Fires `fn` when the clock reaches `deadline_ns` (immediately at the next warp if already
  // past).  Timers with equal deadlines fire in the order they were added.
  TimerId add_timer(int64_t deadline_ns, std::function<void()> fn);
  void cancel_timer(TimerId id);
  // The earliest deadline, or -1 when no timer is pending.
  int64_t next_deadline() const;

  // clock_step NS: advance by `ns` (nothing for ns <= 0).  Returns the new time.
  int64_t step(int64_t ns);
  // clock_step without argument: advance to the next deadline (nothing when none).
  int64_t step_to_next_deadline();
  // clock_set NS: advance to `target` if it is in the future.
  int64_t set(int64_t target);

 private:
  void warp(int64_t target);

  int64_t now_ = 0;
  TimerId next_id_ = 1;
  // Ordered by (deadline, id): equal deadlines keep insertion order.
  std::map<std::pair<int64_t, TimerId>, std::function<void()>> timers_;
};

}  // namespace qtpm::host
