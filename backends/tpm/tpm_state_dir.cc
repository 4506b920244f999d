// SPDX-License-Identifier: GPL-2.0-or-later
//
// swtpm-compatible TPM state directory: locking, atomic writes, validated reads (see
// tpm_state_dir.h).
#include "backends/tpm/tpm_state_dir.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "backends/tpm/tpm_state_blob.h"
#include "qom/trace.h"

namespace qtpm {

namespace {

constexpr const char *kLockFile = ".lock";
constexpr const char *kBlobNames[] = {"permall", "volatilestate", "savestate"};

Status errno_status(const char *fmt_what, const std::string &path, int err) {
  return Status::errorf("%s '%s': %s", fmt_what, path.c_str(), std::strerror(err));
}

Status write_all(int fd, const uint8_t *data, size_t len) {
  while (len > 0) {
    ssize_t n = ::write(fd, data, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::error(std::strerror(errno));
    }
    data += n;
    len -= static_cast<size_t>(n);
  }
  return Status::ok();
}

}  // namespace

Status SwtpmStateDir::open(const std::string &path, TpmVersion version,
                           std::unique_ptr<SwtpmStateDir> *out) {
  if (path.empty()) return Status::error("state directory: empty path");
  if (::mkdir(path.c_str(), 0750) == 0) {
    QTPM_TRACE("tpm_state_dir_created", "%s", path.c_str());
  } else if (errno != EEXIST) {
    return errno_status("cannot create state directory", path, errno);
  }
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errno_status("cannot open state directory", path, errno);
  std::unique_ptr<SwtpmStateDir> dir(new SwtpmStateDir(path, version, fd));
  Status st = dir->lock();
  if (!st) return st;
  // A write interrupted by a crash leaves its temporary file; the blob itself is intact.
  for (const char *blob : kBlobNames) {
    ::unlinkat(fd, dir->temp_name(dir->file_name(blob)).c_str(), 0);
  }
  *out = std::move(dir);
  return Status::ok();
}

SwtpmStateDir::~SwtpmStateDir() {
  if (lock_fd_ >= 0) ::close(lock_fd_);  // closing the only descriptor releases the OFD lock
  if (dir_fd_ >= 0) ::close(dir_fd_);
}

Status SwtpmStateDir::lock() {
  lock_fd_ = ::openat(dir_fd_, kLockFile, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOCTTY, 0660);
  if (lock_fd_ < 0) return errno_status("cannot open lock file in state directory", path_, errno);
  struct flock fl = {};
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;  // start 0, length 0: the whole file, as swtpm locks it
  if (::fcntl(lock_fd_, F_OFD_SETLK, &fl) == 0) return Status::ok();
  int err = errno;
  if (err != EAGAIN && err != EACCES) {
    return errno_status("cannot lock state directory", path_, err);
  }
  // Name the holder when the kernel can tell (a process lock such as swtpm's reports its pid).
  struct flock who = {};
  who.l_type = F_WRLCK;
  who.l_whence = SEEK_SET;
  std::string holder = "another user";
  if (::fcntl(lock_fd_, F_OFD_GETLK, &who) == 0 && who.l_type != F_UNLCK && who.l_pid > 0) {
    holder = strprintf("process %d", static_cast<int>(who.l_pid));
  }
  return Status::errorf("state directory '%s' is in use by %s (it holds the lock on %s/%s)",
                        path_.c_str(), holder.c_str(), path_.c_str(), kLockFile);
}

std::string SwtpmStateDir::file_name(std::string_view blob) const {
  return std::string(version_ == TpmVersion::k1_2 ? "tpm-00." : "tpm2-00.") + std::string(blob);
}

Status SwtpmStateDir::check_name(std::string_view name) const {
  for (const char *known : kBlobNames) {
    if (name == known) return Status::ok();
  }
  return Status::errorf("state directory '%s': unknown state blob '%.*s'", path_.c_str(),
                        static_cast<int>(name.size()), name.data());
}

Status SwtpmStateDir::read_file(const std::string &file, std::vector<uint8_t> *bytes,
                                bool *found) {
  const std::string full = path_ + "/" + file;
  int fd = ::openat(dir_fd_, file.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    if (errno == ENOENT) {
      *found = false;
      return Status::ok();
    }
    return errno_status("cannot open state file", full, errno);
  }
  struct stat sb;
  Status st;
  if (::fstat(fd, &sb) != 0) {
    st = errno_status("cannot stat state file", full, errno);
  } else if (!S_ISREG(sb.st_mode)) {
    st = Status::errorf("state file '%s' is not a regular file", full.c_str());
  } else if (static_cast<uint64_t>(sb.st_size) > kMaxFileSize) {
    st = Status::errorf("state file '%s' is too large (%lld bytes; at most %zu)", full.c_str(),
                        static_cast<long long>(sb.st_size), kMaxFileSize);
  }
  if (st) {
    // Read to EOF (bounded by kMaxFileSize + 1 to notice a file growing under us).
    bytes->assign(static_cast<size_t>(sb.st_size), 0);
    size_t got = 0;
    for (;;) {
      if (got == bytes->size()) {
        if (bytes->size() > kMaxFileSize) {
          st = Status::errorf("state file '%s' is too large", full.c_str());
          break;
        }
        bytes->resize(bytes->size() + 4096);
      }
      ssize_t n = ::read(fd, bytes->data() + got, bytes->size() - got);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        st = errno_status("cannot read state file", full, errno);
        break;
      }
      if (n == 0) break;
      got += static_cast<size_t>(n);
    }
    bytes->resize(got);
  }
  ::close(fd);
  *found = st.is_ok();
  return st;
}

Status SwtpmStateDir::load(std::string_view name, std::vector<uint8_t> *data, bool *found) {
  *found = false;
  Status st = check_name(name);
  if (!st) return st;
  const std::string file = file_name(name);
  std::vector<uint8_t> raw;
  st = read_file(file, &raw, found);
  if (!st || !*found) return st;
  st = swtpm_blob_decode(raw, "state file '" + path_ + "/" + file + "'", data);
  if (!st) *found = false;
  QTPM_TRACE("tpm_state_dir_load", "%s/%s: %zu bytes -> %zu: %s", path_.c_str(), file.c_str(),
             raw.size(), data->size(), st ? "ok" : st.message().c_str());
  return st;
}

Status SwtpmStateDir::write_file_atomically(const std::string &file,
                                            const std::vector<uint8_t> &bytes) {
  const std::string tmp = temp_name(file);
  const std::string full = path_ + "/" + file;
  int fd = ::openat(dir_fd_, tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY,
                    0640);
  if (fd < 0) return errno_status("cannot create", path_ + "/" + tmp, errno);
  Status st = write_all(fd, bytes.data(), bytes.size());
  // The data must be on disk before the rename makes it the blob, or a power loss could leave
  // an empty file under the blob's name.
  if (st && ::fsync(fd) != 0) st = Status::error(std::strerror(errno));
  if (::close(fd) != 0 && st) st = Status::error(std::strerror(errno));
  if (st && ::renameat(dir_fd_, tmp.c_str(), dir_fd_, file.c_str()) != 0) {
    st = Status::error(std::strerror(errno));
  }
  if (!st) {
    ::unlinkat(dir_fd_, tmp.c_str(), 0);
    return Status::errorf("cannot write state file '%s': %s", full.c_str(),
                          st.message().c_str());
  }
  // Makes the rename itself durable.
  if (::fsync(dir_fd_) != 0) return errno_status("cannot sync state directory", path_, errno);
  return Status::ok();
}

Status SwtpmStateDir::store(std::string_view name, std::span<const uint8_t> data) {
  Status st = check_name(name);
  if (!st) return st;
  const std::string file = file_name(name);
  st = write_file_atomically(file, swtpm_blob_encode(data));
  QTPM_TRACE("tpm_state_dir_store", "%s/%s: %zu bytes: %s", path_.c_str(), file.c_str(),
             data.size(), st ? "ok" : st.message().c_str());
  return st;
}

Status SwtpmStateDir::remove(std::string_view name, bool *existed) {
  *existed = false;
  Status st = check_name(name);
  if (!st) return st;
  const std::string file = file_name(name);
  if (::unlinkat(dir_fd_, file.c_str(), 0) != 0) {
    if (errno == ENOENT) return Status::ok();
    return errno_status("cannot delete state file", path_ + "/" + file, errno);
  }
  *existed = true;
  QTPM_TRACE("tpm_state_dir_remove", "%s/%s", path_.c_str(), file.c_str());
  if (::fsync(dir_fd_) != 0) return errno_status("cannot sync state directory", path_, errno);
  return Status::ok();
}

}  // namespace qtpm
