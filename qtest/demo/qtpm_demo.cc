// SPDX-License-Identifier: GPL-2.0-or-later
//
// qtpm-demo: what firmware and an operating system do with a TPM, run against qtpm's devices.
// This first version lists the device models and backends that this build contains; the full
// walk-through (startup, self-test, measurements, PCR reads through the registers, ACPI tables)
// grows with the frontends and backends.
#include <cstdio>

#include "backends/tpm/tpm_backend.h"
#include "qom/object.h"
#include "qtpm/qtpm.h"

int main() {
  qtpm_init();
  std::printf("qtpm %s\n\nTPM frontends:\n", qtpm_version());
  for (const qtpm::TypeInfo *t : qtpm::type_list(qtpm::kTypeTpmIf, false)) {
    std::printf("  %-16s %s\n", t->name.c_str(), t->description.c_str());
  }
  std::printf("TPM backends:\n");
  for (const qtpm::TypeInfo *t : qtpm::type_list(qtpm::kTypeTpmBackend, false)) {
    std::printf("  %-16s %s\n", t->name.c_str(), t->description.c_str());
  }
  return 0;
}
