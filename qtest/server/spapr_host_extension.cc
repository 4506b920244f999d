// SPDX-License-Identifier: GPL-2.0-or-later
//
// The pseries machine's VIO bus in qtpm-system: the machine hooks (spapr_machine_hooks.h) that
// create the bus at /machine/spapr-vio and place VIO devices on it, guest memory for the TCE
// tables, and the qtest commands a test uses in place of a CPU (docs/host.md, docs/spapr.md):
//
//   hcall OPCODE [ARG...]   -> OK RET [OUT...]
//       a hypervisor call, as a guest's `sc 1` with R3 = OPCODE and R4.. = ARGs (at most 9,
//       missing ones 0).  RET is R3 as a signed decimal (0 H_SUCCESS, -4 H_PARAMETER, ...);
//       OUT are the output registers in hex (H_GET_TCE: the entry).
//   spapr_dt UNIT           -> OK NODE-NAME PROP=HEX...
//       the device-tree node of the VIO device at UNIT: each property's bytes in hex.
//
// QEMU's qtest protocol has no hcall command (its pseries tests run firmware or use `rtas`);
// these are qtpm's own, registered only on a machine with the VIO bus.
#include <cinttypes>

#include "qom/trace.h"
#include "qtest/server/host_extensions.h"
#include "qtest/server/spapr_machine_hooks.h"
#include "qtest/server/spapr_vio_bus.h"

namespace qtpm::host {

namespace {

constexpr const char *kBusName = "spapr-vio";

// System memory as DMA sees it: only bytes inside mapped regions (guest RAM) are accessible; QEMU
// fails a DMA into unassigned space.
class MachineGuestMemory : public SpaprGuestMemory {
 public:
  explicit MachineGuestMemory(AddressSpace &memory) : memory_(memory) {}
  bool accessible(uint64_t gpa, uint64_t len) override {
    if (!AddressSpace::range_ok(gpa, len)) return false;
    uint64_t last = gpa + (len - 1);
    for (uint64_t addr = gpa;;) {
      const AddressSpace::Mapping *m = memory_.lookup(addr);
      if (!m) return false;
      if (m->last() >= last) return true;
      addr = m->last() + 1;  // m->last() < last, so no wrap
    }
  }
  void read(uint64_t gpa, uint8_t *buf, uint64_t len) override { memory_.read(gpa, buf, len); }
  void write(uint64_t gpa, const uint8_t *buf, uint64_t len) override {
    memory_.write(gpa, buf, len);
  }

 private:
  AddressSpace &memory_;
};

SpaprVioBus *find_bus(Machine &machine) {
  return machine.object() ? object_cast<SpaprVioBus>(machine.object()->child(kBusName)) : nullptr;
}

std::string hex(const std::vector<uint8_t> &bytes) {
  std::string out;
  for (uint8_t b : bytes) out += strprintf("%02x", b);
  return out;
}

std::string cmd_hcall(SpaprVioBus &bus, const std::vector<std::string> &w) {
  if (w.size() < 2) return "ERR missing argument\n";
  if (w.size() - 2 > spapr::kHcallMaxArgs) return "ERR too many arguments\n";
  std::vector<uint64_t> numbers;
  for (size_t i = 1; i < w.size(); i++) {
    std::optional<uint64_t> n = parse_uint(w[i]);
    if (!n) return "ERR invalid number '" + w[i] + "'\n";
    numbers.push_back(*n);
  }
  HcallResult r = bus.hcall(numbers[0], std::span<const uint64_t>(numbers).subspan(1));
  std::string reply = strprintf("OK %" PRId64, r.status);
  for (uint64_t out : r.outputs) reply += strprintf(" 0x%" PRIx64, out);
  return reply + "\n";
}

std::string cmd_spapr_dt(SpaprVioBus &bus, const std::vector<std::string> &w) {
  if (w.size() < 2) return "ERR missing argument\n";
  std::optional<uint64_t> unit = parse_uint(w[1]);
  if (!unit) return "ERR invalid number '" + w[1] + "'\n";
  SpaprVioDevice *device = *unit <= UINT32_MAX ? bus.find_device(uint32_t(*unit)) : nullptr;
  if (!device) return "FAIL Unknown device\n";
  spapr::DtNode node = device->device_tree_node();
  std::string reply = "OK " + node.name;
  for (const spapr::DtProperty &p : node.properties) reply += " " + p.name + "=" + hex(p.value);
  return reply + "\n";
}

}  // namespace

Status spapr_machine_init(Machine &machine, const Config &config) {
  if (!machine.spec().has_bus(kBusSpaprVio) || !machine.object()) return Status::ok();
  SpaprVioBus::register_type();
  std::unique_ptr<Object> object = object_new(kTypeSpaprVioBus);
  auto *bus = object_cast<SpaprVioBus>(object.get());
  bus->set_guest_memory(std::make_unique<MachineGuestMemory>(machine.memory()));
  // QEMU's spapr_machine_init: a vty per serial port (the default one unless -nodefaults), the
  // nvram always, then the default NIC and the default CD-ROM's vscsi adapter.
  bool defaults = !config.nodefaults;
  if (defaults) bus->reserve_builtin("spapr-vty");
  bus->reserve_builtin("spapr-nvram");
  if (defaults) {
    bus->reserve_builtin("spapr-vlan");
    bus->reserve_builtin("spapr-vscsi");
  }
  return machine.object()->add_child(kBusName, std::move(object));
}

Status spapr_vio_plug(Machine &machine, Device &device) {
  auto *vio = dynamic_cast<SpaprVioDevice *>(&device);
  SpaprVioBus *bus = find_bus(machine);
  if (!vio || !bus) return Status::ok();
  return bus->plug(*vio);
}

void spapr_vio_unplug(Machine &machine, Device &device) {
  auto *vio = dynamic_cast<SpaprVioDevice *>(&device);
  SpaprVioBus *bus = find_bus(machine);
  if (vio && bus) bus->unplug(*vio);
}

void register_spapr_host_extension(HostContext &context) {
  SpaprVioBus *bus = find_bus(context.host.machine());
  if (!bus || !context.qtest) return;
  context.qtest->add_command_handler([bus](const std::vector<std::string> &w, QtestServer &server) {
    if (w.empty()) return false;
    if (w[0] == "hcall") {
      server.send(cmd_hcall(*bus, w));
      return true;
    }
    if (w[0] == "spapr_dt") {
      server.send(cmd_spapr_dt(*bus, w));
      return true;
    }
    return false;
  });
}

}  // namespace qtpm::host
