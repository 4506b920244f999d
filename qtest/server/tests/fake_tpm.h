// SPDX-License-Identifier: GPL-2.0-or-later
//
// Fake devices and a fake backend for the host's tests: they exercise the host's generic paths
// (type registry, buses, regions, IRQs, reset, query-tpm) without depending on the real TPM
// models, which other modules provide.
//
//  fake-tpm-isa     tpm-if, bus isa, MMIO 0x5000 at 0xfed40000, irq (default 5), tpmdev, ppi
//  fake-tpm-sysbus  tpm-if, bus sysbus, MMIO 0x5000 placed by the machine, 1 IRQ output
//  fake-tpm-crb     tpm-if, bus pc-system, MMIO 0x80 at 0xfed40000 + RAM 0xf80 at 0xfed40080
//  fake-tpm-spapr   tpm-if, bus spapr-vio, no regions
//  fake-blob-isa    not a TPM; MMIO 0x100 at 0xfed40000 (for overlap errors)
//  fake-nouser-isa  not user-creatable
//  fake-ports-isa   not a TPM; port I/O region of 2 bytes at 0x520 (clear of fw_cfg at 0x510)
//  tpm-fake         backend ("-tpmdev fake,id=x[,chardev=c][,fail=on]")
//
// The fake MMIO register file: a read of N bytes at offset k returns bytes k, k+1, ... (LE),
// except offset 0x10, a 4-byte scratch register; writing 1/0 to offset 0x18 raises/lowers IRQ
// output 0.  Every handler call is recorded, so tests can check how accesses were split.
#pragma once

#include <cstdint>
#include <vector>

#include "backends/tpm/tpm_backend.h"
#include "hw/core/device.h"

namespace qtpm::testing {

struct FakeAccess {
  uint64_t offset;
  unsigned size;
  bool write;
  uint64_t value;
};

class FakeTpmDevice : public Device, public TpmFrontend, public MmioHandler {
 public:
  FakeTpmDevice();
  ~FakeTpmDevice() override;

  // TpmFrontend
  void tpm_request_completed(std::unique_ptr<TpmRequest> request) override;
  TpmVersion tpm_version() const override { return TpmVersion::k2_0; }
  const char *tpm_model() const override;

  // MmioHandler
  uint64_t mmio_read(uint64_t offset, unsigned size, bool peek, AccessOutcome *outcome) override;
  void mmio_write(uint64_t offset, uint64_t value, unsigned size, AccessOutcome *outcome) override;

  std::vector<FakeAccess> accesses;
  int resets = 0;
  TpmBackend *backend = nullptr;

 protected:
  Status do_realize() override;
  void do_reset() override;
  void do_unrealize() override;

 private:
  uint32_t irq_ = 5;
  std::string tpmdev_;
  bool ppi_ = true;
  uint32_t scratch_ = 0;
  std::vector<uint8_t> crb_buffer_;
};

class FakeBackend : public TpmBackend {
 public:
  FakeBackend();
  ~FakeBackend() override;
  TpmVersion version() const override { return TpmVersion::k2_0; }
  uint32_t buffer_size() override { return 4096; }
  std::string tpm_type() const override { return "fake"; }
  std::vector<std::pair<std::string, std::string>> tpm_options() const override;

  int resets = 0;
  static int finalized;  // destructor count, for teardown tests

 protected:
  void handle_request(TpmRequest &request) override;
  Status do_realize() override;
  void do_backend_reset() override { resets++; }

 private:
  std::string chardev_;
  bool fail_ = false;
};

// Registers the fake types once.
void register_fake_types();

}  // namespace qtpm::testing
