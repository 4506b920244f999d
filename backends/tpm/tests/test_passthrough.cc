// SPDX-License-Identifier: GPL-2.0-or-later
//
// The passthrough backend against a pty-backed fake TPM device: the test opens a pseudo
// terminal in raw mode, a thread answers TPM commands on the master side, the backend opens the
// slave path as if it were /dev/tpm0.  The cancel file is a FIFO the fake TPM listens on, so a
// cancel is seen the moment the backend writes "-".  Also the creation errors (missing device,
// not a TPM, bad or unguessable cancel path) with QEMU's messages.
#include "qom/testing.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <mutex>
#include <thread>

#include "backends/tpm/tests/emulator_rig.h"
#include "backends/tpm/tpm_passthrough.h"

using namespace qtpm;
using namespace qtpm::testing;

namespace {

enum class PtyMode { kNormal, kSlowUntilCancel, kGarbage, kShort, kOversized, kNoReply };

uint32_t be32(const uint8_t *p) {
  return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3];
}

void put32(std::vector<uint8_t> &v, uint32_t x) {
  for (int s = 24; s >= 0; s -= 8) v.push_back(static_cast<uint8_t>(x >> s));
}

std::vector<uint8_t> response(uint16_t tag, uint32_t rc, const std::vector<uint8_t> &params) {
  std::vector<uint8_t> r{static_cast<uint8_t>(tag >> 8), static_cast<uint8_t>(tag)};
  put32(r, static_cast<uint32_t>(10 + params.size()));
  put32(r, rc);
  r.insert(r.end(), params.begin(), params.end());
  return r;
}

// A TPM behind a pseudo terminal.
class PtyTpm {
 public:
  PtyTpm(bool tpm2, uint32_t buffer_size, const std::string &cancel_fifo)
      : tpm2_(tpm2), buffer_size_(buffer_size) {
    master_ = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    ck_assert_int_ge(master_, 0);
    ck_assert_int_eq(grantpt(master_), 0);
    ck_assert_int_eq(unlockpt(master_), 0);
    slave_path_ = ptsname(master_);
    // Raw mode, so TPM bytes pass unchanged; our own slave descriptor keeps the setting alive
    // while the backend opens and closes the device.
    slave_ = open(slave_path_.c_str(), O_RDWR | O_NOCTTY | O_CLOEXEC);
    ck_assert_int_ge(slave_, 0);
    termios t;
    ck_assert_int_eq(tcgetattr(slave_, &t), 0);
    cfmakeraw(&t);
    ck_assert_int_eq(tcsetattr(slave_, TCSANOW, &t), 0);
    if (!cancel_fifo.empty()) {
      ck_assert_int_eq(mkfifo(cancel_fifo.c_str(), 0600), 0);
      cancel_ = open(cancel_fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
      ck_assert_int_ge(cancel_, 0);
    }
    ck_assert_int_eq(pipe2(wake_, O_CLOEXEC), 0);
    thread_ = std::thread([this] { serve(); });
  }
  ~PtyTpm() {
    (void)!write(wake_[1], "q", 1);
    thread_.join();
    for (int fd : {master_, slave_, cancel_, wake_[0], wake_[1]})
      if (fd >= 0) close(fd);
  }

  const std::string &path() const { return slave_path_; }
  void set_mode(PtyMode m) { mode_ = m; }
  size_t commands() const { return commands_; }
  int cancels() const { return cancels_; }

 private:
  // Waits for `fd` or the wake pipe; false when told to quit or after 10 s.
  bool wait(int fd) {
    pollfd p[2] = {{fd, POLLIN, 0}, {wake_[0], POLLIN, 0}};
    return poll(p, 2, 10000) > 0 && !p[1].revents && (p[0].revents & POLLIN);
  }
  bool read_full(uint8_t *buf, size_t len) {
    while (len > 0) {
      if (!wait(master_)) return false;
      ssize_t n = read(master_, buf, len);
      if (n <= 0) return false;
      buf += n;
      len -= static_cast<size_t>(n);
    }
    return true;
  }
  void send(const std::vector<uint8_t> &r, size_t len) {
    (void)!write(master_, r.data(), std::min(len, r.size()));
  }

  std::vector<uint8_t> answer(const std::vector<uint8_t> &cmd) {
    const uint32_t code = be32(&cmd[6]);
    if (tpm2_) {
      if (code == 0x17A) {  // GetCapability(TPM_PROPERTIES, MAX_COMMAND_SIZE, 2)
        std::vector<uint8_t> p{0};
        put32(p, 6);
        put32(p, 2);
        put32(p, 0x11E);
        put32(p, buffer_size_);
        put32(p, 0x11F);
        put32(p, buffer_size_);
        return response(0x8001, 0, p);
      }
      if (code == 0x17B) return response(0x8001, 0, {0, 4, 'q', 't', 'p', 'm'});  // GetRandom
      return response(0x8001, 0, {});
    }
    if (code == 0x181) return response(0x00c4, 0x0a, {});  // a TPM 1.2 knows no ReadClock
    if (code == 0x65) {                                      // GetCapability(INPUT_BUFFER)
      std::vector<uint8_t> p;
      put32(p, 4);
      put32(p, buffer_size_);
      return response(0x00c4, 0, p);
    }
    return response(0x00c4, 0, {});
  }

  void serve() {
    for (;;) {
      uint8_t hdr[10];
      if (!read_full(hdr, sizeof hdr)) return;
      std::vector<uint8_t> cmd(hdr, hdr + 10);
      uint32_t size = std::clamp<uint32_t>(be32(&hdr[2]), 10, 4096);
      cmd.resize(size);
      if (size > 10 && !read_full(cmd.data() + 10, size - 10)) return;
      commands_++;
      std::vector<uint8_t> r = answer(cmd);
      switch (mode_.load()) {
        case PtyMode::kNormal:
          send(r, r.size());
          break;
        case PtyMode::kSlowUntilCancel: {
          char c = 0;
          if (wait(cancel_) && read(cancel_, &c, 1) == 1 && c == '-') {
            cancels_++;
            r = response(0x8001, 0x909, {});  // TPM_RC_CANCELED
          }
          send(r, r.size());
          break;
        }
        case PtyMode::kGarbage:
          send({'G', 'A', 'R', 'B', 'A', 'G', 'E', '!', '!', '!'}, 10);
          break;
        case PtyMode::kShort:
          r[5] = 100;  // the header promises 100 bytes, 16 arrive
          send(r, r.size());
          break;
        case PtyMode::kOversized: {
          std::vector<uint8_t> big = response(0x8001, 0, std::vector<uint8_t>(20, 0));
          big[4] = 0x20;  // 0x2000 + ...: more than the buffer
          send(big, big.size());
          break;
        }
        case PtyMode::kNoReply:
          break;
      }
    }
  }

  bool tpm2_;
  uint32_t buffer_size_;
  int master_ = -1, slave_ = -1, cancel_ = -1;
  int wake_[2] = {-1, -1};
  std::string slave_path_;
  std::thread thread_;
  std::atomic<PtyMode> mode_{PtyMode::kNormal};
  std::atomic<size_t> commands_{0};
  std::atomic<int> cancels_{0};
};

struct Rig {
  Rig() { register_builtin_types(); }
  ~Rig() { obj.reset(); }

  Status create(const std::string &path, const std::string &cancel_path,
                uint32_t timeout_ms = 500) {
    obj = object_new(kTypeTpmPassthrough);
    be = object_cast<PassthroughBackend>(obj.get());
    be->set_id("tpm0");
    be->set_host(&host);
    be->error_reporter().set_sink([this](const std::string &l) {
      std::lock_guard<std::mutex> lock(mu);
      lines.push_back(l);
    });
    Status st = be->set_property("path", path);
    if (st && !cancel_path.empty()) st = be->set_property("cancel-path", cancel_path);
    if (st) st = be->set_property("x-timeout-ms", std::to_string(timeout_ms));
    if (st) st = be->realize();
    return st;
  }

  TpmRequest *run(const std::vector<uint8_t> &cmd, uint32_t max_response = 4096) {
    auto req = std::make_unique<TpmRequest>();
    req->command = cmd;
    req->max_response = max_response;
    size_t before = fe.done.size();
    if (be->deliver(std::move(req))) return nullptr;
    if (!host.run_until([&] { return fe.done.size() > before; }, 10000)) return nullptr;
    return fe.done.back().get();
  }

  std::vector<std::string> messages() {
    std::lock_guard<std::mutex> lock(mu);
    return lines;
  }

  TestHost host;
  std::unique_ptr<Object> obj;
  PassthroughBackend *be = nullptr;
  RecordingFrontend fe;
  std::mutex mu;
  std::vector<std::string> lines;
};

const std::vector<uint8_t> kGetRandom4 = {0x80, 0x01, 0, 0, 0, 0x0c, 0, 0, 0x01, 0x7b, 0, 4};

bool contains(const std::string &s, const std::string &needle) {
  return s.find(needle) != std::string::npos;
}

}  // namespace

START_TEST(test_round_trip) {
  TempDir dir;
  PtyTpm tpm(true, 4096, dir.file("cancel"));
  Rig rig;
  Status st = rig.create(tpm.path(), dir.file("cancel"));
  ck_assert_msg(st.is_ok(), "%s", st.message().c_str());
  ck_assert(rig.be->version() == TpmVersion::k2_0);
  ck_assert_uint_eq(rig.be->buffer_size(), 4096);
  ck_assert(rig.be->tpm_type() == "passthrough");
  ck_assert(rig.be->tpm_options() == (std::vector<std::pair<std::string, std::string>>{
                                         {"path", tpm.path()}, {"cancel-path", dir.file("cancel")}}));
  ck_assert(type_find(kTypeTpmPassthrough)->description == "Passthrough TPM backend driver");
  ck_assert(type_is_a(kTypeTpmPassthrough, kTypeTpmBackend));
  std::string reason;
  ck_assert(rig.be->blocks_migration(&reason));
  ck_assert(reason == "Migration disabled: TPM passthrough does not support migration");
  ck_assert(rig.be->attach(&rig.fe).is_ok());
  ck_assert(rig.be->startup(4096).is_ok());
  TpmRequest *r = rig.run(kGetRandom4);
  ck_assert_ptr_nonnull(r);
  ck_assert(r->status.is_ok());
  ck_assert(r->response == (std::vector<uint8_t>{0x80, 0x01, 0, 0, 0, 16, 0, 0, 0, 0, 0, 4, 'q',
                                                 't', 'p', 'm'}));
  // A frontend buffer smaller than the host TPM's cannot work.
  st = rig.be->startup(1024);
  ck_assert(st.message() == "tpm-passthrough: Requested buffer size of 1024 is smaller than host "
                            "TPM's fixed buffer size of 4096");
  ck_assert(rig.messages().empty());
}
END_TEST

START_TEST(test_tpm12_and_selftest) {
  TempDir dir;
  PtyTpm tpm(false, 2048, dir.file("cancel"));
  Rig rig;
  Status st = rig.create(tpm.path(), dir.file("cancel"));
  ck_assert_msg(st.is_ok(), "%s", st.message().c_str());
  ck_assert(rig.be->version() == TpmVersion::k1_2);
  ck_assert_uint_eq(rig.be->buffer_size(), 2048);
  ck_assert(rig.be->attach(&rig.fe).is_ok());
  ck_assert(rig.be->startup(4096).is_ok());
  TpmRequest *r = rig.run({0x00, 0xc1, 0, 0, 0, 0x0a, 0, 0, 0, 0x53});  // ContinueSelfTest
  ck_assert_ptr_nonnull(r);
  ck_assert(r->selftest_done);
}
END_TEST

START_TEST(test_cancel) {
  TempDir dir;
  PtyTpm tpm(true, 4096, dir.file("cancel"));
  Rig rig;
  ck_assert(rig.create(tpm.path(), dir.file("cancel"), 20000).is_ok());
  ck_assert(rig.be->attach(&rig.fe).is_ok());
  ck_assert(rig.be->startup(4096).is_ok());
  rig.be->cancel();  // nothing running: nothing written
  tpm.set_mode(PtyMode::kSlowUntilCancel);
  size_t before = tpm.commands();
  auto req = std::make_unique<TpmRequest>();
  req->command = kGetRandom4;
  req->max_response = 4096;
  ck_assert_ptr_null(rig.be->deliver(std::move(req)).get());
  for (int i = 0; i < 1000 && tpm.commands() == before; i++) usleep(1000);
  ck_assert_uint_gt(tpm.commands(), before);
  // The TPM is working on it now (it waits for the cancel): the backend writes "-".
  rig.be->cancel();
  ck_assert(rig.host.run_until([&] { return !rig.fe.done.empty(); }, 15000));
  ck_assert_uint_eq(tpm_header_code(rig.fe.done.back()->response.data()), 0x909);
  ck_assert_int_eq(tpm.cancels(), 1);
}
END_TEST

struct FaultCase {
  PtyMode mode;
  const char *message;
};
const FaultCase kFaults[] = {
    {PtyMode::kGarbage, "sent a response with tag 0x4741, which is not a TPM response"},
    {PtyMode::kShort, "stopped answering after 16 bytes"},
    {PtyMode::kOversized, "more than the negotiated 4096-byte buffer"},
    {PtyMode::kNoReply, "did not answer a TPM command in time"},
};

START_TEST(test_faults) {
  const FaultCase &c = kFaults[_i];
  TempDir dir;
  PtyTpm tpm(true, 4096, dir.file("cancel"));
  Rig rig;
  ck_assert(rig.create(tpm.path(), dir.file("cancel"), 300).is_ok());
  ck_assert(rig.be->attach(&rig.fe).is_ok());
  ck_assert(rig.be->startup(4096).is_ok());
  tpm.set_mode(c.mode);
  TpmRequest *r = rig.run(kGetRandom4);
  ck_assert_ptr_nonnull(r);
  ck_assert(!r->status.is_ok());
  ck_assert(r->response == (std::vector<uint8_t>{0x00, 0xc4, 0, 0, 0, 0x0a, 0, 0, 0, 0x09}));
  auto lines = rig.messages();
  ck_assert_uint_eq(lines.size(), 1);
  ck_assert_msg(contains(lines[0], "tpm-passthrough: TPM device '" + tpm.path() + "' ") &&
                    contains(lines[0], c.message),
                "%s", lines[0].c_str());
  // Until the next reset the device is not trusted; after it, it works again.
  ck_assert(!rig.run(kGetRandom4)->status.is_ok());
  tpm.set_mode(PtyMode::kNormal);
  ck_assert(rig.be->startup(4096).is_ok());
  r = rig.run(kGetRandom4);
  ck_assert_msg(r->status.is_ok(), "%s", r->status.message().c_str());
}
END_TEST

START_TEST(test_creation_errors) {
  TempDir dir;
  Rig rig;
  Status st = rig.create("/nonexistent/tpm0", "");
  ck_assert(st.message() ==
            "Cannot access TPM device using '/nonexistent/tpm0': No such file or directory");
  st = rig.create("/dev/null", "");
  ck_assert(st.message() == "'/dev/null' is not a TPM device.");
  PtyTpm tpm(true, 4096, "");
  st = rig.create(tpm.path(), dir.file("no-such-dir/cancel"));
  ck_assert(st.message() == "tpm_passthrough: Could not open TPM cancel path: No such file or "
                            "directory");
  // A pty has no sysfs cancel entry.
  st = rig.create(tpm.path(), "");
  ck_assert(st.message() == "tpm_passthrough: Could not guess TPM cancel path");
  // A TPM that answers nonsense is not a TPM.
  PtyTpm garbage(true, 4096, "");
  garbage.set_mode(PtyMode::kGarbage);
  st = rig.create(garbage.path(), "/dev/null");
  ck_assert(st.message() == "'" + garbage.path() + "' is not a TPM device.");
}
END_TEST

int main() {
  Suite *s = suite_create("passthrough");
  TCase *tc = tcase_create("pty");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_round_trip);
  tcase_add_test(tc, test_tpm12_and_selftest);
  tcase_add_test(tc, test_cancel);
  tcase_add_loop_test(tc, test_faults, 0, static_cast<int>(sizeof kFaults / sizeof kFaults[0]));
  tcase_add_test(tc, test_creation_errors);
  suite_add_tcase(s, tc);
  return qtpm::testing::run_suite(s);
}
