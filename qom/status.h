// SPDX-License-Identifier: GPL-2.0-or-later
//
// Status: how qtpm reports user, configuration and peer errors as values.
//
// Two kinds of error are kept apart (STYLE.md, practice 9): a Status travels to the user with a
// one-line message that names the option or the peer ("tpm-emulator: ..."); a broken internal
// invariant is a bug and asserts.  Device and backend code never ends the process.
#pragma once

#include <cstdarg>
#include <string>
#include <utility>

namespace qtpm {

// printf-style formatting into a std::string (GCC 12 has no std::format).
std::string strprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
std::string vstrprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

class [[nodiscard]] Status {
 public:
  Status() = default;  // success
  static Status ok() { return Status(); }
  static Status error(std::string message) { return Status(std::move(message)); }
  static Status errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

  bool is_ok() const { return !failed_; }
  explicit operator bool() const { return !failed_; }
  const std::string &message() const { return message_; }

  // Prefixes the message ("tpm-emulator: " + message) when it failed; success passes through.
  Status prefixed(const std::string &prefix) const {
    return failed_ ? Status(prefix + message_) : *this;
  }

 private:
  explicit Status(std::string message) : failed_(true), message_(std::move(message)) {}
  bool failed_ = false;
  std::string message_;
};

}  // namespace qtpm
