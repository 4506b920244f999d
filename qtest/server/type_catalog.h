// SPDX-License-Identifier: GPL-2.0-or-later
//
// What the type registry offers on one architecture: user-creatable devices, TPM frontends and
// TPM backend types.  Everything here is derived from the registry (TypeInfo::bus, the
// "tpm-if" interface, types deriving from "tpm-backend" named "tpm-<type>"), so devices and
// backends that other modules register show up without the host knowing them.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "qom/object.h"
#include "qtest/server/arch.h"

namespace qtpm::host {

// A concrete device type that some machine of `arch` can take (its bus exists there).
bool device_type_on_arch(const TypeInfo &type, const ArchInfo &arch);

// All device types of `arch` (user-creatable or not), sorted case-insensitively as QEMU's
// `-device help` sorts them.
std::vector<const TypeInfo *> device_types(const ArchInfo &arch);

// TPM frontend types (tpm-if) of `arch`, sorted by name.
std::vector<const TypeInfo *> tpm_frontend_types(const ArchInfo &arch);
// The model a frontend type reports ("tpm-tis" for tpm-tis-device too), from an instance.
std::string tpm_frontend_model(const TypeInfo &type);

// Backend type names ("passthrough", "emulator", then others by name): QEMU's TpmType order.
std::vector<std::string> tpm_backend_types();
// The registered backend QOM type for `type` ("tpm-" + type), or nullptr.
const TypeInfo *tpm_backend_type(std::string_view type);

}  // namespace qtpm::host
