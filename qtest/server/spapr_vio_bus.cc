// SPDX-License-Identifier: GPL-2.0-or-later
//
// The pseries VIO bus: units, interrupts, TCE tables and hcall dispatch (see spapr_vio_bus.h;
// QEMU 7.2 hw/ppc/spapr_vio.c spapr_vio_busdev_realize and the h_* handlers).
#include "qtest/server/spapr_vio_bus.h"

#include <cinttypes>
#include <mutex>

#include "qom/trace.h"

namespace qtpm::host {

using namespace spapr;

SpaprVioBus::~SpaprVioBus() = default;

void SpaprVioBus::register_type() {
  static std::once_flag once;
  std::call_once(once, [] {
    register_builtin_types();
    TypeInfo t = make_type<SpaprVioBus>(kTypeSpaprVioBus, "object", "pseries VIO bus");
    t.user_creatable = false;
    type_register(t);
    TypeInfo tce = make_type<SpaprTceTable>(kTypeSpaprTceTable, "object", "pseries TCE table");
    tce.user_creatable = false;
    type_register(tce);
  });
}

const SpaprVioBus::Unit *SpaprVioBus::find_unit(uint32_t reg) const {
  for (const Unit &u : units_)
    if (u.reg == reg) return &u;
  return nullptr;
}

const SpaprVioBus::Unit *SpaprVioBus::find_irq(uint32_t irq) const {
  for (const Unit &u : units_)
    if (u.irq == irq) return &u;
  return nullptr;
}

SpaprVioDevice *SpaprVioBus::find_device(uint32_t reg) const {
  const Unit *u = find_unit(reg);
  return u ? u->device : nullptr;
}

SpaprTceTable *SpaprVioBus::find_tce_table(uint32_t liobn) const {
  for (const Unit &u : units_)
    if (u.tce && u.tce->liobn() == liobn) return u.tce;
  return nullptr;
}

void SpaprVioBus::reserve_builtin(const char *type_name) {
  uint32_t reg = next_reg_++;
  units_.push_back({reg, vio_reg_to_irq(reg), type_name, nullptr, nullptr});
}

Status SpaprVioBus::plug(SpaprVioDevice &device) {
  uint32_t reg = device.reg();
  if (device.reg_assigned()) {
    if (const Unit *other = find_unit(reg)) {
      return Status::errorf("%s and %s devices conflict at address %#x", device.type_name().c_str(),
                            other->type.c_str(), reg);
    }
  } else {
    do {
      reg = next_reg_++;
    } while (find_unit(reg));
  }
  uint32_t irq = vio_reg_to_irq(reg);
  if (find_irq(irq)) return Status::errorf("IRQ %u is not free", irq);

  Unit unit{reg, irq, device.type_name(), &device, nullptr};
  if (uint64_t window = device.rtce_window_size()) {
    register_type();
    std::unique_ptr<Object> table = object_new(kTypeSpaprTceTable);
    unit.tce = object_cast<SpaprTceTable>(table.get());
    unit.tce->configure(vio_liobn(reg), window, memory_.get());
    std::string name = strprintf("tce-table-%x", reg);
    if (Status st = device.add_child(name, std::move(table)); !st) return st;
  }
  device.assign_reg(reg);
  device.set_irq_number(irq);
  device.attach_dma(unit.tce);
  // QEMU names a device without id after its node ("vtpm@71000004").
  if (device.id().empty()) device.set_id(device.dt_node_name());
  units_.push_back(unit);
  QTPM_TRACE("spapr_vio_plug", "%s: unit 0x%x irq 0x%x", device.type_name().c_str(), reg, irq);
  return Status::ok();
}

void SpaprVioBus::unplug(SpaprVioDevice &device) {
  for (auto it = units_.begin(); it != units_.end(); ++it) {
    if (it->device != &device) continue;
    device.attach_dma(nullptr);
    if (it->tce) device.remove_child(it->tce->name_in_parent());
    units_.erase(it);
    return;
  }
}

// ---------------------------------------------------------------------------------------------
// Hypervisor calls

HcallResult SpaprVioBus::hcall(uint64_t opcode, std::span<const uint64_t> args) {
  std::array<uint64_t, kHcallMaxArgs> a{};
  for (size_t i = 0; i < args.size() && i < a.size(); i++) a[i] = args[i];
  HcallResult result;
  switch (opcode) {
    case kHPutTce:
    case kHGetTce:
      result.status = tce_hcall(opcode, a, &result);
      break;
    case kHRegCrq:
    case kHFreeCrq:
    case kHSendCrq:
    case kHEnableCrq:
    case kHVioSignal:
      result.status = crq_hcall(opcode, a);
      break;
    default:
      log_guest(LogCategory::kUnimplemented, "hcall 0x%" PRIx64 " is not implemented", opcode);
      result.status = kHFunction;
      break;
  }
  const char *name = hcall_name(opcode);
  QTPM_TRACE("spapr_hcall", "%s(0x%" PRIx64 ", 0x%" PRIx64 ", 0x%" PRIx64 ") = %" PRId64,
             name ? name : "?", a[0], a[1], a[2], result.status);
  return result;
}

int64_t SpaprVioBus::tce_hcall(uint64_t opcode, const std::array<uint64_t, kHcallMaxArgs> &a,
                               HcallResult *result) {
  // The LIOBN is a 32-bit number passed in a 64-bit register: QEMU looks up the whole value.
  SpaprTceTable *table = a[0] <= UINT32_MAX ? find_tce_table(uint32_t(a[0])) : nullptr;
  if (!table) {
    log_guest(LogCategory::kGuestError, "%s: no DMA window with LIOBN 0x%" PRIx64,
              hcall_name(opcode), a[0]);
    return kHParameter;
  }
  if (opcode == kHPutTce) return table->put_tce(a[1], a[2]);
  uint64_t tce = 0;
  int64_t status = table->get_tce(a[1], &tce);
  if (status == kHSuccess) result->outputs.push_back(tce);
  return status;
}

int64_t SpaprVioBus::crq_hcall(uint64_t opcode, const std::array<uint64_t, kHcallMaxArgs> &a) {
  // The unit address is compared as the register holds it, as QEMU's target_ulong lookup does.
  SpaprVioDevice *device = a[0] <= UINT32_MAX ? find_device(uint32_t(a[0])) : nullptr;
  if (!device) {
    log_guest(LogCategory::kGuestError, "%s: no VIO device at unit 0x%" PRIx64, hcall_name(opcode),
              a[0]);
    return kHParameter;
  }
  switch (opcode) {
    case kHRegCrq: return device->h_reg_crq(a[1], a[2]);
    case kHFreeCrq: return device->h_free_crq();
    case kHSendCrq: return device->h_send_crq(a[1], a[2]);
    case kHEnableCrq: return device->h_enable_crq();
    case kHVioSignal: return device->h_vio_signal(a[1]);
    default: return kHFunction;
  }
}

}  // namespace qtpm::host
