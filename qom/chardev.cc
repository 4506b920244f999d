// SPDX-License-Identifier: GPL-2.0-or-later
//
// UNIX-socket character devices (see chardev.h).
#include "qom/chardev.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace qtpm {

namespace {

// Fills a sockaddr_un; fails when the path does not fit (sun_path is 108 bytes).
bool make_addr(const std::string &path, sockaddr_un *addr) {
  std::memset(addr, 0, sizeof *addr);
  addr->sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof addr->sun_path) return false;
  std::memcpy(addr->sun_path, path.c_str(), path.size() + 1);
  return true;
}

// Waits for `events` on fd; true when ready.  timeout_ms < 0 waits forever.
bool wait_fd(int fd, short events, int timeout_ms) {
  pollfd p{fd, events, 0};
  for (;;) {
    int n = poll(&p, 1, timeout_ms);
    if (n > 0) return true;
    if (n == 0) return false;
    if (errno != EINTR) return false;
  }
}

}  // namespace

Chardev::Chardev() {
  add_string_property("backend", &backend_, "socket", "chardev backend (only 'socket')");
  add_string_property("path", &path_, "", "UNIX socket path");
  add_bool_property("server", &server_, false, "listen for a client instead of connecting");
  add_bool_property("wait", &wait_, true, "server: block until a client connects");
  add_string_property("fd", &fd_option_, "", "an already-connected stream socket to adopt");
}

Chardev::~Chardev() { do_unrealize(); }

Status Chardev::do_realize() {
  if (backend_ != "socket") {
    return Status::errorf("chardev: backend \"%s\" not found", backend_.c_str());
  }
  if (!fd_option_.empty()) return adopt_fd();
  sockaddr_un addr;
  if (path_.empty()) return Status::errorf("chardev: socket requires 'path'");
  if (!make_addr(path_, &addr)) {
    return Status::errorf("chardev: UNIX socket path '%s' is too long", path_.c_str());
  }
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) return Status::errorf("chardev: socket: %s", std::strerror(errno));
  if (!server_) {
    if (connect(s, reinterpret_cast<sockaddr *>(&addr), sizeof addr) < 0) {
      int e = errno;
      close(s);
      return Status::errorf("Failed to connect to '%s': %s", path_.c_str(), std::strerror(e));
    }
    fd_ = s;
    return Status::ok();
  }
  unlink(path_.c_str());
  if (bind(s, reinterpret_cast<sockaddr *>(&addr), sizeof addr) < 0 || listen(s, 1) < 0) {
    int e = errno;
    close(s);
    return Status::errorf("Failed to bind socket to %s: %s", path_.c_str(), std::strerror(e));
  }
  listen_fd_ = s;
  if (wait_) {
    int c = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) return Status::errorf("chardev: accept on '%s': %s", path_.c_str(),
                                     std::strerror(errno));
    fd_ = c;
  }
  return Status::ok();
}

// Takes over a descriptor the embedder connected.  It must be a connected stream socket: the
// TPM emulator protocol is a byte stream and passes descriptors with SCM_RIGHTS.
Status Chardev::adopt_fd() {
  if (!path_.empty() || server_) {
    return Status::errorf("chardev: 'fd' cannot be combined with 'path' or 'server'");
  }
  std::optional<int64_t> fd = parse_int(fd_option_);
  if (!fd || *fd < 0 || *fd > INT32_MAX) {
    return Status::errorf("chardev: 'fd' must be a file descriptor number, not '%s'",
                          fd_option_.c_str());
  }
  int type = 0;
  socklen_t len = sizeof type;
  int s = static_cast<int>(*fd);
  if (getsockopt(s, SOL_SOCKET, SO_TYPE, &type, &len) < 0 || type != SOCK_STREAM) {
    return Status::errorf("chardev: fd %d is not a stream socket", s);
  }
  sockaddr_storage peer;
  socklen_t peer_len = sizeof peer;
  if (getpeername(s, reinterpret_cast<sockaddr *>(&peer), &peer_len) < 0) {
    return Status::errorf("chardev: fd %d is not connected: %s", s, std::strerror(errno));
  }
  fcntl(s, F_SETFD, FD_CLOEXEC);
  fd_ = s;
  return Status::ok();
}

void Chardev::do_unrealize() {
  disconnect();
  if (listen_fd_ >= 0) {
    close(listen_fd_);
    listen_fd_ = -1;
    unlink(path_.c_str());
  }
}

bool Chardev::accept_pending() {
  if (fd_ >= 0) return true;
  if (listen_fd_ < 0 || !wait_fd(listen_fd_, POLLIN, 0)) return false;
  int c = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
  if (c < 0) return false;
  fd_ = c;
  return true;
}

void Chardev::disconnect() {
  if (fd_ >= 0) {
    close(fd_);
    fd_ = -1;
  }
}

bool Chardev::write_all(const void *data, size_t len, int timeout_ms) {
  const auto *p = static_cast<const uint8_t *>(data);
  while (len > 0) {
    if (fd_ < 0 || !wait_fd(fd_, POLLOUT, timeout_ms)) return false;
    ssize_t n = send(fd_, p, len, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    len -= static_cast<size_t>(n);
  }
  return true;
}

bool Chardev::send_with_fd(const void *data, size_t len, int fd_to_pass, int timeout_ms) {
  if (fd_ < 0 || len == 0 || !wait_fd(fd_, POLLOUT, timeout_ms)) return false;
  iovec iov{const_cast<void *>(data), len};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  std::memset(control, 0, sizeof control);
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  cmsghdr *c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(c), &fd_to_pass, sizeof(int));
  ssize_t n;
  do {
    n = sendmsg(fd_, &msg, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  if (n <= 0) return false;
  // The descriptor travelled with the first byte; the rest is an ordinary write.
  size_t sent = static_cast<size_t>(n);
  return sent == len || write_all(static_cast<const uint8_t *>(data) + sent, len - sent,
                                  timeout_ms);
}

bool Chardev::read_exact(void *data, size_t len, int timeout_ms) {
  auto *p = static_cast<uint8_t *>(data);
  while (len > 0) {
    if (fd_ < 0 || !wait_fd(fd_, POLLIN, timeout_ms)) return false;
    ssize_t n = recv(fd_, p, len, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    len -= static_cast<size_t>(n);
  }
  return true;
}

}  // namespace qtpm
