// SPDX-License-Identifier: GPL-2.0-or-later
//
// Devices: objects with memory regions and IRQ outputs that a machine wires up.
//
// A device declares its regions and IRQ outputs in realize(); the machine (qtpm's host, or the
// QEMU glue) maps the regions and connects the outputs afterwards.  Everything outside the
// device comes through HostServices, set before realize.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "hw/core/irq.h"
#include "hw/core/memory.h"
#include "qom/host_services.h"
#include "qom/object.h"

namespace qtpm {

inline constexpr const char *kTypeDevice = "device";

class Device : public Object {
 public:
  void set_host(HostServices *host) { host_ = host; }
  HostServices *host() const { return host_; }

  // Valid after realize.
  const std::vector<MemoryRegion> &regions() const { return regions_; }
  size_t irq_count() const { return irqs_.size(); }
  IrqOutput &irq(size_t n) { return *irqs_.at(n); }

 protected:
  Device() = default;

  // For do_realize: declare a region / an IRQ output (index = order of declaration).
  void add_region(MemoryRegion region) { regions_.push_back(std::move(region)); }
  void clear_regions() { regions_.clear(); }
  IrqOutput &add_irq() {
    irqs_.push_back(std::make_unique<IrqOutput>());
    return *irqs_.back();
  }

 private:
  HostServices *host_ = nullptr;
  std::vector<MemoryRegion> regions_;
  std::vector<std::unique_ptr<IrqOutput>> irqs_;
};

}  // namespace qtpm
