// SPDX-License-Identifier: GPL-2.0-or-later
//
// The TPM FIFO interface core shared by tpm-tis (ISA) and tpm-tis-device (sysbus): five locality
// register windows, locality arbitration, the command state machine, the FIFO and burst count,
// interrupts, and the TIS part of the saved state.
//
// Follows the TCG PC Client TPM Interface Specification (TIS) 1.3 for TPM 1.2 and the TCG PC
// Client Platform TPM Profile (PTP) FIFO interface for TPM 2.0, behaving as QEMU 7.2's tpm-tis
// does wherever guests can tell, except for the QEMU defects listed in docs/tis.md.
//
// The core is pure device logic (STYLE.md practice 6): it is handed a backend and an interrupt
// line, runs on the embedder's main-loop thread (MMIO and completions alike: the embedder
// serialises them, as QEMU's BQL does), and never blocks: a command goes to the backend with
// deliver() and its response comes back through request_completed().
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "backends/tpm/tpm_backend.h"
#include "hw/core/irq.h"
#include "hw/core/memory.h"
#include "hw/core/register_bank.h"
#include "hw/tpm/tis/tpm_tis_regs.h"
#include "qom/saved_state.h"
#include "qom/status.h"

namespace qtpm {

// Per-locality command state.  The numbers are QEMU's and appear in the saved state.
enum class TisState : uint8_t {
  kIdle = 0,
  kReady = 1,
  kCompletion = 2,
  kExecution = 3,
  kReception = 4,
};
inline constexpr uint8_t kTisStateMax = 4;
const char *tis_state_name(TisState state);

// A saved TIS core, parsed and checked against this device, ready to apply.
struct TisSnapshot {
  struct Locality {
    TisState state = TisState::kIdle;
    uint8_t access = 0;
    uint32_t sts = 0;
    uint32_t iface_id = 0;
    uint32_t inte = 0;
    uint32_t ints = 0;
  };
  std::array<Locality, tis::kLocalities> loc;
  uint8_t active = tis::kNoLocality;
  uint16_t rw_offset = 0;
  std::vector<uint8_t> buffer;  // the meaningful bytes: received command or response
};

class TisCore : public MmioHandler {
 public:
  TisCore();
  ~TisCore() override;
  TisCore(const TisCore &) = delete;
  TisCore &operator=(const TisCore &) = delete;

  // Wiring, before the first reset: where commands go, the interrupt line (may be unconnected),
  // and the value INT_VECTOR reads.
  void connect(TpmBackend *backend, IrqOutput *irq, uint32_t irq_vector);

  // Machine reset, QEMU's order (docs/tis.md): version and buffer size from the backend, backend
  // reset (drains a command in flight), registers to their reset values, backend startup.  A
  // failed startup is returned and leaves the core in the startup-error state (every read gives
  // 0, every write is ignored: the guest sees no TPM) until the next reset.
  Status reset();

  // The backend's answer to the command delivered last (main-loop thread).
  void request_completed(std::unique_ptr<TpmRequest> request);

  // The backend's version, or kUnspec after a startup error.
  TpmVersion version() const;
  bool startup_error() const { return startup_error_; }

  // MmioHandler for the whole 0x5000 region (all five localities).
  uint64_t mmio_read(uint64_t offset, unsigned size, bool peek, AccessOutcome *outcome) override;
  void mmio_write(uint64_t offset, uint64_t value, unsigned size, AccessOutcome *outcome) override;

  // Saved state (tpm_tis_core_state.cc).  save() expects no command in flight (the device's
  // prepare_save drains the backend first).  parse_state() checks every value against this
  // device and touches nothing; apply() cannot fail.
  void save(StateWriter &w) const;
  Status parse_state(const StateReader &r, TisSnapshot *out) const;
  void apply(const TisSnapshot &snapshot);

  // Inspection, for tests, fuzzers and tracing.
  uint8_t active_locality() const { return active_; }
  TisState state(uint8_t locality) const { return loc_.at(locality).state; }
  uint32_t buffer_size() const { return be_buffer_size_; }
  bool command_in_flight() const { return in_flight_; }
  bool irq_level() const;
  // "" when the core's invariants hold, else the first broken one.
  std::string check_invariants() const;

 private:
  struct Locality {
    TisState state = TisState::kIdle;
    uint8_t access = 0;  // stored bits only (access::kStoredMask)
    uint32_t sts = 0;    // stored bits only (sts::kStoredMask); burst count is computed
  };

  void install_hooks(uint8_t l);
  RegisterBank &bank(uint8_t l) { return *banks_[l]; }
  const RegisterBank &bank(uint8_t l) const { return *banks_[l]; }
  bool owns(uint8_t l) const { return active_ == l; }
  void refuse(uint8_t l, const char *what);
  void sts_set(uint8_t l, uint32_t flags);

  // ACCESS: locality arbitration.
  uint32_t read_access(uint8_t l) const;
  void write_access(uint8_t l, uint8_t value);
  void relinquish(uint8_t l);
  bool seize(uint8_t l);
  int highest_requester() const;
  void begin_abort(uint8_t aborting, uint8_t next);
  void run_abort();
  void change_active_locality(uint8_t next);
  void abandon(uint8_t l);

  // STS: the command state machine.
  uint32_t read_sts(uint8_t l, uint32_t lanes) const;
  void write_sts(uint8_t l, uint32_t value);
  void command_ready(uint8_t l);
  void go(uint8_t l);
  void response_retry(uint8_t l);
  void send(uint8_t l);
  void finish_command(TpmRequest &request);

  // DATA_FIFO / XDATA_FIFO.
  uint64_t fifo_read(uint8_t l, unsigned size, bool peek);
  uint8_t fifo_read_byte(uint8_t l, unsigned ahead, bool peek);
  void fifo_write(uint8_t l, uint64_t value, unsigned size);
  void fifo_write_byte(uint8_t l, uint8_t byte);

  // Interrupts.
  void raise(uint8_t l, uint32_t sources);
  void update_irq();

  void lock_interface();
  void trace_debug(uint8_t l) const;

  TpmBackend *backend_ = nullptr;
  IrqOutput *irq_ = nullptr;
  uint32_t irq_vector_ = tis::kDefaultIrq;

  std::array<std::unique_ptr<RegisterBank>, tis::kLocalities> banks_;
  std::array<Locality, tis::kLocalities> loc_{};
  std::array<uint8_t, tis::kBufferMax> buffer_{};
  uint32_t buffer_len_ = 0;  // meaningful bytes in buffer_ (command received / response)
  uint32_t rw_offset_ = 0;   // FIFO position in buffer_
  uint8_t active_ = tis::kNoLocality;

  // A locality change (relinquish, seize, commandReady abort) that waits for the command in
  // flight to finish: QEMU's aborting_locty / next_locty.
  bool abort_pending_ = false;
  uint8_t aborting_ = tis::kNoLocality;
  uint8_t next_ = tis::kNoLocality;

  bool in_flight_ = false;  // delivered to the backend, completion not yet seen
  uint8_t exec_locality_ = tis::kNoLocality;

  TpmVersion be_version_ = TpmVersion::kUnspec;
  uint32_t be_buffer_size_ = 0;
  bool startup_error_ = false;

  // What register hooks report about the access being handled (refused writes).
  AccessOutcome hook_outcome_ = AccessOutcome::kOk;
};

}  // namespace qtpm
