// SPDX-License-Identifier: GPL-2.0-or-later
//
// qtpm-system-<arch>: builds a machine with TPM devices from QEMU's command-line flags and
// serves QEMU's qtest protocol and QMP, so qtest programs drive it as they drive QEMU 7.2.
// See docs/host.md.
//
// Process behaviour under libqtest: SIGTERM (and SIGINT, SIGHUP) shut down in order and exit
// with status 0; so do QMP "quit" and a dropped qtest or client-mode QMP connection.
#include <glib-unix.h>
#include <glib.h>

#include <csignal>
#include <functional>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "qom/object.h"
#include "qom/trace.h"
#include "qtest/server/command_line.h"
#include "qtest/server/dump_acpi.h"
#include "qtest/server/host.h"
#include "qtest/server/host_extensions.h"
#include "qtest/server/qmp_commands.h"
#include "qtest/server/qmp_monitor.h"
#include "qtest/server/qtest_server.h"
#include "qtest/server/run_control.h"
#include "qtest/server/stream_connection.h"

namespace qtpm::host {
namespace {

// Termination signals are caught from the start, before the (possibly slow) machine build, so
// that a SIGTERM at any time ends in an orderly exit 0 rather than death by signal - libqtest
// treats the latter as a failure.  GLib records the signal at once and dispatches it when the
// main loop runs; until a session installs its action, the request is kept pending.
class TerminationSignals {
 public:
  TerminationSignals() {
    for (int signum : {SIGTERM, SIGINT, SIGHUP}) watches_.push_back(g_unix_signal_add(signum, &on_signal, this));
  }
  ~TerminationSignals() {
    for (guint id : watches_) g_source_remove(id);
  }
  bool pending() const { return pending_; }
  void set_action(std::function<void()> action) { action_ = std::move(action); }

 private:
  static gboolean on_signal(gpointer self) {
    auto *s = static_cast<TerminationSignals *>(self);
    s->pending_ = true;
    if (s->action_) s->action_();
    return G_SOURCE_CONTINUE;
  }
  std::vector<guint> watches_;
  std::function<void()> action_;
  bool pending_ = false;
};

// Everything that lives while the main loop runs, torn down in reverse order of creation.
class Session {
 public:
  Session(Host &host, TerminationSignals &signals)
      : host_(host), signals_(signals), run_(host, qmp_), loop_(g_main_loop_new(nullptr, FALSE)) {
    register_builtin_commands(qmp_, host_, run_);
    run_.set_quit_hook([this] { g_main_loop_quit(loop_); });
  }
  ~Session() {
    signals_.set_action(nullptr);
    // Connections and protocol servers go before the devices they reference.
    monitor_connections_.clear();
    monitors_.clear();
    qtest_connection_.reset();
    qtest_.reset();
    g_main_loop_unref(loop_);
  }

  Status start();
  void run() {
    if (!run_.shutting_down()) g_main_loop_run(loop_);
  }

 private:
  Status start_qtest();
  void start_monitor(const MonitorConfig &m);

  Host &host_;
  TerminationSignals &signals_;
  QmpDispatcher qmp_;
  RunControl run_;
  GMainLoop *loop_;
  std::unique_ptr<QtestServer> qtest_;
  std::unique_ptr<StreamConnection> qtest_connection_;
  std::vector<std::unique_ptr<QmpMonitor>> monitors_;
  std::vector<std::unique_ptr<StreamConnection>> monitor_connections_;
};

Status Session::start_qtest() {
  Chardev *chr = host_.qtest_chardev();
  if (!chr) return Status::ok();
  const Config &config = host_.config();
  qtest_ = std::make_unique<QtestServer>(host_.machine(), host_.root(), config.accel == "qtest");
  // QEMU: no -qtest-log means stderr, "none" means no log.
  if (!config.qtest_log) {
    qtest_->set_log(stderr);
  } else if (*config.qtest_log != "none") {
    FILE *f = std::fopen(config.qtest_log->c_str(), "w+");
    if (!f) return Status::error(config.error("-qtest-log " + *config.qtest_log + ": cannot open the log file"));
    qtest_->set_log(f);
  }
  StreamConnection::Callbacks cb;
  cb.on_open = [this] { qtest_->opened(); };
  cb.on_data = [this](std::string_view bytes) { qtest_->feed(bytes); };
  cb.on_close = [this] {
    qtest_->closed();
    run_.shutdown("host-error");
  };
  qtest_connection_ = std::make_unique<StreamConnection>(*chr, std::move(cb));
  qtest_->set_sender([this](std::string_view line) { qtest_connection_->send(line); });
  qtest_connection_->start();
  return Status::ok();
}

void Session::start_monitor(const MonitorConfig &m) {
  Chardev *chr = host_.find_chardev(m.chardev);
  monitors_.push_back(std::make_unique<QmpMonitor>(qmp_, m.pretty));
  QmpMonitor *monitor = monitors_.back().get();
  StreamConnection::Callbacks cb;
  cb.on_open = [monitor] { monitor->start(); };
  cb.on_data = [monitor](std::string_view bytes) { monitor->feed(bytes); };
  // A client-mode monitor (libqtest's) ends the process when its peer leaves, as the qtest
  // connection does: an abandoned host never lingers.  A server-mode monitor waits for its
  // next client.
  bool ends_process = !chr->is_server();
  cb.on_close = [this, ends_process] {
    if (ends_process) run_.shutdown("host-error");
  };
  monitor_connections_.push_back(std::make_unique<StreamConnection>(*chr, std::move(cb)));
  StreamConnection *conn = monitor_connections_.back().get();
  monitor->set_sender([conn](std::string_view text) { conn->send(text); });
  conn->start();
}

Status Session::start() {
  signals_.set_action([this] { run_.shutdown("host-signal"); });
  if (signals_.pending()) run_.shutdown("host-signal");
  if (Status st = start_qtest(); !st) return st;
  HostContext context{host_, qmp_, run_, qtest_.get()};
  for (HostExtensionFn extension : kHostExtensions)
    if (extension) extension(context);
  if (!context.startup_error.empty()) return Status::error(context.startup_error);
  for (const MonitorConfig &m : host_.config().monitors) start_monitor(m);
  return Status::ok();
}

void apply_logging(const Config &config) {
  for (const std::string &pattern : config.trace_patterns) trace_enable_pattern(pattern);
  if (config.log_guest_errors) log_mask_enable(LogCategory::kGuestError, true);
  if (config.log_unimp) log_mask_enable(LogCategory::kUnimplemented, true);
}

// -dump-acpi DIR: one line per file written, then an orderly exit (as QEMU's -dump-vmstate).
int dump_acpi(Host &host) {
  const Config &config = host.config();
  auto fail = [&](const std::string &message) {
    std::fprintf(stderr, "%s\n", config.error_at(config.dump_acpi_loc, message).c_str());
    host.shutdown();
    return 1;
  };
  if (!host.firmware().present()) {
    return fail("machine '" + config.machine->name + "' has no ACPI tables");
  }
  std::vector<std::string> written;
  Status st = dump_acpi_tables(host.firmware().files(), *config.dump_acpi, &written);
  for (const std::string &path : written) std::printf("%s\n", path.c_str());
  if (!st) return fail(st.message());
  if (written.empty()) {
    std::string note = config.error_at(config.dump_acpi_loc, "no TPM device, no tables written");
    std::fprintf(stderr, "%s\n", note.c_str());
  }
  host.shutdown();
  return 0;
}

int run_main(int argc, char **argv) {
  // A peer that goes away must not kill the process: writes fail with EPIPE instead.
  std::signal(SIGPIPE, SIG_IGN);
  register_builtin_types();
  Config config;
  ParseResult parsed = parse_command_line(std::vector<std::string>(argv, argv + argc), &config);
  std::fputs(parsed.out.c_str(), stdout);
  std::fputs(parsed.err.c_str(), stderr);
  if (!parsed.run) return parsed.exit_code;
  apply_logging(config);

  TerminationSignals signals;
  Host host(config);
  if (Status st = host.build(); !st) {
    std::fprintf(stderr, "%s\n", st.message().c_str());
    return 1;
  }
  if (config.dump_acpi) return dump_acpi(host);
  int status = 0;
  {
    Session session(host, signals);
    if (Status st = session.start(); !st) {
      std::fprintf(stderr, "%s\n", st.message().c_str());
      status = 1;
    } else {
      session.run();
    }
  }
  host.shutdown();
  return status;
}

}  // namespace
}  // namespace qtpm::host

int main(int argc, char **argv) { return qtpm::host::run_main(argc, argv); }
