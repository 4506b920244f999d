// SPDX-License-Identifier: GPL-2.0-or-later
//
// The list of built-in types.  Each module exposes one registration function; listing them here
// (instead of static constructors) keeps them in static-library links, where unreferenced object
// files would otherwise be dropped.
#include <mutex>

#include "backends/tpm/tpm_backend.h"
#include "hw/core/device.h"
#include "qom/chardev.h"
#include "qom/module_init.h"
#include "qom/object.h"

namespace qtpm {

namespace {

void register_core_types() {
  TypeInfo device;
  device.name = kTypeDevice;
  device.parent = "object";
  device.abstract = true;
  type_register(device);

  TypeInfo tpm_if;
  tpm_if.name = kTypeTpmIf;
  tpm_if.parent = "interface";
  tpm_if.abstract = true;
  tpm_if.is_interface = true;
  type_register(tpm_if);

  TypeInfo backend;
  backend.name = kTypeTpmBackend;
  backend.parent = "object";
  backend.abstract = true;
  type_register(backend);

  TypeInfo chardev = make_type<Chardev>("chardev-socket", "object", "UNIX socket chardev");
  type_register(chardev);
}

}  // namespace

void register_builtin_types() {
  static std::once_flag once;
  std::call_once(once, [] {
    register_core_types();
    for (auto fn : kModuleInits)
      if (fn) fn();
  });
}

}  // namespace qtpm
