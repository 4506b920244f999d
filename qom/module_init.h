// SPDX-License-Identifier: GPL-2.0-or-later
//
// Registration functions of the modules that define types.  A module adds its function here and
// to kModuleInits; register_builtin_types() runs them once, in this order.
#pragma once

namespace qtpm {

using ModuleInitFn = void (*)();

inline constexpr ModuleInitFn kModuleInits[] = {
    nullptr,  // placeholder until the first module lands; skipped
};

}  // namespace qtpm
