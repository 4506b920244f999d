// SPDX-License-Identifier: GPL-2.0-or-later
//
// Device-tree facts as data: what an embedder puts under /vdevice for a VIO device (Devicetree
// Specification 0.3 property encodings; the node QEMU 7.2's vio_make_devnode() writes).  No
// libfdt here: an embedder copies the properties into its own tree, tests compare them.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace qtpm::spapr {

struct DtProperty {
  std::string name;
  std::vector<uint8_t> value;  // exactly the bytes of the property

  // <u32 ...>: big-endian cells.
  static DtProperty cells(std::string name, std::initializer_list<uint32_t> cells) {
    DtProperty p{std::move(name), {}};
    for (uint32_t c : cells) {
      for (int shift = 24; shift >= 0; shift -= 8) p.value.push_back(uint8_t(c >> shift));
    }
    return p;
  }
  // A NUL-terminated string.
  static DtProperty string(std::string name, std::string_view text) {
    DtProperty p{std::move(name), std::vector<uint8_t>(text.begin(), text.end())};
    p.value.push_back(0);
    return p;
  }
};

struct DtNode {
  std::string name;  // "vtpm@71000004"
  std::vector<DtProperty> properties;

  const DtProperty *find(std::string_view property) const {
    for (const DtProperty &p : properties)
      if (p.name == property) return &p;
    return nullptr;
  }
};

}  // namespace qtpm::spapr
