// SPDX-License-Identifier: GPL-2.0-or-later
//
// The machine's fw_cfg device and the TPM files it serves (see firmware_config.h).
#include "qtest/server/firmware_config.h"

#include "hw/nvram/fw_cfg.h"
#include "hw/nvram/fw_cfg_io.h"
#include "hw/nvram/fw_cfg_mem.h"
#include "hw/tpm/tis/tpm_tis_sysbus.h"
#include "hw/tpm/tpm_acpi_info.h"
#include "qom/trace.h"

namespace qtpm::host {

namespace {

// The TPM frontend's description, if there is one (the host allows at most one).
Status find_tpm(const std::vector<Device *> &devices, std::optional<TpmAcpiDescription> *out) {
  for (const Device *d : devices) {
    const auto *provider = dynamic_cast<const TpmAcpiProvider *>(d);
    if (!provider) continue;
    *out = provider->acpi_description();
    if ((*out)->resources.empty()) return Status::error("TPM device has no mapped registers");
    return Status::ok();
  }
  return Status::ok();
}

}  // namespace

std::optional<acpi::AcpiMachine> FirmwareConfig::acpi_machine(const MachineSpec &spec) {
  // QEMU's machines with fw_cfg: the x86 PCs (by their host bridge) and Arm virt.
  if (spec.irq_controller == IrqController::kIoapic) {
    return spec.host_bridge == "q35" ? acpi::AcpiMachine::kX86Q35 : acpi::AcpiMachine::kX86Pc;
  }
  if (spec.irq_controller == IrqController::kGic && spec.platform_bus) {
    return acpi::AcpiMachine::kArmVirt;
  }
  return std::nullopt;
}

Status FirmwareConfig::create(Machine &machine, HostServices *host,
                              const std::vector<Device *> &devices, Device **out) {
  *out = nullptr;
  std::optional<acpi::AcpiMachine> kind = acpi_machine(machine.spec());
  if (!kind) return Status::ok();
  std::optional<TpmAcpiDescription> tpm;
  if (Status st = find_tpm(devices, &tpm); !st) return st;
  files_ = {};
  if (Status st = acpi::build_firmware_files(tpm ? &*tpm : nullptr, *kind, {}, &files_); !st) {
    return st;
  }

  const char *type_name = acpi::acpi_machine_is_x86(*kind) ? kTypeFwCfgIo : kTypeFwCfgMem;
  std::unique_ptr<Object> obj = object_new(type_name);
  auto *fwcfg = dynamic_cast<FwCfg *>(obj.get());
  if (!fwcfg) return Status::errorf("'%s' is not available", type_name);
  fwcfg->set_host(host);
  for (const acpi::FirmwareFile &f : files_.files) {
    if (Status st = fwcfg->add_file(f.name, f.data); !st) return st;
  }
  if (Status st = fwcfg->realize(); !st) return st;
  // QEMU's place for it: /machine/fw_cfg.
  obj.release();
  std::unique_ptr<Object> owned(fwcfg);
  if (Status st = machine.object()->add_child("fw_cfg", std::move(owned)); !st) return st;
  if (Status st = machine.plug(fwcfg, *type_find(type_name)); !st) {
    fwcfg->unrealize();
    machine.remove_device(fwcfg);
    return st;
  }
  QTPM_TRACE("host_fw_cfg", "%s with %zu files, TPM %s", type_name, files_.files.size(),
             tpm ? "yes" : "no");
  present_ = true;
  *out = fwcfg;
  return Status::ok();
}

void note_mapped_address(Machine &machine, Device *device) {
  auto *sysbus = dynamic_cast<TpmTisSysbus *>(device);
  if (!sysbus) return;
  for (const AddressSpace::Mapping *m : machine.memory().mappings()) {
    if (m->owner == device) {
      sysbus->set_mapped_address(m->base);
      return;
    }
  }
}

}  // namespace qtpm::host
