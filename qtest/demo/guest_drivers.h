// SPDX-License-Identifier: GPL-2.0-or-later
//
// The demo's "guest": a physical address bus over a device's regions, and TPM interface drivers
// that talk to it the way Linux tpm_tis / tpm_crb do (TCG PC Client PTP 1.05: FIFO and CRB
// interfaces), one register access at a time.  The backend runs commands on its worker thread;
// while a driver polls for completion it lets the host loop deliver completions, as a vCPU
// spinning on STS would let the main loop run.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "hw/core/device.h"
#include "qom/main_loop.h"
#include "qom/status.h"

namespace qtpm::demo {

// Guest physical accesses routed to the device region that covers them.
class GuestBus {
 public:
  explicit GuestBus(QueueCompletionLoop &loop) : loop_(loop) {}
  void map(const MemoryRegion &region, uint64_t base);
  uint32_t read(uint64_t addr, unsigned size);
  void write(uint64_t addr, uint64_t value, unsigned size);
  // Lets posted completions run (what the main loop does while the guest polls).
  void idle() { loop_.wait_and_run(1); }
  uint64_t accesses() const { return accesses_; }

 private:
  struct Mapping {
    const MemoryRegion *region;
    uint64_t base;
  };
  const Mapping *find(uint64_t addr, unsigned size) const;
  QueueCompletionLoop &loop_;
  std::vector<Mapping> maps_;
  uint64_t accesses_ = 0;
};

class TpmDriver {
 public:
  virtual ~TpmDriver() = default;
  virtual const char *name() const = 0;
  // Probe as firmware does; fills `identity` with what the registers say.
  virtual Status probe(std::string *identity) = 0;
  // Sends one command and returns the response.
  virtual Status transmit(const std::vector<uint8_t> &command, std::vector<uint8_t> *response) = 0;
};

class TisDriver : public TpmDriver {
 public:
  TisDriver(GuestBus &bus, uint64_t base) : bus_(bus), base_(base) {}
  const char *name() const override { return "TIS (FIFO)"; }
  Status probe(std::string *identity) override;
  Status transmit(const std::vector<uint8_t> &command, std::vector<uint8_t> *response) override;

 private:
  uint32_t sts();
  Status wait_sts(uint32_t mask, uint32_t value, const char *what);
  GuestBus &bus_;
  uint64_t base_;
};

class CrbDriver : public TpmDriver {
 public:
  CrbDriver(GuestBus &bus, uint64_t base) : bus_(bus), base_(base) {}
  const char *name() const override { return "CRB"; }
  Status probe(std::string *identity) override;
  Status transmit(const std::vector<uint8_t> &command, std::vector<uint8_t> *response) override;

 private:
  GuestBus &bus_;
  uint64_t base_;
};

}  // namespace qtpm::demo
