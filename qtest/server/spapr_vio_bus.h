// SPDX-License-Identifier: GPL-2.0-or-later
//
// The pseries VIO bus of qtpm-system (QEMU 7.2 hw/ppc/spapr_vio.c, hw/ppc/spapr_iommu.c): the
// unit addresses and interrupts of VIO devices, a TCE table per device, and the hypervisor calls
// that reach them.  It is the part of a pseries machine a VIO device such as tpm-spapr needs; no
// CPU, XICS/XIVE or RTAS behind it.
//
//  - Units.  The machine's own VIO devices come first and are only reserved (not modelled): as in
//    QEMU they take unit addresses 0x71000000 upwards and their interrupts (spapr-vty, spapr-nvram,
//    spapr-vlan, spapr-vscsi with QEMU's default devices; spapr-nvram alone with -nodefaults).
//    A device plugged with reg=auto gets the next free address; an explicit one must be free
//    ("tpm-spapr and spapr-nvram devices conflict at address 0x71000001").  Its interrupt is
//    0x1100 | (reg & 0xff) (spapr::vio_reg_to_irq) and must be free ("IRQ 4353 is not free").
//  - DMA.  A device with a DMA window gets a TCE table as its child "tce-table-<reg hex>"
//    (LIOBN = reg, 4 KiB pages, the device's window size), which the bus attaches as the device's
//    SpaprDmaWindow.  A device reset clears it.
//  - Hypervisor calls (hcall()): H_PUT_TCE and H_GET_TCE on a unit's window; H_REG_CRQ,
//    H_FREE_CRQ, H_SEND_CRQ, H_ENABLE_CRQ and H_VIO_SIGNAL on a unit.  An unknown LIOBN or unit -
//    including the reserved, unmodelled ones - is H_PARAMETER; an hcall the bus does not know is
//    H_FUNCTION (QEMU's answer for any unimplemented hcall).
//
// Pure: guest memory comes through SpaprGuestMemory, so unit tests and the fuzzer use it as the
// host does.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "hw/tpm/spapr/spapr_vio_device.h"
#include "qom/object.h"
#include "qtest/server/spapr_tce_table.h"

namespace qtpm::host {

inline constexpr const char *kTypeSpaprVioBus = "spapr-vio-bus";

struct HcallResult {
  int64_t status = spapr::kHFunction;  // R3
  std::vector<uint64_t> outputs;       // R4... (H_GET_TCE: the entry)
};

class SpaprVioBus : public Object {
 public:
  struct Unit {
    uint32_t reg;
    uint32_t irq;
    std::string type;                // QOM type, for conflict messages
    SpaprVioDevice *device;          // null for a reserved (unmodelled) unit
    SpaprTceTable *tce = nullptr;    // the device's window (a child of the device)
  };

  SpaprVioBus() = default;
  ~SpaprVioBus() override;

  // Registers the type (idempotent).
  static void register_type();

  // Guest memory for every DMA window (before the first plug).  The bus keeps it.
  void set_guest_memory(std::unique_ptr<SpaprGuestMemory> memory) { memory_ = std::move(memory); }
  // A device the machine itself creates and qtpm does not model: it takes the next unit address
  // and its interrupt.
  void reserve_builtin(const char *type_name);

  // Puts a realized device on the bus: unit address, interrupt, DMA window.  On failure (QEMU's
  // messages) nothing is changed.
  Status plug(SpaprVioDevice &device);
  void unplug(SpaprVioDevice &device);

  // A hypervisor call with up to spapr::kHcallMaxArgs arguments (missing ones are 0, as stale
  // registers would be).
  HcallResult hcall(uint64_t opcode, std::span<const uint64_t> args);

  const std::vector<Unit> &units() const { return units_; }
  const Unit *find_unit(uint32_t reg) const;
  SpaprVioDevice *find_device(uint32_t reg) const;
  SpaprTceTable *find_tce_table(uint32_t liobn) const;

 private:
  const Unit *find_irq(uint32_t irq) const;
  int64_t crq_hcall(uint64_t opcode, const std::array<uint64_t, spapr::kHcallMaxArgs> &a);
  int64_t tce_hcall(uint64_t opcode, const std::array<uint64_t, spapr::kHcallMaxArgs> &a,
                    HcallResult *result);

  std::unique_ptr<SpaprGuestMemory> memory_;
  uint32_t next_reg_ = spapr::kVioRegBase;
  std::vector<Unit> units_;
};

}  // namespace qtpm::host
