// SPDX-License-Identifier: GPL-2.0-or-later
//
// Socket protocol connections on the GLib main loop (see stream_connection.h).
#include "qtest/server/stream_connection.h"

#include <glib-unix.h>
#include <sys/socket.h>

#include <cerrno>

namespace qtpm::host {

StreamConnection::StreamConnection(Chardev &chardev, Callbacks callbacks)
    : chardev_(chardev), callbacks_(std::move(callbacks)) {}

void StreamConnection::start() {
  if (chardev_.fd() >= 0) {
    open();
  } else if (chardev_.listen_fd() >= 0) {
    watch_listener();
  }
}

StreamConnection::~StreamConnection() {
  if (read_watch_) g_source_remove(read_watch_);
  if (listen_watch_) g_source_remove(listen_watch_);
  if (close_idle_) g_source_remove(close_idle_);
}

void StreamConnection::open() {
  broken_ = false;
  read_watch_ = g_unix_fd_add(chardev_.fd(), static_cast<GIOCondition>(G_IO_IN | G_IO_HUP | G_IO_ERR),
                              &StreamConnection::on_readable, this);
  if (callbacks_.on_open) callbacks_.on_open();
}

void StreamConnection::watch_listener() {
  listen_watch_ = g_unix_fd_add(chardev_.listen_fd(), G_IO_IN, &StreamConnection::on_accept, this);
}

void StreamConnection::close() {
  if (read_watch_) {
    g_source_remove(read_watch_);
    read_watch_ = 0;
  }
  chardev_.disconnect();
  broken_ = false;
  if (chardev_.listen_fd() >= 0) watch_listener();
  if (callbacks_.on_close) callbacks_.on_close();
}

gboolean StreamConnection::on_accept(gint, GIOCondition, gpointer self) {
  auto *c = static_cast<StreamConnection *>(self);
  if (!c->chardev_.accept_pending()) return G_SOURCE_CONTINUE;
  c->listen_watch_ = 0;
  c->open();
  return G_SOURCE_REMOVE;
}

gboolean StreamConnection::on_readable(gint fd, GIOCondition, gpointer self) {
  auto *c = static_cast<StreamConnection *>(self);
  char buf[65536];
  ssize_t n;
  do {
    n = recv(fd, buf, sizeof buf, 0);
  } while (n < 0 && errno == EINTR);
  if (n <= 0) {
    c->read_watch_ = 0;  // removed by returning G_SOURCE_REMOVE
    c->close();
    return G_SOURCE_REMOVE;
  }
  if (c->callbacks_.on_data) c->callbacks_.on_data(std::string_view(buf, static_cast<size_t>(n)));
  return G_SOURCE_CONTINUE;
}

void StreamConnection::send(std::string_view data) {
  if (!connected() || data.empty()) return;
  if (chardev_.write_all(data.data(), data.size(), -1)) return;
  // The peer is gone.  End the connection from the main loop, not from inside the caller
  // (which may be in the middle of processing input from this very connection).
  broken_ = true;
  close_idle_ = g_idle_add(
      [](gpointer self) -> gboolean {
        auto *c = static_cast<StreamConnection *>(self);
        c->close_idle_ = 0;
        c->close();
        return G_SOURCE_REMOVE;
      },
      this);
}

}  // namespace qtpm::host
