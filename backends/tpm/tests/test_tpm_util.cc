// SPDX-License-Identifier: GPL-2.0-or-later
//
// Unit tests for the shared TPM helpers: version probe, buffer-size query (exact reply shapes),
// self-test detection, result strings, response framing checks on a socketpair, and the
// once-per-kind user messages.
#include "qom/testing.h"

#include <sys/socket.h>
#include <unistd.h>

#include <deque>
#include <thread>

#include "backends/tpm/tpm_peer_io.h"
#include "backends/tpm/tpm_util.h"

using namespace qtpm;

namespace {

// A transport that records commands and answers from a script.
struct Script {
  std::deque<std::vector<uint8_t>> answers;
  std::vector<std::vector<uint8_t>> sent;
  bool fail = false;
  TpmTransact transact() {
    return [this](std::span<const uint8_t> cmd, std::vector<uint8_t> *rsp) {
      sent.emplace_back(cmd.begin(), cmd.end());
      if (fail || answers.empty()) return Status::error("transport down");
      *rsp = answers.front();
      answers.pop_front();
      return Status::ok();
    };
  }
};

std::vector<uint8_t> hdr(uint16_t tag, uint32_t size, uint32_t rc) {
  std::vector<uint8_t> r{static_cast<uint8_t>(tag >> 8), static_cast<uint8_t>(tag)};
  for (uint32_t v : {size, rc})
    for (int s = 24; s >= 0; s -= 8) r.push_back(static_cast<uint8_t>(v >> s));
  return r;
}

void append32(std::vector<uint8_t> &v, uint32_t x) {
  for (int s = 24; s >= 0; s -= 8) v.push_back(static_cast<uint8_t>(x >> s));
}

std::vector<uint8_t> caps20(uint32_t cmd_size, uint32_t rsp_size) {
  std::vector<uint8_t> r = hdr(0x8001, 35, 0);
  r.push_back(0);
  append32(r, 6);
  append32(r, 2);
  append32(r, 0x11E);
  append32(r, cmd_size);
  append32(r, 0x11F);
  append32(r, rsp_size);
  return r;
}

}  // namespace

START_TEST(test_probe_tpm2) {
  Script s;
  s.answers.push_back(hdr(0x8001, 10, 0x101));  // even a failure in TPM 2 format counts
  TpmVersion v;
  ck_assert(tpm_util_probe_version(s.transact(), &v).is_ok());
  ck_assert(v == TpmVersion::k2_0);
  ck_assert_uint_eq(s.sent.size(), 1);
  ck_assert(s.sent[0] == (std::vector<uint8_t>{0x80, 0x01, 0, 0, 0, 0x0a, 0, 0, 0x01, 0x81}));
}
END_TEST

START_TEST(test_probe_tpm12) {
  Script s;
  s.answers.push_back(hdr(0x00c4, 10, 0x0a));
  s.answers.push_back(hdr(0x00c4, 10, 0));
  TpmVersion v;
  ck_assert(tpm_util_probe_version(s.transact(), &v).is_ok());
  ck_assert(v == TpmVersion::k1_2);
  ck_assert(s.sent[1] == (std::vector<uint8_t>{0x00, 0xc1, 0, 0, 0, 0x0a, 0, 0, 0, 0xf1}));
}
END_TEST

START_TEST(test_probe_not_a_tpm) {
  Script s;
  s.answers.push_back({1, 2, 3});
  s.answers.push_back(hdr(0x1234, 10, 0));
  TpmVersion v = TpmVersion::k2_0;
  Status st = tpm_util_probe_version(s.transact(), &v);
  ck_assert(!st.is_ok());
  ck_assert(v == TpmVersion::kUnspec);
  ck_assert(st.message().find("0x1234") != std::string::npos);
  Script down;
  down.fail = true;
  ck_assert(tpm_util_probe_version(down.transact(), &v).message() == "transport down");
}
END_TEST

START_TEST(test_buffer_size_tpm2) {
  Script s;
  s.answers.push_back(caps20(4096, 3968));
  uint32_t size = 0;
  ck_assert(tpm_util_query_buffer_size(s.transact(), TpmVersion::k2_0, &size).is_ok());
  ck_assert_uint_eq(size, 4096);  // the larger of command and response
  ck_assert(s.sent[0] == (std::vector<uint8_t>{0x80, 0x01, 0, 0, 0, 0x16, 0, 0, 0x01, 0x7a, 0, 0,
                                               0, 6, 0, 0, 0x01, 0x1e, 0, 0, 0, 2}));
  // Wrong shapes are refused: a different property, a short reply, an error, absurd sizes.
  std::vector<uint8_t> wrong_prop = caps20(4096, 4096);
  wrong_prop[30] = 0x20;  // MAX_RESPONSE_SIZE -> another property
  std::vector<uint8_t> short_reply = caps20(4096, 4096);
  short_reply.pop_back();
  std::vector<uint8_t> failed = caps20(4096, 4096);
  failed[9] = 1;
  for (const auto &bad : {wrong_prop, short_reply, failed, caps20(4, 4), caps20(1 << 20, 1)}) {
    Script b;
    b.answers.push_back(bad);
    ck_assert(!tpm_util_query_buffer_size(b.transact(), TpmVersion::k2_0, &size).is_ok());
  }
}
END_TEST

START_TEST(test_buffer_size_tpm12) {
  Script s;
  std::vector<uint8_t> r = hdr(0x00c4, 18, 0);
  append32(r, 4);
  append32(r, 2048);
  s.answers.push_back(r);
  uint32_t size = 0;
  ck_assert(tpm_util_query_buffer_size(s.transact(), TpmVersion::k1_2, &size).is_ok());
  ck_assert_uint_eq(size, 2048);
  ck_assert(s.sent[0] == (std::vector<uint8_t>{0x00, 0xc1, 0, 0, 0, 0x16, 0, 0, 0, 0x65, 0, 0, 0,
                                               5, 0, 0, 0, 4, 0, 0, 0x01, 0x24}));
  r[13] = 8;  // inner length must be 4
  Script b;
  b.answers.push_back(r);
  ck_assert(!tpm_util_query_buffer_size(b.transact(), TpmVersion::k1_2, &size).is_ok());
  ck_assert(!tpm_util_query_buffer_size(s.transact(), TpmVersion::kUnspec, &size).is_ok());
}
END_TEST

START_TEST(test_selftest_and_strings) {
  TpmRequest r;
  r.command = {0x00, 0xc1, 0, 0, 0, 0x0a, 0, 0, 0, 0x53};
  r.response = hdr(0x00c4, 10, 0);
  ck_assert(tpm_util_is_selftest(r.command));
  tpm_util_note_selftest(r);
  ck_assert(r.selftest_done);
  r.response = hdr(0x00c4, 10, 9);
  tpm_util_note_selftest(r);
  ck_assert(!r.selftest_done);
  ck_assert(!tpm_util_is_selftest(std::vector<uint8_t>{0x00, 0xc1, 0, 0, 0, 0x0a, 0, 0, 0}));
  ck_assert_str_eq(tpm_util_strerror(0x3d), "bad locality");
  ck_assert_str_eq(tpm_util_strerror(0x907), "bad locality");
  ck_assert_str_eq(tpm_util_strerror(0x9), "operation failed");
  ck_assert_str_eq(tpm_util_strerror(0x12345), "unknown error");
  ck_assert(tpm_util_response_tag_valid(0x8002));
  ck_assert(!tpm_util_response_tag_valid(0x00c1));  // a command tag is no response
}
END_TEST

// --- framing on a real stream ---

namespace {

struct Pair {
  Pair() { ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, fd), 0); }
  ~Pair() {
    for (int f : fd)
      if (f >= 0) close(f);
  }
  int fd[2];
};

TpmExchangeResult exchange_with_answer(const std::vector<uint8_t> &answer, uint32_t max,
                                       std::vector<uint8_t> *rsp, bool close_after = false) {
  Pair p;
  std::thread peer([&] {
    uint8_t buf[64];
    if (read(p.fd[1], buf, sizeof buf) <= 0) return;
    // Delivered in two pieces, to exercise reassembly.
    size_t half = answer.size() / 2;
    (void)!write(p.fd[1], answer.data(), half);
    (void)!write(p.fd[1], answer.data() + half, answer.size() - half);
    if (close_after) shutdown(p.fd[1], SHUT_WR);
  });
  std::vector<uint8_t> cmd = hdr(0x8001, 10, 0x17b);
  TpmExchangeResult r = tpm_stream_exchange(p.fd[0], cmd, max, Deadline(300), rsp);
  peer.join();
  return r;
}

}  // namespace

START_TEST(test_exchange_framing) {
  std::vector<uint8_t> rsp;
  std::vector<uint8_t> good = hdr(0x8001, 14, 0);
  good.insert(good.end(), {1, 2, 3, 4});
  ck_assert(exchange_with_answer(good, 4096, &rsp).ok());
  ck_assert(rsp == good);
  ck_assert(exchange_with_answer(good, 14, &rsp).ok());  // exactly the buffer
  ck_assert(exchange_with_answer(good, 13, &rsp).fault == PeerFault::kOversized);
  ck_assert(rsp.empty());
  ck_assert(exchange_with_answer(hdr(0x8001, 9, 0), 4096, &rsp).fault == PeerFault::kUndersized);
  ck_assert(exchange_with_answer(hdr(0x8003, 10, 0), 4096, &rsp).fault == PeerFault::kBadTag);
  std::vector<uint8_t> extra = good;
  extra.push_back(0);
  // The stray byte may come with the response or after it: seen either way, or (when it comes
  // later) not part of this response.
  TpmExchangeResult r = exchange_with_answer(extra, 4096, &rsp);
  ck_assert(r.fault == PeerFault::kTrailing || (r.ok() && rsp == good));
  std::vector<uint8_t> cut(good.begin(), good.begin() + 12);
  ck_assert(exchange_with_answer(cut, 4096, &rsp).fault == PeerFault::kTimeout);
  ck_assert(exchange_with_answer(cut, 4096, &rsp, true).fault == PeerFault::kClosed);
}
END_TEST

START_TEST(test_reporter_once_per_key) {
  std::vector<std::string> lines;
  PeerErrorReporter rep("tpm-test");
  rep.set_sink([&](const std::string &l) { lines.push_back(l); });
  ck_assert(rep.report(PeerErrorReporter::key(PeerFault::kClosed), "peer went away"));
  ck_assert(!rep.report(PeerErrorReporter::key(PeerFault::kClosed), "peer went away again"));
  ck_assert(rep.report(PeerErrorReporter::key(PeerFault::kErrorResult, 5), "refused 5"));
  ck_assert(rep.report(PeerErrorReporter::key(PeerFault::kErrorResult, 2), "refused 2"));
  ck_assert_uint_eq(lines.size(), 3);
  ck_assert_str_eq(lines[0].c_str(), "tpm-test: peer went away");
  rep.rearm();
  ck_assert(rep.report(PeerErrorReporter::key(PeerFault::kClosed), "peer went away"));
  ck_assert_uint_eq(lines.size(), 4);
  // The process-wide sink catches reporters without their own.
  std::vector<std::string> global;
  PeerErrorReporter::set_default_sink([&](const std::string &l) { global.push_back(l); });
  PeerErrorReporter other("tpm-other");
  other.report(1, "hello");
  PeerErrorReporter::set_default_sink(nullptr);
  ck_assert_uint_eq(global.size(), 1);
  ck_assert_str_eq(global[0].c_str(), "tpm-other: hello");
}
END_TEST

int main() {
  Suite *s = suite_create("tpm-util");
  TCase *tc = tcase_create("util");
  tcase_set_timeout(tc, 30);
  tcase_add_test(tc, test_probe_tpm2);
  tcase_add_test(tc, test_probe_tpm12);
  tcase_add_test(tc, test_probe_not_a_tpm);
  tcase_add_test(tc, test_buffer_size_tpm2);
  tcase_add_test(tc, test_buffer_size_tpm12);
  tcase_add_test(tc, test_selftest_and_strings);
  tcase_add_test(tc, test_exchange_framing);
  tcase_add_test(tc, test_reporter_once_per_key);
  suite_add_tcase(s, tc);
  return qtpm::testing::run_suite(s);
}
