// SPDX-License-Identifier: GPL-2.0-or-later
//
// Trace events and guest-error logging.
//
// Trace events are named "subsystem_event" (tpm_tis_mmio_read, tpm_emulator_ctrl, ...) and are
// off until enabled by a pattern (-trace PATTERN, glob with '*' and '?', repeatable; a leading
// '-' disables).  Output goes to stderr, one line an event.  Tracing never changes behaviour.
//
// Guest errors (an access the device does not accept) and unimplemented features are logged
// under two categories, as QEMU's "-d guest_errors,unimp" does; both go to stderr only when
// enabled ("-d guest_errors" or the trace pattern "guest_errors"/"unimp").
#pragma once

#include <string>
#include <string_view>

namespace qtpm {

// Enables (or, with a leading '-', disables) events matching `pattern`.
void trace_enable_pattern(std::string_view pattern);
bool trace_event_enabled(std::string_view event);
void trace_event(const char *event, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

enum class LogCategory { kGuestError, kUnimplemented };
void log_mask_enable(LogCategory category, bool on);
bool log_mask_enabled(LogCategory category);
void log_guest(LogCategory category, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

// Counts of guest errors since start (tests assert that bad accesses were noticed).
unsigned long log_guest_count(LogCategory category);

}  // namespace qtpm

// Cheap when disabled: the arguments are not evaluated.
#define QTPM_TRACE(event, ...)                                    \
  do {                                                            \
    if (::qtpm::trace_event_enabled(event)) ::qtpm::trace_event(event, __VA_ARGS__); \
  } while (0)
