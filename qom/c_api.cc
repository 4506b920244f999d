// SPDX-License-Identifier: GPL-2.0-or-later
//
// The C API for embedders (include/qtpm/qtpm.h).
#include "qtpm/qtpm.h"

#include "qom/object.h"

extern "C" {

const char *qtpm_version(void) { return QTPM_VERSION; }

void qtpm_init(void) { qtpm::register_builtin_types(); }

}  // extern "C"
