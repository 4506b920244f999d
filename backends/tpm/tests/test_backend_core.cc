// SPDX-License-Identifier: GPL-2.0-or-later
//
// Unit tests for the backend core: asynchronous completion, finish_sync, a second request while
// one is pending, startup errors, oversized responses.
#include "qom/testing.h"

#include <atomic>
#include <chrono>
#include <thread>

#include "backends/tpm/tpm_backend.h"
#include "qom/main_loop.h"

using namespace qtpm;

namespace {

class FakeHost : public HostServices {
 public:
  Object *find_tpm_backend(std::string_view) override { return nullptr; }
  Chardev *find_chardev(std::string_view) override { return nullptr; }
  CompletionLoop &completion_loop() override { return loop; }
  void clear_guest_ram() override {}
  QueueCompletionLoop loop;
};

// Echoes the command back after `delay_ms`; can be told to fail startup or overrun.
class EchoBackend : public TpmBackend {
 public:
  ~EchoBackend() override { stop_worker(); }
  TpmVersion version() const override { return TpmVersion::k2_0; }
  uint32_t buffer_size() override { return 4096; }
  std::string tpm_type() const override { return "echo"; }
  std::vector<std::pair<std::string, std::string>> tpm_options() const override { return {}; }
  std::atomic<int> delay_ms{0};
  bool fail_startup = false;
  size_t overrun = 0;

 protected:
  void handle_request(TpmRequest &r) override {
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms.load()));
    r.response = r.command;
    r.response.resize(r.response.size() + overrun);
  }
  Status do_startup(uint32_t) override {
    return fail_startup ? Status::error("echo: refused") : Status::ok();
  }
};

class Recorder : public TpmFrontend {
 public:
  void tpm_request_completed(std::unique_ptr<TpmRequest> r) override { done.push_back(std::move(r)); }
  TpmVersion tpm_version() const override { return TpmVersion::k2_0; }
  const char *tpm_model() const override { return "test"; }
  std::vector<std::unique_ptr<TpmRequest>> done;
};

std::unique_ptr<TpmRequest> make_request(uint8_t fill) {
  auto r = std::make_unique<TpmRequest>();
  r->command.assign(12, fill);
  r->max_response = 4096;
  return r;
}

}  // namespace

START_TEST(test_async_completion) {
  FakeHost host;
  EchoBackend be;
  Recorder fe;
  be.set_host(&host);
  ck_assert(be.attach(&fe).is_ok());
  ck_assert(be.startup(4096).is_ok());
  ck_assert_ptr_null(be.deliver(make_request(7)).get());
  ck_assert(be.request_pending());
  // Completion is never synchronous: it arrives through the loop.
  ck_assert_int_eq(fe.done.size(), 0);
  for (int i = 0; i < 100 && fe.done.empty(); i++) host.loop.wait_and_run(50);
  ck_assert_int_eq(fe.done.size(), 1);
  ck_assert(!be.request_pending());
  ck_assert_int_eq(fe.done[0]->response.size(), 12);
  ck_assert_uint_eq(fe.done[0]->response[0], 7);
}
END_TEST

START_TEST(test_second_request_refused) {
  FakeHost host;
  EchoBackend be;
  Recorder fe;
  be.set_host(&host);
  ck_assert(be.attach(&fe).is_ok());
  be.delay_ms = 100;
  ck_assert_ptr_null(be.deliver(make_request(1)).get());
  auto refused = be.deliver(make_request(2));
  ck_assert_ptr_nonnull(refused.get());  // handed back, untouched
  ck_assert_uint_eq(refused->command[0], 2);
  be.finish_sync();  // completes the first one now, on this thread
  ck_assert_int_eq(fe.done.size(), 1);
  ck_assert_uint_eq(fe.done[0]->response[0], 1);
  // The completion posted by the worker must not deliver it a second time.
  host.loop.wait_and_run(20);
  ck_assert_int_eq(fe.done.size(), 1);
  ck_assert(!be.request_pending());
}
END_TEST

START_TEST(test_startup_error_and_bind) {
  FakeHost host;
  EchoBackend be;
  Recorder fe, other;
  be.set_host(&host);
  be.set_id("tpm0");
  ck_assert(be.attach(&fe).is_ok());
  Status bound = be.attach(&other);
  ck_assert_str_eq(bound.message().c_str(), "TPM backend 'tpm0' is already initialized");
  be.fail_startup = true;
  ck_assert(!be.startup(4096).is_ok());
  ck_assert(be.had_startup_error());
  ck_assert_ptr_null(be.deliver(make_request(3)).get());
  for (int i = 0; i < 100 && fe.done.empty(); i++) host.loop.wait_and_run(50);
  ck_assert_int_eq(fe.done.size(), 1);
  ck_assert(!fe.done[0]->status.is_ok());
  ck_assert_uint_eq(fe.done[0]->response.size(), 10);
  ck_assert_uint_eq(tpm_header_code(fe.done[0]->response.data()), 9);  // TPM_FAIL
}
END_TEST

START_TEST(test_oversized_response) {
  FakeHost host;
  EchoBackend be;
  Recorder fe;
  be.set_host(&host);
  ck_assert(be.attach(&fe).is_ok());
  be.overrun = 5000;
  ck_assert_ptr_null(be.deliver(make_request(4)).get());
  be.finish_sync();
  ck_assert_int_eq(fe.done.size(), 1);
  ck_assert(!fe.done[0]->status.is_ok());
  ck_assert_uint_eq(fe.done[0]->response.size(), 10);
}
END_TEST

int main() {
  Suite *s = suite_create("backend-core");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 30);
  tcase_add_test(tc, test_async_completion);
  tcase_add_test(tc, test_second_request_refused);
  tcase_add_test(tc, test_startup_error_and_bind);
  tcase_add_test(tc, test_oversized_response);
  suite_add_tcase(s, tc);
  return qtpm::testing::run_suite(s);
}
