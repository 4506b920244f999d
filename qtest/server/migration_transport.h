// SPDX-License-Identifier: GPL-2.0-or-later
//
// The byte transports under a migration (migration_uri.h): non-blocking sockets and pipes to
// `/bin/sh -c COMMAND`, opened without ever blocking the main loop.  Messages follow QEMU's
// wording where it has one ("Failed to connect to '/tmp/x': No such file or directory").
//
// Every descriptor returned is non-blocking and close-on-exec.  A child started for exec: is
// not reaped here: the caller watches it (g_child_watch_add) or hands it to reap_child().
#pragma once

#include <sys/socket.h>
#include <sys/types.h>

#include <string>
#include <vector>

#include "qom/status.h"
#include "qtest/server/migration_uri.h"

namespace qtpm::host {

// One address a listening destination can be reached at (query-migrate "socket-address").
struct ListenAddress {
  std::string type;  // "unix" or "inet"
  std::string path;  // unix
  std::string host;  // inet, numeric
  std::string port;  // inet, numeric
};

// A socket address to connect to or listen on.
struct SocketTarget {
  sockaddr_storage addr{};
  socklen_t len = 0;
  std::string text;  // "/tmp/sock", "127.0.0.1:4444", "[::1]:4444"
};

// unix: the path; tcp: every address HOST:PORT resolves to (numeric hosts never ask a resolver),
// `passive` for listening (an empty HOST is every local address).
Status resolve_targets(const MigrationUri &uri, bool passive, std::vector<SocketTarget> *out);

// Outgoing: starts a non-blocking connect().  *in_progress: wait for the socket to become
// writable, then finish_connect() gives the outcome.
Status start_connect(const SocketTarget &target, int *fd, bool *in_progress);
Status finish_connect(const SocketTarget &target, int fd);
// Outgoing exec: the write end of a pipe to the command's stdin (its stdout goes to /dev/null,
// its stderr is ours).
Status spawn_writer(const std::string &command, int *fd, pid_t *child);

// Incoming: a listening socket (unix: an existing socket file at PATH is replaced, as QEMU
// does), or the read end of a pipe from the command's stdout (its stdin is empty).
Status listen_incoming(const MigrationUri &uri, int *fd, ListenAddress *address);
// Incoming exec: the read end of a pipe from the command's stdout.
Status spawn_reader(const std::string &command, int *fd, pid_t *child);
// The one connection a destination takes; EAGAIN leaves *fd at -1 with success.
Status accept_incoming(int listen_fd, int *fd);

// Ends a child that is no longer needed (SIGTERM unless it already exited) without waiting.
void reap_child(pid_t child);

}  // namespace qtpm::host
