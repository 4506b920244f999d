// SPDX-License-Identifier: GPL-2.0-or-later
//
// Process-level smoke tests: qtpm-system-x86_64 started exactly as QEMU 7.2's libqtest starts
// QEMU (two listening sockets, the same command line, the handshake), then ended by SIGTERM,
// QMP quit, or a dropped connection - always with exit status 0.  Also the one-line error and
// exit status 1 for a bad option.
#include "qom/testing.h"
#include "qtest/server/tests/check_str.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

constexpr int kTimeoutMs = 30000;  // a safety net against hangs, not a measurement

std::string binary(const char *arch = "x86_64") {
  const char *dir = std::getenv("QTPM_SYSTEM_DIR");
  return std::string(dir ? dir : ".") + "/qtpm-system-" + arch;
}

int listen_unix(const std::string &path) {
  unlink(path.c_str());
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  ck_assert_int_eq(bind(s, reinterpret_cast<sockaddr *>(&addr), sizeof addr), 0);
  ck_assert_int_eq(listen(s, 1), 0);
  return s;
}

int accept_with_timeout(int listener) {
  pollfd p{listener, POLLIN, 0};
  ck_assert_int_eq(poll(&p, 1, kTimeoutMs), 1);
  int fd = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
  ck_assert_int_ge(fd, 0);
  return fd;
}

std::string read_line(int fd) {
  std::string line;
  char c;
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    ck_assert_int_eq(poll(&p, 1, kTimeoutMs), 1);
    ssize_t n = read(fd, &c, 1);
    if (n <= 0) return line;
    line += c;
    if (c == '\n') return line;
  }
}

void write_all(int fd, const std::string &s) {
  ck_assert_int_eq(write(fd, s.data(), s.size()), static_cast<ssize_t>(s.size()));
}

int wait_exit(pid_t pid) {
  int status = 0;
  ck_assert_int_eq(waitpid(pid, &status, 0), pid);
  ck_assert_msg(WIFEXITED(status), "killed by signal %d", WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  return WEXITSTATUS(status);
}

// A started host with both connections done, handshake included.
struct Session {
  pid_t pid = -1;
  int qtest = -1;
  int qmp = -1;
  std::string dir;

  explicit Session(const std::string &extra_args) {
    char tmpl[] = "/tmp/qtpm-process-XXXXXX";
    dir = mkdtemp(tmpl);
    std::string sock = dir + "/qtest.sock", qmp_path = dir + "/qtest.qmp";
    int ls = listen_unix(sock), lq = listen_unix(qmp_path);
    // libqtest's command, verbatim in form (tests/qtest/libqtest.c, QEMU 7.2).
    std::string cmd = "exec " + binary() + " -qtest unix:" + sock + " -qtest-log /dev/null -chardev socket,path=" +
                      qmp_path + ",id=char0 -mon chardev=char0,mode=control -display none " + extra_args +
                      " -accel qtest";
    pid = fork();
    if (pid == 0) {
      execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char *>(nullptr));
      _exit(127);
    }
    qtest = accept_with_timeout(ls);
    qmp = accept_with_timeout(lq);
    close(ls);
    close(lq);
    unlink(sock.c_str());
    unlink(qmp_path.c_str());
    write_all(qtest, "endianness\n");
    CHECK_STR(read_line(qtest).c_str(), "OK little\n");
    std::string greeting = read_line(qmp);
    ck_assert_msg(greeting.rfind("{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 2, \"major\": 7}", 0) == 0,
                  "%s", greeting.c_str());
    write_all(qmp, "{\"execute\": \"qmp_capabilities\"}\n");
    CHECK_STR(read_line(qmp).c_str(), "{\"return\": {}}\r\n");
  }
  ~Session() {
    if (qtest >= 0) close(qtest);
    if (qmp >= 0) close(qmp);
    rmdir(dir.c_str());
  }
};

START_TEST(handshake_query_and_sigterm) {
  Session s("");
  write_all(s.qmp, "{\"execute\": \"query-tpm-models\"}\n");
  std::string reply = read_line(s.qmp);
  ck_assert_msg(reply.rfind("{\"return\": [", 0) == 0, "%s", reply.c_str());
  write_all(s.qtest, "writel 0x1000 0xabcd\nreadl 0x1000\n");
  CHECK_STR(read_line(s.qtest).c_str(), "OK\n");
  CHECK_STR(read_line(s.qtest).c_str(), "OK 0x000000000000abcd\n");
  write_all(s.qtest, "clock_step 10\n");
  CHECK_STR(read_line(s.qtest).c_str(), "OK 10\n");
  kill(s.pid, SIGTERM);
  std::string event = read_line(s.qmp);
  ck_assert_msg(event.find("\"event\": \"SHUTDOWN\", \"data\": {\"guest\": false, \"reason\": \"host-signal\"}") !=
                    std::string::npos,
                "%s", event.c_str());
  ck_assert_int_eq(wait_exit(s.pid), 0);
}
END_TEST

int connect_unix(const std::string &path) {
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  if (connect(s, reinterpret_cast<sockaddr *>(&addr), sizeof addr) != 0) {
    close(s);
    return -1;
  }
  return s;
}

START_TEST(server_monitor_accepts_again) {
  // A second, listening monitor: its clients may come and go; the process stays.
  char tmpl[] = "/tmp/qtpm-process-mon-XXXXXX";
  std::string dir = mkdtemp(tmpl);
  std::string path = dir + "/mon.sock";
  Session s("-chardev socket,id=mon1,path=" + path + ",server=on,wait=off -mon chardev=mon1,mode=control");
  for (int round = 0; round < 2; round++) {
    int c = connect_unix(path);
    ck_assert_int_ge(c, 0);
    ck_assert(read_line(c).rfind("{\"QMP\": ", 0) == 0);
    write_all(c, "{\"execute\": \"query-status\"}\n");
    ck_assert(read_line(c).find("CommandNotFound") != std::string::npos);  // new session, not negotiated
    write_all(c, "{\"execute\": \"qmp_capabilities\"}\n{\"execute\": \"query-status\"}\n");
    CHECK_STR(read_line(c).c_str(), "{\"return\": {}}\r\n");
    ck_assert(read_line(c).find("\"running\": true") != std::string::npos);
    close(c);
  }
  // The libqtest connections still work.
  write_all(s.qtest, "endianness\n");
  CHECK_STR(read_line(s.qtest).c_str(), "OK little\n");
  kill(s.pid, SIGTERM);
  ck_assert_int_eq(wait_exit(s.pid), 0);
  ck_assert_int_ne(access(path.c_str(), F_OK), 0);  // the listening socket is removed at exit
  rmdir(dir.c_str());
}
END_TEST

START_TEST(quit_exits_zero) {
  Session s("-M q35");
  write_all(s.qmp, "{\"execute\": \"quit\"}\n");
  CHECK_STR(read_line(s.qmp).c_str(), "{\"return\": {}}\r\n");
  ck_assert(read_line(s.qmp).find("\"event\": \"SHUTDOWN\"") != std::string::npos);
  ck_assert_int_eq(wait_exit(s.pid), 0);
}
END_TEST

START_TEST(dropped_connection_exits_zero) {
  // Without its qtest connection the process ends, status 0.
  Session s("-S");
  close(s.qtest);
  s.qtest = -1;
  ck_assert_int_eq(wait_exit(s.pid), 0);
  // So does a dropped client-mode QMP connection (QEMU would run on; an abandoned host should not).
  Session t("");
  close(t.qmp);
  t.qmp = -1;
  ck_assert_int_eq(wait_exit(t.pid), 0);
}
END_TEST

START_TEST(qmp_only_host_ends_with_its_client) {
  // Without -qtest too.
  char tmpl[] = "/tmp/qtpm-process-qmp-XXXXXX";
  std::string dir = mkdtemp(tmpl);
  std::string path = dir + "/q.qmp";
  int lq = listen_unix(path);
  std::string cmd = "exec " + binary() + " -chardev socket,path=" + path + ",id=m -mon chardev=m,mode=control";
  pid_t pid = fork();
  if (pid == 0) {
    execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char *>(nullptr));
    _exit(127);
  }
  int m = accept_with_timeout(lq);
  ck_assert(read_line(m).rfind("{\"QMP\": ", 0) == 0);
  close(m);
  ck_assert_int_eq(wait_exit(pid), 0);
  close(lq);
  unlink(path.c_str());
  rmdir(dir.c_str());
}
END_TEST

START_TEST(sigterm_during_startup) {
  // SIGTERM as soon as the qtest connection arrives, before any handshake: still exit 0.
  char tmpl[] = "/tmp/qtpm-process-early-XXXXXX";
  std::string dir = mkdtemp(tmpl);
  std::string sock = dir + "/q.sock", qmp = dir + "/q.qmp";
  int ls = listen_unix(sock), lq = listen_unix(qmp);
  std::string cmd = "exec " + binary() + " -qtest unix:" + sock + " -qtest-log /dev/null -chardev socket,path=" + qmp +
                    ",id=char0 -mon chardev=char0,mode=control -display none -accel qtest";
  pid_t pid = fork();
  if (pid == 0) {
    execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char *>(nullptr));
    _exit(127);
  }
  int q = accept_with_timeout(ls);
  kill(pid, SIGTERM);
  ck_assert_int_eq(wait_exit(pid), 0);
  close(q);
  close(ls);
  close(lq);
  unlink(sock.c_str());
  unlink(qmp.c_str());
  rmdir(dir.c_str());
}
END_TEST

START_TEST(garbage_then_sigterm) {
  Session s("");
  std::string junk;
  for (int i = 0; i < 4096; i++) junk += static_cast<char>((i * 7919) & 0xff);
  write_all(s.qmp, junk + "\n");
  write_all(s.qtest, "readb\nnonsense\n");
  CHECK_STR(read_line(s.qtest).c_str(), "ERR missing argument\n");
  CHECK_STR(read_line(s.qtest).c_str(), "FAIL Unknown command 'nonsense'\n");
  kill(s.pid, SIGTERM);
  ck_assert_int_eq(wait_exit(s.pid), 0);
}
END_TEST

// Runs the binary with `args`; returns its exit status and what it printed.
int run(const std::string &args, std::string *out, std::string *err) {
  int po[2], pe[2];
  ck_assert_int_eq(pipe(po), 0);
  ck_assert_int_eq(pipe(pe), 0);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(po[1], 1);
    dup2(pe[1], 2);
    std::string cmd = "exec " + binary() + " " + args;
    execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char *>(nullptr));
    _exit(127);
  }
  close(po[1]);
  close(pe[1]);
  auto slurp = [](int fd, std::string *to) {
    char buf[4096];
    for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;) to->append(buf, static_cast<size_t>(n));
    close(fd);
  };
  slurp(po[0], out);
  slurp(pe[0], err);
  return wait_exit(pid);
}

START_TEST(errors_and_help) {
  std::string out, err;
  ck_assert_int_eq(run("-bogus", &out, &err), 1);
  CHECK_STR(err.c_str(), "qtpm-system-x86_64: -bogus: invalid option\n");
  out.clear();
  err.clear();
  ck_assert_int_eq(run("-tpmdev emulator", &out, &err), 1);
  ck_assert_int_eq(std::count(err.begin(), err.end(), '\n'), 1);
  out.clear();
  err.clear();
  ck_assert_int_eq(run("-device help", &out, &err), 0);
  CHECK_STR(err.c_str(), "");
  out.clear();
  err.clear();
  ck_assert_int_eq(run("-tpmdev help", &out, &err), 1);
  ck_assert(err.find("TPM") != std::string::npos);
  out.clear();
  err.clear();
  ck_assert_int_eq(run("-machine help", &out, &err), 0);
  ck_assert(out.rfind("Supported machines are:\n", 0) == 0);
}
END_TEST

}  // namespace

int main() {
  Suite *s = suite_create("process");
  TCase *tc = tcase_create("process");
  tcase_set_timeout(tc, 100);
  tcase_add_test(tc, handshake_query_and_sigterm);
  tcase_add_test(tc, server_monitor_accepts_again);
  tcase_add_test(tc, quit_exits_zero);
  tcase_add_test(tc, dropped_connection_exits_zero);
  tcase_add_test(tc, qmp_only_host_ends_with_its_client);
  tcase_add_test(tc, sigterm_during_startup);
  tcase_add_test(tc, garbage_then_sigterm);
  tcase_add_test(tc, errors_and_help);
  suite_add_tcase(s, tc);
  return qtpm::testing::run_suite(s);
}
