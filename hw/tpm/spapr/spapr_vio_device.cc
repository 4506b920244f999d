// SPDX-License-Identifier: GPL-2.0-or-later
//
// The generic part of a PAPR VIO device: CRQ hypervisor calls, response queueing, signalling,
// quiesce, its saved state and device-tree node (see spapr_vio_device.h).  Argument checks, their
// order and the return codes are QEMU 7.2's (hw/ppc/spapr_vio.c).
#include "hw/tpm/spapr/spapr_vio_device.h"

#include <cinttypes>

#include "qom/trace.h"

namespace qtpm {

using namespace spapr;

const char *crq_send_result_name(CrqSendResult r) {
  switch (r) {
    case CrqSendResult::kSent: return "sent";
    case CrqSendResult::kQueueFull: return "queue full";
    case CrqSendResult::kNoQueue: return "no queue registered";
    case CrqSendResult::kDmaFailure: return "queue not mapped";
  }
  return "?";
}

SpaprVioDevice::SpaprVioDevice() {
  // No description: QEMU's DEFINE_SPAPR_PROPERTIES has none, and `-device TYPE,help` shows that.
  add_uint32_property("reg", &reg_, kVioRegAuto, "");
}

SpaprVioDevice::~SpaprVioDevice() = default;

std::string SpaprVioDevice::dt_node_name() const { return strprintf("%s@%x", dt_name(), reg_); }

DtNode SpaprVioDevice::device_tree_node() const {
  DtNode node{dt_node_name(), {}};
  node.properties.push_back(DtProperty::cells("reg", {reg_}));
  if (dt_type()) node.properties.push_back(DtProperty::string("device_type", dt_type()));
  std::string compatible = dt_compatible();
  if (!compatible.empty()) node.properties.push_back(DtProperty::string("compatible", compatible));
  // Second cell 0: an edge-triggered (message) source.
  if (irq_number_) node.properties.push_back(DtProperty::cells("interrupts", {irq_number_, 0}));
  if (uint64_t window = rtce_window_size()) {
    // <liobn, bus offset (2 cells), size (2 cells, QEMU fills only the low one)>
    node.properties.push_back(DtProperty::cells("ibm,#dma-address-cells", {2}));
    node.properties.push_back(DtProperty::cells("ibm,#dma-size-cells", {2}));
    node.properties.push_back(
        DtProperty::cells("ibm,my-dma-window", {vio_liobn(reg_), 0, 0, 0, uint32_t(window)}));
  }
  return node;
}

// ---------------------------------------------------------------------------------------------
// Hypervisor calls

int64_t SpaprVioDevice::h_reg_crq(uint64_t queue_addr, uint64_t queue_len) {
  // QEMU cannot handle queues larger than 256 MiB; a queue is whole pages.
  if (queue_len < kCrqMinSize || queue_len > kCrqMaxSize) {
    log_guest(LogCategory::kGuestError, "%s: H_REG_CRQ: queue size 0x%" PRIx64 " out of range",
              dt_node_name().c_str(), queue_len);
    return kHParameter;
  }
  if (queue_addr & (kTcePageSize - 1)) {
    log_guest(LogCategory::kGuestError, "%s: H_REG_CRQ: queue 0x%" PRIx64 " not page aligned",
              dt_node_name().c_str(), queue_addr);
    return kHParameter;
  }
  if (!has_crq()) return kHNotFound;
  if (crq_.registered()) {
    // Linux answers this with H_FREE_CRQ and a second H_REG_CRQ (ibmvtpm_reset_crq).
    QTPM_TRACE("spapr_vio_reg_crq", "%s: already registered", dt_node_name().c_str());
    return kHResource;
  }
  crq_.qladdr = queue_addr;
  crq_.qsize = uint32_t(queue_len);  // <= 256 MiB, checked above
  crq_.qnext = 0;
  QTPM_TRACE("spapr_vio_reg_crq", "%s: queue at 0x%" PRIx64 ", 0x%x bytes", dt_node_name().c_str(),
             queue_addr, crq_.qsize);
  return kHSuccess;
}

int64_t SpaprVioDevice::h_free_crq() {
  crq_ = CrqQueueState{};
  QTPM_TRACE("spapr_vio_free_crq", "%s", dt_node_name().c_str());
  return kHSuccess;
}

int64_t SpaprVioDevice::h_send_crq(uint64_t word0, uint64_t word1) {
  if (!has_crq()) return kHHardware;
  return handle_crq(CrqElement::from_words(word0, word1));
}

int64_t SpaprVioDevice::h_enable_crq() { return kHSuccess; }

int64_t SpaprVioDevice::h_vio_signal(uint64_t mode) {
  if (mode & ~uint64_t(signal_mask())) return kHParameter;
  signal_state_ = mode;
  QTPM_TRACE("spapr_vio_signal", "%s: mode 0x%" PRIx64, dt_node_name().c_str(), mode);
  return kHSuccess;
}

// ---------------------------------------------------------------------------------------------
// DMA and the response queue

bool SpaprVioDevice::dma_read(uint64_t ioba, std::span<uint8_t> out) {
  return dma_ && dma_->dma_read(ioba, out);
}

bool SpaprVioDevice::dma_write(uint64_t ioba, std::span<const uint8_t> in) {
  return dma_ && dma_->dma_write(ioba, in);
}

CrqSendResult SpaprVioDevice::send_crq(const CrqElement &element) {
  if (crq_sender_) return crq_sender_(element);
  if (!crq_.registered()) return CrqSendResult::kNoQueue;
  uint64_t slot = crq_.qladdr + crq_.qnext;
  uint8_t in_use = 0;
  if (!dma_read(slot, std::span<uint8_t>(&in_use, 1))) return CrqSendResult::kDmaFailure;
  // The guest frees a slot by clearing its valid byte after it has consumed the element.
  if (in_use != 0) return CrqSendResult::kQueueFull;
  std::array<uint8_t, kCrqElementSize> bytes = element.encode();
  // Second half first, then the half with the valid byte: the guest polls the valid byte.
  std::span<const uint8_t> all(bytes);
  if (!dma_write(slot + 8, all.subspan(8, 8))) return CrqSendResult::kDmaFailure;
  if (!dma_write(slot, all.subspan(0, 8))) return CrqSendResult::kDmaFailure;
  crq_.qnext = (crq_.qnext + uint32_t(kCrqElementSize)) % crq_.qsize;
  if ((signal_state_ & 1) && irq_count() > 0) {
    // An edge: XICS/XIVE latch it; a level would stay asserted with nobody to lower it.
    irq(0).raise();
    irq(0).lower();
  }
  return CrqSendResult::kSent;
}

void SpaprVioDevice::vio_reset() {
  if (dma_) dma_->dma_reset();
  crq_ = CrqQueueState{};
  signal_state_ = 0;
  if (irq_count() > 0) irq(0).lower();
}

// ---------------------------------------------------------------------------------------------
// Saved state: section "spapr-vio", version 1
//   reg u32, irq u32 (must be this device's: QEMU's VMSTATE_UINT32_EQUAL), signal_state u64,
//   crq_qladdr u64, crq_qsize u32, crq_qnext u32

StateWriter SpaprVioDevice::vio_save_state() const {
  StateWriter w("spapr-vio", kStateVersion);
  w.put_u32("reg", reg_);
  w.put_u32("irq", irq_number_);
  w.put_u64("signal_state", signal_state_);
  w.put_u64("crq_qladdr", crq_.qladdr);
  w.put_u32("crq_qsize", crq_.qsize);
  w.put_u32("crq_qnext", crq_.qnext);
  return w;
}

Status SpaprVioDevice::vio_parse_state(const StateReader &r, VioState *s) const {
  Status st = r.expect("spapr-vio", kStateVersion, kStateVersion);
  if (st) st = r.get_u32("reg", &s->reg);
  if (st) st = r.get_u32("irq", &s->irq);
  if (st) st = r.get_u64("signal_state", &s->signal_state);
  if (st) st = r.get_u64("crq_qladdr", &s->crq.qladdr);
  if (st) st = r.get_u32("crq_qsize", &s->crq.qsize);
  if (st) st = r.get_u32("crq_qnext", &s->crq.qnext);
  if (!st) return st;
  if (s->reg != reg_) {
    return Status::errorf("saved unit address 0x%x, this device is at 0x%x", s->reg, reg_);
  }
  if (s->irq != irq_number_) {
    return Status::errorf("saved interrupt 0x%x, this device has 0x%x", s->irq, irq_number_);
  }
  if (s->signal_state & ~uint64_t(signal_mask())) {
    return Status::errorf("signal mode 0x%" PRIx64 " outside the device's mask 0x%x",
                          s->signal_state, signal_mask());
  }
  const CrqQueueState &q = s->crq;
  if (!q.registered()) {
    if (q.qladdr || q.qnext) return Status::error("queue address or offset without a queue");
    return Status::ok();
  }
  if (!has_crq()) return Status::error("a CRQ for a device without one");
  if (q.qsize < kCrqMinSize || q.qsize > kCrqMaxSize || (q.qladdr & (kTcePageSize - 1))) {
    return Status::errorf("queue 0x%" PRIx64 "/0x%x is not one H_REG_CRQ accepts", q.qladdr,
                          q.qsize);
  }
  if (q.qnext >= q.qsize || q.qnext % kCrqElementSize) {
    return Status::errorf("queue offset 0x%x is not a slot of a 0x%x-byte queue", q.qnext, q.qsize);
  }
  return Status::ok();
}

void SpaprVioDevice::vio_restore_state(const VioState &s) {
  signal_state_ = s.signal_state;
  crq_ = s.crq;
}

}  // namespace qtpm
