// SPDX-License-Identifier: GPL-2.0-or-later
//
// Where the in-process libtpms backend keeps the TPM's NVRAM blobs.
//
// libtpms names its blobs "permall" (permanent state: NV indices, seeds, hierarchies),
// "volatilestate" (a snapshot of RAM state) and "savestate" (TPM 1.2 TPM_SaveState); see
// libtpms/tpm_nvfilename.h.  It asks for them through its nvram callbacks; a store answers.
// Two stores exist: this in-memory one (no state= option: the TPM lives as long as the process)
// and the swtpm-compatible directory (tpm_state_dir.h).
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "qom/status.h"

namespace qtpm {

class NvStore {
 public:
  virtual ~NvStore() = default;
  // Loads blob `name` into *data.  *found is false (and the status ok) when nothing is stored.
  virtual Status load(std::string_view name, std::vector<uint8_t> *data, bool *found) = 0;
  // Replaces blob `name`.  Either the old or the new content survives any crash.
  virtual Status store(std::string_view name, std::span<const uint8_t> data) = 0;
  // Deletes blob `name`; *existed tells whether there was one.
  virtual Status remove(std::string_view name, bool *existed) = 0;
};

// Blobs in memory; gone with the object.
class MemoryNvStore : public NvStore {
 public:
  Status load(std::string_view name, std::vector<uint8_t> *data, bool *found) override {
    auto it = blobs_.find(name);
    *found = it != blobs_.end();
    if (*found) *data = it->second;
    return Status::ok();
  }
  Status store(std::string_view name, std::span<const uint8_t> data) override {
    blobs_[std::string(name)].assign(data.begin(), data.end());
    return Status::ok();
  }
  Status remove(std::string_view name, bool *existed) override {
    auto it = blobs_.find(name);
    *existed = it != blobs_.end();
    if (*existed) blobs_.erase(it);
    return Status::ok();
  }

 private:
  std::map<std::string, std::vector<uint8_t>, std::less<>> blobs_;
};

}  // namespace qtpm
