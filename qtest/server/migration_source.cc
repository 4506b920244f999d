// SPDX-License-Identifier: GPL-2.0-or-later
//
// The outgoing side of a migration (see migration_source.h).
#include "qtest/server/migration_source.h"

#include <errno.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "backends/tpm/tpm_emulator.h"
#include "hw/tpm/spapr/tpm_spapr.h"
#include "qom/trace.h"
#include "qtest/server/migration_machine_state.h"

namespace qtpm::host {

namespace {

constexpr size_t kWriteChunk = 256 * 1024;
constexpr size_t kVerdictMax = 4096;  // "error: " and a one-line reason

std::string wait_status_text(int wait_status) {
  if (WIFEXITED(wait_status)) return strprintf("exit status %d", WEXITSTATUS(wait_status));
  if (WIFSIGNALED(wait_status)) return strprintf("killed by signal %d", WTERMSIG(wait_status));
  return strprintf("wait status 0x%x", wait_status);
}

}  // namespace

MigrationSource::~MigrationSource() { close_transport(); }

void MigrationSource::start(const MigrationUri &uri, const std::string &uri_text) {
  close_transport();
  uri_ = uri;
  uri_text_ = uri_text;
  stream_.clear();
  sent_ = 0;
  verdict_.clear();
  write_error_.clear();
  connect_error_.clear();
  stopped_vm_ = false;
  phase_ = Phase::kConnecting;
  status_.begin();
  QTPM_TRACE("migration_start", "%s", uri_text.c_str());
  // As QEMU's asynchronous connect: the reply to `migrate` goes out before anything happens.
  qmp_.defer([this] {
    if (phase_ == Phase::kConnecting && status_.running()) begin_transport();
  });
}

void MigrationSource::begin_transport() {
  if (uri_.kind == MigrationUri::Kind::kExec) {
    if (Status st = spawn_writer(uri_.command, &fd_, &child_); !st) return fail(st.message());
    child_watch_.watch(child_, [this](int wait_status) { on_child_exit(wait_status); });
    return on_connected();
  }
  if (Status st = resolve_targets(uri_, false, &targets_); !st) return fail(st.message());
  next_target_ = 0;
  connect_next();
}

void MigrationSource::connect_next() {
  while (next_target_ < targets_.size()) {
    const SocketTarget &t = targets_[next_target_++];
    bool in_progress = false;
    Status st = start_connect(t, &fd_, &in_progress);
    if (!st) {
      connect_error_ = st.message();
      continue;
    }
    if (!in_progress) return on_connected();
    watch_.watch(fd_, static_cast<GIOCondition>(G_IO_OUT | G_IO_ERR | G_IO_HUP),
                 [this](GIOCondition) { return on_connect_ready(); });
    arm_timeout("Failed to connect to '" + t.text + "': no connection");
    return;
  }
  fail(connect_error_);
}

bool MigrationSource::on_connect_ready() {
  timer_.reset();
  Status st = finish_connect(targets_[next_target_ - 1], fd_);
  if (!st) {
    close(fd_);
    fd_ = -1;
    connect_error_ = st.message();
    connect_next();
    return false;
  }
  on_connected();
  return false;
}

void MigrationSource::on_connected() {
  status_.mark_active();
  if (Status st = stop_vm_and_capture(); !st) return fail(st.message());
  status_.set_bytes(0, stream_.size());
  phase_ = Phase::kWriting;
  bool exec = uri_.kind == MigrationUri::Kind::kExec;
  GIOCondition cond = exec ? static_cast<GIOCondition>(G_IO_OUT | G_IO_ERR)
                           : static_cast<GIOCondition>(G_IO_OUT | G_IO_IN | G_IO_ERR | G_IO_HUP);
  watch_.watch(fd_, cond, [this](GIOCondition c) { return on_socket_event(c); });
  arm_timeout("the destination stopped reading the stream");
}

Status MigrationSource::stop_vm_and_capture() {
  // QEMU's vm_stop_force_state(RUN_STATE_FINISH_MIGRATE): STOP only if the VM was running.
  run_state_before_ = host_.run_state();
  host_.set_run_state(RunState::kFinishMigrate);
  stopped_vm_ = true;
  if (run_state_before_ == RunState::kRunning) qmp_.emit_event("STOP");
  status_.mark_downtime_start();
  // Taking swtpm's state may release its storage lock (--migration release-lock-outgoing).
  relock_pending_ = true;
  Status st = capture_machine_state(host_, run_state_name(run_state_before_), &stream_);
  if (st) {
    QTPM_TRACE("migration_state_taken", "%zu bytes", stream_.size());
  }
  return st;
}

bool MigrationSource::on_socket_event(GIOCondition condition) {
  if (phase_ == Phase::kWriting && (condition & G_IO_IN) && !read_verdict()) return false;
  if (phase_ != Phase::kWriting) return false;
  if (condition & (G_IO_OUT | G_IO_ERR | G_IO_HUP)) return write_some();
  return true;
}

bool MigrationSource::write_some() {
  while (sent_ < stream_.size()) {
    size_t n = std::min(stream_.size() - sent_, kWriteChunk);
    ssize_t w = write(fd_, stream_.data() + sent_, n);
    if (w > 0) {
      sent_ += static_cast<size_t>(w);
      status_.set_bytes(sent_, stream_.size());
      arm_timeout("the destination stopped reading the stream");
      continue;
    }
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
    write_error_ = std::strerror(w < 0 ? errno : EIO);
    if (uri_.kind == MigrationUri::Kind::kExec) {
      // The command stopped reading; its exit status tells why.
      close(fd_);
      fd_ = -1;
      phase_ = Phase::kAwaitingExit;
      arm_timeout("'" + uri_.command + "' stopped reading the stream and did not exit");
      return false;
    }
    // The destination may have explained itself before it closed.
    if (read_verdict() && phase_ == Phase::kWriting) {
      fail(strprintf("the destination closed the connection after %zu of %zu bytes: %s", sent_,
                     stream_.size(), write_error_.c_str()));
    }
    return false;
  }
  finished_writing();
  return false;
}

void MigrationSource::finished_writing() {
  QTPM_TRACE("migration_stream_sent", "%zu bytes", sent_);
  if (uri_.kind == MigrationUri::Kind::kExec) {
    close(fd_);  // end of input for the command
    fd_ = -1;
    phase_ = Phase::kAwaitingExit;
    if (!child_watch_.active()) return;  // it exited already; on_child_exit decided
    arm_timeout("'" + uri_.command + "' did not exit after the stream ended");
    return;
  }
  shutdown(fd_, SHUT_WR);
  phase_ = Phase::kAwaitingVerdict;
  watch_.watch(fd_, static_cast<GIOCondition>(G_IO_IN | G_IO_ERR | G_IO_HUP),
               [this](GIOCondition) { return read_verdict(); });
  arm_timeout("the destination did not confirm that it loaded the state");
}

// Reads what the destination sent; judges a complete line or the end of the connection.
// Returns whether to keep watching.
bool MigrationSource::read_verdict() {
  char buf[512];
  for (;;) {
    ssize_t n = read(fd_, buf, sizeof(buf));
    if (n > 0) {
      verdict_.append(buf, static_cast<size_t>(n));
      if (verdict_.find('\n') != std::string::npos || verdict_.size() > kVerdictMax) {
        judge_verdict(false);
        return false;
      }
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
    judge_verdict(true);  // end of the connection (or an error reading it)
    return false;
  }
}

void MigrationSource::judge_verdict(bool eof) {
  size_t nl = verdict_.find('\n');
  if (nl == std::string::npos) {
    if (!eof) {
      return fail("the destination answered more than a qtpm verdict line");
    }
    if (phase_ == Phase::kWriting) {
      return fail(strprintf("the destination closed the connection after %zu of %zu bytes%s%s",
                            sent_, stream_.size(), write_error_.empty() ? "" : ": ",
                            write_error_.c_str()));
    }
    return fail(
        "the destination closed the connection without confirming that it loaded the "
        "state (a qtpm destination started with -incoming answers)");
  }
  std::string line = verdict_.substr(0, nl);
  if (line == "ok" && phase_ == Phase::kAwaitingVerdict) return complete();
  if (line == "ok") return fail("the destination confirmed the state before the stream ended");
  static constexpr const char kError[] = "error: ";
  if (line.rfind(kError, 0) == 0) {
    return fail("the destination refused the state: " + line.substr(sizeof(kError) - 1));
  }
  fail(strprintf("the destination answered '%.80s', which is not a qtpm verdict", line.c_str()));
}

void MigrationSource::on_child_exit(int wait_status) {
  child_ = -1;  // reaped by GLib
  bool ok = WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 0;
  if (phase_ == Phase::kAwaitingExit && ok && write_error_.empty()) return complete();
  if (phase_ != Phase::kWriting && phase_ != Phase::kAwaitingExit) return;
  std::string why =
      strprintf("'%s' ended (%s) after reading %zu of %zu bytes", uri_.command.c_str(),
                wait_status_text(wait_status).c_str(), sent_, stream_.size());
  if (!write_error_.empty()) why += ": " + write_error_;
  fail(why);
}

void MigrationSource::arm_timeout(std::string why) {
  unsigned ms = timeout_ms_;
  timer_.start(
      ms, [this, why, ms] { fail(strprintf("%s (nothing happened for %u ms)", why.c_str(), ms)); });
}

void MigrationSource::complete() {
  close_transport();
  phase_ = Phase::kIdle;
  stream_.clear();
  stream_.shrink_to_fit();
  stopped_vm_ = false;
  host_.set_run_state(RunState::kPostmigrate);
  status_.set(MigrationState::kCompleted);
  QTPM_TRACE("migration_completed", "%s: %zu bytes", uri_text_.c_str(), sent_);
}

void MigrationSource::fail(const std::string &why) {
  if (!status_.running()) return;
  close_transport();
  phase_ = Phase::kIdle;
  stream_.clear();
  stream_.shrink_to_fit();
  status_.fail(why);
  std::fprintf(stderr, "%s\n",
               host_.config().error("migration to " + uri_text_ + " failed: " + why).c_str());
  restore_vm();
}

void MigrationSource::cancel() {
  if (!status_.running()) return;
  status_.set(MigrationState::kCancelling);
  close_transport();
  phase_ = Phase::kIdle;
  stream_.clear();
  status_.set(MigrationState::kCancelled);
  restore_vm();
}

void MigrationSource::close_transport() {
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

void MigrationSource::restore_vm() {
  if (!stopped_vm_) return;
  stopped_vm_ = false;
  if (run_state_before_ != RunState::kRunning) {
    host_.set_run_state(run_state_before_);
    return;
  }
  host_.set_run_state(RunState::kRunning);
  qmp_.emit_event("RESUME");
  vm_resumed();
}

void MigrationSource::vm_resumed() {
  // A vTPM parks the response of the command that completed while the state was taken (the
  // guest's RAM may have been saved already); the VM runs here again, so it goes to the guest.
  for (Device *d : host_.devices()) {
    if (auto *vtpm = dynamic_cast<TpmSpapr *>(d)) vtpm->deliver_parked_response();
  }
  if (relock_pending_) relock_storage();
}

void MigrationSource::relock_storage() {
  for (TpmBackend *b : host_.backends()) {
    auto *emulator = dynamic_cast<EmulatorBackend *>(b);
    if (!emulator) continue;
    if (Status st = emulator->relock_storage(); !st) host_.report_error(st.message());
  }
}

}  // namespace qtpm::host
