// SPDX-License-Identifier: GPL-2.0-or-later
//
// Every golden ACPI table under acpi/tests/data/ checked with the real iasl: its checksum sums
// to 0, `iasl -d` disassembles it without errors, and the disassembly compiles back to the same
// bytes (apart from the compiler id and revision iasl writes, and so the checksum).  QEMU's AML
// needs `-vw 6105` (its _STR is a String) and draws warnings 3107/3115 for _DSM paths that
// return nothing (docs/acpi.md); nothing else is allowed.
#include "qom/testing.h"  // <check.h> without its `fail` macro, before any C++ header

#include <glib.h>

#include <cstdlib>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "acpi/tests/acpica_tools.h"

using namespace qtpm::testing;

namespace {

using Bytes = std::vector<uint8_t>;

// "<config>/<SIG>.aml" for every golden file.
std::vector<std::string> golden_files(const std::string &root) {
  std::vector<std::string> out;
  GDir *top = g_dir_open(root.c_str(), 0, nullptr);
  ck_assert_msg(top != nullptr, "%s: no golden directory", root.c_str());
  while (const char *config = g_dir_read_name(top)) {
    std::string sub = root + "/" + config;
    GDir *d = g_dir_open(sub.c_str(), 0, nullptr);
    if (!d) continue;
    while (const char *name = g_dir_read_name(d)) {
      if (g_str_has_suffix(name, ".aml")) out.push_back(std::string(config) + "/" + name);
    }
    g_dir_close(d);
  }
  g_dir_close(top);
  return out;
}

std::set<int> iasl_messages(const std::string &output, const std::string &kind) {
  std::set<int> ids;
  std::istringstream in(output);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(kind, 0) == 0) ids.insert(std::atoi(line.c_str() + kind.size()));
  }
  return ids;
}

void check_golden(const std::string &root, const std::string &rel) {
  Bytes aml;
  ck_assert_msg(read_file(root + "/" + rel, &aml), "%s: unreadable", rel.c_str());
  ck_assert_msg(aml.size() >= 36, "%s: shorter than a table header", rel.c_str());
  uint8_t sum = 0;
  for (uint8_t b : aml) sum += b;
  ck_assert_msg(sum == 0, "%s: checksum does not sum to 0", rel.c_str());

  TempDir dir;
  ck_assert(write_file(dir.file("t.aml"), aml));
  std::string out;
  int rc = run_tool({"iasl", "-d", "t.aml"}, dir.path(), &out);
  ck_assert_msg(rc == 0 && iasl_messages(out, "Error").empty(), "%s: iasl -d:\n%s", rel.c_str(),
                out.c_str());
  rc = run_tool({"iasl", "-vw", "6105", "-p", "re", "t.dsl"}, dir.path(), &out);
  ck_assert_msg(rc == 0 && iasl_messages(out, "Error").empty(), "%s: iasl:\n%s", rel.c_str(),
                out.c_str());
  std::set<int> warnings = iasl_messages(out, "Warning");
  warnings.erase(3107);
  warnings.erase(3115);
  ck_assert_msg(warnings.empty(), "%s: unexpected iasl warnings:\n%s", rel.c_str(), out.c_str());

  Bytes again;
  ck_assert(read_file(dir.file("re.aml"), &again));
  ck_assert_msg(again.size() == aml.size(), "%s: %zu bytes recompiled vs %zu", rel.c_str(),
                again.size(), aml.size());
  // Header bytes 9 (checksum) and 28..35 (compiler id, revision) are iasl's own.
  for (size_t i = 0; i < aml.size(); i++) {
    if (i == 9 || (i >= 28 && i < 36)) continue;
    ck_assert_msg(again[i] == aml[i], "%s: byte %zu differs after iasl -d / iasl (%02x, %02x)",
                  rel.c_str(), i, again[i], aml[i]);
  }
}

START_TEST(test_goldens_with_iasl) {
  ck_assert_msg(!find_tool("iasl").empty(), "iasl not found: install acpica-tools");
  const char *root = std::getenv("QTPM_ACPI_GOLDEN_DIR");
  ck_assert_msg(root != nullptr, "QTPM_ACPI_GOLDEN_DIR is not set (meson sets it)");
  std::vector<std::string> files = golden_files(root);
  // Five configurations, two tables each.
  ck_assert_uint_eq(files.size(), 10);
  for (const std::string &rel : files) check_golden(root, rel);
}
END_TEST

}  // namespace

int main() {
  Suite *suite = suite_create("acpi-golden");
  TCase *tc = tcase_create("iasl");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_goldens_with_iasl);
  suite_add_tcase(suite, tc);
  return run_suite(suite);
}
