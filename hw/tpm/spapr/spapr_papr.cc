// SPDX-License-Identifier: GPL-2.0-or-later
//
// Names of the PAPR hypervisor calls qtpm implements (spapr_papr.h), for traces and logs.
#include "hw/tpm/spapr/spapr_papr.h"

namespace qtpm::spapr {

const char *hcall_name(uint64_t opcode) {
  switch (opcode) {
    case kHGetTce: return "H_GET_TCE";
    case kHPutTce: return "H_PUT_TCE";
    case kHRegCrq: return "H_REG_CRQ";
    case kHFreeCrq: return "H_FREE_CRQ";
    case kHVioSignal: return "H_VIO_SIGNAL";
    case kHSendCrq: return "H_SEND_CRQ";
    case kHEnableCrq: return "H_ENABLE_CRQ";
    default: return nullptr;
  }
}

}  // namespace qtpm::spapr
