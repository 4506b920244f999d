// SPDX-License-Identifier: GPL-2.0-or-later
//
// Lazily allocated guest RAM (see guest_ram.h).
#include "qtest/server/guest_ram.h"

#include <sys/mman.h>

#include <cerrno>
#include <cstring>

namespace qtpm::host {

GuestRam::~GuestRam() {
  if (host_) munmap(host_, size_);
}

Status GuestRam::allocate(const std::string &name, uint64_t size) {
  name_ = name;
  if (size == 0) return Status::ok();
  void *p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                 -1, 0);
  if (p == MAP_FAILED) {
    return Status::errorf("cannot set up guest memory '%s': %s", name.c_str(), std::strerror(errno));
  }
  host_ = static_cast<uint8_t *>(p);
  size_ = size;
  return Status::ok();
}

void GuestRam::clear() {
  if (!host_) return;
  // Dropping private anonymous pages makes them read back as zeroes without touching them.
  if (madvise(host_, size_, MADV_DONTNEED) != 0) std::memset(host_, 0, size_);
}

}  // namespace qtpm::host
