// SPDX-License-Identifier: GPL-2.0-or-later
//
// A machine: its part of the composition tree (/machine, peripheral containers, the interrupt
// controller), guest RAM, the address spaces, and how a realized device is plugged in:
//
//  - regions with a fixed address are mapped there (ISA TIS at 0xfed40000, CRB, PPI page);
//  - sysbus devices on Arm virt get their regions from the platform bus window, in creation
//    order, each aligned to its size rounded up to a power of two (the first at 0x0c000000),
//    and their IRQ outputs the next free platform-bus SPIs (the first 112), as QEMU's
//    platform-bus does;
//  - ISA devices on x86 have their IRQ output 0 wired to IOAPIC input `irq` (their property),
//    ISA IRQ n being GSI n;
//  - overlapping regions are an error.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "hw/core/device.h"
#include "qtest/server/address_space.h"
#include "qtest/server/arch.h"
#include "qtest/server/guest_ram.h"
#include "qtest/server/interrupt_controller.h"
#include "qtest/server/qemu_opts.h"
#include "qtest/server/virtual_clock.h"

namespace qtpm::host {

class Machine {
 public:
  Machine(const ArchInfo &arch, const MachineSpec &spec);
  ~Machine();

  // Adds /machine (and its containers and interrupt controller) under `root` and allocates
  // `ram_size` bytes of guest RAM.  `props` are the checked -machine options (gic-version).
  Status init(Object *root, uint64_t ram_size, const OptionList &props = {});

  // Puts a new device into the tree: /machine/peripheral/<id>, or
  // /machine/peripheral-anon/device[N] without id.  Fails with "Duplicate ID 'x' for device".
  Status add_device(std::unique_ptr<Device> device, const std::optional<std::string> &id,
                    Device **out);
  // Removes a device from the tree and destroys it (after unplug/unrealize).
  void remove_device(Device *device);

  // Maps the regions and wires the IRQs of a realized device.  On failure nothing stays mapped.
  Status plug(Device *device, const TypeInfo &type);
  void unplug(Device *device);
  // What the machine connected output `n` of `device` to (null if nothing), so that qtest's
  // irq_intercept_out can forward to it while watching.
  IrqOutput::Sink irq_sink(const Device *device, size_t n) const;

  const ArchInfo &arch() const { return arch_; }
  const MachineSpec &spec() const { return spec_; }
  Object *object() const { return machine_; }
  AddressSpace &memory() { return memory_; }
  // Port I/O.  Every architecture has the space (QEMU's address_space_io); only x86 maps
  // anything into it.
  AddressSpace &io() { return io_; }
  InterruptController *irq_controller() const { return intc_; }
  VirtualClock &clock() { return clock_; }
  GuestRam &ram() { return ram_; }
  // Host memory behind guest RAM [addr, addr + len), or nullptr unless the whole range lies in
  // one guest-RAM block (device DMA: fw_cfg).
  uint8_t *ram_at(uint64_t addr, uint64_t len);
  bool big_endian() const { return arch_.endian == Endian::kBig; }

 private:
  Status map_regions(Device *device, const TypeInfo &type);
  Status wire_irqs(Device *device, const TypeInfo &type);
  void connect_irq(Device *device, size_t n, IrqOutput::Sink sink);
  Status map_guest_ram(uint64_t ram_size);
  std::optional<uint64_t> platform_bus_place(uint64_t size);

  const ArchInfo &arch_;
  const MachineSpec &spec_;
  Object *machine_ = nullptr;  // owned by the tree
  Object *peripheral_ = nullptr;
  Object *peripheral_anon_ = nullptr;
  InterruptController *intc_ = nullptr;
  unsigned anon_count_ = 0;
  GuestRam ram_;
  AddressSpace memory_;
  AddressSpace io_;
  VirtualClock clock_;
  // Platform bus: allocated windows (offset, size) and SPIs, per device.
  struct PlatformSlot {
    const Device *owner;
    uint64_t offset;
    uint64_t size;
  };
  std::vector<PlatformSlot> platform_slots_;
  std::vector<std::pair<const Device *, unsigned>> platform_irqs_;
  std::map<std::pair<const Device *, size_t>, IrqOutput::Sink> sinks_;
};

}  // namespace qtpm::host
