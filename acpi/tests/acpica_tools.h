// SPDX-License-Identifier: GPL-2.0-or-later
//
// Running the real ACPICA tools from tests: iasl (disassemble, compile) and acpiexec (load
// tables and evaluate objects in its AML interpreter), with a parser for acpiexec's batch
// output.  Tests call these instead of a shell so that every failure is an assertion with the
// tool's own output attached.
#pragma once

#include <string>
#include <vector>

#include "acpi/acpi_table.h"

namespace qtpm::testing {

// A fresh directory under $TMPDIR, removed with its files when the object goes away.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir &) = delete;
  TempDir &operator=(const TempDir &) = delete;
  const std::string &path() const { return path_; }
  std::string file(const std::string &name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

bool write_file(const std::string &path, const std::vector<uint8_t> &data);
bool write_text(const std::string &path, const std::string &text);
bool read_file(const std::string &path, std::vector<uint8_t> *out);

// Runs argv[0] (looked up in PATH) in `cwd`, collecting stdout and stderr together.  Returns the
// exit status, or -1 if it could not be started (the reason is in *output).
int run_tool(const std::vector<std::string> &argv, const std::string &cwd, std::string *output);

// Path of an installed tool, or "" (tests fail with a message naming the package).
std::string find_tool(const char *name);

// One `evaluate` of an acpiexec batch run, its result in a canonical text form:
//   "int 0x5", "str \"1.3\"", "buf ff 01", "pkg [int 0x0, int 0x5]", "none" (no object
//   returned), "fail AE_NOT_FOUND".
struct AcpiEval {
  std::string path;
  std::string value;
};

struct AcpiexecRun {
  int status = -1;
  std::string output;
  std::vector<AcpiEval> evals;
  std::vector<std::string> problems;  // "ACPI Error/Warning/Exception" lines
};

// Parses acpiexec's output for the results of its evaluate commands, in order.
void parse_acpiexec_output(const std::string &output, AcpiexecRun *run);

// acpiexec tables... with `commands` on its stdin, one a line, then "quit".
AcpiexecRun run_acpiexec(const std::vector<std::string> &commands,
                         const std::vector<std::string> &table_files, const std::string &cwd);

}  // namespace qtpm::testing
