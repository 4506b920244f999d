// SPDX-License-Identifier: GPL-2.0-or-later
//
// The TPM's fw_cfg file set (see firmware_files.h).  Loader commands follow QEMU's conventions:
// the tables blob is allocated in high memory aligned to 64 bytes, the log area in high memory
// with alignment 1, the RSDP in the F-segment aligned to 16; pointers inside tables hold the
// target's offset within its file until the loader adds the file's address.
#include "acpi/firmware_files.h"

#include <optional>

#include "acpi/tpm_aml.h"
#include "acpi/tpm_tables.h"
#include "hw/tpm/tpm_fw_cfg.h"

namespace qtpm::acpi {

namespace {

constexpr uint32_t kTablesAlign = 64;
constexpr uint32_t kRsdpAlign = 16;

// Appends a finished table to the blob, with its checksum command; returns its offset.
size_t add_table(Bytes *tables, TableLoader *loader, std::vector<BuiltTable> *built,
                 const Bytes &table) {
  size_t offset = tables->size();
  tables->insert(tables->end(), table.begin(), table.end());
  loader->add_checksum(kAcpiTablesFile, static_cast<uint32_t>(offset + offsetof(AcpiTableHeader,
                                                                               checksum)),
                       static_cast<uint32_t>(offset), static_cast<uint32_t>(table.size()));
  if (built) built->push_back({std::string(reinterpret_cast<const char *>(table.data()), 4),
                               offset, table});
  return offset;
}

}  // namespace

bool acpi_machine_is_x86(AcpiMachine m) { return m != AcpiMachine::kArmVirt; }

const FirmwareFile *FirmwareFiles::find(std::string_view name) const {
  for (const FirmwareFile &f : files)
    if (f.name == name) return &f;
  return nullptr;
}

Bytes append_tpm_log_table(const TpmAcpiDescription &tpm, bool x86, const AcpiTableIds &ids,
                           Bytes *tables, TableLoader *loader, std::vector<BuiltTable> *built) {
  TpmLogTable kind = tpm_log_table(tpm, x86);
  if (kind == TpmLogTable::kNone) return {};
  loader->allocate(kTpmLogFile, 1, LoaderZone::kHigh);
  Bytes table = kind == TpmLogTable::kTpm2 ? build_tpm2_table(tpm, ids) : build_tcpa_table(ids);
  // The pointer is added before the checksum command, so firmware checksums the patched table.
  size_t offset = tables->size();
  loader->add_pointer(kAcpiTablesFile, static_cast<uint32_t>(offset + tpm_log_pointer_offset(kind)),
                      8, kTpmLogFile);
  add_table(tables, loader, built, table);
  return Bytes(kTpmLogAreaMinimumSize, 0);
}

Status build_firmware_files(const TpmAcpiDescription *tpm, AcpiMachine machine,
                            const FirmwareFilesOptions &options, FirmwareFiles *out) {
  *out = FirmwareFiles();
  if (tpm) {
    if (Status s = check_tpm_acpi_description(*tpm); !s) return s;
  }
  if (!acpi_table_ids_valid(options.ids))
    return Status::error("acpi: OEM id (6), OEM table id (8) or creator id (4) too long");
  bool x86 = acpi_machine_is_x86(machine);

  Bytes tables;
  TableLoader loader;
  loader.allocate(kAcpiTablesFile, kTablesAlign, LoaderZone::kHigh);
  std::vector<uint64_t> root_entries;
  Bytes log;
  if (tpm) {
    Bytes ssdt;
    TpmSsdtOptions ssdt_options{options.ssdt_scope, options.ssdt_revision, options.ids};
    if (Status s = build_tpm_ssdt(*tpm, ssdt_options, &ssdt); !s) return s;
    root_entries.push_back(add_table(&tables, &loader, &out->tables, ssdt));
    size_t before = tables.size();
    log = append_tpm_log_table(*tpm, x86, options.ids, &tables, &loader, &out->tables);
    if (tables.size() > before) root_entries.push_back(before);
  }

  // The root table lists every table by its offset; the loader turns offsets into addresses.
  bool xsdt = !x86;
  size_t root_offset = tables.size();
  unsigned width = xsdt ? 8 : 4;
  for (size_t i = 0; i < root_entries.size(); i++)
    loader.add_pointer(kAcpiTablesFile,
                       static_cast<uint32_t>(root_offset + sizeof(AcpiTableHeader) + i * width),
                       static_cast<uint8_t>(width), kAcpiTablesFile);
  add_table(&tables, &loader, &out->tables, build_root_table(xsdt, options.ids, root_entries));

  uint8_t rsdp_revision = xsdt ? 2 : 0;
  Bytes rsdp = build_rsdp(rsdp_revision, options.ids, root_offset);
  loader.allocate(kAcpiRsdpFile, kRsdpAlign, LoaderZone::kFSeg);
  loader.add_pointer(kAcpiRsdpFile,
                     xsdt ? offsetof(AcpiRsdp, xsdt_address) : offsetof(AcpiRsdp, rsdt_address),
                     static_cast<uint8_t>(width), kAcpiTablesFile);
  loader.add_checksum(kAcpiRsdpFile, offsetof(AcpiRsdp, checksum), 0, kAcpiRsdpV1Length);
  if (xsdt)
    loader.add_checksum(kAcpiRsdpFile, offsetof(AcpiRsdp, extended_checksum), 0, sizeof(AcpiRsdp));

  out->files.push_back({kAcpiTablesFile, std::move(tables)});
  out->files.push_back({kAcpiRsdpFile, std::move(rsdp)});
  out->files.push_back({kTableLoaderFile, loader.bytes()});
  // QEMU always offers etc/tpm/log (empty without a TPM2/TCPA table).
  out->files.push_back({kTpmLogFile, std::move(log)});
  // etc/tpm/config: x86 firmware (SeaBIOS, OVMF) learns the PPI page from it (PPI only).
  if (tpm && x86) {
    if (std::optional<TpmFwCfgConfig> config = tpm_fw_cfg_config(*tpm))
      out->files.push_back({kTpmFwCfgConfigFile, Bytes(config->begin(), config->end())});
  }
  return Status::ok();
}

}  // namespace qtpm::acpi
