// SPDX-License-Identifier: GPL-2.0-or-later
//
// -dump-acpi (see dump_acpi.h).
#include "qtest/server/dump_acpi.h"

#include <glib.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "acpi/table_linker.h"

namespace qtpm::host {

namespace {

bool is_tpm_table(const std::string &signature) {
  return signature == "SSDT" || signature == "TPM2" || signature == "TCPA";
}

Status write_bytes(const std::string &path, const acpi::Bytes &data) {
  FILE *f = std::fopen(path.c_str(), "wb");
  if (!f) return Status::errorf("%s: %s", path.c_str(), std::strerror(errno));
  bool ok = std::fwrite(data.data(), 1, data.size(), f) == data.size();
  int saved = errno;
  ok = std::fclose(f) == 0 && ok;
  if (!ok) return Status::errorf("%s: %s", path.c_str(), std::strerror(saved ? saved : errno));
  return Status::ok();
}

// `iasl -d NAME.aml` in `dir` writes NAME.dsl there.  Its chatter is kept for error messages.
Status disassemble(const std::string &iasl, const std::string &dir, const std::string &aml) {
  std::vector<char *> argv = {const_cast<char *>(iasl.c_str()), const_cast<char *>("-d"),
                              const_cast<char *>(aml.c_str()), nullptr};
  gchar *out = nullptr;
  gchar *err = nullptr;
  gint status = 0;
  GError *error = nullptr;
  gboolean spawned = g_spawn_sync(dir.c_str(), argv.data(), nullptr, G_SPAWN_DEFAULT, nullptr,
                                  nullptr, &out, &err, &status, &error);
  std::string message = error ? error->message : "";
  bool ok = spawned && g_spawn_check_wait_status(status, nullptr);
  if (!ok && message.empty()) {
    // The last line iasl printed says why.
    std::string text = std::string(out ? out : "") + (err ? err : "");
    while (!text.empty() && text.back() == '\n') text.pop_back();
    message = text.substr(text.rfind('\n') == std::string::npos ? 0 : text.rfind('\n') + 1);
  }
  g_free(out);
  g_free(err);
  if (error) g_error_free(error);
  if (!ok) return Status::errorf("iasl -d %s failed: %s", aml.c_str(), message.c_str());
  return Status::ok();
}

}  // namespace

Status dump_acpi_tables(const acpi::FirmwareFiles &files, const std::string &dir,
                        std::vector<std::string> *written) {
  struct stat st;
  if (stat(dir.c_str(), &st) != 0) return Status::error(std::strerror(errno));
  if (!S_ISDIR(st.st_mode)) return Status::error(std::strerror(ENOTDIR));
  std::vector<acpi::BuiltTable> tables;
  if (Status s = acpi::linked_tables(files, {}, &tables); !s) return s;
  gchar *found = g_find_program_in_path("iasl");
  std::string iasl = found ? found : "";
  g_free(found);
  for (const acpi::BuiltTable &t : tables) {
    if (!is_tpm_table(t.signature)) continue;
    std::string aml = t.signature + ".aml";
    std::string path = dir + "/" + aml;
    if (Status s = write_bytes(path, t.data); !s) return s;
    written->push_back(path);
    if (iasl.empty()) continue;
    if (Status s = disassemble(iasl, dir, aml); !s) return s;
    written->push_back(dir + "/" + t.signature + ".dsl");
  }
  return Status::ok();
}

}  // namespace qtpm::host
