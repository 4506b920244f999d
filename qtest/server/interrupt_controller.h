// SPDX-License-Identifier: GPL-2.0-or-later
//
// The interrupt controller that device IRQ outputs are wired to: x86's IOAPIC (24 inputs;
// QEMU's qtests watch ISA IRQ n as "irq_intercept_in ioapic" -> "IRQ raise n") and Arm virt's
// GIC (its inputs are the shared peripheral interrupts; the platform bus starts at SPI 112).
//
// qtpm runs no guest CPU, so the controller only holds input levels and reports changes to an
// observer - the qtest interceptor.  It is an Object so that qtest and QMP find it in the
// composition tree, as in QEMU (/machine/i440fx/ioapic, /machine/q35/ioapic).
#pragma once

#include <functional>
#include <vector>

#include "qom/object.h"

namespace qtpm::host {

class InterruptController : public Object {
 public:
  using Observer = std::function<void(unsigned input, bool level)>;

  unsigned input_count() const { return static_cast<unsigned>(levels_.size()); }
  // Sets an input's level; inputs past input_count() are ignored (returns false).
  bool set_input(unsigned input, bool level);
  bool input_level(unsigned input) const { return input < levels_.size() && levels_[input]; }
  // Called on every set_input of a valid input (the level may be unchanged).
  void set_observer(Observer observer) { observer_ = std::move(observer); }

 protected:
  explicit InterruptController(unsigned inputs) : levels_(inputs, false) {}

 private:
  std::vector<bool> levels_;
  Observer observer_;
};

class Ioapic : public InterruptController {
 public:
  static constexpr unsigned kInputs = 24;
  Ioapic() : InterruptController(kInputs) {}
};

class ArmGic : public InterruptController {
 public:
  // QEMU's virt creates the GIC with 256 interrupts; the first 32 are per-CPU (SGI/PPI), the
  // inputs are the 224 SPIs.
  static constexpr unsigned kInputs = 224;
  ArmGic() : InterruptController(kInputs) {}
};

// Registers the host's own QOM types (interrupt controllers, host bridges, machine types);
// idempotent.
void register_host_types();

}  // namespace qtpm::host
