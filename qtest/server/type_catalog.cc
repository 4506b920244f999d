// SPDX-License-Identifier: GPL-2.0-or-later
//
// Device and backend catalog (see type_catalog.h).
#include "qtest/server/type_catalog.h"

#include <strings.h>

#include <algorithm>

#include "backends/tpm/tpm_backend.h"
#include "hw/core/device.h"

namespace qtpm::host {

bool device_type_on_arch(const TypeInfo &type, const ArchInfo &arch) {
  return !type.abstract && !type.bus.empty() && type_is_a(type.name, kTypeDevice) &&
         arch.has_bus(type.bus);
}

std::vector<const TypeInfo *> device_types(const ArchInfo &arch) {
  std::vector<const TypeInfo *> out;
  for (const TypeInfo *t : type_list(kTypeDevice, false))
    if (device_type_on_arch(*t, arch)) out.push_back(t);
  std::stable_sort(out.begin(), out.end(), [](const TypeInfo *a, const TypeInfo *b) {
    return strcasecmp(a->name.c_str(), b->name.c_str()) < 0;
  });
  return out;
}

std::vector<const TypeInfo *> tpm_frontend_types(const ArchInfo &arch) {
  std::vector<const TypeInfo *> out;
  for (const TypeInfo *t : type_list(kTypeTpmIf, false))
    if (device_type_on_arch(*t, arch)) out.push_back(t);
  return out;
}

std::string tpm_frontend_model(const TypeInfo &type) {
  // The model is a property of the class in QEMU; here the frontend answers it.  Construction
  // is cheap and has no side effects (the object model's contract), so an instance is made.
  std::unique_ptr<Object> o = object_new(type.name);
  auto *frontend = o ? dynamic_cast<TpmFrontend *>(o.get()) : nullptr;
  return frontend ? frontend->tpm_model() : type.name;
}

std::vector<std::string> tpm_backend_types() {
  std::vector<std::string> out;
  for (const TypeInfo *t : type_list(kTypeTpmBackend, false)) {
    if (t->name.rfind("tpm-", 0) == 0 && t->name.size() > 4) out.push_back(t->name.substr(4));
  }
  auto rank = [](const std::string &name) { return name == "passthrough" ? 0 : name == "emulator" ? 1 : 2; };
  std::stable_sort(out.begin(), out.end(), [&](const std::string &a, const std::string &b) {
    return rank(a) != rank(b) ? rank(a) < rank(b) : a < b;
  });
  return out;
}

const TypeInfo *tpm_backend_type(std::string_view type) {
  if (type.empty()) return nullptr;
  const TypeInfo *t = type_find("tpm-" + std::string(type));
  if (!t || t->abstract || !type_is_a(t->name, kTypeTpmBackend)) return nullptr;
  return t;
}

}  // namespace qtpm::host
