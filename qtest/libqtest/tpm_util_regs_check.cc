// SPDX-License-Identifier: GPL-2.0-or-later
//
// Compile-time check that the register offsets and bits the C test helpers use
// (tpm_util_regs.h) are the ones the devices declare in their constexpr register tables
// (hw/tpm/tis/tpm_tis_regs.h, hw/tpm/crb/tpm_crb_regs.h).  Built with the library: a drift on
// either side fails the build, not a qtest.  A device header that does not exist yet is
// skipped (__has_include), so the helpers can be built before the devices land.
#include "qtest/libqtest/tpm_util_regs.h"

#if __has_include("hw/tpm/tis/tpm_tis_regs.h")
#include "hw/tpm/tis/tpm_tis_regs.h"

namespace tis = qtpm::tis;
static_assert(TPM_TIS_LOCALITY_STRIDE == tis::kLocalityWindow);
static_assert(TPM_TIS_REG_ACCESS == tis::reg::kAccess);
static_assert(TPM_TIS_REG_STS == tis::reg::kSts);
static_assert(TPM_TIS_REG_DATA_FIFO == tis::reg::kDataFifo);
static_assert(TPM_TIS_ACCESS_REG_VALID == tis::access::kRegValidSts);
static_assert(TPM_TIS_ACCESS_ACTIVE == tis::access::kActiveLocality);
static_assert(TPM_TIS_ACCESS_REQUEST_USE == tis::access::kRequestUse);
static_assert(TPM_TIS_STS_VALID == tis::sts::kValid);
static_assert(TPM_TIS_STS_COMMAND_READY == tis::sts::kCommandReady);
static_assert(TPM_TIS_STS_GO == tis::sts::kGo);
static_assert(TPM_TIS_STS_DATA_AVAIL == tis::sts::kDataAvail);
static_assert(TPM_TIS_STS_EXPECT == tis::sts::kExpect);
static_assert(TPM_TIS_STS_BURST_SHIFT == tis::sts::kBurstCount.shift);
static_assert(TPM_TIS_STS_BURST_MASK == tis::sts::kBurstCount.mask() >> tis::sts::kBurstCount.shift);
#endif

#if __has_include("hw/tpm/crb/tpm_crb_regs.h")
#include "hw/tpm/crb/tpm_crb_regs.h"

namespace crb = qtpm::crb;
static_assert(TPM_CRB_REG_LOC_STATE == crb::A_LOC_STATE);
static_assert(TPM_CRB_REG_LOC_CTRL == crb::A_LOC_CTRL);
static_assert(TPM_CRB_REG_LOC_STS == crb::A_LOC_STS);
static_assert(TPM_CRB_REG_CTRL_REQ == crb::A_CTRL_REQ);
static_assert(TPM_CRB_REG_CTRL_STS == crb::A_CTRL_STS);
static_assert(TPM_CRB_REG_CTRL_START == crb::A_CTRL_START);
static_assert(TPM_CRB_REG_CTRL_CMD_SIZE == crb::A_CTRL_CMD_SIZE);
static_assert(TPM_CRB_REG_CTRL_CMD_LADDR == crb::A_CTRL_CMD_LADDR);
static_assert(TPM_CRB_REG_CTRL_CMD_HADDR == crb::A_CTRL_CMD_HADDR);
static_assert(TPM_CRB_REG_CTRL_RSP_SIZE == crb::A_CTRL_RSP_SIZE);
static_assert(TPM_CRB_REG_CTRL_RSP_ADDR == crb::A_CTRL_RSP_ADDR);
static_assert(TPM_CRB_REG_CTRL_RSP_ADDR + 4 == crb::A_CTRL_RSP_ADDR_HI);
static_assert(TPM_CRB_LOC_STATE_REG_VALID == crb::loc_state::kTpmRegValidSts.mask());
static_assert(TPM_CRB_LOC_STATE_LOC_ASSIGNED == crb::loc_state::kLocAssigned.mask());
static_assert(TPM_CRB_LOC_CTRL_REQUEST_ACCESS == crb::loc_ctrl::kRequestAccess);
static_assert(TPM_CRB_LOC_CTRL_RELINQUISH == crb::loc_ctrl::kRelinquish);
static_assert(TPM_CRB_LOC_STS_GRANTED == crb::loc_sts::kGranted.mask());
static_assert(TPM_CRB_CTRL_REQ_CMD_READY == crb::ctrl_req::kCmdReady);
static_assert(TPM_CRB_CTRL_REQ_GO_IDLE == crb::ctrl_req::kGoIdle);
static_assert(TPM_CRB_CTRL_STS_TPM_STS == crb::ctrl_sts::kTpmSts.mask());
static_assert(TPM_CRB_CTRL_STS_TPM_IDLE == crb::ctrl_sts::kTpmIdle.mask());
static_assert(TPM_CRB_CTRL_START_START == crb::ctrl_start::kInvoke.mask());
#endif
