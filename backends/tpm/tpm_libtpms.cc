// SPDX-License-Identifier: GPL-2.0-or-later
//
// The in-process libtpms backend (see tpm_libtpms.h): libtpms 0.9 TPMLIB_* API, its nvram and io
// callbacks, and the swtpm-compatible state directory.
#include "backends/tpm/tpm_libtpms.h"

#include <libtpms/tpm_error.h>
#include <libtpms/tpm_library.h>
#include <libtpms/tpm_tis.h>

#include <cstdlib>
#include <cstring>

#include "backends/tpm/tpm_state_dir.h"
#include "qom/module_init.h"
#include "qom/trace.h"

namespace qtpm {

namespace {

// The one backend that owns libtpms in this process (libtpms' callbacks carry no context).
std::mutex g_owner_mu;
LibtpmsBackend *g_owner = nullptr;

constexpr uint32_t kTpm2CcStartup = 0x144;
constexpr uint32_t kTpm2CcShutdown = 0x145;
constexpr uint32_t kTpm12OrdContinueSelfTest = 0x53;

TPMLIB_TPMVersion libtpms_version(TpmVersion v) {
  return v == TpmVersion::k1_2 ? TPMLIB_TPM_VERSION_1_2 : TPMLIB_TPM_VERSION_2;
}

}  // namespace

// libtpms' callbacks.  They run only inside a libtpms call made by the owner with its
// libtpms_mu_ held, so they may touch the owner's libtpms-side members.
struct LibtpmsCallbacks {
  static TPM_RESULT nvram_init() { return TPM_SUCCESS; }

  static TPM_RESULT nvram_load(unsigned char **data, uint32_t *length, uint32_t /*tpm_number*/,
                               const char *name) {
    *data = nullptr;
    *length = 0;
    LibtpmsBackend *be = g_owner;
    if (!be || !be->store_) return TPM_FAIL;
    std::vector<uint8_t> blob;
    bool found = false;
    Status st = be->store_->load(name, &blob, &found);
    QTPM_TRACE("tpm_libtpms_nv_load", "%s: %s %zu bytes", name,
               !st ? st.message().c_str() : found ? "found" : "none", blob.size());
    if (!st) {
      be->nv_error_ = st.message();
      return TPM_FAIL;
    }
    if (!found) return TPM_RETRY;  // nothing stored yet: libtpms manufactures a new TPM
    // libtpms takes ownership and releases the buffer with free().
    *data = static_cast<unsigned char *>(std::malloc(blob.empty() ? 1 : blob.size()));
    if (!*data) return TPM_SIZE;
    if (!blob.empty()) std::memcpy(*data, blob.data(), blob.size());
    *length = static_cast<uint32_t>(blob.size());
    return TPM_SUCCESS;
  }

  static TPM_RESULT nvram_store(const unsigned char *data, uint32_t length,
                                uint32_t /*tpm_number*/, const char *name) {
    LibtpmsBackend *be = g_owner;
    if (!be || !be->store_) return TPM_FAIL;
    Status st = be->store_->store(name, std::span<const uint8_t>(data, length));
    QTPM_TRACE("tpm_libtpms_nv_store", "%s: %u bytes: %s", name, length,
               st ? "ok" : st.message().c_str());
    if (!st) {
      be->nv_error_ = st.message();
      return TPM_FAIL;
    }
    return TPM_SUCCESS;
  }

  static TPM_RESULT nvram_delete(uint32_t /*tpm_number*/, const char *name, TPM_BOOL must_exist) {
    LibtpmsBackend *be = g_owner;
    if (!be || !be->store_) return TPM_FAIL;
    bool existed = false;
    Status st = be->store_->remove(name, &existed);
    QTPM_TRACE("tpm_libtpms_nv_delete", "%s: %s", name,
               !st ? st.message().c_str() : existed ? "deleted" : "absent");
    if (!st) {
      be->nv_error_ = st.message();
      return TPM_FAIL;
    }
    return (!existed && must_exist) ? TPM_FAIL : TPM_SUCCESS;
  }

  static TPM_RESULT io_init() { return TPM_SUCCESS; }

  static TPM_RESULT io_get_locality(TPM_MODIFIER_INDICATOR *locality, uint32_t /*tpm_number*/) {
    LibtpmsBackend *be = g_owner;
    *locality = be ? be->current_locality_ : 0;
    return TPM_SUCCESS;
  }

  static TPM_RESULT io_get_physical_presence(TPM_BOOL *present, uint32_t /*tpm_number*/) {
    LibtpmsBackend *be = g_owner;
    *present = (be && be->physical_presence_) ? TRUE : FALSE;
    return TPM_SUCCESS;
  }
};

namespace {

struct libtpms_callbacks g_callbacks = {
    .sizeOfStruct = sizeof(struct libtpms_callbacks),
    .tpm_nvram_init = LibtpmsCallbacks::nvram_init,
    .tpm_nvram_loaddata = LibtpmsCallbacks::nvram_load,
    .tpm_nvram_storedata = LibtpmsCallbacks::nvram_store,
    .tpm_nvram_deletename = LibtpmsCallbacks::nvram_delete,
    .tpm_io_init = LibtpmsCallbacks::io_init,
    .tpm_io_getlocality = LibtpmsCallbacks::io_get_locality,
    .tpm_io_getphysicalpresence = LibtpmsCallbacks::io_get_physical_presence,
};

}  // namespace

LibtpmsBackend::LibtpmsBackend() {
  add_string_property("version", &version_prop_, "2.0", "TPM version: 2.0 or 1.2");
  add_string_property("state", &state_prop_, "",
                      "directory for the TPM state, in swtpm's format (default: in memory)");
  add_bool_property("physical-presence", &physical_presence_, false,
                    "assert physical presence to the TPM (swtpm does not)");
}

LibtpmsBackend::~LibtpmsBackend() { release(); }

Status LibtpmsBackend::do_realize() {
  if (version_prop_ == "2.0") {
    version_ = TpmVersion::k2_0;
  } else if (version_prop_ == "1.2") {
    version_ = TpmVersion::k1_2;
  } else {
    return Status::errorf("tpm-libtpms: Parameter 'version' expects '2.0' or '1.2', not '%s'",
                          version_prop_.c_str());
  }
  {
    std::lock_guard<std::mutex> lock(g_owner_mu);
    if (g_owner) {
      return Status::errorf("tpm-libtpms: libtpms runs one TPM per process and TPM backend '%s' "
                            "already uses it",
                            g_owner->id().c_str());
    }
    g_owner = this;
    owns_libtpms_ = true;
  }
  if (state_prop_.empty()) {
    store_ = std::make_unique<MemoryNvStore>();
  } else {
    std::unique_ptr<SwtpmStateDir> dir;
    Status st = SwtpmStateDir::open(state_prop_, version_, &dir);
    if (!st) {
      release();
      return st.prefixed("tpm-libtpms: ");
    }
    store_ = std::move(dir);
  }
  // The buffer-size range is known once the version is chosen (before any MainInit).
  TPM_RESULT rc;
  {
    std::lock_guard<std::mutex> lock(libtpms_mu_);
    rc = TPMLIB_ChooseTPMVersion(libtpms_version(version_));
    if (rc == TPM_SUCCESS) TPMLIB_SetBufferSize(0, &min_buffer_, &max_buffer_);
  }
  if (rc != TPM_SUCCESS) {
    release();
    return Status::errorf("tpm-libtpms: libtpms does not provide a TPM %s (error 0x%x)",
                          tpm_version_name(version_), rc);
  }
  return Status::ok();
}

void LibtpmsBackend::do_unrealize() { release(); }

void LibtpmsBackend::release() {
  stop_worker();
  {
    std::lock_guard<std::mutex> lock(libtpms_mu_);
    stop_tpm_locked();
    std::free(resp_buf_);
    resp_buf_ = nullptr;
    resp_buf_size_ = 0;
  }
  store_.reset();  // releases the state directory's lock
  if (owns_libtpms_) {
    std::lock_guard<std::mutex> lock(g_owner_mu);
    if (g_owner == this) g_owner = nullptr;
    owns_libtpms_ = false;
  }
}

uint32_t LibtpmsBackend::buffer_size() {
  if (buffer_size_) return buffer_size_;
  return max_buffer_ ? max_buffer_ : 4096;
}

std::vector<std::pair<std::string, std::string>> LibtpmsBackend::tpm_options() const {
  std::vector<std::pair<std::string, std::string>> opts = {{"version", version_prop_}};
  if (!state_prop_.empty()) opts.emplace_back("state", state_prop_);
  return opts;
}

// ---------------------------------------------------------------------------------------------
// Starting and stopping the TPM

Status LibtpmsBackend::do_startup(uint32_t buffer_size) {
  if (!owns_libtpms_) return Status::error("tpm-libtpms: the backend is not realized");
  std::lock_guard<std::mutex> lock(libtpms_mu_);
  if (buffer_size) requested_buffer_ = buffer_size;
  if (host() && host()->incoming_migration_pending() && !pending_blobs_) {
    // The TPM starts from the migrated state (set_state_blobs + startup), not from the store.
    stop_tpm_locked();
    QTPM_TRACE("tpm_libtpms_startup_deferred", "%s", id().c_str());
    return Status::ok();
  }
  return start_tpm_locked(requested_buffer_).prefixed("tpm-libtpms: ");
}

Status LibtpmsBackend::start_tpm_locked(uint32_t wanted_size) {
  stop_tpm_locked();
  nv_error_.clear();
  const bool from_blobs = pending_blobs_.has_value();
  // A failed start drops the incoming blobs: the store still holds the previous state.
  std::optional<LibtpmsStateBlobs> blobs = std::move(pending_blobs_);
  pending_blobs_.reset();

  TPM_RESULT rc = TPMLIB_ChooseTPMVersion(libtpms_version(version_));
  if (rc != TPM_SUCCESS) return Status::errorf("TPMLIB_ChooseTPMVersion failed (0x%x)", rc);
  uint32_t wanted = wanted_size ? std::min(wanted_size, max_buffer_) : max_buffer_;
  if (wanted < min_buffer_) {
    return Status::errorf("the frontend's buffer of %u bytes is smaller than libtpms' minimum "
                          "of %u bytes",
                          wanted, min_buffer_);
  }
  uint32_t got = TPMLIB_SetBufferSize(wanted, nullptr, nullptr);
  if (got != wanted) {
    return Status::errorf("libtpms set a buffer size of %u bytes instead of %u", got, wanted);
  }
  rc = TPMLIB_RegisterCallbacks(&g_callbacks);
  if (rc != TPM_SUCCESS) return Status::errorf("TPMLIB_RegisterCallbacks failed (0x%x)", rc);
  if (from_blobs) {
    Status st = set_libtpms_state(*blobs);
    if (!st) return st;
  }
  rc = TPMLIB_MainInit();
  if (rc != TPM_SUCCESS) {
    TPMLIB_Terminate();
    std::string why = nv_error_.empty() ? "" : ": " + nv_error_;
    return Status::errorf("libtpms could not start the TPM %s from %s (TPMLIB_MainInit error "
                          "0x%x)%s",
                          tpm_version_name(version_),
                          from_blobs ? "the incoming state" : state_description().c_str(), rc,
                          why.c_str());
  }
  running_ = true;
  tpm2_needs_shutdown_ = false;
  buffer_size_ = got;
  QTPM_TRACE("tpm_libtpms_started", "%s: TPM %s, buffer %u bytes%s", id().c_str(),
             tpm_version_name(version_), got, from_blobs ? ", from incoming state" : "");
  Status st = from_blobs ? commit_blobs(*blobs) : Status::ok();
  // A volatile state is a snapshot of one running TPM: it is used by this start and never again
  // (a later reset must not resurrect it).
  bool existed = false;
  if (st) st = store_->remove("volatilestate", &existed);
  if (!st) {
    stop_tpm_locked();
    return st;
  }
  refresh_established_locked();
  return Status::ok();
}

Status LibtpmsBackend::set_libtpms_state(const LibtpmsStateBlobs &blobs) {
  struct Part {
    TPMLIB_StateType type;
    const std::vector<uint8_t> *bytes;
    const char *name;
  };
  // Permanent first, as libtpms requires.  An empty blob is set as NULL, which also hides any
  // stale blob of that kind in the store from MainInit.
  const Part parts[] = {{TPMLIB_STATE_PERMANENT, &blobs.permanent, "permanent"},
                        {TPMLIB_STATE_VOLATILE, &blobs.volatile_state, "volatile"},
                        {TPMLIB_STATE_SAVE_STATE, &blobs.savestate, "savestate"}};
  for (const Part &p : parts) {
    const unsigned char *buf = p.bytes->empty() ? nullptr : p.bytes->data();
    TPM_RESULT rc = TPMLIB_SetState(p.type, buf, static_cast<uint32_t>(p.bytes->size()));
    if (rc != TPM_SUCCESS) {
      return Status::errorf("libtpms refused the incoming %s state blob of %zu bytes (0x%x)",
                            p.name, p.bytes->size(), rc);
    }
  }
  return Status::ok();
}

Status LibtpmsBackend::commit_blobs(const LibtpmsStateBlobs &blobs) {
  Status st = store_->store("permall", blobs.permanent);
  bool existed = false;
  if (st && !blobs.savestate.empty()) st = store_->store("savestate", blobs.savestate);
  if (st && blobs.savestate.empty()) st = store_->remove("savestate", &existed);
  return st;
}

std::string LibtpmsBackend::state_description() const {
  return state_prop_.empty() ? "memory" : "'" + state_prop_ + "'";
}

void LibtpmsBackend::stop_tpm_locked() {
  if (!running_) return;
  if (version_ == TpmVersion::k2_0 && tpm2_needs_shutdown_) {
    // TPM2_Shutdown(SU_CLEAR): what the guest would have sent before a clean reboot.
    static const std::vector<uint8_t> kShutdownClear = {0x80, 0x01, 0, 0, 0, 0x0c,
                                                        0,    0,    1, 0x45, 0, 0};
    std::vector<uint8_t> resp;
    Status st = process_locked(kShutdownClear, 0, &resp);
    QTPM_TRACE("tpm_libtpms_shutdown_before_stop", "%s: %s", id().c_str(),
               st ? "sent" : st.message().c_str());
  }
  TPMLIB_Terminate();
  running_ = false;
  tpm2_needs_shutdown_ = false;
  established_ = false;
  QTPM_TRACE("tpm_libtpms_stopped", "%s", id().c_str());
}

void LibtpmsBackend::stop_tpm() {
  finish_sync();
  std::lock_guard<std::mutex> lock(libtpms_mu_);
  stop_tpm_locked();
}

void LibtpmsBackend::do_backend_reset() { do_cancel(); }

void LibtpmsBackend::do_cancel() {
  // Only a command that is running can be cancelled; libtpms keeps the request otherwise.
  if (in_process_.load()) TPMLIB_CancelCommand();
}

// ---------------------------------------------------------------------------------------------
// Commands

Status LibtpmsBackend::process_locked(const std::vector<uint8_t> &command, uint8_t locality,
                                      std::vector<uint8_t> *response) {
  current_locality_ = locality;
  // TPMLIB_Process takes a non-const pointer but does not write the command; a zero-length
  // command still needs a valid pointer.
  unsigned char dummy = 0;
  unsigned char *cmd = command.empty() ? &dummy : const_cast<unsigned char *>(command.data());
  uint32_t resp_len = 0;
  in_process_ = true;
  TPM_RESULT rc = TPMLIB_Process(&resp_buf_, &resp_len, &resp_buf_size_, cmd,
                                 static_cast<uint32_t>(command.size()));
  in_process_ = false;
  if (rc != TPM_SUCCESS) return Status::errorf("TPMLIB_Process failed (0x%x)", rc);
  // libtpms never answers more than its buffer; resp_len is checked against the request's
  // negotiated size by the backend core.
  if (resp_len > resp_buf_size_) return Status::error("libtpms reported an oversized response");
  response->assign(resp_buf_, resp_buf_ + resp_len);
  return Status::ok();
}

void LibtpmsBackend::handle_request(TpmRequest &request) {
  std::unique_lock<std::mutex> lock(libtpms_mu_);
  if (!running_) {
    request.status = Status::error("tpm-libtpms: the TPM is not running");
  } else {
    Status st = process_locked(request.command, request.locality, &request.response);
    if (!st) request.status = st.prefixed("tpm-libtpms: ");
  }
  const bool answered = request.status.is_ok() && request.response.size() >= kTpmHeaderSize &&
                        request.command.size() >= kTpmHeaderSize;
  const uint32_t code = answered ? tpm_header_code(request.command.data()) : 0;
  const bool success = answered && tpm_header_code(request.response.data()) == 0;
  if (success && version_ == TpmVersion::k2_0) {
    if (code == kTpm2CcStartup) tpm2_needs_shutdown_ = true;
    if (code == kTpm2CcShutdown) tpm2_needs_shutdown_ = false;
  }
  // As QEMU's backends do: a successful ContinueSelfTest tells TIS to show selfTestDone.
  request.selftest_done = success && code == kTpm12OrdContinueSelfTest;
  QTPM_TRACE("tpm_libtpms_process", "%s: locality %u, code 0x%x -> %zu bytes%s", id().c_str(),
             request.locality, code, request.response.size(),
             request.status ? "" : ", failed");
  if (running_) refresh_established_locked();
  // A reset of the established flag that came in while this command ran is applied now; the
  // deferred lock is taken before libtpms_mu_ is released, so none is missed (see
  // reset_established_flag).
  std::lock_guard<std::mutex> deferred(deferred_mu_);
  if (deferred_reset_locality_ >= 0) {
    // Traced inside; the guest's register write had no result to wait for.
    (void)reset_established_locked(static_cast<uint8_t>(deferred_reset_locality_));
    deferred_reset_locality_ = -1;
  }
  lock.unlock();
}

// ---------------------------------------------------------------------------------------------
// Established flag

void LibtpmsBackend::refresh_established_locked() {
  TPM_BOOL established = FALSE;
  if (running_ && TPM_IO_TpmEstablished_Get(&established) == TPM_SUCCESS) {
    established_ = established != FALSE;
  }
}

Status LibtpmsBackend::reset_established_locked(uint8_t locality) {
  if (!running_) return Status::error("tpm-libtpms: the TPM is not running");
  const uint8_t saved = current_locality_;
  current_locality_ = locality;  // libtpms asks the locality callback who resets
  TPM_RESULT rc = TPM_IO_TpmEstablished_Reset();
  current_locality_ = saved;
  refresh_established_locked();
  QTPM_TRACE("tpm_libtpms_reset_established", "%s: locality %u: 0x%x", id().c_str(), locality,
             rc);
  if (rc != TPM_SUCCESS) {
    return Status::errorf("tpm-libtpms: resetting the established flag from locality %u failed "
                          "(0x%x)",
                          locality, rc);
  }
  return Status::ok();
}

Status LibtpmsBackend::reset_established_flag(uint8_t locality) {
  // Called on the MMIO path: never wait for a running command.  Lock order: deferred_mu_, then
  // libtpms_mu_ by try_lock only; the worker takes deferred_mu_ before releasing libtpms_mu_.
  std::lock_guard<std::mutex> deferred(deferred_mu_);
  std::unique_lock<std::mutex> lock(libtpms_mu_, std::try_to_lock);
  if (!lock.owns_lock()) {
    deferred_reset_locality_ = locality;
    QTPM_TRACE("tpm_libtpms_reset_established_deferred", "%s: locality %u", id().c_str(),
               locality);
    return Status::ok();
  }
  return reset_established_locked(locality);
}

// ---------------------------------------------------------------------------------------------
// State blobs

Status LibtpmsBackend::get_state_blobs(LibtpmsStateBlobs *out) {
  finish_sync();
  std::lock_guard<std::mutex> lock(libtpms_mu_);
  *out = LibtpmsStateBlobs();
  if (pending_blobs_) {
    *out = *pending_blobs_;
    return Status::ok();
  }
  if (running_) {
    struct Part {
      TPMLIB_StateType type;
      std::vector<uint8_t> *dst;
      const char *name;
    };
    const Part parts[] = {{TPMLIB_STATE_PERMANENT, &out->permanent, "permanent"},
                          {TPMLIB_STATE_VOLATILE, &out->volatile_state, "volatile"},
                          {TPMLIB_STATE_SAVE_STATE, &out->savestate, "savestate"}};
    for (const Part &p : parts) {
      unsigned char *buf = nullptr;
      uint32_t len = 0;
      TPM_RESULT rc = TPMLIB_GetState(p.type, &buf, &len);
      if (rc == TPM_SUCCESS && buf) p.dst->assign(buf, buf + len);
      std::free(buf);
      // A TPM 2.0 has no savestate blob; libtpms answers that with an error or nothing.
      if (rc != TPM_SUCCESS && p.type != TPMLIB_STATE_SAVE_STATE) {
        return Status::errorf("tpm-libtpms: could not read the %s state (0x%x)", p.name, rc);
      }
    }
    return Status::ok();
  }
  // Stopped: the state is what the store holds.
  bool found = false;
  Status st = store_->load("permall", &out->permanent, &found);
  if (st) st = store_->load("volatilestate", &out->volatile_state, &found);
  if (st) st = store_->load("savestate", &out->savestate, &found);
  return st.prefixed("tpm-libtpms: ");
}

Status LibtpmsBackend::set_state_blobs(const LibtpmsStateBlobs &blobs) {
  if (blobs.permanent.empty()) {
    return Status::error("tpm-libtpms: the incoming permanent state blob is empty");
  }
  finish_sync();
  std::lock_guard<std::mutex> lock(libtpms_mu_);
  stop_tpm_locked();
  pending_blobs_ = blobs;
  return Status::ok();
}

void register_tpm_libtpms_types() {
  type_register(make_type<LibtpmsBackend>(kTypeTpmLibtpms, kTypeTpmBackend,
                                          "In-process libtpms TPM backend (no daemon)"));
}

}  // namespace qtpm
