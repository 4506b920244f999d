// SPDX-License-Identifier: GPL-2.0-or-later
//
// The qtpm migration stream: what a source writes for `migrate` (live migration, or a saved VM
// with "exec:cat > FILE") and a destination started with -incoming reads back.  Format version 1,
// documented in docs/migration.md; all integers big-endian:
//
//   stream   := magic:8 "QTPM-MIG"  version:u32  body_len:u32  body  digest:32
//   body     := header-section  state-section*
//   digest   := SHA-256 of every byte before it (magic .. end of body)
//
// Sections use the saved-state encoding (qom/saved_state.h).  The header section
// ("migration-header" v1) names the source machine (arch, machine type), its run state, the
// program that wrote it, and summarises every object that takes part (path, QOM type, device or
// backend, TPM version, the name and version of its state section).  Then comes one
// "object-state" v1 section per object that has state, in summary order, each holding the
// object's own section (Migratable::save_state()).
//
// A destination validates the whole stream before it touches anything: the preamble as soon as
// 16 bytes arrived (so a wrong stream is refused without reading the rest), then completeness,
// the digest, every section's structure, the summary against the state sections, and finally
// the summary against its own machine (check_migration_compat).  Every error is one line that
// says what is wrong and, where it helps, what to do.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "qom/saved_state.h"
#include "qom/status.h"

namespace qtpm {

inline constexpr char kMigrationMagic[8] = {'Q', 'T', 'P', 'M', '-', 'M', 'I', 'G'};
inline constexpr uint32_t kMigrationFormatVersion = 1;
inline constexpr size_t kMigrationPreambleSize = 16;  // magic, version, body_len
inline constexpr size_t kMigrationDigestSize = 32;    // SHA-256
// The body may hold three swtpm state blobs of up to 16 MiB each and the device state; anything
// larger is refused before it is buffered.
inline constexpr uint32_t kMigrationBodyMax = 64u * 1024 * 1024;
inline constexpr size_t kMigrationObjectsMax = 64;

enum class MigrationRole : uint8_t { kDevice = 0, kBackend = 1 };
const char *migration_role_name(MigrationRole role);  // "device", "backend"

// One object of the device-set summary.
struct MigrationObject {
  // Devices: their QOM path ("/machine/peripheral/tpm0").  Backends are not in the QOM tree;
  // one bound to a device is "<device path>/tpmdev", so the destination may name its -tpmdev
  // differently (as with QEMU, where the backend's section is found by its name alone).
  std::string path;
  std::string type;  // QOM type: "tpm-crb", "tpm-emulator"
  MigrationRole role = MigrationRole::kDevice;
  uint8_t tpm_version = 0;  // TpmVersion's value: 0 none/unspecified, 1 = 1.2, 2 = 2.0
  bool has_state = false;
  std::string section;  // the object's state section name (has_state only)
  uint32_t section_version = 0;

  bool operator==(const MigrationObject &) const = default;
};

struct MigrationHeader {
  std::string arch;       // "x86_64"
  std::string machine;    // canonical machine type: "pc-i440fx-7.2"
  std::string run_state;  // the source's run state before it stopped: "running", "paused"
  std::string producer;   // "qtpm 0.1.0" (informational)
  std::vector<MigrationObject> objects;
};

// What the source hands to the encoder: the summary entry and, for objects with state, their
// section (Migratable::save_state()).  has_state, section and section_version are filled in by
// the encoder from `state`.
struct MigrationObjectState {
  MigrationObject object;
  std::optional<StateWriter> state;
};

// A decoded, structurally valid stream.
struct MigrationStream {
  MigrationHeader header;
  // Parallel to header.objects: the parsed state section of each object that has one.
  std::vector<std::optional<StateReader>> states;
};

// Encodes a stream.  Fails (without output) when the state does not fit kMigrationBodyMax or
// an object's state is not a valid section.
Status encode_migration_stream(MigrationHeader header,
                               const std::vector<MigrationObjectState> &objects,
                               std::vector<uint8_t> *out);

// Checks the 16-byte preamble and gives the total stream size (preamble + body + digest).
Status check_migration_preamble(std::span<const uint8_t> bytes, size_t *total_size);

// Validates and decodes a complete stream (exactly one stream, nothing after it).
Status decode_migration_stream(std::span<const uint8_t> bytes, MigrationStream *out);

// Whether a stream from `source` can be loaded into a machine described by `local`: same arch
// and machine type, the same objects at the same paths with the same types, TPM versions and
// state section names.  Section versions are each object's own business (load_state).
Status check_migration_compat(const MigrationHeader &source, const MigrationHeader &local);

// Collects a stream as it arrives on a connection or pipe.  feed() refuses a stream as soon as
// its preamble shows it cannot be loaded, and bytes beyond its end; finish() at the end of the
// input returns the whole stream, or says how much is missing.  Nothing larger than the
// announced size (itself bounded by kMigrationBodyMax) is ever buffered.
class MigrationStreamAssembler {
 public:
  Status feed(std::span<const uint8_t> bytes);
  bool complete() const { return total_ != 0 && buffer_.size() == total_; }
  size_t received() const { return buffer_.size(); }
  size_t expected_size() const { return total_; }  // 0 until the preamble has arrived
  Status finish(std::vector<uint8_t> *out);

 private:
  std::vector<uint8_t> buffer_;
  size_t total_ = 0;
};

}  // namespace qtpm
