// SPDX-License-Identifier: GPL-2.0-or-later
//
// Guest RAM: one anonymous mapping, reserved lazily (MAP_NORESERVE), so "-m 4G" costs nothing
// until the guest - here, a qtest client - touches the pages.
#pragma once

#include <cstdint>
#include <string>

#include "qom/status.h"

namespace qtpm::host {

class GuestRam {
 public:
  GuestRam() = default;
  ~GuestRam();
  GuestRam(const GuestRam &) = delete;
  GuestRam &operator=(const GuestRam &) = delete;

  // Fails with QEMU's "cannot set up guest memory 'NAME': <reason>".
  Status allocate(const std::string &name, uint64_t size);
  uint8_t *host() const { return host_; }
  uint64_t size() const { return size_; }
  const std::string &name() const { return name_; }
  // Zeroes everything (PPI memory clear); untouched pages stay unallocated.
  void clear();

 private:
  std::string name_;
  uint8_t *host_ = nullptr;
  uint64_t size_ = 0;
};

}  // namespace qtpm::host
