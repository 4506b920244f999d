// SPDX-License-Identifier: GPL-2.0-or-later
//
// Character devices: `-chardev socket,id=ID,path=PATH[,server=on|off][,wait=on|off]`.
//
// Only UNIX stream sockets exist, which is what the TPM emulator backend (swtpm's control
// channel) and QMP monitors need.  As in QEMU, a client chardev (server=off, the default)
// connects when it is realized, a server chardev listens and, with wait=on, blocks in realize
// until the first client arrives; with wait=off the owner accepts later (accept_pending()).
// As QEMU's `-chardev socket,fd=N`, a chardev can also adopt a stream socket its embedder has
// already connected (the QEMU glue hands over the socket of QEMU's own chardev); it then owns
// and closes it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "qom/object.h"

namespace qtpm {

class Chardev : public Object {
 public:
  Chardev();
  ~Chardev() override;

  const std::string &path() const { return path_; }
  bool is_server() const { return server_; }

  // The connected stream socket, or -1.  The chardev keeps ownership.
  int fd() const { return fd_; }
  // Server chardevs: the listening socket (for a main loop to watch before accept_pending()),
  // or -1.  The chardev keeps ownership.
  int listen_fd() const { return listen_fd_; }
  // Server with wait=off: accepts one pending client without blocking; true if connected now.
  bool accept_pending();
  // Closes the connection (the peer sees EOF).  Server chardevs keep listening.
  void disconnect();

  // Blocking helpers for protocol clients; they retry on EINTR and return false on error, EOF or
  // timeout (milliseconds; negative = no limit).  send_with_fd attaches `fd_to_pass` with
  // SCM_RIGHTS to the first byte.
  bool write_all(const void *data, size_t len, int timeout_ms);
  bool send_with_fd(const void *data, size_t len, int fd_to_pass, int timeout_ms);
  bool read_exact(void *data, size_t len, int timeout_ms);

 protected:
  Status do_realize() override;
  void do_unrealize() override;

 private:
  Status adopt_fd();
  std::string backend_ = "socket";
  std::string path_;
  std::string fd_option_;  // "fd": an already-connected socket to adopt
  bool server_ = false;
  bool wait_ = true;
  int listen_fd_ = -1;
  int fd_ = -1;
};

}  // namespace qtpm
