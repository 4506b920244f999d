// SPDX-License-Identifier: GPL-2.0-or-later
//
// The demo's guest bus and TIS/CRB drivers (see guest_drivers.h).  Register offsets and bits
// come from the devices' own register headers.
#include "qtest/demo/guest_drivers.h"

#include "backends/tpm/tpm_backend.h"
#include "hw/tpm/crb/tpm_crb_regs.h"
#include "hw/tpm/tis/tpm_tis_regs.h"

namespace qtpm::demo {

namespace {

// Polls are bounded: a TPM command of the demo finishes in milliseconds; 20 s means broken.
constexpr int kMaxPolls = 20000;

}  // namespace

void GuestBus::map(const MemoryRegion &region, uint64_t base) { maps_.push_back({&region, base}); }

const GuestBus::Mapping *GuestBus::find(uint64_t addr, unsigned size) const {
  for (const Mapping &m : maps_) {
    if (addr >= m.base && addr + size <= m.base + m.region->size()) return &m;
  }
  return nullptr;
}

uint32_t GuestBus::read(uint64_t addr, unsigned size) {
  accesses_++;
  const Mapping *m = find(addr, size);
  // Unmapped guest memory reads as all ones on this bus, like a floating PCI read.
  return m ? uint32_t(m->region->read(addr - m->base, size)) : 0xffffffffu;
}

void GuestBus::write(uint64_t addr, uint64_t value, unsigned size) {
  accesses_++;
  if (const Mapping *m = find(addr, size)) m->region->write(addr - m->base, value, size);
}

// ---------------------------------------------------------------------------------------------
// TIS: locality 0, byte-wide FIFO transfers as Linux's MMIO phy does.

uint32_t TisDriver::sts() { return bus_.read(base_ + tis::reg::kSts, 4); }

Status TisDriver::wait_sts(uint32_t mask, uint32_t value, const char *what) {
  for (int i = 0; i < kMaxPolls; i++) {
    if ((sts() & mask) == value) return Status::ok();
    bus_.idle();
  }
  return Status::errorf("TIS: timed out waiting for %s (STS=0x%08x)", what, sts());
}

Status TisDriver::probe(std::string *identity) {
  uint8_t access = uint8_t(bus_.read(base_ + tis::reg::kAccess, 1));
  if (!(access & tis::access::kRegValidSts)) return Status::error("TIS: ACCESS not valid");
  bus_.write(base_ + tis::reg::kAccess, tis::access::kRequestUse, 1);
  access = uint8_t(bus_.read(base_ + tis::reg::kAccess, 1));
  if (!(access & tis::access::kActiveLocality)) return Status::error("TIS: locality 0 not granted");
  uint32_t did_vid = bus_.read(base_ + tis::reg::kDidVid, 4);
  uint32_t cap = bus_.read(base_ + tis::reg::kIntfCapability, 4);
  uint32_t iface = bus_.read(base_ + tis::reg::kInterfaceId, 4);
  *identity = strprintf("DID_VID 0x%08x, INTF_CAPABILITY 0x%08x, INTERFACE_ID 0x%08x, "
                        "locality 0 active (ACCESS 0x%02x)",
                        did_vid, cap, iface, access);
  return Status::ok();
}

Status TisDriver::transmit(const std::vector<uint8_t> &command, std::vector<uint8_t> *response) {
  bus_.write(base_ + tis::reg::kSts, tis::sts::kCommandReady, 4);
  if (Status st = wait_sts(tis::sts::kCommandReady, tis::sts::kCommandReady, "commandReady"); !st)
    return st;
  for (size_t i = 0; i < command.size();) {
    uint32_t burst = tis::sts::kBurstCount.extract(sts());
    if (burst == 0) {
      bus_.idle();
      continue;
    }
    for (; burst > 0 && i < command.size(); burst--, i++) {
      bus_.write(base_ + tis::reg::kDataFifo, command[i], 1);
    }
    // Linux's check: the TPM still expects bytes until the last one is written.
    bool expect = sts() & tis::sts::kExpect;
    if (expect != (i < command.size())) return Status::error("TIS: Expect out of step");
  }
  bus_.write(base_ + tis::reg::kSts, tis::sts::kGo, 4);
  uint32_t avail = tis::sts::kValid | tis::sts::kDataAvail;
  if (Status st = wait_sts(avail, avail, "dataAvail"); !st) return st;
  response->clear();
  while ((sts() & avail) == avail) {
    response->push_back(uint8_t(bus_.read(base_ + tis::reg::kDataFifo, 1)));
  }
  bus_.write(base_ + tis::reg::kSts, tis::sts::kCommandReady, 4);
  if (response->size() < kTpmHeaderSize || tpm_header_size(response->data()) != response->size())
    return Status::errorf("TIS: malformed response of %zu bytes", response->size());
  return Status::ok();
}

// ---------------------------------------------------------------------------------------------
// CRB: locality 0, the buffer addresses as the registers give them (what Linux does).

Status CrbDriver::probe(std::string *identity) {
  bus_.write(base_ + crb::A_LOC_CTRL, crb::loc_ctrl::kRequestAccess, 4);
  uint32_t state = bus_.read(base_ + crb::A_LOC_STATE, 4);
  if (!crb::loc_state::kLocAssigned.extract(state) || !crb::loc_state::kTpmRegValidSts.extract(state))
    return Status::errorf("CRB: locality 0 not assigned (LOC_STATE 0x%08x)", state);
  uint32_t intf = bus_.read(base_ + crb::A_INTF_ID, 4);
  uint32_t cmd = bus_.read(base_ + crb::A_CTRL_CMD_LADDR, 4);
  uint32_t size = bus_.read(base_ + crb::A_CTRL_CMD_SIZE, 4);
  *identity = strprintf("INTF_ID 0x%08x, buffer 0x%08x (%u bytes), locality 0 assigned", intf,
                        cmd, size);
  return Status::ok();
}

Status CrbDriver::transmit(const std::vector<uint8_t> &command, std::vector<uint8_t> *response) {
  bus_.write(base_ + crb::A_CTRL_REQ, crb::ctrl_req::kCmdReady, 4);
  uint64_t cmd = uint64_t(bus_.read(base_ + crb::A_CTRL_CMD_HADDR, 4)) << 32 |
                 bus_.read(base_ + crb::A_CTRL_CMD_LADDR, 4);
  uint64_t rsp = bus_.read(base_ + crb::A_CTRL_RSP_ADDR, 4);
  uint32_t size = bus_.read(base_ + crb::A_CTRL_CMD_SIZE, 4);
  if (command.size() > size) return Status::error("CRB: command larger than the buffer");
  for (size_t i = 0; i < command.size(); i++) bus_.write(cmd + i, command[i], 1);
  bus_.write(base_ + crb::A_CTRL_START, crb::ctrl_start::kInvoke.mask(), 4);
  int polls = 0;
  while (bus_.read(base_ + crb::A_CTRL_START, 4) & crb::ctrl_start::kInvoke.mask()) {
    if (++polls > kMaxPolls) return Status::error("CRB: timed out waiting for START to clear");
    bus_.idle();
  }
  if (crb::ctrl_sts::kTpmSts.extract(bus_.read(base_ + crb::A_CTRL_STS, 4)))
    return Status::error("CRB: CTRL_STS.tpmSts reports a fatal error");
  std::vector<uint8_t> header(kTpmHeaderSize);
  for (size_t i = 0; i < header.size(); i++) header[i] = uint8_t(bus_.read(rsp + i, 1));
  uint32_t len = tpm_header_size(header.data());
  if (len < kTpmHeaderSize || len > size) return Status::errorf("CRB: bad response size %u", len);
  response->assign(len, 0);
  for (uint32_t i = 0; i < len; i++) (*response)[i] = uint8_t(bus_.read(rsp + i, 1));
  bus_.write(base_ + crb::A_CTRL_REQ, crb::ctrl_req::kGoIdle, 4);
  return Status::ok();
}

}  // namespace qtpm::demo
