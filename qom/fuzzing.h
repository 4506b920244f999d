// SPDX-License-Identifier: GPL-2.0-or-later
//
// What qtpm's libFuzzer targets share: the reader that turns the fuzzer's bytes into actions,
// and the way a target reports a broken invariant (a message, then abort() so libFuzzer keeps
// the input).  Fuzz targets only; nothing in the library includes it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace qtpm::fuzzing {

// Consumes the input front to back, little-endian; past the end every read gives 0, so any
// input decodes to some sequence of actions.
class Input {
 public:
  Input(const uint8_t *data, size_t size) : data_(data), size_(size) {}
  bool empty() const { return pos_ >= size_; }
  uint8_t u8() { return pos_ < size_ ? data_[pos_++] : 0; }
  uint16_t u16() { return static_cast<uint16_t>(value(2)); }
  uint64_t u64() { return value(8); }
  uint64_t value(unsigned bytes) {
    uint64_t v = 0;
    for (unsigned i = 0; i < bytes; i++) v |= uint64_t{u8()} << (8 * i);
    return v;
  }
  // Up to n bytes: fewer when the input ends first.
  std::vector<uint8_t> bytes(size_t n) {
    std::vector<uint8_t> out;
    for (size_t i = 0; i < n && !empty(); i++) out.push_back(u8());
    return out;
  }

 private:
  const uint8_t *data_;
  size_t size_;
  size_t pos_ = 0;
};

// A finding: says which target and what broke, then aborts (libFuzzer saves the input).
[[noreturn]] inline void finding(const char *target, const char *what, const char *detail = "") {
  std::fprintf(stderr, "fuzz-%s: %s%s%s\n", target, what, *detail ? ": " : "", detail);
  std::abort();
}

}  // namespace qtpm::fuzzing
