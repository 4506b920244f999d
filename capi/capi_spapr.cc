// SPDX-License-Identifier: GPL-2.0-or-later
//
// The C API for PAPR virtual I/O devices (include/qtpm/qtpm.h, "PAPR virtual I/O devices"):
// what an embedder's VIO bus gives a SpaprVioDevice (unit address, interrupt, DMA window, CRQ
// sender) and what it forwards to it (H_SEND_CRQ and the other CRQ hypervisor calls), plus the
// migration hook of tpm-spapr.  The C callbacks are wrapped in the device's C++ interfaces
// (SpaprDmaWindow, CrqSender); nothing here knows the vTPM protocol.
#include <cstring>
#include <memory>

#include "capi/capi_host.h"
#include "hw/tpm/spapr/spapr_vio_device.h"
#include "hw/tpm/spapr/tpm_spapr.h"
#include "qtpm/qtpm.h"

using qtpm::capi::fail;
using qtpm::capi::succeed;
namespace spapr = qtpm::spapr;

namespace {

// The embedder's DMA window (its TCE table) behind the device's interface.
class CapiDmaWindow final : public qtpm::SpaprDmaWindow {
 public:
  CapiDmaWindow(const QtpmSpaprOps &ops, void *opaque) : ops_(ops), opaque_(opaque) {}

  bool dma_read(uint64_t ioba, std::span<uint8_t> out) override {
    // An empty transfer touches no page (QEMU's DMA helpers succeed too).
    return out.empty() || ops_.dma_read(opaque_, ioba, out.data(), out.size());
  }
  bool dma_write(uint64_t ioba, std::span<const uint8_t> in) override {
    return in.empty() || ops_.dma_write(opaque_, ioba, in.data(), in.size());
  }
  void dma_reset() override {
    if (ops_.dma_reset) ops_.dma_reset(opaque_);
  }
  const QtpmSpaprOps &ops() const { return ops_; }
  void *opaque() const { return opaque_; }

 private:
  QtpmSpaprOps ops_;
  void *opaque_;
};

qtpm::SpaprVioDevice *vio_of(const QtpmDevice *dev) {
  return dev ? qtpm::object_cast<qtpm::SpaprVioDevice>(dev->object.get()) : nullptr;
}

int not_vio(const QtpmDevice *dev, char **errmsg) {
  if (!dev) return fail(errmsg, QTPM_ERROR, "spapr: no device given");
  return fail(errmsg, QTPM_NOT_SUPPORTED,
              qtpm::strprintf("%s is not a VIO device", dev->object->type_name().c_str()));
}

qtpm::CrqSendResult from_c(QtpmCrqSendResult r) {
  switch (r) {
    case QTPM_CRQ_SENT: return qtpm::CrqSendResult::kSent;
    case QTPM_CRQ_QUEUE_FULL: return qtpm::CrqSendResult::kQueueFull;
    case QTPM_CRQ_NO_QUEUE: return qtpm::CrqSendResult::kNoQueue;
    case QTPM_CRQ_DMA_FAILURE: break;
  }
  // Anything else the embedder returns is a failure to queue.
  return qtpm::CrqSendResult::kDmaFailure;
}

}  // namespace

extern "C" {

int qtpm_spapr_info(const QtpmDevice *dev, QtpmSpaprInfo *info, char **errmsg) {
  qtpm::SpaprVioDevice *vio = vio_of(dev);
  if (!vio) return not_vio(dev, errmsg);
  if (!info) return fail(errmsg, QTPM_ERROR, "spapr: no output given");
  info->dt_name = vio->dt_name();
  info->dt_type = vio->dt_type();
  info->signal_mask = vio->signal_mask();
  info->rtce_window_size = vio->rtce_window_size();
  info->has_crq = vio->has_crq();
  return succeed(errmsg);
}

char *qtpm_spapr_dt_compatible(const QtpmDevice *dev) {
  qtpm::SpaprVioDevice *vio = vio_of(dev);
  if (!vio) return nullptr;
  std::string compatible = vio->dt_compatible();
  return compatible.empty() ? nullptr : qtpm::capi::dup_string(compatible);
}

int qtpm_spapr_set_unit(QtpmDevice *dev, uint32_t reg, uint32_t irq, char **errmsg) {
  qtpm::SpaprVioDevice *vio = vio_of(dev);
  if (!vio) return not_vio(dev, errmsg);
  if (vio->realized()) {
    return fail(errmsg, QTPM_ERROR,
                qtpm::strprintf("%s: the unit address is set before realize",
                                dev->object->type_name().c_str()));
  }
  if (reg == spapr::kVioRegAuto) {
    return fail(errmsg, QTPM_ERROR,
                qtpm::strprintf("%s: 0x%x is not a unit address", dev->object->type_name().c_str(),
                                reg));
  }
  vio->assign_reg(reg);
  vio->set_irq_number(irq);
  return succeed(errmsg);
}

int qtpm_spapr_attach(QtpmDevice *dev, const QtpmSpaprOps *ops, void *opaque, char **errmsg) {
  qtpm::SpaprVioDevice *vio = vio_of(dev);
  if (!vio) return not_vio(dev, errmsg);
  QtpmSpaprOps copy{};
  if (ops) std::memcpy(&copy, ops, std::min(ops->size, sizeof copy));
  if (!ops || ops->size < offsetof(QtpmSpaprOps, dma_reset) || !copy.dma_read ||
      !copy.dma_write) {
    return fail(errmsg, QTPM_ERROR, "spapr: the DMA window needs dma_read and dma_write");
  }
  auto window = std::make_shared<CapiDmaWindow>(copy, opaque);
  vio->attach_dma(window.get());
  if (copy.send_crq) {
    CapiDmaWindow *w = window.get();
    vio->set_crq_sender([w](const spapr::CrqElement &element) {
      std::array<uint8_t, spapr::kCrqElementSize> bytes = element.encode();
      return from_c(w->ops().send_crq(w->opaque(), bytes.data()));
    });
  } else {
    vio->set_crq_sender(nullptr);
  }
  // The previous window (if any) goes only now that the device no longer points at it.
  dev->attachment = std::move(window);
  return succeed(errmsg);
}

int64_t qtpm_spapr_h_send_crq(QtpmDevice *dev, uint64_t word0, uint64_t word1) {
  qtpm::SpaprVioDevice *vio = vio_of(dev);
  if (!vio || !vio->realized()) return spapr::kHParameter;
  return vio->h_send_crq(word0, word1);
}

int64_t qtpm_spapr_hcall(QtpmDevice *dev, uint64_t opcode, const uint64_t *args, size_t nargs) {
  qtpm::SpaprVioDevice *vio = vio_of(dev);
  if (!vio || !vio->realized()) return spapr::kHParameter;
  auto need = [&](size_t n) { return nargs >= n && (n == 0 || args); };
  switch (opcode) {
    case spapr::kHRegCrq: return need(2) ? vio->h_reg_crq(args[0], args[1]) : spapr::kHParameter;
    case spapr::kHFreeCrq: return vio->h_free_crq();
    case spapr::kHVioSignal: return need(1) ? vio->h_vio_signal(args[0]) : spapr::kHParameter;
    case spapr::kHSendCrq: return need(2) ? vio->h_send_crq(args[0], args[1]) : spapr::kHParameter;
    case spapr::kHEnableCrq: return vio->h_enable_crq();
    default: return spapr::kHFunction;
  }
}

void qtpm_spapr_deliver_parked_response(QtpmDevice *dev) {
  auto *tpm = dev ? qtpm::object_cast<qtpm::TpmSpapr>(dev->object.get()) : nullptr;
  if (tpm && tpm->realized()) tpm->deliver_parked_response();
}

}  // extern "C"
