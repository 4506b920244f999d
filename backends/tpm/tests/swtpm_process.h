// SPDX-License-Identifier: GPL-2.0-or-later
//
// A real swtpm process for tests and benchmarks:
//   swtpm socket --tpmstate dir=TMP --ctrl type=unixio,path=TMP/ctrl [--tpm2]
// in a private directory; stopped (SIGTERM, then SIGKILL) and reaped when destroyed.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <string>
#include <thread>

#include "backends/tpm/tests/emulator_rig.h"

namespace qtpm::testing {

// A swtpm process in its own state directory.
class SwtpmProcess {
 public:
  explicit SwtpmProcess(bool tpm2) {
    ctrl_ = dir_.file("ctrl");
    std::string state = "dir=" + dir_.path();
    std::string ctrl = "type=unixio,path=" + ctrl_;
    std::string log = dir_.file("swtpm.log");
    pid_ = fork();
    if (pid_ == 0) {
      int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      if (fd >= 0) {
        dup2(fd, 1);
        dup2(fd, 2);
      }
      const char *argv[] = {"swtpm", "socket", "--tpmstate", state.c_str(), "--ctrl",
                            ctrl.c_str(), tpm2 ? "--tpm2" : nullptr, nullptr};
      execvp("swtpm", const_cast<char **>(argv));
      _exit(127);
    }
  }
  ~SwtpmProcess() {
    if (pid_ > 0 && !wait_exit(0)) {
      kill(pid_, SIGTERM);
      if (!wait_exit(5000)) {
        kill(pid_, SIGKILL);
        wait_exit(-1);
      }
    }
  }

  // Waits (bounded) until the control socket accepts connections.
  bool wait_ready() {
    for (int i = 0; i < 500; i++) {
      if (wait_exit(0)) return false;
      int s = socket(AF_UNIX, SOCK_STREAM, 0);
      sockaddr_un addr{};
      addr.sun_family = AF_UNIX;
      std::strncpy(addr.sun_path, ctrl_.c_str(), sizeof addr.sun_path - 1);
      bool ok = connect(s, reinterpret_cast<sockaddr *>(&addr), sizeof addr) == 0;
      close(s);
      if (ok) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }

  // True once the process has exited (waits up to timeout_ms; < 0: forever).
  bool wait_exit(int timeout_ms) {
    if (exited_) return true;
    for (int waited = 0;; waited += 10) {
      int status;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        exited_ = true;
        return true;
      }
      if (timeout_ms >= 0 && waited >= timeout_ms) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

  void kill_now() { kill(pid_, SIGKILL); }
  const std::string &ctrl_path() const { return ctrl_; }

 private:
  TempDir dir_;
  std::string ctrl_;
  pid_t pid_ = -1;
  bool exited_ = false;
};

}  // namespace qtpm::testing
