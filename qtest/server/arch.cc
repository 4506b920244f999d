// SPDX-License-Identifier: GPL-2.0-or-later
//
// Architecture and machine tables (see arch.h).  Names, aliases and descriptions are those QEMU
// 7.2 prints for `-machine help`; addresses from hw/i386/pc_piix.c, pc_q35.c, hw/arm/virt.c and
// hw/ppc/spapr.c.
#include "qtest/server/arch.h"

#include <algorithm>

namespace qtpm::host {

namespace {

constexpr uint64_t kGiB = uint64_t{1} << 30;
constexpr uint64_t kTiB = uint64_t{1} << 40;

MachineSpec none_machine() {
  MachineSpec m;
  m.name = "none";
  m.desc = "empty machine";
  m.ram_name = "ram";
  m.ram_max = kTiB;
  return m;
}

MachineSpec x86_machine(bool q35) {
  MachineSpec m;
  m.name = q35 ? "pc-q35-7.2" : "pc-i440fx-7.2";
  m.alias = q35 ? "q35" : "pc";
  m.desc = q35 ? "Standard PC (Q35 + ICH9, 2009)" : "Standard PC (i440FX + PIIX, 1996)";
  m.family = q35 ? "pc-q35" : "pc-i440fx";
  m.is_default = !q35;
  m.buses = {kBusIsa, kBusPcSystem};
  m.ram_name = "pc.ram";
  m.ram_max = kTiB;
  // pc_piix.c: 3.5 GiB or more keeps 3 GiB low (gigabyte alignment); pc_q35.c: 2.75 GiB or more
  // keeps 2 GiB low.  The rest goes to 4 GiB.
  m.split_threshold = q35 ? 0xb0000000 : 0xe0000000;
  m.low_ram_when_split = q35 ? 0x80000000 : 0xc0000000;
  m.irq_controller = IrqController::kIoapic;
  m.host_bridge = q35 ? "q35" : "i440fx";
  return m;
}

ArchInfo make_x86(const char *name) {
  ArchInfo a;
  a.name = name;
  a.has_io_space = true;
  a.machines = {x86_machine(false), x86_machine(true), none_machine()};
  // tpm-crb has no bus in QEMU: it maps itself into system memory, on any x86 machine.
  a.machines.back().buses = {kBusPcSystem};
  return a;
}

ArchInfo make_aarch64() {
  ArchInfo a;
  a.name = "aarch64";
  MachineSpec virt;
  virt.name = "virt-7.2";
  virt.alias = "virt";
  virt.desc = "QEMU 7.2 ARM Virtual Machine";
  virt.family = "virt";
  virt.buses = {kBusSysbus};
  virt.ram_name = "mach-virt.ram";
  virt.ram_base = 0x40000000;
  virt.ram_max = 255 * kGiB;
  virt.irq_controller = IrqController::kGic;
  virt.platform_bus = true;
  a.machines = {virt, none_machine()};
  return a;
}

ArchInfo make_ppc64() {
  ArchInfo a;
  a.name = "ppc64";
  a.endian = Endian::kBig;
  MachineSpec pseries;
  pseries.name = "pseries-7.2";
  pseries.alias = "pseries";
  pseries.desc = "pSeries Logical Partition (PAPR compliant)";
  pseries.family = "pseries";
  pseries.is_default = true;
  pseries.buses = {kBusSpaprVio};
  pseries.ram_name = "ppc_spapr.ram";
  pseries.ram_max = kTiB;
  a.machines = {pseries, none_machine()};
  return a;
}

const std::vector<ArchInfo> &arches() {
  static const std::vector<ArchInfo> all = {make_x86("x86_64"), make_x86("i386"),
                                            make_aarch64(), make_ppc64()};
  return all;
}

}  // namespace

std::string_view bus_display_name(std::string_view bus) {
  if (bus == kBusIsa) return "ISA";
  if (bus == kBusSysbus) return "System";
  if (bus == kBusSpaprVio) return "spapr-vio-bus";
  return "";
}

bool MachineSpec::has_bus(std::string_view bus) const {
  return std::find(buses.begin(), buses.end(), bus) != buses.end();
}

const MachineSpec *ArchInfo::default_machine() const {
  for (const auto &m : machines)
    if (m.is_default) return &m;
  return nullptr;
}

const MachineSpec *ArchInfo::find_machine(std::string_view name_or_alias) const {
  for (const auto &m : machines)
    if (m.name == name_or_alias || (!m.alias.empty() && m.alias == name_or_alias)) return &m;
  return nullptr;
}

bool ArchInfo::has_bus(std::string_view bus) const {
  for (const auto &m : machines)
    if (m.has_bus(bus)) return true;
  return false;
}

const ArchInfo *arch_find(std::string_view name) {
  for (const auto &a : arches())
    if (a.name == name) return &a;
  return nullptr;
}

std::string arch_from_program_name(std::string_view argv0) {
  size_t slash = argv0.rfind('/');
  std::string_view base = slash == std::string_view::npos ? argv0 : argv0.substr(slash + 1);
  if (base.find("-system-") == std::string_view::npos) return "x86_64";
  return std::string(base.substr(base.rfind('-') + 1));
}

}  // namespace qtpm::host
