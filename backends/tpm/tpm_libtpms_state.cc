// SPDX-License-Identifier: GPL-2.0-or-later
//
// tpm-libtpms saved state (qom/saved_state.h; docs/migration.md): the in-process TPM's state as
// libtpms 0.9 exchanges it (TPMLIB_GetState / TPMLIB_SetState, libtpms/tpm_library.h), without
// swtpm's file envelope.
//
// Section "tpm-libtpms", version 1:
//   tpm-version  u8     1 = TPM 1.2, 2 = TPM 2.0
//   permanent    bytes  the permanent state (NVRAM), never empty
//   volatile     bytes  the volatile state (PCRs, loaded objects, sessions); may be empty
//   savestate    bytes  TPM 1.2 TPM_SaveState data; empty when there is none (always for 2.0)
//
// Save: prepare_save() finishes the command in flight and takes the blobs from the running TPM
// (or from its store when it is stopped).  Load: the values are checked, then the TPM is stopped
// and restarted from the blobs (set_state_blobs, startup); only if libtpms accepts them does the
// permanent state reach the state directory.  If libtpms refuses them, a TPM that was running
// restarts from the state it had (on a migration destination it was not running yet).
#include "backends/tpm/tpm_libtpms.h"
#include "qom/trace.h"

namespace qtpm {

namespace {

constexpr uint32_t kStateVersion = 1;
// libtpms' largest state is far smaller; this only bounds what an untrusted stream can make us
// copy (the same limit as swtpm's blobs).
constexpr size_t kBlobMax = 16 * 1024 * 1024;

struct BlobField {
  const char *key;
  std::vector<uint8_t> LibtpmsStateBlobs::*member;
};

constexpr BlobField kBlobFields[] = {
    {"permanent", &LibtpmsStateBlobs::permanent},
    {"volatile", &LibtpmsStateBlobs::volatile_state},
    {"savestate", &LibtpmsStateBlobs::savestate},
};

}  // namespace

Status LibtpmsBackend::prepare_save() {
  LibtpmsStateBlobs blobs;
  if (Status st = get_state_blobs(&blobs); !st) return st;
  if (blobs.permanent.empty()) {
    return Status::errorf("tpm-libtpms: '%s' has no TPM state to save (the TPM never started)",
                          id().c_str());
  }
  QTPM_TRACE("tpm_libtpms_state_saved", "%s: permanent %zu, volatile %zu, savestate %zu bytes",
             id().c_str(), blobs.permanent.size(), blobs.volatile_state.size(),
             blobs.savestate.size());
  saved_blobs_ = std::move(blobs);
  return Status::ok();
}

StateWriter LibtpmsBackend::save_state() const {
  StateWriter w(state_section(), kStateVersion);
  w.put_u8("tpm-version", static_cast<uint8_t>(version_));
  for (const BlobField &f : kBlobFields) w.put_bytes(f.key, saved_blobs_.*f.member);
  return w;
}

Status LibtpmsBackend::load_state(const StateReader &state) {
  Status st = state.expect(state_section(), kStateVersion, kStateVersion);
  uint8_t version = 0;
  if (st) st = state.get_u8("tpm-version", &version);
  if (st && version != static_cast<uint8_t>(version_)) {
    st = Status::errorf("the state is of a TPM %s, '%s' is a TPM %s (version=%s)",
                        tpm_version_name(static_cast<TpmVersion>(version)), id().c_str(),
                        tpm_version_name(version_), tpm_version_name(version_));
  }
  LibtpmsStateBlobs blobs;
  for (const BlobField &f : kBlobFields) {
    if (st) st = state.get_bytes(f.key, &(blobs.*f.member), kBlobMax);
  }
  if (st && blobs.permanent.empty()) st = Status::error("the permanent state blob is empty");
  if (!st) return st.prefixed("tpm-libtpms: ");
  // A running TPM (a load outside an incoming migration) gets its own state back if libtpms
  // refuses the new one, so that a failed load leaves the backend as it was.
  LibtpmsStateBlobs previous;
  bool restore_previous = tpm_running() && get_state_blobs(&previous).is_ok();
  // set_state_blobs stops the TPM and holds the blobs; startup() starts it from them (0: the
  // buffer size the frontend asked for at the last reset).
  if (st = set_state_blobs(blobs); !st) return st;
  st = startup(0);
  if (!st && restore_previous && set_state_blobs(previous).is_ok()) {
    Status again = startup(0);
    QTPM_TRACE("tpm_libtpms_state_rollback", "%s: %s", id().c_str(),
               again ? "previous state restored" : again.message().c_str());
  }
  if (st) {
    QTPM_TRACE("tpm_libtpms_state_loaded", "%s: permanent %zu, volatile %zu, savestate %zu bytes",
               id().c_str(), blobs.permanent.size(), blobs.volatile_state.size(),
               blobs.savestate.size());
  }
  return st;
}

}  // namespace qtpm
