// SPDX-License-Identifier: GPL-2.0-or-later
//
// Target architectures and their machine types, as QEMU 7.2's qemu-system-<arch> binaries offer
// them (names, aliases, descriptions and defaults from `-machine help`).
//
// qtpm models only what TPM devices and their tests rely on: where guest RAM sits, which buses
// a device can plug into, where MMIO lands and how IRQs are routed.  A device type says which
// bus it plugs into (TypeInfo::bus); an architecture offers the device when one of its machines
// has that bus, and a machine accepts it when it has the bus itself.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace qtpm::host {

enum class Endian { kLittle, kBig };

// The interrupt controller a machine's devices are wired to.
enum class IrqController {
  kNone,
  kIoapic,  // x86: 24 inputs, ISA IRQ n = GSI n
  kGic,     // Arm virt: shared peripheral interrupts; the platform bus uses SPIs 112..175
};

// Buses (TypeInfo::bus values).
inline constexpr std::string_view kBusIsa = "isa";
inline constexpr std::string_view kBusSysbus = "sysbus";
inline constexpr std::string_view kBusPcSystem = "pc-system";  // no bus; x86 system memory
inline constexpr std::string_view kBusSpaprVio = "spapr-vio";

// The bus name QEMU prints in `-device help` and "No '...' bus found" ("" for none).
std::string_view bus_display_name(std::string_view bus);

struct MachineSpec {
  std::string name;    // "pc-i440fx-7.2"
  std::string alias;   // "pc"; empty if none
  std::string desc;    // "Standard PC (i440FX + PIIX, 1996)"
  std::string family;  // help-sorting family ("pc-i440fx"); empty for standalone types
  bool is_default = false;
  std::vector<std::string_view> buses;
  // Guest RAM: a block named ram_name at ram_base.  On x86, RAM of split_threshold bytes or more
  // keeps low_ram_when_split bytes below 4 GiB and puts the rest at 4 GiB, as QEMU does.
  std::string ram_name;
  uint64_t ram_base = 0;
  uint64_t ram_max = 0;
  uint64_t split_threshold = 0;  // 0: never split
  uint64_t low_ram_when_split = 0;
  IrqController irq_controller = IrqController::kNone;
  std::string host_bridge;  // QOM child of /machine holding the ioapic ("i440fx", "q35")
  bool platform_bus = false;  // Arm virt's dynamic sysbus region

  std::string qom_type() const { return name + "-machine"; }
  bool has_bus(std::string_view bus) const;
};

struct ArchInfo {
  std::string name;  // "x86_64"
  Endian endian = Endian::kLittle;
  bool has_io_space = false;  // x86 port I/O
  std::vector<MachineSpec> machines;

  const MachineSpec *default_machine() const;  // nullptr: no default (aarch64)
  const MachineSpec *find_machine(std::string_view name_or_alias) const;
  // True when some machine of this architecture has `bus`.
  bool has_bus(std::string_view bus) const;
};

// nullptr for an architecture qtpm does not model.
const ArchInfo *arch_find(std::string_view name);

// The architecture libqtest would derive from a binary name: the part after the last '-' when
// the name contains "-system-"; otherwise (plain "qtpm-system") x86_64.
std::string arch_from_program_name(std::string_view argv0);

// Platform bus of Arm virt (hw/arm/virt.c): MMIO window and the SPIs given to its devices.
inline constexpr uint64_t kPlatformBusBase = 0x0c000000;
inline constexpr uint64_t kPlatformBusSize = 0x02000000;
inline constexpr unsigned kPlatformBusFirstSpi = 112;
inline constexpr unsigned kPlatformBusIrqs = 64;

}  // namespace qtpm::host
