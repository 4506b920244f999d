// SPDX-License-Identifier: GPL-2.0-or-later
//
// Registration functions of the modules that define types.  Each is declared weak, so a module
// that is not built yet (or is left out of a build) is simply skipped; a module defines its
// function (strong) in its own source file.  register_builtin_types() runs them once, in order.
#pragma once

namespace qtpm {

// Frontends
void register_tpm_tis_types() __attribute__((weak));
void register_tpm_crb_types() __attribute__((weak));
void register_tpm_spapr_types() __attribute__((weak));
// Backends
void register_tpm_emulator_types() __attribute__((weak));
void register_tpm_passthrough_types() __attribute__((weak));
void register_tpm_libtpms_types() __attribute__((weak));
// Firmware interface
void register_fw_cfg_types() __attribute__((weak));

using ModuleInitFn = void (*)();

inline ModuleInitFn const kModuleInits[] = {
    register_tpm_tis_types,      register_tpm_crb_types,         register_tpm_spapr_types,
    register_tpm_emulator_types, register_tpm_passthrough_types, register_tpm_libtpms_types,
    register_fw_cfg_types,
};

}  // namespace qtpm
