// SPDX-License-Identifier: GPL-2.0-or-later
//
// The demo's ACPI part: the tables a machine with this device hands its firmware (acpi/), the
// way qtpm-system serves them over fw_cfg.  The TPM2/TCPA table is dumped field by field; the
// SSDT with the device and its PPI _DSM is disassembled with ACPICA's iasl when it is installed.
#include "qtest/demo/demo_tables.h"

#include <glib.h>
#include <glib/gstdio.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "acpi/firmware_files.h"
#include "hw/tpm/tpm_acpi_info.h"

namespace qtpm::demo {

namespace {

bool describe(Device &device, TpmAcpiDescription *d) {
  auto *provider = dynamic_cast<TpmAcpiProvider *>(&device);
  if (provider) *d = provider->acpi_description();
  return provider != nullptr;
}

uint64_t le(const acpi::Bytes &b, size_t off, int n) {
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; i--) v = v << 8 | b.at(off + size_t(i));
  return v;
}

void hexdump(const acpi::Bytes &b) {
  for (size_t i = 0; i < b.size(); i += 16) {
    std::printf("  %04zx:", i);
    for (size_t j = i; j < i + 16 && j < b.size(); j++) std::printf(" %02x", b[j]);
    std::printf("\n");
  }
}

void print_tpm2(const acpi::Bytes &t) {
  std::printf("acpi: TPM2 table, %zu bytes, revision %u\n", t.size(), t.at(8));
  std::printf("  platform class %llu, control area 0x%llx, start method %llu (%s)\n",
              (unsigned long long)le(t, 36, 2), (unsigned long long)le(t, 40, 8),
              (unsigned long long)le(t, 48, 4), le(t, 48, 4) == 7 ? "CRB" : "TIS/FIFO MMIO");
  std::printf("  log area: %llu bytes at an address the firmware's loader fills in\n",
              (unsigned long long)le(t, 64, 4));
  hexdump(t);
}

// Disassembles an AML table with iasl into a temporary folder and prints the ASL body.
void print_disassembly(const acpi::BuiltTable &table) {
  gchar *iasl = g_find_program_in_path("iasl");
  if (!iasl) {
    std::printf("acpi: %s, %zu bytes (install acpica-tools to see it disassembled)\n",
                table.signature.c_str(), table.data.size());
    hexdump(table.data);
    return;
  }
  gchar *dir = g_dir_make_tmp("qtpm-demo-XXXXXX", nullptr);
  std::string aml = std::string(dir) + "/" + table.signature + ".aml";
  std::string dsl = std::string(dir) + "/" + table.signature + ".dsl";
  if (g_file_set_contents(aml.c_str(), reinterpret_cast<const gchar *>(table.data.data()),
                          gssize(table.data.size()), nullptr)) {
    const gchar *argv[] = {iasl, "-d", aml.c_str(), nullptr};
    gint status = 1;
    auto flags = GSpawnFlags(G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL);
    g_spawn_sync(dir, const_cast<gchar **>(argv), nullptr, flags, nullptr, nullptr, nullptr,
                 nullptr, &status, nullptr);
    gchar *text = nullptr;
    if (status == 0 && g_file_get_contents(dsl.c_str(), &text, nullptr, nullptr)) {
      // Skip iasl's banner comment; print from the DefinitionBlock on.
      const char *body = std::strstr(text, "DefinitionBlock");
      std::printf("acpi: %s disassembled by iasl:\n%s\n", table.signature.c_str(),
                  body ? body : text);
      g_free(text);
    }
  }
  g_unlink(aml.c_str());
  g_unlink(dsl.c_str());
  g_rmdir(dir);
  g_free(dir);
  g_free(iasl);
}

}  // namespace

void print_acpi_tables(Device &device) {
  TpmAcpiDescription d;
  if (!describe(device, &d)) return;
  acpi::FirmwareFiles files;
  Status st = acpi::build_firmware_files(&d, acpi::AcpiMachine::kX86Q35, {}, &files);
  if (!st) {
    std::printf("acpi: %s\n", st.message().c_str());
    return;
  }
  std::printf("acpi: fw_cfg files for a q35 machine with this TPM:");
  for (const auto &f : files.files) std::printf(" %s (%zu)", f.name.c_str(), f.data.size());
  std::printf("\n");
  if (const acpi::FirmwareFile *cfg = files.find("etc/tpm/config")) {
    std::printf("acpi: etc/tpm/config =");
    for (uint8_t b : cfg->data) std::printf(" %02x", b);
    std::printf("  (PPI at 0x%08llx, TPM version %u, PPI version %u)\n",
                (unsigned long long)le(cfg->data, 0, 4), cfg->data.at(4), cfg->data.at(5));
  }
  for (const auto &t : files.tables) {
    if (t.signature == "TPM2") print_tpm2(t.data);
    if (t.signature == "TCPA") hexdump(t.data);
  }
  for (const auto &t : files.tables) {
    if (t.signature == "SSDT") print_disassembly(t);
  }
}

}  // namespace qtpm::demo
