// SPDX-License-Identifier: GPL-2.0-or-later
//
// Machines: composition tree, RAM, device plugging (see machine.h).  Addresses and IRQ numbers
// follow QEMU 7.2's hw/i386/pc_piix.c, pc_q35.c, hw/arm/virt.c and hw/core/platform-bus.c.
#include "qtest/server/machine.h"

#include <cinttypes>

#include "qom/trace.h"
#include "qtest/server/spapr_machine_hooks.h"

namespace qtpm::host {

namespace {

constexpr uint64_t k4GiB = uint64_t{1} << 32;

uint64_t pow2ceil(uint64_t v) {
  uint64_t p = 1;
  while (p < v && p != 0) p <<= 1;
  return p;
}

Object *add_container(Object *parent, const std::string &name, const char *type = "container") {
  std::unique_ptr<Object> c = object_new(type);
  Object *raw = c.get();
  Status st = parent->add_child(name, std::move(c));
  (void)st;  // fresh names under a fresh parent cannot clash
  return raw;
}

}  // namespace

Machine::Machine(const ArchInfo &arch, const MachineSpec &spec)
    : arch_(arch),
      spec_(spec),
      memory_("memory", 0, 0x00),
      // QEMU's unassigned port I/O reads as all ones.
      io_("io", 0x10000, 0xff) {}

Machine::~Machine() = default;

Status Machine::init(Object *root, uint64_t ram_size, const OptionList &props) {
  register_host_types();
  machine_ = add_container(root, "machine", spec_.qom_type().c_str());
  peripheral_ = add_container(machine_, "peripheral");
  peripheral_anon_ = add_container(machine_, "peripheral-anon");
  add_container(machine_, "unattached");
  if (spec_.irq_controller == IrqController::kIoapic) {
    Object *bridge = add_container(machine_, spec_.host_bridge,
                                   spec_.host_bridge == "q35" ? "q35-pcihost" : "i440FX-pcihost");
    intc_ = static_cast<InterruptController *>(add_container(bridge, "ioapic", "ioapic"));
  } else if (spec_.irq_controller == IrqController::kGic) {
    bool v2 = false;
    for (const auto &[name, value] : props) v2 = name == "gic-version" ? value == "2" : v2;
    intc_ = static_cast<InterruptController *>(add_container(machine_, "gic", v2 ? "arm_gic" : "arm-gicv3"));
  }
  return map_guest_ram(ram_size);
}

Status Machine::map_guest_ram(uint64_t ram_size) {
  if (Status st = ram_.allocate(spec_.ram_name, ram_size); !st) return st;
  if (ram_size == 0) return Status::ok();
  bool split = spec_.split_threshold != 0 && ram_size >= spec_.split_threshold;
  if (!split) {
    return memory_.map(spec_.ram_base, MemoryRegion::ram(spec_.ram_name, ram_.host(), ram_size), this);
  }
  // x86: the low part below the PCI hole, the rest from 4 GiB (QEMU's ram-below-4g/-above-4g).
  uint64_t low = spec_.low_ram_when_split;
  if (Status st = memory_.map(0, MemoryRegion::ram("ram-below-4g", ram_.host(), low), this); !st) {
    return st;
  }
  return memory_.map(k4GiB, MemoryRegion::ram("ram-above-4g", ram_.host() + low, ram_size - low), this);
}

uint8_t *Machine::ram_at(uint64_t addr, uint64_t len) {
  if (!AddressSpace::range_ok(addr, len)) return nullptr;
  const AddressSpace::Mapping *m = memory_.lookup(addr);
  // Guest RAM is what map_guest_ram() mapped with the machine as owner; device memory (the PPI
  // page) is not guest RAM.
  if (!m || m->owner != this || !m->region.host_ptr()) return nullptr;
  uint64_t offset = addr - m->base;
  if (len > m->region.size() - offset) return nullptr;
  return m->region.host_ptr() + offset;
}

Status Machine::add_device(std::unique_ptr<Device> device, const std::optional<std::string> &id,
                           Device **out) {
  Device *raw = device.get();
  if (id) {
    if (peripheral_->child(*id)) return Status::errorf("Duplicate ID '%s' for device", id->c_str());
    device->set_id(*id);
    if (Status st = peripheral_->add_child(*id, std::move(device)); !st) return st;
  } else {
    std::string name = strprintf("device[%u]", anon_count_++);
    if (Status st = peripheral_anon_->add_child(name, std::move(device)); !st) return st;
  }
  *out = raw;
  return Status::ok();
}

void Machine::remove_device(Device *device) {
  Object *parent = device->parent();
  if (parent) parent->remove_child(device->name_in_parent());  // destroys it
}

std::optional<uint64_t> Machine::platform_bus_place(uint64_t size) {
  uint64_t align = pow2ceil(size);
  if (align == 0 || size > kPlatformBusSize) return std::nullopt;
  for (uint64_t off = 0; off + size <= kPlatformBusSize; off += align) {
    bool free = true;
    for (const PlatformSlot &s : platform_slots_) {
      free = free && (off + size <= s.offset || s.offset + s.size <= off);
    }
    if (free) return off;
  }
  return std::nullopt;
}

Status Machine::map_regions(Device *device, const TypeInfo &type) {
  for (const MemoryRegion &r : device->regions()) {
    if (r.space() == MemoryRegion::Space::kIo) {
      if (!arch_.has_io_space || !r.fixed_address()) {
        return Status::errorf("port I/O region '%s' needs a fixed port on an x86 machine", r.name().c_str());
      }
      if (Status st = io_.map(*r.fixed_address(), r, device); !st) return st;
      continue;
    }
    uint64_t base;
    if (r.fixed_address()) {
      base = *r.fixed_address();
    } else if (type.bus == kBusSysbus && spec_.platform_bus) {
      std::optional<uint64_t> off = platform_bus_place(r.size());
      if (!off) return Status::errorf("Platform Bus: Can not fit MMIO region of size %" PRIx64, r.size());
      platform_slots_.push_back({device, *off, r.size()});
      base = kPlatformBusBase + *off;
    } else {
      return Status::errorf("memory region '%s' has no address on machine '%s'", r.name().c_str(),
                            spec_.name.c_str());
    }
    if (Status st = memory_.map(base, r, device); !st) return st;
    QTPM_TRACE("host_map_region", "%s at 0x%" PRIx64 " size 0x%" PRIx64, r.name().c_str(), base, r.size());
  }
  return Status::ok();
}

Status Machine::wire_irqs(Device *device, const TypeInfo &type) {
  if (device->irq_count() == 0 || !intc_) return Status::ok();
  InterruptController *intc = intc_;
  if (type.bus == kBusIsa) {
    // The ISA IRQ number is the device's own "irq" property (QEMU: isa_init_irq).
    std::optional<std::string> irq = device->get_property("irq");
    std::optional<uint64_t> n = irq ? parse_uint(*irq) : std::nullopt;
    if (n && *n < intc->input_count()) {
      unsigned gsi = static_cast<unsigned>(*n);
      connect_irq(device, 0, [intc, gsi](bool level) { intc->set_input(gsi, level); });
    }
    return Status::ok();
  }
  if (type.bus == kBusSysbus && spec_.platform_bus) {
    for (size_t i = 0; i < device->irq_count(); i++) {
      unsigned slot = 0;
      while (slot < kPlatformBusIrqs) {
        bool used = false;
        for (const auto &p : platform_irqs_) used = used || p.second == slot;
        if (!used) break;
        slot++;
      }
      if (slot == kPlatformBusIrqs) return Status::error("Platform Bus: Can not fit IRQ line");
      platform_irqs_.emplace_back(device, slot);
      unsigned spi = kPlatformBusFirstSpi + slot;
      connect_irq(device, i, [intc, spi](bool level) { intc->set_input(spi, level); });
    }
  }
  return Status::ok();
}

void Machine::connect_irq(Device *device, size_t n, IrqOutput::Sink sink) {
  sinks_[{device, n}] = sink;
  device->irq(n).connect(std::move(sink));
}

IrqOutput::Sink Machine::irq_sink(const Device *device, size_t n) const {
  auto it = sinks_.find({device, n});
  return it == sinks_.end() ? IrqOutput::Sink() : it->second;
}

Status Machine::plug(Device *device, const TypeInfo &type) {
  Status st = map_regions(device, type);
  if (st) st = wire_irqs(device, type);
  // pseries VIO devices: unit address, interrupt and DMA window (spapr_machine_hooks.h).
  if (st && type.bus == kBusSpaprVio && spapr_vio_plug) st = spapr_vio_plug(*this, *device);
  if (!st) unplug(device);
  return st;
}

void Machine::unplug(Device *device) {
  if (spapr_vio_unplug) spapr_vio_unplug(*this, *device);
  memory_.unmap_owner(device);
  io_.unmap_owner(device);
  std::erase_if(platform_slots_, [device](const PlatformSlot &s) { return s.owner == device; });
  std::erase_if(platform_irqs_, [device](const auto &p) { return p.first == device; });
  std::erase_if(sinks_, [device](const auto &entry) { return entry.first.first == device; });
  for (size_t i = 0; i < device->irq_count(); i++) device->irq(i).connect(nullptr);
}

}  // namespace qtpm::host
