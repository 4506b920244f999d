// SPDX-License-Identifier: GPL-2.0-or-later
//
// Running iasl and acpiexec from tests (see acpica_tools.h).
#include "acpi/tests/acpica_tools.h"

#include <glib.h>
#include <glib/gstdio.h>

#include <sys/wait.h>

#include <cstdio>
#include <sstream>

namespace qtpm::testing {

TempDir::TempDir() {
  GError *err = nullptr;
  gchar *dir = g_dir_make_tmp("qtpm-acpi-XXXXXX", &err);
  if (dir) {
    path_ = dir;
    g_free(dir);
  } else {
    g_error_free(err);
  }
}

TempDir::~TempDir() {
  if (path_.empty()) return;
  GDir *d = g_dir_open(path_.c_str(), 0, nullptr);
  if (d) {
    while (const gchar *name = g_dir_read_name(d)) g_unlink(file(name).c_str());
    g_dir_close(d);
  }
  g_rmdir(path_.c_str());
}

bool write_file(const std::string &path, const std::vector<uint8_t> &data) {
  return g_file_set_contents(path.c_str(), reinterpret_cast<const gchar *>(data.data()),
                             static_cast<gssize>(data.size()), nullptr);
}

bool write_text(const std::string &path, const std::string &text) {
  return g_file_set_contents(path.c_str(), text.data(), static_cast<gssize>(text.size()), nullptr);
}

bool read_file(const std::string &path, std::vector<uint8_t> *out) {
  gchar *contents = nullptr;
  gsize length = 0;
  if (!g_file_get_contents(path.c_str(), &contents, &length, nullptr)) return false;
  out->assign(reinterpret_cast<uint8_t *>(contents), reinterpret_cast<uint8_t *>(contents) + length);
  g_free(contents);
  return true;
}

std::string find_tool(const char *name) {
  gchar *p = g_find_program_in_path(name);
  std::string out = p ? p : "";
  g_free(p);
  return out;
}

int run_tool(const std::vector<std::string> &argv, const std::string &cwd, std::string *output) {
  std::vector<gchar *> args;
  for (const std::string &a : argv) args.push_back(const_cast<gchar *>(a.c_str()));
  args.push_back(nullptr);
  gchar *out = nullptr;
  gchar *errout = nullptr;
  gint wait_status = 0;
  GError *err = nullptr;
  gboolean ok = g_spawn_sync(cwd.c_str(), args.data(), nullptr,
                             static_cast<GSpawnFlags>(G_SPAWN_SEARCH_PATH | G_SPAWN_LEAVE_DESCRIPTORS_OPEN), nullptr,
                             nullptr, &out, &errout, &wait_status, &err);
  if (!ok) {
    *output = std::string("cannot run ") + argv[0] + ": " + err->message;
    g_error_free(err);
    return -1;
  }
  // stderr after stdout: the tools report problems on either.
  *output = std::string(out ? out : "") + (errout ? errout : "");
  g_free(out);
  g_free(errout);
  return WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : -1;
}

namespace {

std::string trim(const std::string &s) {
  size_t a = s.find_first_not_of(" \t");
  size_t b = s.find_last_not_of(" \t\r");
  return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

std::string lower_hex_bytes(const std::string &text) {
  // "FF 01" -> "ff 01"
  std::string out;
  std::istringstream in(text);
  std::string tok;
  while (in >> tok) {
    if (tok.size() != 2) break;
    if (!out.empty()) out += ' ';
    for (char c : tok) out += static_cast<char>(g_ascii_tolower(c));
  }
  return out;
}

// Parses one value starting at lines[*i]; advances *i past it.
std::string parse_value(const std::vector<std::string> &lines, size_t *i) {
  std::string line = trim(lines[*i]);
  (*i)++;
  if (line.rfind("[Integer] = ", 0) == 0) {
    unsigned long long v = strtoull(line.c_str() + 12, nullptr, 16);
    char buf[32];
    snprintf(buf, sizeof buf, "int 0x%llx", v);
    return buf;
  }
  if (line.rfind("[String] Length ", 0) == 0) {
    size_t q = line.find('"');
    return "str " + (q == std::string::npos ? std::string("?") : line.substr(q));
  }
  if (line.rfind("[Buffer] Length ", 0) == 0) {
    // Up to 16 bytes: "[Buffer] Length 02 =     0000: FF 01   // ..".  More: nothing after
    // "=", then one "    0000: ..  // .." line per 16 bytes.
    std::string bytes;
    auto take = [&bytes](const std::string &dump_line) {
      size_t colon = dump_line.find(": ");
      std::string hexpart = dump_line.substr(colon + 2);
      size_t comment = hexpart.find("//");
      if (comment != std::string::npos) hexpart = hexpart.substr(0, comment);
      std::string h = lower_hex_bytes(hexpart);
      if (!h.empty()) bytes += (bytes.empty() ? "" : " ") + h;
    };
    if (line.find(": ") != std::string::npos) take(line);
    while (*i < lines.size()) {
      std::string next = trim(lines[*i]);
      if (next.size() < 6 || next[4] != ':' || !g_ascii_isxdigit(next[0])) break;
      take(next);
      (*i)++;
    }
    return "buf " + bytes;
  }
  if (line.rfind("[Package] Contains ", 0) == 0) {
    unsigned long n = strtoul(line.c_str() + 19, nullptr, 10);
    std::string out = "pkg [";
    for (unsigned long k = 0; k < n && *i < lines.size(); k++) {
      if (k) out += ", ";
      out += parse_value(lines, i);
    }
    return out + "]";
  }
  return "unknown " + line;
}

}  // namespace

void parse_acpiexec_output(const std::string &output, AcpiexecRun *run) {
  std::vector<std::string> lines;
  std::istringstream in(output);
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  for (size_t i = 0; i < lines.size();) {
    const std::string &line = lines[i];
    if (line.find("ACPI Error") != std::string::npos ||
        line.find("ACPI Warning") != std::string::npos ||
        line.find("ACPI Exception") != std::string::npos) {
      run->problems.push_back(line);
    }
    if (line.rfind("Evaluating ", 0) != 0) {
      i++;
      continue;
    }
    AcpiEval e;
    e.path = trim(line.substr(11));
    i++;
    // Find the outcome of this evaluation before the next "Evaluating".
    for (; i < lines.size() && lines[i].rfind("Evaluating ", 0) != 0; i++) {
      const std::string &l = lines[i];
      if (l.find("ACPI Error") != std::string::npos ||
          l.find("ACPI Warning") != std::string::npos ||
          l.find("ACPI Exception") != std::string::npos)
        run->problems.push_back(l);
      if (l.rfind("No object was returned", 0) == 0) {
        e.value = "none";
        i++;
        break;
      }
      size_t failed = l.find("failed with status ");
      if (l.rfind("Evaluation of ", 0) == 0 && failed != std::string::npos) {
        e.value = "fail " + trim(l.substr(failed + 19));
        i++;
        break;
      }
      if (l.rfind("Evaluation of ", 0) == 0 && l.find("returned object") != std::string::npos) {
        i++;
        if (i < lines.size()) e.value = parse_value(lines, &i);
        break;
      }
    }
    run->evals.push_back(e);
  }
}

AcpiexecRun run_acpiexec(const std::vector<std::string> &commands,
                         const std::vector<std::string> &table_files, const std::string &cwd) {
  // Commands go through stdin, one a line: "-b" limits its command line to 1023 characters.
  std::string script;
  for (const std::string &c : commands) script += c + "\n";
  script += "quit\n";
  AcpiexecRun run;
  if (!write_text(cwd + "/acpiexec-commands.txt", script)) {
    run.output = "cannot write the acpiexec command file";
    return run;
  }
  // The shell only redirects stdin; table names travel as arguments, never as shell text.
  std::vector<std::string> argv = {"sh", "-c", "exec acpiexec \"$@\" < acpiexec-commands.txt",
                                   "acpiexec"};
  argv.insert(argv.end(), table_files.begin(), table_files.end());
  run.status = run_tool(argv, cwd, &run.output);
  parse_acpiexec_output(run.output, &run);
  return run;
}

}  // namespace qtpm::testing
