// SPDX-License-Identifier: GPL-2.0-or-later
//
// The incoming side of a migration (see migration_destination.h).
#include "qtest/server/migration_destination.h"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>

#include "qom/trace.h"
#include "qtest/server/migration_machine_state.h"

namespace qtpm::host {

namespace {

constexpr size_t kReadChunk = 64 * 1024;
constexpr size_t kVerdictReasonMax = 3000;

// The run state a destination takes when the source was not running (QEMU restores the
// source's, from its "globalstate" section).
RunState follow_run_state(const std::string &source) {
  if (source == "prelaunch") return RunState::kPrelaunch;
  if (source == "suspended") return RunState::kSuspended;
  return RunState::kPaused;
}

}  // namespace

MigrationDestination::~MigrationDestination() {
  close_connection();
  close_listener();
}

Status MigrationDestination::start(const MigrationUri &uri, const std::string &uri_text) {
  close_connection();
  close_listener();
  uri_ = uri;
  uri_text_ = uri_text;
  assembler_ = MigrationStreamAssembler();
  if (uri.kind == MigrationUri::Kind::kExec) {
    if (Status st = spawn_reader(uri.command, &fd_, &child_); !st) return st;
    child_watch_.watch(child_, [this](int) { child_ = -1; });
    status_.begin();
    on_connection();
    return Status::ok();
  }
  ListenAddress address;
  if (Status st = listen_incoming(uri, &listen_fd_, &address); !st) return st;
  status_.set_listen_address(address);
  status_.begin();
  phase_ = Phase::kListening;
  listen_watch_.watch(listen_fd_, G_IO_IN, [this](GIOCondition) { return on_accept(); });
  QTPM_TRACE("migration_incoming_listen", "%s", uri_text.c_str());
  return Status::ok();
}

bool MigrationDestination::on_accept() {
  int fd = -1;
  if (Status st = accept_incoming(listen_fd_, &fd); !st) {
    fail(st.message());
    return false;
  }
  if (fd < 0) return true;
  fd_ = fd;
  close_listener();  // one source per incoming migration, as QEMU
  on_connection();
  return false;
}

void MigrationDestination::on_connection() {
  phase_ = Phase::kReceiving;
  status_.mark_active();
  watch_.watch(fd_, static_cast<GIOCondition>(G_IO_IN | G_IO_HUP | G_IO_ERR),
               [this](GIOCondition) { return on_readable(); });
  arm_timeout();
}

bool MigrationDestination::on_readable() {
  uint8_t buf[kReadChunk];
  for (;;) {
    ssize_t n = read(fd_, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
    if (n <= 0) {
      if (phase_ == Phase::kDraining) {
        close_connection();
      } else {
        on_end_of_input();
      }
      return false;
    }
    if (phase_ == Phase::kDraining) continue;  // the source's remaining bytes, unread
    arm_timeout();
    // `n` bytes were just read into buf.
    if (Status st = assembler_.feed(std::span<const uint8_t>(buf, static_cast<size_t>(n))); !st) {
      fail(st.message());
      return phase_ == Phase::kDraining;
    }
    status_.set_bytes(assembler_.received(), assembler_.expected_size());
    if (assembler_.complete()) {
      load();
      return false;
    }
  }
}

void MigrationDestination::on_end_of_input() {
  std::vector<uint8_t> bytes;
  Status st = assembler_.finish(&bytes);  // fails: the stream was complete, we would have loaded
  fail(st ? "the stream ended early" : st.message());
}

void MigrationDestination::load() {
  std::vector<uint8_t> bytes;
  Status st = assembler_.finish(&bytes);
  std::string source_run_state;
  QTPM_TRACE("migration_incoming_stream", "%s: %zu bytes", uri_text_.c_str(), bytes.size());
  if (st) st = load_machine_state(host_, bytes, &source_run_state);
  if (!st) return fail(st.message());
  succeed(source_run_state);
}

void MigrationDestination::succeed(const std::string &source_run_state) {
  host_.set_incoming_done();
  send_verdict("ok");
  close_connection();
  phase_ = Phase::kIdle;
  // QEMU's process_incoming_migration_bh: the run state first, then the status, so that anyone
  // who sees "completed" finds the VM in its final state.
  if (source_run_state != "running") {
    host_.set_run_state(follow_run_state(source_run_state));
  } else if (run_.autostart()) {
    host_.set_run_state(RunState::kRunning);
    qmp_.emit_event("RESUME");
  } else {
    host_.set_run_state(RunState::kPaused);
  }
  status_.set(MigrationState::kCompleted);
  QTPM_TRACE("migration_incoming_completed", "%s", uri_text_.c_str());
}

void MigrationDestination::fail(const std::string &why) {
  if (!status_.running()) return;
  status_.fail(why);
  std::fprintf(stderr, "%s\n", host_.config().error("incoming migration failed: " + why).c_str());
  close_listener();
  if (fd_ < 0 || uri_.kind == MigrationUri::Kind::kExec) {
    close_connection();
    phase_ = Phase::kIdle;
    return;
  }
  // Tell the source, then read what it still sends without looking at it until it closes: a
  // socket closed with unread data would reset the connection and could lose the answer.
  std::string reason = why.substr(0, kVerdictReasonMax);
  for (char &c : reason)
    if (c == '\n' || c == '\r') c = ' ';
  send_verdict("error: " + reason);
  shutdown(fd_, SHUT_WR);
  phase_ = Phase::kDraining;
  watch_.watch(fd_, static_cast<GIOCondition>(G_IO_IN | G_IO_HUP | G_IO_ERR),
               [this](GIOCondition) { return on_readable(); });
  arm_timeout();
}

void MigrationDestination::send_verdict(const std::string &line) {
  if (fd_ < 0 || uri_.kind == MigrationUri::Kind::kExec) return;
  std::string text = line + "\n";
  // A few hundred bytes on a connection whose peer waits for them: the socket buffer takes them
  // whole; a peer that is gone only loses its answer.
  ssize_t n = send(fd_, text.data(), text.size(), MSG_NOSIGNAL);
  (void)n;
}

void MigrationDestination::arm_timeout() {
  unsigned ms = timeout_ms_;
  timer_.start(ms, [this, ms] {
    if (phase_ == Phase::kDraining) return close_connection();
    fail(strprintf("the source sent nothing for %u ms (%zu of %zu bytes arrived)", ms,
                   assembler_.received(), assembler_.expected_size()));
  });
}

void MigrationDestination::close_connection() {
  watch_.reset();
  timer_.reset();
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
  if (child_ > 0) {
    child_watch_.reset();
    reap_child(child_);
  }
  child_ = -1;
}

void MigrationDestination::close_listener() {
  listen_watch_.reset();
  if (listen_fd_ < 0) return;
  close(listen_fd_);
  listen_fd_ = -1;
  // The socket file served its one connection.
  if (uri_.kind == MigrationUri::Kind::kUnix) unlink(uri_.path.c_str());
}

}  // namespace qtpm::host
