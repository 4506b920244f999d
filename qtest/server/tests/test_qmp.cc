// SPDX-License-Identifier: GPL-2.0-or-later
//
// Unit tests for QMP: greeting, negotiation, the reply shape of every built-in command, events,
// run-state changes, and garbage/partial/oversized input.
#include "qom/testing.h"
#include "qtest/server/tests/check_str.h"

#include <random>
#include <set>
#include <string>
#include <vector>

#include "qtest/server/host.h"
#include "qtest/server/qmp_commands.h"
#include "qtest/server/qmp_monitor.h"
#include "qtest/server/run_control.h"
#include "qtest/server/tests/fake_tpm.h"

using namespace qtpm;
using namespace qtpm::host;

namespace {

struct Rig {
  Config config;
  QueueCompletionLoop loop;
  std::unique_ptr<Host> host;
  QmpDispatcher qmp;
  std::unique_ptr<RunControl> run;
  std::unique_ptr<QmpMonitor> mon;
  std::string out;
  int quits = 0;

  explicit Rig(std::vector<std::string> args, const char *prog = "qtpm-system-x86_64", bool negotiate = true) {
    args.insert(args.begin(), prog);
    ParseResult r = parse_command_line(args, &config);
    ck_assert_msg(r.run, "%s", r.err.c_str());
    host = std::make_unique<Host>(config, &loop);
    Status st = host->build();
    ck_assert_msg(st.is_ok(), "%s", st.message().c_str());
    run = std::make_unique<RunControl>(*host, qmp);
    run->set_quit_hook([this] { quits++; });
    register_builtin_commands(qmp, *host, *run);
    mon = std::make_unique<QmpMonitor>(qmp, false);
    mon->set_sender([this](std::string_view s) { out.append(s); });
    mon->start();
    if (negotiate) {
      CHECK_STR(req("{\"execute\": \"qmp_capabilities\"}").c_str(), "{\"return\": {}}\r\n");
    }
  }
  ~Rig() {
    mon.reset();
    host->shutdown();
  }
  std::string req(const std::string &text) {
    out.clear();
    mon->feed(text + "\n");
    return out;
  }
};

std::vector<std::string> tpm_args() {
  return {"-tpmdev", "fake,id=tpm0,chardev=chr", "-device", "fake-tpm-isa,tpmdev=tpm0,id=tis"};
}

// Lines of output with the timestamps of events blanked, for exact comparison.
std::string strip_timestamps(std::string s) {
  for (size_t pos; (pos = s.find("{\"timestamp\": {\"seconds\": ")) != std::string::npos;) {
    size_t end = s.find("}, ", pos);
    s.replace(pos, end + 3 - pos, "{");
  }
  return s;
}

START_TEST(greeting_and_negotiation) {
  Rig r({}, "qtpm-system-x86_64", false);
  ck_assert(r.out.rfind("{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 2, \"major\": 7}, "
                        "\"package\": \"qtpm ", 0) == 0);
  ck_assert(r.out.find("\"}, \"capabilities\": [\"oob\"]}}\r\n") != std::string::npos);
  CHECK_STR(r.req("{\"execute\": \"query-status\"}").c_str(),
                   "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"Expecting capabilities negotiation "
                   "with 'qmp_capabilities'\"}}\r\n");
  CHECK_STR(r.req("{\"execute\": \"qmp_capabilities\", \"arguments\": {\"enable\": [\"x\"]}}").c_str(),
                   "{\"error\": {\"class\": \"GenericError\", \"desc\": \"Parameter 'enable' does not accept value "
                   "'x'\"}}\r\n");
  ck_assert(!r.mon->negotiated());
  CHECK_STR(r.req("{\"execute\": \"qmp_capabilities\", \"id\": 7}").c_str(), "{\"return\": {}, \"id\": 7}\r\n");
  CHECK_STR(r.req("{\"execute\": \"qmp_capabilities\"}").c_str(),
                   "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"Capabilities negotiation is already "
                   "complete, command ignored\"}}\r\n");
  // oob: exec-oob is only known after enabling it.
  Rig o({}, "qtpm-system-x86_64", false);
  CHECK_STR(o.req("{\"exec-oob\": \"query-status\"}").c_str(),
                   "{\"error\": {\"class\": \"GenericError\", \"desc\": \"QMP input member 'exec-oob' is "
                   "unexpected\"}}\r\n");
  o.req("{\"execute\": \"qmp_capabilities\", \"arguments\": {\"enable\": [\"oob\"]}}");
  CHECK_STR(o.req("{\"exec-oob\": \"query-status\"}").c_str(),
                   "{\"error\": {\"class\": \"GenericError\", \"desc\": \"The command query-status does not "
                   "support OOB\"}}\r\n");
}
END_TEST

START_TEST(basic_commands) {
  Rig r({});
  CHECK_STR(r.req("{\"execute\": \"query-status\", \"id\": \"a\"}").c_str(),
                   "{\"return\": {\"status\": \"running\", \"singlestep\": false, \"running\": true}, \"id\": \"a\"}\r\n");
  std::string v = r.req("{\"execute\": \"query-version\"}");
  ck_assert(v.rfind("{\"return\": {\"qemu\": {\"micro\": 0, \"minor\": 2, \"major\": 7}, \"package\": \"qtpm ", 0) == 0);
  std::string cmds = r.req("{\"execute\": \"query-commands\"}");
  for (const char *name : {"qmp_capabilities", "query-status", "query-version", "query-commands", "quit",
                           "system_reset", "stop", "cont", "query-tpm", "query-tpm-models", "query-tpm-types",
                           "qom-list", "qom-get"}) {
    ck_assert_msg(cmds.find(std::string("{\"name\": \"") + name + "\"}") != std::string::npos, "%s", name);
  }
  CHECK_STR(r.req("{\"execute\": \"frob\"}").c_str(),
                   "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"The command frob has not been found\"}}\r\n");
  CHECK_STR(r.req("{\"execute\": \"query-status\", \"arguments\": {\"x\": 1}}").c_str(),
                   "{\"error\": {\"class\": \"GenericError\", \"desc\": \"Parameter 'x' is unexpected\"}}\r\n");
}
END_TEST

// The set of models query-tpm-models returns (an array of strings).
std::set<std::string> models(Rig &r) {
  std::string reply = r.req("{\"execute\": \"query-tpm-models\"}");
  JsonPtr v(json_tokener_parse(reply.c_str()));
  json_object *list = json_object_object_get(v.get(), "return");
  ck_assert(json_object_is_type(list, json_type_array));
  std::set<std::string> out;
  for (size_t i = 0; i < json_object_array_length(list); i++) {
    out.insert(json_object_get_string(json_object_array_get_idx(list, i)));
  }
  return out;
}

START_TEST(tpm_queries) {
  Rig r(tpm_args());
  CHECK_STR(r.req("{\"execute\": \"query-tpm\"}").c_str(),
                   "{\"return\": [{\"id\": \"tpm0\", \"model\": \"tpm-tis\", \"options\": {\"type\": \"fake\", "
                   "\"data\": {\"chardev\": \"chr\"}}}]}\r\n");
  // Real frontends and backends of other modules may be linked in beside the fakes.
  ck_assert(models(r) == (std::set<std::string>{"tpm-crb", "tpm-tis"}));
  std::string types = r.req("{\"execute\": \"query-tpm-types\"}");
  ck_assert_msg(types.rfind("{\"return\": [", 0) == 0 && types.find("\"fake\"") != std::string::npos, "%s", types.c_str());
  // A backend without a frontend is not listed, as in QEMU.
  Rig b({"-tpmdev", "fake,id=lonely"});
  CHECK_STR(b.req("{\"execute\": \"query-tpm\"}").c_str(), "{\"return\": []}\r\n");
  // Per target.
  Rig a({"-M", "virt"}, "qtpm-system-aarch64");
  ck_assert(models(a) == std::set<std::string>{"tpm-tis"});
  Rig p({}, "qtpm-system-ppc64");
  ck_assert(models(p) == std::set<std::string>{"tpm-spapr"});
}
END_TEST

START_TEST(qom_commands) {
  Rig r(tpm_args());
  std::string list = r.req("{\"execute\": \"qom-list\", \"arguments\": {\"path\": \"/machine/peripheral/tis\"}}");
  CHECK_STR(list.c_str(),
                   "{\"return\": [{\"name\": \"type\", \"type\": \"string\"}, {\"name\": \"irq\", \"type\": \"uint32\"}, "
                   "{\"name\": \"tpmdev\", \"type\": \"str\"}, {\"name\": \"ppi\", \"type\": \"bool\"}]}\r\n");
  std::string root = r.req("{\"execute\": \"qom-list\", \"arguments\": {\"path\": \"/\"}}");
  ck_assert(root.find("{\"name\": \"machine\", \"type\": \"child<pc-i440fx-7.2-machine>\"}") != std::string::npos);
  ck_assert(root.find("{\"name\": \"chardevs\", \"type\": \"child<container>\"}") != std::string::npos);
  auto get = [&](const char *path, const char *prop) {
    return r.req(std::string("{\"execute\": \"qom-get\", \"arguments\": {\"path\": \"") + path + "\", \"property\": \"" +
                 prop + "\"}}");
  };
  CHECK_STR(get("tis", "irq").c_str(), "{\"return\": 5}\r\n");
  CHECK_STR(get("tis", "ppi").c_str(), "{\"return\": true}\r\n");
  CHECK_STR(get("tis", "tpmdev").c_str(), "{\"return\": \"tpm0\"}\r\n");
  CHECK_STR(get("tis", "type").c_str(), "{\"return\": \"fake-tpm-isa\"}\r\n");
  CHECK_STR(get("/machine", "peripheral").c_str(), "{\"return\": \"/machine/peripheral\"}\r\n");
  CHECK_STR(get("tis", "nope").c_str(),
                   "{\"error\": {\"class\": \"GenericError\", \"desc\": \"Property 'fake-tpm-isa.nope' not found\"}}\r\n");
  CHECK_STR(get("/nope", "x").c_str(),
                   "{\"error\": {\"class\": \"DeviceNotFound\", \"desc\": \"Device '/nope' not found\"}}\r\n");
  // "ioapic" is unique, "peripheral" too, but "device[0]"-style names may repeat: ambiguity.
  CHECK_STR(get("ioapic", "type").c_str(), "{\"return\": \"ioapic\"}\r\n");
  CHECK_STR(r.req("{\"execute\": \"qom-get\", \"arguments\": {\"path\": \"tis\"}}").c_str(),
                   "{\"error\": {\"class\": \"GenericError\", \"desc\": \"Parameter 'property' is missing\"}}\r\n");
  CHECK_STR(r.req("{\"execute\": \"qom-list\", \"arguments\": {\"path\": 1}}").c_str(),
                   "{\"error\": {\"class\": \"GenericError\", \"desc\": \"Invalid parameter type for 'path', expected: "
                   "string\"}}\r\n");
}
END_TEST

START_TEST(run_control_and_events) {
  Rig r(tpm_args());
  auto *tpm = dynamic_cast<qtpm::testing::FakeTpmDevice *>(object_resolve_path(r.host->root(), "tis"));
  CHECK_STR(strip_timestamps(r.req("{\"execute\": \"stop\"}")).c_str(),
                   "{\"event\": \"STOP\"}\r\n{\"return\": {}}\r\n");
  ck_assert(r.host->run_state() == RunState::kPaused);
  CHECK_STR(r.req("{\"execute\": \"stop\"}").c_str(), "{\"return\": {}}\r\n");  // no event when not running
  CHECK_STR(strip_timestamps(r.req("{\"execute\": \"cont\"}")).c_str(),
                   "{\"event\": \"RESUME\"}\r\n{\"return\": {}}\r\n");
  CHECK_STR(strip_timestamps(r.req("{\"execute\": \"cont\"}")).c_str(),
                   "{\"event\": \"STOP\"}\r\n{\"event\": \"RESUME\"}\r\n{\"return\": {}}\r\n");
  int resets = tpm->resets;
  // The reply comes first, then the reset and its event.
  CHECK_STR(strip_timestamps(r.req("{\"execute\": \"system_reset\", \"id\": 1}")).c_str(),
                   "{\"return\": {}, \"id\": 1}\r\n"
                   "{\"event\": \"RESET\", \"data\": {\"guest\": false, \"reason\": \"host-qmp-system-reset\"}}\r\n");
  ck_assert_int_eq(tpm->resets, resets + 1);
  ck_assert(r.host->run_state() == RunState::kRunning);
  // Reset while paused leaves the VM in prelaunch (QEMU's main loop does that).
  r.req("{\"execute\": \"stop\"}");
  r.req("{\"execute\": \"system_reset\"}");
  CHECK_STR(r.req("{\"execute\": \"query-status\"}").c_str(),
                   "{\"return\": {\"status\": \"prelaunch\", \"singlestep\": false, \"running\": false}}\r\n");
  CHECK_STR(strip_timestamps(r.req("{\"execute\": \"quit\"}")).c_str(),
                   "{\"return\": {}}\r\n{\"event\": \"SHUTDOWN\", \"data\": {\"guest\": false, \"reason\": "
                   "\"host-qmp-quit\"}}\r\n");
  ck_assert_int_eq(r.quits, 1);
  // Incoming migration: cont only arms autostart.
  Rig in({"-incoming", "defer"});
  CHECK_STR(in.req("{\"execute\": \"cont\"}").c_str(), "{\"return\": {}}\r\n");
  ck_assert(in.host->run_state() == RunState::kInmigrate);
  ck_assert(in.run->autostart());
  in.req("{\"execute\": \"stop\"}");
  ck_assert(!in.run->autostart());
  // Events reach negotiated monitors only.
  Rig un({}, "qtpm-system-x86_64", false);
  un.out.clear();
  un.qmp.emit_event("TEST_EVENT");
  CHECK_STR(un.out.c_str(), "");
  un.req("{\"execute\": \"qmp_capabilities\"}");
  un.out.clear();
  un.qmp.emit_event("TEST_EVENT", json_object_new_object());
  CHECK_STR(strip_timestamps(un.out).c_str(), "{\"event\": \"TEST_EVENT\", \"data\": {}}\r\n");
}
END_TEST

START_TEST(request_shape_errors) {
  Rig r({});
  auto err = [](const char *desc) {
    return std::string("{\"error\": {\"class\": \"GenericError\", \"desc\": \"") + desc + "\"}}\r\n";
  };
  CHECK_STR(r.req("[1, 2]").c_str(), err("QMP input must be a JSON object").c_str());
  CHECK_STR(r.req("42").c_str(), err("QMP input must be a JSON object").c_str());
  CHECK_STR(r.req("{}").c_str(), err("QMP input lacks member 'execute'").c_str());
  CHECK_STR(r.req("{\"execute\": 1}").c_str(), err("QMP input member 'execute' must be a string").c_str());
  CHECK_STR(r.req("{\"execute\": \"quit\", \"foo\": 1}").c_str(), err("QMP input member 'foo' is unexpected").c_str());
  CHECK_STR(r.req("{\"execute\": \"stop\", \"arguments\": []}").c_str(),
                   err("QMP input member 'arguments' must be an object").c_str());
  ck_assert_int_eq(r.quits, 0);
  // The id comes back whatever its type, also with errors.
  CHECK_STR(r.req("{\"execute\": \"x\", \"id\": {\"a\": [1]}}").c_str(),
                   "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"The command x has not been found\"}, "
                   "\"id\": {\"a\": [1]}}\r\n");
  // Single quotes, as QEMU's parser accepts.
  CHECK_STR(strip_timestamps(r.req("{'execute': 'stop'}")), "{\"event\": \"STOP\"}\r\n{\"return\": {}}\r\n");
  // Non-ASCII text is escaped the way QEMU writes it.
  CHECK_STR(r.req("{\"execute\": \"caf\xc3\xa9\"}").c_str(),
                   "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"The command caf\\u00E9 has not been "
                   "found\"}}\r\n");
}
END_TEST

START_TEST(json_spelling) {
  CHECK_STR(json_quote("a\"b\\c\n\t\x01"), "\"a\\\"b\\\\c\\n\\t\\u0001\"");
  CHECK_STR(json_quote("\xf0\x9f\x98\x80"), "\"\\uD83D\\uDE00\"");  // surrogate pair
  CHECK_STR(json_quote("\xff\xc3"), "\"\\uFFFD\\uFFFD\"");           // invalid UTF-8
  CHECK_STR(json_quote("\xc0\x80"), "\"\\uFFFD\\uFFFD\"");           // overlong NUL
  CHECK_STR(json_quote(std::string("\0", 1)), "\"\\u0000\"");
  JsonPtr v(json_tokener_parse("{\"a\": [1, -2, 18446744073709551615, 1.5, null, true], \"b\": {}}"));
  CHECK_STR(json_write(v.get()), "{\"a\": [1, -2, 18446744073709551615, 1.5, null, true], \"b\": {}}");
  CHECK_STR(json_write(v.get(), true),
            "{\n    \"a\": [\n        1,\n        -2,\n        18446744073709551615,\n        1.5,\n"
            "        null,\n        true\n    ],\n    \"b\": {\n    }\n}");
}
END_TEST

START_TEST(streaming_and_garbage) {
  Rig r({});
  // Split anywhere, several requests in one chunk, whitespace between.
  r.out.clear();
  std::string two = "  {\"execute\": \"query-status\"}\n\n{\"execute\"  : \"stop\"}  \r\n";
  for (char c : two) r.mon->feed(std::string_view(&c, 1));
  ck_assert(r.out.find("\"status\": \"running\"") != std::string::npos);
  ck_assert(r.out.find("{\"return\": {}}\r\n") != std::string::npos);
  // A syntax error gets one reply; the parser picks up at the next line.
  std::string bad = r.req("{\"execute\": bogus}\n{\"execute\": \"query-status\"}");
  ck_assert(bad.rfind("{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON parse error, ", 0) == 0);
  ck_assert(bad.find("\"status\": \"paused\"") != std::string::npos);
  // Oversized input is refused and the stream recovers at the next newline.
  std::string big = "{\"execute\": \"" + std::string(QmpMonitor::kMaxPending + 10, 'a');
  r.out.clear();
  r.mon->feed(big);
  CHECK_STR(r.out.c_str(), "{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON parse error, input too long\"}}\r\n");
  r.out.clear();
  r.mon->feed(std::string(3u << 20, 'b'));  // still the same over-long line: dropped silently
  CHECK_STR(r.out.c_str(), "");
  ck_assert(r.req("\n{\"execute\": \"query-status\"}").find("\"return\"") != std::string::npos);
  // Deep nesting is bounded.
  std::string deep(1000, '[');
  ck_assert(r.req(deep).rfind("{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON parse error, ", 0) == 0);
  // NUL bytes and binary junk.
  ck_assert(r.req(std::string("\0\0\xff{", 4)).rfind("{\"error\"", 0) == 0);
  ck_assert(r.req("{\"execute\": \"query-status\"}").find("\"return\"") != std::string::npos);
}
END_TEST

START_TEST(random_bytes_never_crash) {
  Rig r({});
  std::mt19937 rng(99);
  static const char *pieces[] = {"{", "}", "[", "]", "\"execute\"", ":", ",", "\"quit\"", "\"stop\"", "\"cont\"",
                                 "\"arguments\"", "\"id\"", "1", "-1e999", "null", "true", "'x'", "\\u0000",
                                 "\n", " ", "\"qom-list\"", "\"path\"", "\"/\"", "\"qom-get\""};
  for (int i = 0; i < 20000; i++) {
    std::string chunk;
    for (int n = rng() % 12; n > 0; n--) {
      if (rng() % 5 == 0) {
        chunk += static_cast<char>(rng() % 256);
      } else {
        chunk += pieces[rng() % (sizeof pieces / sizeof *pieces)];
      }
    }
    r.mon->feed(chunk);
    r.out.clear();
  }
  // Still alive and answering.
  ck_assert(r.req("\n{\"execute\": \"query-version\"}").find("\"package\"") != std::string::npos);
}
END_TEST

}  // namespace

int main() {
  qtpm::testing::register_fake_types();
  Suite *s = suite_create("qmp");
  TCase *tc = tcase_create("qmp");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, greeting_and_negotiation);
  tcase_add_test(tc, basic_commands);
  tcase_add_test(tc, tpm_queries);
  tcase_add_test(tc, qom_commands);
  tcase_add_test(tc, run_control_and_events);
  tcase_add_test(tc, request_shape_errors);
  tcase_add_test(tc, json_spelling);
  tcase_add_test(tc, streaming_and_garbage);
  tcase_add_test(tc, random_bytes_never_crash);
  suite_add_tcase(s, tc);
  return qtpm::testing::run_suite(s);
}
