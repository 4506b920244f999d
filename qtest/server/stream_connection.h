// SPDX-License-Identifier: GPL-2.0-or-later
//
// A protocol connection over a socket chardev, driven by the GLib main loop: received bytes go
// to on_data, replies are written back (blocking, like QEMU's qemu_chr_fe_write_all), and the
// end of the connection is reported once.
//
// A client chardev (libqtest's case: qtpm connects to the test's listening sockets) is open
// from the start.  A server chardev (-chardev ...,server=on,wait=off) is watched for a client;
// after that client leaves it listens again, as QEMU's socket chardev does.
#pragma once

#include <glib.h>

#include <functional>
#include <string_view>

#include "qom/chardev.h"

namespace qtpm::host {

class StreamConnection {
 public:
  struct Callbacks {
    std::function<void()> on_open;
    std::function<void(std::string_view)> on_data;
    std::function<void()> on_close;
  };

  StreamConnection(Chardev &chardev, Callbacks callbacks);
  ~StreamConnection();
  StreamConnection(const StreamConnection &) = delete;
  StreamConnection &operator=(const StreamConnection &) = delete;

  // Starts watching (on the default GLib main context); calls on_open at once if the chardev
  // is already connected.
  void start();
  // Writes everything; a failed write ends the connection (reported from the main loop).
  void send(std::string_view data);
  bool connected() const { return chardev_.fd() >= 0 && !broken_; }

 private:
  void open();
  void close();
  void watch_listener();
  static gboolean on_readable(gint fd, GIOCondition condition, gpointer self);
  static gboolean on_accept(gint fd, GIOCondition condition, gpointer self);

  Chardev &chardev_;
  Callbacks callbacks_;
  guint read_watch_ = 0;
  guint listen_watch_ = 0;
  guint close_idle_ = 0;
  bool broken_ = false;
};

}  // namespace qtpm::host
