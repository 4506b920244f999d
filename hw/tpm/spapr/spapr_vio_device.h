// SPDX-License-Identifier: GPL-2.0-or-later
//
// A PAPR virtual I/O device ("vio-spapr-device"): what every VIO device of a pseries machine
// shares (PAPR+ "Virtual I/O" and "Command/Response Queue" chapters; QEMU 7.2 hw/ppc/spapr_vio.c):
//
//  - a unit address (the `reg` property; 0xffffffff until the bus assigns one) and an interrupt
//    source number chosen by the bus;
//  - a DMA window: guest memory seen through the device's TCE table.  The machine owns the table
//    and hands the device a SpaprDmaWindow; the device never touches guest memory otherwise;
//  - the Command/Response Queue the guest registers: H_REG_CRQ, H_FREE_CRQ, H_SEND_CRQ,
//    H_ENABLE_CRQ and H_VIO_SIGNAL with QEMU's argument checks and return codes.  The bus finds
//    the device by unit address (an unknown unit is the bus's H_PARAMETER) and calls the h_*
//    method; messages the guest sends go to handle_crq(), responses go out with send_crq();
//  - a signal mode (H_VIO_SIGNAL): when bit 0 is set, every response pulses IRQ output 0;
//  - reset ("quiesce"): the queue is dropped, signalling off, every TCE unmapped;
//  - a saved-state section "spapr-vio" (vio_save_state / vio_parse_state / vio_restore_state);
//  - its device-tree node, as data (spapr_dt.h).
//
// Everything the device needs from outside comes through SpaprDmaWindow, the IRQ output and
// HostServices, so tests and fuzzers drive it without a machine.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>

#include "hw/core/device.h"
#include "hw/tpm/spapr/spapr_crq.h"
#include "hw/tpm/spapr/spapr_dt.h"
#include "hw/tpm/spapr/spapr_papr.h"
#include "qom/saved_state.h"

namespace qtpm {

inline constexpr const char *kTypeVioSpaprDevice = "vio-spapr-device";

// Guest memory as a VIO device sees it: I/O bus addresses ("ioba") translated page by page
// through the device's TCE table.  The machine implements it (qtpm-system: qtest/server/
// spapr_tce_table.h; QEMU: the device's IOMMU address space).
class SpaprDmaWindow {
 public:
  virtual ~SpaprDmaWindow() = default;
  // Copies out.size() bytes from `ioba`.  False, with nothing guaranteed in `out`, when any page
  // of the range is outside the window, not mapped, or not mapped for device reads.
  virtual bool dma_read(uint64_t ioba, std::span<uint8_t> out) = 0;
  // Copies `in` to `ioba`; false, writing nothing, when any page is not mapped for device writes.
  virtual bool dma_write(uint64_t ioba, std::span<const uint8_t> in) = 0;
  // Unmaps every page (the device is quiesced at reset).
  virtual void dma_reset() = 0;
};

// The queue registration (QEMU's SpaprVioCrq without the callback).
struct CrqQueueState {
  uint64_t qladdr = 0;  // I/O bus address of the queue, 4 KiB aligned
  uint32_t qsize = 0;   // bytes; 0 = no queue registered
  uint32_t qnext = 0;   // offset of the next slot the device writes
  bool registered() const { return qsize != 0; }
};

// What became of a response the device queued (QEMU's spapr_vio_send_crq results).
enum class CrqSendResult {
  kSent,
  kQueueFull,   // the slot at qnext is still in use (its valid byte is not 0)
  kNoQueue,     // the guest registered none
  kDmaFailure,  // the queue is not mapped in the DMA window
};
const char *crq_send_result_name(CrqSendResult r);

class SpaprVioDevice : public Device {
 public:
  // The queue-size limits QEMU's H_REG_CRQ accepts.
  static constexpr uint64_t kCrqMinSize = 0x1000;
  static constexpr uint64_t kCrqMaxSize = 0x10000000;
  static constexpr uint32_t kStateVersion = 1;

  ~SpaprVioDevice() override;

  // Class facts ------------------------------------------------------------------------------
  virtual const char *dt_name() const = 0;                  // "vtpm"
  virtual const char *dt_type() const { return nullptr; }   // "IBM,vtpm"; null: none
  virtual std::string dt_compatible() const { return {}; }  // empty: none
  virtual uint32_t signal_mask() const { return 0; }        // modes H_VIO_SIGNAL accepts
  virtual uint64_t rtce_window_size() const { return 0; }   // DMA window bytes; 0: no window
  virtual bool has_crq() const { return false; }            // the device takes CRQ messages

  // Bus side (the machine, at plug time) -------------------------------------------------------
  uint32_t reg() const { return reg_; }
  bool reg_assigned() const { return reg_ != spapr::kVioRegAuto; }
  // The bus chooses the unit address of a device created without one.
  void assign_reg(uint32_t reg) { reg_ = reg; }
  uint32_t irq_number() const { return irq_number_; }  // interrupt source; 0 = none
  void set_irq_number(uint32_t irq) { irq_number_ = irq; }
  // The device's DMA window (null: none; every DMA fails).  The window outlives its use.
  void attach_dma(SpaprDmaWindow *dma) { dma_ = dma; }
  SpaprDmaWindow *dma() const { return dma_; }
  // An embedder with its own CRQ layer (QEMU's spapr_vio_send_crq) takes the device's responses
  // instead of the built-in queue; it returns what became of each.
  using CrqSender = std::function<CrqSendResult(const spapr::CrqElement &)>;
  void set_crq_sender(CrqSender sender) { crq_sender_ = std::move(sender); }

  // "vtpm@71000004" (QEMU: spapr_vio_get_dev_name)
  std::string dt_node_name() const;
  // The /vdevice node: reg, device_type, compatible, interrupts, and the DMA window.
  spapr::DtNode device_tree_node() const;

  // Hypervisor calls, once the bus has found this device by unit address -----------------------
  int64_t h_reg_crq(uint64_t queue_addr, uint64_t queue_len);
  int64_t h_free_crq();
  int64_t h_send_crq(uint64_t word0, uint64_t word1);
  int64_t h_enable_crq();
  int64_t h_vio_signal(uint64_t mode);

  // Introspection (tests, the fuzzer's invariants).
  const CrqQueueState &crq_queue() const { return crq_; }
  uint64_t signal_state() const { return signal_state_; }

 protected:
  SpaprVioDevice();

  // A message from the guest (H_SEND_CRQ); returns the hcall's status.  Only called when
  // has_crq().
  virtual int64_t handle_crq(const spapr::CrqElement &element) = 0;

  // Writes a response into the guest's queue (the valid byte last, so the guest never sees half
  // an element) and pulses IRQ 0 when signalling is on.
  CrqSendResult send_crq(const spapr::CrqElement &element);
  bool dma_read(uint64_t ioba, std::span<uint8_t> out);
  bool dma_write(uint64_t ioba, std::span<const uint8_t> in);

  // Declares IRQ output 0 (from do_realize).
  void declare_vio_irq() { add_irq(); }
  // Quiesce, for do_reset: no queue, no signalling, no TCEs.
  void vio_reset();

  // Saved state: the section "spapr-vio" v1 (nested in the device's own section).
  struct VioState {
    uint32_t reg = 0;
    uint32_t irq = 0;
    uint64_t signal_state = 0;
    CrqQueueState crq;
  };
  StateWriter vio_save_state() const;
  // Validates everything (the unit address and interrupt must be this device's, the queue
  // registration must be one H_REG_CRQ could have made) without changing the device.
  Status vio_parse_state(const StateReader &section, VioState *out) const;
  void vio_restore_state(const VioState &state);

 private:
  uint32_t reg_ = spapr::kVioRegAuto;
  uint32_t irq_number_ = 0;
  SpaprDmaWindow *dma_ = nullptr;
  CrqSender crq_sender_;
  CrqQueueState crq_;
  uint64_t signal_state_ = 0;
};

}  // namespace qtpm
