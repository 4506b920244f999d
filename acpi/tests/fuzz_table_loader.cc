// SPDX-License-Identifier: GPL-2.0-or-later
//
// libFuzzer target for the table-loader parser and the firmware-like linker: the input is a
// command list run against a small fixed file set.  Every command must be checked against the
// files it names (bounds, overflow, allocation) before it touches a byte.
#include <cstddef>
#include <cstdint>
#include <map>
#include <vector>

#include "acpi/table_linker.h"
#include "acpi/table_loader.h"

using namespace qtpm::acpi;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  // Whole 128-byte commands only; names are taken from the input as they are.
  Bytes loader(data, data + size - size % sizeof(TableLoaderEntry));
  std::vector<FirmwareFile> files = {
      {"etc/acpi/tables", Bytes(256, 0x11)},
      {"etc/acpi/rsdp", Bytes(20, 0x22)},
      {"etc/tpm/log", Bytes(64, 0)},
      {"a", Bytes(1, 0)},
      {"empty", Bytes()},
  };
  std::vector<TableLoaderCommand> commands;
  (void)TableLoader::parse(loader, &commands);
  std::map<std::string, LinkedFile> linked;
  LinkerLayout layout;
  (void)link_tables(files, loader, layout, &linked);
  for (const auto &[name, f] : linked) {
    bool known = false;
    for (const FirmwareFile &file : files) known |= file.name == name && file.data.size() == f.data.size();
    if (!known) __builtin_trap();  // linking never resizes or invents files
  }
  return 0;
}
