// SPDX-License-Identifier: GPL-2.0-or-later
//
// Trace events and guest-error logging (see trace.h).
#include "qom/trace.h"

#include <fnmatch.h>

#include <atomic>
#include <cstdarg>
#include <cstdio>
#include <mutex>
#include <string>
#include <vector>

namespace qtpm {

namespace {

struct TraceState {
  std::mutex mu;
  std::vector<std::pair<std::string, bool>> patterns;  // later patterns win
  std::atomic<bool> any{false};
  std::atomic<bool> mask[2] = {false, false};
  std::atomic<unsigned long> counts[2] = {0, 0};
};

TraceState &state() {
  static TraceState s;
  return s;
}

}  // namespace

void trace_enable_pattern(std::string_view pattern) {
  TraceState &s = state();
  bool on = true;
  if (!pattern.empty() && pattern.front() == '-') {
    on = false;
    pattern.remove_prefix(1);
  }
  std::string p(pattern);
  if (p == "guest_errors") log_mask_enable(LogCategory::kGuestError, on);
  if (p == "unimp") log_mask_enable(LogCategory::kUnimplemented, on);
  std::lock_guard<std::mutex> lock(s.mu);
  s.patterns.emplace_back(std::move(p), on);
  s.any = true;
}

bool trace_event_enabled(std::string_view event) {
  TraceState &s = state();
  if (!s.any.load(std::memory_order_relaxed)) return false;
  std::string e(event);
  std::lock_guard<std::mutex> lock(s.mu);
  bool on = false;
  for (const auto &[pattern, enable] : s.patterns) {
    if (fnmatch(pattern.c_str(), e.c_str(), 0) == 0) on = enable;
  }
  return on;
}

void trace_event(const char *event, const char *fmt, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  std::fprintf(stderr, "%s %s\n", event, buf);
}

void log_mask_enable(LogCategory category, bool on) {
  state().mask[static_cast<int>(category)] = on;
}

bool log_mask_enabled(LogCategory category) { return state().mask[static_cast<int>(category)]; }

void log_guest(LogCategory category, const char *fmt, ...) {
  TraceState &s = state();
  s.counts[static_cast<int>(category)]++;
  if (!log_mask_enabled(category)) return;
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  std::fprintf(stderr, "%s: %s\n",
               category == LogCategory::kGuestError ? "guest error" : "unimplemented", buf);
}

unsigned long log_guest_count(LogCategory category) {
  return state().counts[static_cast<int>(category)];
}

}  // namespace qtpm
