// SPDX-License-Identifier: GPL-2.0-or-later
//
// Interrupt controllers and the host's QOM types (see interrupt_controller.h).
#include "qtest/server/interrupt_controller.h"

#include <mutex>

#include "qtest/server/arch.h"

namespace qtpm::host {

bool InterruptController::set_input(unsigned input, bool level) {
  if (input >= levels_.size()) return false;
  levels_[input] = level;
  if (observer_) observer_(input, level);
  return true;
}

namespace {

TypeInfo host_type(TypeInfo info) {
  info.user_creatable = false;
  return info;
}

template <typename T>
void register_host_type(const char *name, const char *description) {
  type_register(host_type(make_type<T>(name, "object", description)));
}

}  // namespace

void register_host_types() {
  static std::once_flag once;
  std::call_once(once, [] {
    register_host_type<Ioapic>("ioapic", "I/O APIC");
    register_host_type<ArmGic>("arm-gicv3", "ARM Generic Interrupt Controller v3");
    register_host_type<ArmGic>("arm_gic", "ARM Generic Interrupt Controller");
    register_host_type<Container>("i440FX-pcihost", "i440FX host bridge");
    register_host_type<Container>("q35-pcihost", "Q35 host bridge");
    for (const char *arch : {"x86_64", "aarch64", "ppc64"}) {
      for (const MachineSpec &m : arch_find(arch)->machines) {
        if (!type_find(m.qom_type())) register_host_type<Container>(m.qom_type().c_str(), m.desc.c_str());
      }
    }
  });
}

}  // namespace qtpm::host
