// SPDX-License-Identifier: GPL-2.0-or-later
//
// QEMU-style option strings ("id=tpm0,chardev=chrtpm,ppi"), as the C API takes them for
// backends and devices.  The syntax follows QEMU's QemuOpts (util/qemu-option.c, as documented
// in qemu-options.hx): items are separated by ',', a ",," inside a value is a literal comma, and
// an item without '=' means "item=on".  There is no implied first key: the C API passes the type
// separately.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "qom/status.h"

namespace qtpm::capi {

using OptionList = std::vector<std::pair<std::string, std::string>>;

// Parses `text` into (key, value) pairs in order.  Fails on an empty key ("a=1,,=2", "=x") or a
// key given twice ("Duplicate option 'x'"), naming the item.
Status parse_option_string(std::string_view text, OptionList *out);

}  // namespace qtpm::capi
