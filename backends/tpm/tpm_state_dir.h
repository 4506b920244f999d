// SPDX-License-Identifier: GPL-2.0-or-later
//
// A TPM state directory in swtpm's format (swtpm 0.7.1 `--tpmstate dir=DIR`), so one directory
// moves between `-tpmdev emulator` (a real swtpm) and `-tpmdev libtpms` in either direction, and
// a directory provisioned by swtpm_setup (EK, certificates) works in-process.
//
//  - Files: `tpm2-00.<blob>` for a TPM 2.0, `tpm-00.<blob>` for a TPM 1.2, blob names as libtpms
//    gives them (permall, volatilestate, savestate), each in swtpm's envelope
//    (tpm_state_blob.h).
//  - Exclusion: a write lock on `DIR/.lock` over the whole file, the lock swtpm takes
//    (fcntl F_SETLK, F_WRLCK).  qtpm takes it as an open-file-description lock (F_OFD_SETLK):
//    that conflicts with swtpm's process lock, also excludes a second opener inside this process,
//    and is not dropped when some unrelated descriptor of the file is closed.
//  - Writes are atomic: a temporary file in the same directory is written and fsync'ed, renamed
//    over the blob, and the directory is fsync'ed; a crash at any moment leaves either the old or
//    the new blob.
#pragma once

#include <memory>
#include <string>

#include "backends/tpm/tpm_backend.h"
#include "backends/tpm/tpm_nvstore.h"

namespace qtpm {

class SwtpmStateDir : public NvStore {
 public:
  // Largest state file read (a TPM 2 permall is a few KiB, the NV space of libtpms 0.9 at most
  // 128 KiB): a larger file is refused instead of read.
  static constexpr size_t kMaxFileSize = 4u << 20;

  // Opens and locks `path` for a TPM of `version`.  A missing directory is created (its parent
  // must exist).  Leftover temporary files of an interrupted write are removed.
  static Status open(const std::string &path, TpmVersion version,
                     std::unique_ptr<SwtpmStateDir> *out);
  ~SwtpmStateDir() override;  // releases the lock

  const std::string &path() const { return path_; }
  // "tpm2-00.permall" for blob "permall" of a TPM 2.0.
  std::string file_name(std::string_view blob) const;

  Status load(std::string_view name, std::vector<uint8_t> *data, bool *found) override;
  Status store(std::string_view name, std::span<const uint8_t> data) override;
  Status remove(std::string_view name, bool *existed) override;

 private:
  SwtpmStateDir(std::string path, TpmVersion version, int dir_fd)
      : path_(std::move(path)), version_(version), dir_fd_(dir_fd) {}
  Status lock();
  Status check_name(std::string_view name) const;
  Status read_file(const std::string &file, std::vector<uint8_t> *bytes, bool *found);
  Status write_file_atomically(const std::string &file, const std::vector<uint8_t> &bytes);
  std::string temp_name(const std::string &file) const { return ".qtpm-tmp." + file; }

  std::string path_;
  TpmVersion version_;
  int dir_fd_ = -1;
  int lock_fd_ = -1;
};

}  // namespace qtpm
