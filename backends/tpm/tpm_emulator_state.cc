// SPDX-License-Identifier: GPL-2.0-or-later
//
// tpm-emulator saved state (qom/saved_state.h; docs/migration.md): the TPM's state as swtpm
// hands it out over its control channel (swtpm_ioctls(3) CMD_GET_STATEBLOB / CMD_SET_STATEBLOB),
// the same three blobs QEMU 7.2's vmstate "tpm-emulator" carries.
//
// Section "tpm-emulator", version 1:
//   tpm-version      u8     1 = TPM 1.2, 2 = TPM 2.0 (the swtpm that saved it)
//   permanent-flags  u32    swtpm's state flags for the blob (only ENCRYPTED is defined)
//   permanent        bytes  the permanent state (NVRAM), never empty
//   volatile-flags   u32
//   volatile         bytes  the volatile state (PCRs, loaded objects, sessions); may be empty
//   savestate-flags  u32
//   savestate        bytes  TPM 1.2 TPM_SaveState data; empty when there is none
//
// Save: prepare_save() finishes the command in flight (its response goes to the frontend, whose
// own state carries it) and takes the blobs, asking swtpm for decrypted state; save_state()
// writes what it took.  Load: every value is checked before swtpm is touched, then STOP,
// SET_STATEBLOB for each non-empty blob, INIT with DELETE_VOLATILE (restore_state_blobs), which
// is QEMU's post_load sequence.
#include "backends/tpm/tpm_emulator.h"
#include "qom/trace.h"

namespace qtpm {

namespace {

constexpr uint32_t kStateVersion = 1;

struct BlobField {
  const char *flags_key;
  const char *data_key;
  SwtpmStateBlob EmulatorStateBlobs::*member;
};

constexpr BlobField kBlobFields[] = {
    {"permanent-flags", "permanent", &EmulatorStateBlobs::permanent},
    {"volatile-flags", "volatile", &EmulatorStateBlobs::volatile_state},
    {"savestate-flags", "savestate", &EmulatorStateBlobs::savestate},
};

Status read_blob(const StateReader &state, const BlobField &field, SwtpmStateBlob *blob) {
  Status st = state.get_u32(field.flags_key, &blob->flags);
  if (st) st = state.get_bytes(field.data_key, &blob->data, kSwtpmStateBlobMax);
  if (!st) return st;
  if (blob->flags & ~swtpm::kStateFlagEncrypted) {
    return Status::errorf("the %s blob has unknown state flags 0x%x", field.data_key, blob->flags);
  }
  return Status::ok();
}

}  // namespace

Status EmulatorBackend::prepare_save() {
  std::string reason;
  if (blocks_migration(&reason)) return Status::error("tpm-emulator: " + reason);
  EmulatorStateBlobs blobs;
  if (Status st = save_state_blobs(&blobs); !st) return st;
  QTPM_TRACE("tpm_emulator_state_saved", "%s: permanent %zu, volatile %zu, savestate %zu bytes",
             id().c_str(), blobs.permanent.data.size(), blobs.volatile_state.data.size(),
             blobs.savestate.data.size());
  saved_blobs_ = std::move(blobs);
  return Status::ok();
}

StateWriter EmulatorBackend::save_state() const {
  StateWriter w(state_section(), kStateVersion);
  w.put_u8("tpm-version", static_cast<uint8_t>(version_));
  for (const BlobField &f : kBlobFields) {
    const SwtpmStateBlob &blob = saved_blobs_.*f.member;
    w.put_u32(f.flags_key, blob.flags);
    w.put_bytes(f.data_key, blob.data);
  }
  return w;
}

Status EmulatorBackend::load_state(const StateReader &state) {
  Status st = state.expect(state_section(), kStateVersion, kStateVersion);
  uint8_t version = 0;
  if (st) st = state.get_u8("tpm-version", &version);
  if (st && version != static_cast<uint8_t>(version_)) {
    st = Status::errorf("the state is of a TPM %s, the swtpm behind '%s' emulates a TPM %s",
                        tpm_version_name(static_cast<TpmVersion>(version)), id().c_str(),
                        tpm_version_name(version_));
  }
  EmulatorStateBlobs blobs;
  for (const BlobField &f : kBlobFields) {
    if (st) st = read_blob(state, f, &(blobs.*f.member));
  }
  if (st && blobs.permanent.data.empty()) st = Status::error("the permanent state blob is empty");
  if (!st) return st.prefixed("tpm-emulator: ");
  if (!realized()) return Status::error("tpm-emulator: not connected to swtpm");
  st = restore_state_blobs(blobs);
  if (st) {
    QTPM_TRACE("tpm_emulator_state_loaded", "%s: permanent %zu, volatile %zu, savestate %zu bytes",
               id().c_str(), blobs.permanent.data.size(), blobs.volatile_state.data.size(),
               blobs.savestate.data.size());
  }
  return st;
}

}  // namespace qtpm
