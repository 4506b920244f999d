// SPDX-License-Identifier: GPL-2.0-or-later
//
// Migration transports (see migration_transport.h).
#include "qtest/server/migration_transport.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

namespace qtpm::host {

namespace {

void set_nonblocking_cloexec(int fd) {
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  fcntl(fd, F_SETFD, fcntl(fd, F_GETFD) | FD_CLOEXEC);
}

Status unix_target(const std::string &path, SocketTarget *t) {
  sockaddr_un un{};
  if (path.size() >= sizeof(un.sun_path)) {
    return Status::errorf("UNIX socket path '%s' is too long (%zu bytes, at most %zu)",
                          path.c_str(), path.size(), sizeof(un.sun_path) - 1);
  }
  un.sun_family = AF_UNIX;
  std::memcpy(un.sun_path, path.c_str(), path.size() + 1);  // size checked above
  std::memcpy(&t->addr, &un, sizeof(un));
  t->len = sizeof(un);
  t->text = path;
  return Status::ok();
}

// "127.0.0.1:4444" or "[::1]:4444" for a resolved address.
std::string inet_text(const sockaddr *sa, socklen_t len, std::string *host, std::string *port) {
  char h[NI_MAXHOST] = "", p[NI_MAXSERV] = "";
  getnameinfo(sa, len, h, sizeof(h), p, sizeof(p), NI_NUMERICHOST | NI_NUMERICSERV);
  if (host) *host = h;
  if (port) *port = p;
  return sa->sa_family == AF_INET6 ? strprintf("[%s]:%s", h, p) : strprintf("%s:%s", h, p);
}

Status socket_for(const SocketTarget &t, int *fd) {
  int s = socket(t.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (s < 0) return Status::errorf("Failed to create socket: %s", std::strerror(errno));
  *fd = s;
  return Status::ok();
}

Status spawn(const std::string &command, bool writer, int *fd, pid_t *child) {
  const char *argv[] = {"/bin/sh", "-c", command.c_str(), nullptr};
  int in_fd = -1, out_fd = -1;
  GError *error = nullptr;
  GSpawnFlags flags = G_SPAWN_DO_NOT_REAP_CHILD;
  if (writer) flags = static_cast<GSpawnFlags>(flags | G_SPAWN_STDOUT_TO_DEV_NULL);
  GPid pid = 0;
  // Reader: the child's stdin is a pipe we close at once, so it reads an empty input.
  gboolean ok =
      g_spawn_async_with_pipes(nullptr, const_cast<char **>(argv), nullptr, flags, nullptr, nullptr,
                               &pid, &in_fd, writer ? nullptr : &out_fd, nullptr, &error);
  if (!ok) {
    Status st = Status::errorf("cannot run '%s': %s", command.c_str(), error->message);
    g_error_free(error);
    return st;
  }
  if (writer) {
    *fd = in_fd;
  } else {
    close(in_fd);
    *fd = out_fd;
  }
  set_nonblocking_cloexec(*fd);
  *child = pid;
  return Status::ok();
}

// An existing file at a UNIX socket path is replaced only if it is a socket (a stale one from an
// earlier run); anything else is left alone and bind() then says why.
void remove_stale_socket(const std::string &path) {
  struct stat st;
  if (lstat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) unlink(path.c_str());
}

}  // namespace

Status resolve_targets(const MigrationUri &uri, bool passive, std::vector<SocketTarget> *out) {
  out->clear();
  if (uri.kind == MigrationUri::Kind::kUnix) {
    SocketTarget t;
    if (Status st = unix_target(uri.path, &t); !st) return st;
    out->push_back(t);
    return Status::ok();
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = passive ? AI_PASSIVE : 0;
  addrinfo *res = nullptr;
  const char *host = uri.host.empty() ? nullptr : uri.host.c_str();
  int rc = getaddrinfo(host, uri.port.c_str(), &hints, &res);
  if (rc != 0) {
    return Status::errorf("address resolution failed for %s:%s: %s", uri.host.c_str(),
                          uri.port.c_str(), gai_strerror(rc));
  }
  for (addrinfo *ai = res; ai; ai = ai->ai_next) {
    SocketTarget t;
    if (ai->ai_addrlen > sizeof(t.addr)) continue;
    std::memcpy(&t.addr, ai->ai_addr, ai->ai_addrlen);  // length checked above
    t.len = ai->ai_addrlen;
    t.text = inet_text(ai->ai_addr, ai->ai_addrlen, nullptr, nullptr);
    out->push_back(t);
  }
  freeaddrinfo(res);
  if (out->empty())
    return Status::errorf("no address for %s:%s", uri.host.c_str(), uri.port.c_str());
  return Status::ok();
}

Status start_connect(const SocketTarget &target, int *fd, bool *in_progress) {
  *fd = -1;
  *in_progress = false;
  int s = -1;
  if (Status st = socket_for(target, &s); !st) return st;
  if (connect(s, reinterpret_cast<const sockaddr *>(&target.addr), target.len) == 0) {
    *fd = s;
    return Status::ok();
  }
  int err = errno;
  if (err == EINPROGRESS || err == EAGAIN) {
    *fd = s;
    *in_progress = true;
    return Status::ok();
  }
  close(s);
  return Status::errorf("Failed to connect to '%s': %s", target.text.c_str(), std::strerror(err));
}

Status finish_connect(const SocketTarget &target, int fd) {
  int err = 0;
  socklen_t len = sizeof(err);
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
  if (err == 0) return Status::ok();
  return Status::errorf("Failed to connect to '%s': %s", target.text.c_str(), std::strerror(err));
}

Status spawn_writer(const std::string &command, int *fd, pid_t *child) {
  return spawn(command, true, fd, child);
}

Status spawn_reader(const std::string &command, int *fd, pid_t *child) {
  return spawn(command, false, fd, child);
}

Status listen_incoming(const MigrationUri &uri, int *fd, ListenAddress *address) {
  std::vector<SocketTarget> targets;
  if (Status st = resolve_targets(uri, true, &targets); !st) return st;
  Status last;
  for (const SocketTarget &t : targets) {
    int s = -1;
    if (last = socket_for(t, &s); !last) continue;
    int one = 1;
    if (uri.kind == MigrationUri::Kind::kTcp)
      setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (uri.kind == MigrationUri::Kind::kUnix) remove_stale_socket(uri.path);
    if (bind(s, reinterpret_cast<const sockaddr *>(&t.addr), t.len) != 0 || listen(s, 1) != 0) {
      last =
          Status::errorf("Failed to bind socket to '%s': %s", t.text.c_str(), std::strerror(errno));
      close(s);
      continue;
    }
    *fd = s;
    if (uri.kind == MigrationUri::Kind::kUnix) {
      *address = ListenAddress{"unix", uri.path, "", ""};
    } else {
      sockaddr_storage bound{};
      socklen_t len = sizeof(bound);
      getsockname(s, reinterpret_cast<sockaddr *>(&bound), &len);
      address->type = "inet";
      inet_text(reinterpret_cast<sockaddr *>(&bound), len, &address->host, &address->port);
    }
    return Status::ok();
  }
  return last;
}

Status accept_incoming(int listen_fd, int *fd) {
  *fd = -1;
  int s = accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (s >= 0) {
    *fd = s;
    return Status::ok();
  }
  if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return Status::ok();
  return Status::errorf("Failed to accept the migration connection: %s", std::strerror(errno));
}

void reap_child(pid_t child) {
  if (child <= 0) return;
  int status = 0;
  if (waitpid(child, &status, WNOHANG) == child) return;
  kill(child, SIGTERM);
  // A command that ignores SIGTERM gets a moment, then SIGKILL, which it cannot ignore.
  for (int i = 0; i < 20; i++) {
    if (waitpid(child, &status, WNOHANG) == child) return;
    g_usleep(5000);
  }
  kill(child, SIGKILL);
  waitpid(child, &status, 0);
}

}  // namespace qtpm::host
