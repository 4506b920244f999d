// SPDX-License-Identifier: GPL-2.0-or-later
//
// A real swtpm (0.7.1) for tests, either `swtpm socket --tpmstate dir=DIR --flags not-need-init`
// spoken to on its UNIX data socket with raw TPM commands and stopped with CMD_SHUTDOWN (control
// command 0x03, big-endian, swtpm_ioctls(3)) on its control socket, or started with a control
// socket only, for qtpm's emulator backend.
#pragma once

#include <glib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <string>
#include <vector>

#include "backends/tpm/tests/tpm_test_commands.h"
#include "qom/status.h"

namespace qtpm::testing {

class SwtpmDirProcess {
 public:
  SwtpmDirProcess() = default;
  SwtpmDirProcess(const SwtpmDirProcess &) = delete;
  SwtpmDirProcess &operator=(const SwtpmDirProcess &) = delete;
  ~SwtpmDirProcess() { kill_now(); }

  // Starts swtpm on `state_dir` with its sockets and log in `work_dir`.  Fails (with swtpm's log)
  // if swtpm exits instead of listening, e.g. because the directory is locked.
  Status start(const std::string &state_dir, bool tpm2, const std::string &work_dir) {
    data_path_ = work_dir + "/swtpm-data.sock";
    ctrl_path_ = work_dir + "/swtpm-ctrl.sock";
    log_path_ = work_dir + "/swtpm.log";
    std::vector<std::string> args = {"swtpm",
                                     "socket",
                                     "--tpmstate",
                                     "dir=" + state_dir,
                                     "--server",
                                     "type=unixio,path=" + data_path_,
                                     "--ctrl",
                                     "type=unixio,path=" + ctrl_path_,
                                     "--flags",
                                     "not-need-init",
                                     "--log",
                                     "file=" + log_path_};
    if (tpm2) args.insert(args.begin() + 2, "--tpm2");
    Status st = spawn(args);
    if (!st) return st;
    // Wait until the data socket accepts a connection (or swtpm gives up).
    for (int i = 0; i < 1000; i++) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        exit_status_ = status;
        return Status::errorf("swtpm exited: %s", log().c_str());
      }
      data_fd_ = connect_to(data_path_);
      if (data_fd_ >= 0) return Status::ok();
      g_usleep(10000);
    }
    return Status::error("swtpm did not open its data socket");
  }

  // Starts swtpm as QEMU's emulator backend expects it: a control socket only (the backend
  // hands over the data channel with SET_DATAFD) and no TPM start before CMD_INIT.
  Status start_control_only(const std::string &state_dir, bool tpm2, const std::string &work_dir) {
    ctrl_path_ = work_dir + "/swtpm-ctrl.sock";
    log_path_ = work_dir + "/swtpm.log";
    std::vector<std::string> args = {"swtpm", "socket", "--tpmstate", "dir=" + state_dir,
                                     "--ctrl", "type=unixio,path=" + ctrl_path_,
                                     "--log", "file=" + log_path_};
    if (tpm2) args.insert(args.begin() + 2, "--tpm2");
    Status st = spawn(args);
    if (!st) return st;
    for (int i = 0; i < 1000; i++) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        exit_status_ = status;
        return Status::errorf("swtpm exited: %s", log().c_str());
      }
      // swtpm creates the socket file before it listens: only a connection proves it is ready.
      // The probe connection is closed at once; swtpm then waits for the next one.
      int fd = g_file_test(ctrl_path_.c_str(), G_FILE_TEST_EXISTS) ? connect_to(ctrl_path_) : -1;
      if (fd >= 0) {
        close(fd);
        return Status::ok();
      }
      g_usleep(10000);
    }
    return Status::error("swtpm did not accept connections on its control socket");
  }
  const std::string &control_path() const { return ctrl_path_; }

  // Waits (bounded) for swtpm to end by itself; true if it exited with status 0.
  bool wait_exit() {
    for (int i = 0; i < 1000 && pid_ >= 0; i++) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        exit_status_ = status;
        return WIFEXITED(status) && WEXITSTATUS(status) == 0;
      }
      g_usleep(10000);
    }
    kill_now();
    return false;
  }

  pid_t pid() const { return pid_; }

  Bytes transact(const Bytes &cmd) {
    if (data_fd_ < 0 || !write_all(data_fd_, cmd.data(), cmd.size())) return {};
    Bytes resp(10);
    if (!read_all(data_fd_, resp.data(), 10)) return {};
    uint32_t size = get32(resp, 2);
    if (size < 10 || size > 65536) return {};
    resp.resize(size);
    if (!read_all(data_fd_, resp.data() + 10, size - 10)) return {};
    return resp;
  }
  uint32_t rc(const Bytes &cmd) { return rc_of(transact(cmd)); }

  // CMD_SHUTDOWN, then waits for the process to end.  True if swtpm answered and exited 0.
  bool shutdown() {
    if (pid_ < 0) return false;
    bool answered = false;
    int fd = connect_to(ctrl_path_);
    if (fd >= 0) {
      const uint8_t cmd[4] = {0, 0, 0, 3};
      uint8_t res[4] = {};
      answered = write_all(fd, cmd, 4) && read_all(fd, res, 4) && get32(Bytes(res, res + 4), 0) == 0;
      close(fd);
    }
    if (data_fd_ >= 0) close(data_fd_);
    data_fd_ = -1;
    for (int i = 0; i < 1000 && pid_ >= 0; i++) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        exit_status_ = status;
        break;
      }
      g_usleep(10000);
    }
    kill_now();
    return answered && WIFEXITED(exit_status_) && WEXITSTATUS(exit_status_) == 0;
  }

  std::string log() const {
    gchar *text = nullptr;
    if (!g_file_get_contents(log_path_.c_str(), &text, nullptr, nullptr)) return "(no log)";
    std::string s = text;
    g_free(text);
    while (!s.empty() && s.back() == '\n') s.pop_back();
    return s;
  }

 private:
  Status spawn(std::vector<std::string> args) {
    std::vector<char *> argv;
    for (auto &a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    GError *err = nullptr;
    GPid child = 0;
    if (!g_spawn_async(nullptr, argv.data(), nullptr,
                       static_cast<GSpawnFlags>(G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD),
                       nullptr, nullptr, &child, &err)) {
      Status st = Status::errorf("cannot start swtpm: %s", err->message);
      g_error_free(err);
      return st;
    }
    pid_ = child;
    return Status::ok();
  }
  static int connect_to(const std::string &path) {
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    struct sockaddr_un addr = {};
    addr.sun_family = AF_UNIX;
    if (path.size() >= sizeof addr.sun_path) {
      close(fd);
      return -1;
    }
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    if (connect(fd, reinterpret_cast<struct sockaddr *>(&addr), sizeof addr) != 0) {
      close(fd);
      return -1;
    }
    return fd;
  }
  static bool write_all(int fd, const uint8_t *p, size_t n) {
    while (n > 0) {
      ssize_t w = write(fd, p, n);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) return false;
      p += w;
      n -= static_cast<size_t>(w);
    }
    return true;
  }
  static bool read_all(int fd, uint8_t *p, size_t n) {
    while (n > 0) {
      ssize_t r = read(fd, p, n);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) return false;
      p += r;
      n -= static_cast<size_t>(r);
    }
    return true;
  }
  void kill_now() {
    if (data_fd_ >= 0) close(data_fd_);
    data_fd_ = -1;
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &exit_status_, 0);
      pid_ = -1;
    }
  }

  pid_t pid_ = -1;
  int exit_status_ = 0;
  int data_fd_ = -1;
  std::string data_path_, ctrl_path_, log_path_;
};

}  // namespace qtpm::testing
