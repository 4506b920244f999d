// SPDX-License-Identifier: GPL-2.0-or-later
//
// Unit tests for the TPM's ACPI pieces: the device AML against QEMU 7.2's (by digest of the
// bytes QEMU emits), the TPM2 and TCPA tables byte by byte, etc/tpm/config, the table-loader
// commands and the whole fw_cfg file set linked the way firmware links it.
#include <glib.h>

#include <cstring>

#include "acpi/firmware_files.h"
#include "acpi/table_linker.h"
#include "acpi/table_loader.h"
#include "acpi/tests/aml_test_util.h"
#include "acpi/tests/tpm_variants.h"
#include "acpi/tpm_aml.h"
#include "acpi/tpm_tables.h"
#include "hw/tpm/tpm_fw_cfg.h"
#include "qom/testing.h"

using namespace qtpm;
using namespace qtpm::acpi;
using qtpm::testing::hex;
using qtpm::testing::tis_description;
using qtpm::testing::crb_description;
using qtpm::testing::virt_tis_description;

namespace {

std::string sha256(const Bytes &b) {
  gchar *s = g_compute_checksum_for_data(G_CHECKSUM_SHA256, b.data(), b.size());
  std::string out = s;
  g_free(s);
  return out;
}

Bytes fragment(const TpmAcpiDescription &d) {
  Bytes out;
  Status s = build_tpm_device_fragment(d, &out);
  ck_assert_msg(s.is_ok(), "%s", s.message().c_str());
  return out;
}

uint64_t le(const Bytes &b, size_t off, unsigned n) {
  uint64_t v = 0;
  for (unsigned i = 0; i < n; i++) v |= static_cast<uint64_t>(b.at(off + i)) << (8 * i);
  return v;
}

}  // namespace

// The Device (TPM) term inside QEMU 7.2's DSDTs: tests/data/acpi/q35/DSDT.tis.tpm2 and
// DSDT.tis.tpm12 (620 and 594 bytes at offset 0x1f3f), and the DSDTs a QEMU 7.2 build serves over
// fw_cfg for q35/pc with tpm-tis (ppi=off, TPM 2.0 and 1.2) and tpm-crb (ppi on and off).  The
// digests were taken from those QEMU bytes; matching them means the QEMU glue reproduces QEMU's
// DSDTs exactly.
START_TEST(test_device_aml_matches_qemu) {
  Bytes tis2 = fragment(tis_description(TpmVersion::k2_0, true));
  ck_assert_uint_eq(tis2.size(), 620);
  QTPM_ASSERT_STR(sha256(tis2),
                   "60b0f4674edb7b3eae345dc9b3dace1e3c6a0417bc605688e76de72392ce2de7");
  Bytes tis12 = fragment(tis_description(TpmVersion::k1_2, true));
  ck_assert_uint_eq(tis12.size(), 594);
  QTPM_ASSERT_STR(sha256(tis12),
                   "654d9ab8a60fcdf40d9eb31bf276f0c8584a2e5aed3380738b5768f271199403");
  // A TIS whose backend did not report a version is described as TPM 1.2, as in QEMU.
  TpmAcpiDescription unspec = tis_description(TpmVersion::kUnspec, true);
  ck_assert(fragment(unspec) == tis12);
  ck_assert(tpm_log_table(unspec, true) == TpmLogTable::kNone);
  Bytes crb = fragment(crb_description(true));
  ck_assert_uint_eq(crb.size(), 620);
  TpmAcpiDescription crb_unspec = crb_description(true);
  crb_unspec.version = TpmVersion::kUnspec;
  ck_assert(fragment(crb_unspec) == crb);
  QTPM_ASSERT_STR(sha256(crb),
                   "31cf302227bad7505f5d6c3a027a972a1b6a718647e672422223f25228ab77fc");
}
END_TEST

// Device (TPM0) { Name (_HID, "MSFT0101") Name (_STR, "TPM 2.0 Device") Name (_UID, Zero)
//   Name (_CRS, ResourceTemplate () { Memory32Fixed (ReadWrite, 0x0C000000, 0x00005000, ) }) }
// These are the bytes QEMU 7.2's Arm virt DSDT holds with -device tpm-tis-device.
START_TEST(test_virt_device_bytes) {
  QTPM_ASSERT_BYTES(
      fragment(virt_tis_description()),
      {0x5b, 0x82, 0x47, 0x04, 'T', 'P', 'M', '0',
       0x08, '_', 'H', 'I', 'D', 0x0d, 'M', 'S', 'F', 'T', '0', '1', '0', '1', 0x00,
       0x08, '_', 'S', 'T', 'R', 0x0d, 'T', 'P', 'M', ' ', '2', '.', '0', ' ', 'D', 'e', 'v', 'i',
       'c', 'e', 0x00,
       0x08, '_', 'U', 'I', 'D', 0x00,
       0x08, '_', 'C', 'R', 'S', 0x11, 0x11, 0x0a, 0x0e, 0x86, 0x09, 0x00, 0x01, 0x00, 0x00, 0x00,
       0x0c, 0x00, 0x50, 0x00, 0x00, 0x79, 0x00});
}
END_TEST

// The order QEMU emits objects in: TIS _HID [_STR] _UID _STA _CRS; CRB _HID _STR _CRS _STA _UID.
START_TEST(test_object_order) {
  auto order = [](const Bytes &b) {
    std::string seen;
    for (const char *n : {"_HID", "_STR", "_UID", "_STA", "_CRS", "TPP2", "_DSM"}) {
      auto it = std::search(b.begin(), b.end(), n, n + 4);
      if (it != b.end()) seen += std::to_string(it - b.begin()) + ":" + n + " ";
    }
    return seen;
  };
  QTPM_ASSERT_STR(order(fragment(tis_description(TpmVersion::k1_2, false))),
                   "8:_HID 18:_UID 24:_STA 31:_CRS ");
  Bytes crb = fragment(crb_description(false));
  size_t hid = std::search(crb.begin(), crb.end(), "_HID", "_HID" + 4) - crb.begin();
  size_t crs = std::search(crb.begin(), crb.end(), "_CRS", "_CRS" + 4) - crb.begin();
  size_t sta = std::search(crb.begin(), crb.end(), "_STA", "_STA" + 4) - crb.begin();
  size_t uid = std::search(crb.begin(), crb.end(), "_UID", "_UID" + 4) - crb.begin();
  ck_assert(hid < crs && crs < sta && sta < uid);
  ck_assert(order(fragment(crb_description(true))).find("_DSM") != std::string::npos);
}
END_TEST

START_TEST(test_description_checks) {
  TpmAcpiDescription ok = tis_description(TpmVersion::k2_0, true);
  ck_assert(check_tpm_acpi_description(ok).is_ok());

  TpmAcpiDescription d = ok;
  d.name = "tpm";
  QTPM_ASSERT_STR(check_tpm_acpi_description(d).message(),
                   "tpm acpi: device name 'tpm' is not an ACPI NameSeg (1-4 of A-Z, 0-9, _)");
  d = ok;
  d.name = "TPM00";
  ck_assert(!check_tpm_acpi_description(d).is_ok());
  d = ok;
  d.resources.clear();
  QTPM_ASSERT_STR(check_tpm_acpi_description(d).message(),
                   "tpm acpi: no memory resource for _CRS");
  d = ok;
  d.resources = {{0xfffff000, 0x2000}};  // crosses 4 GiB
  ck_assert(!check_tpm_acpi_description(d).is_ok());
  d.resources = {{0x100000000ull, 0x1000}};
  ck_assert(!check_tpm_acpi_description(d).is_ok());
  d.resources = {{0xfed40000, 0}};
  ck_assert(!check_tpm_acpi_description(d).is_ok());
  d.resources = {{0xfffff000, 0x1000}};  // ends exactly at 4 GiB
  ck_assert(check_tpm_acpi_description(d).is_ok());
  d = ok;
  d.irq = 16;
  QTPM_ASSERT_STR(check_tpm_acpi_description(d).message(),
                   "tpm acpi: ISA irq 16 is above 15");
  d.irq_kind = TpmAcpiDescription::IrqKind::kGsi;
  ck_assert(check_tpm_acpi_description(d).is_ok());
  d = crb_description(true);
  d.version = TpmVersion::k1_2;
  QTPM_ASSERT_STR(check_tpm_acpi_description(d).message(),
                   "tpm acpi: a CRB interface needs TPM 2.0");
  d = ok;
  d.version = static_cast<TpmVersion>(7);
  QTPM_ASSERT_STR(check_tpm_acpi_description(d).message(), "tpm acpi: unknown TPM version");
  d.version = TpmVersion::kUnspec;
  ck_assert(check_tpm_acpi_description(d).is_ok());

  Bytes out;
  TpmSsdtOptions bad_scope;
  bad_scope.scope = "\\_SB..X";
  ck_assert(!build_tpm_ssdt(ok, bad_scope, &out).is_ok());
  TpmSsdtOptions bad_ids;
  bad_ids.ids.oem_id = "TOO LONG";
  ck_assert(!build_tpm_ssdt(ok, bad_ids, &out).is_ok());
}
END_TEST

START_TEST(test_ssdt_header) {
  Bytes ssdt;
  TpmSsdtOptions o;
  o.ids.oem_id = "QTPM";
  o.ids.oem_table_id = "TPMSSDT";
  o.ids.oem_revision = 0x12345678;
  ck_assert(build_tpm_ssdt(tis_description(TpmVersion::k2_0, true), o, &ssdt).is_ok());
  ck_assert(std::memcmp(ssdt.data(), "SSDT", 4) == 0);
  ck_assert_uint_eq(le(ssdt, 4, 4), ssdt.size());
  ck_assert_uint_eq(ssdt[8], 2);
  ck_assert_uint_eq(byte_sum(ssdt), 0);
  ck_assert(std::memcmp(ssdt.data() + 10, "QTPM  TPMSSDT BXPC", 18) != 0);  // oem rev between
  ck_assert(std::memcmp(ssdt.data() + 10, "QTPM  ", 6) == 0);
  ck_assert(std::memcmp(ssdt.data() + 16, "TPMSSDT ", 8) == 0);
  ck_assert_uint_eq(le(ssdt, 24, 4), 0x12345678);
  ck_assert(std::memcmp(ssdt.data() + 28, "BXPC", 4) == 0);
  ck_assert_uint_eq(le(ssdt, 32, 4), 1);
  // Scope (\_SB) { Device (TPM) ... }: the body starts with the Scope and holds the fragment.
  ck_assert_uint_eq(ssdt[36], 0x10);
  Bytes frag = fragment(tis_description(TpmVersion::k2_0, true));
  ck_assert(std::search(ssdt.begin(), ssdt.end(), frag.begin(), frag.end()) != ssdt.end());
}
END_TEST

START_TEST(test_tpm2_table_bytes) {
  // TPM2, revision 4, 76 bytes, TIS: class 0, control area 0, start method 6, LAML 64 KiB.
  QTPM_ASSERT_BYTES(
      build_tpm2_table(tis_description(TpmVersion::k2_0, true), {}),
      {'T', 'P', 'M', '2', 0x4c, 0x00, 0x00, 0x00, 0x04, 0x1b, 'B', 'O', 'C', 'H', 'S', ' ',
       'B', 'X', 'P', 'C', ' ', ' ', ' ', ' ', 0x01, 0x00, 0x00, 0x00, 'B', 'X', 'P', 'C',
       0x01, 0x00, 0x00, 0x00,
       0x00, 0x00, 0x00, 0x00,                          // platform class, reserved
       0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // control area
       0x06, 0x00, 0x00, 0x00,                          // start method
       0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
       0x00, 0x00, 0x01, 0x00,                          // LAML
       0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00});  // LASA
  Bytes crb = build_tpm2_table(crb_description(true), {});
  ck_assert_uint_eq(crb.size(), 76);
  ck_assert_uint_eq(le(crb, offsetof(Tpm2Table, control_area), 8), 0xfed40040);
  ck_assert_uint_eq(le(crb, offsetof(Tpm2Table, start_method), 4), 7);
  ck_assert_uint_eq(byte_sum(crb), 0);
}
END_TEST

START_TEST(test_tcpa_table_bytes) {
  QTPM_ASSERT_BYTES(build_tcpa_table({}),
                    {'T', 'C', 'P', 'A', 0x32, 0x00, 0x00, 0x00, 0x02, 0x38, 'B', 'O', 'C', 'H',
                     'S', ' ', 'B', 'X', 'P', 'C', ' ', ' ', ' ', ' ', 0x01, 0x00, 0x00, 0x00,
                     'B', 'X', 'P', 'C', 0x01, 0x00, 0x00, 0x00,
                     0x00, 0x00,              // platform class: client
                     0x00, 0x00, 0x01, 0x00,  // LAML
                     0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00});
}
END_TEST

// After SeaBIOS placed the log at 0x07FF0000, QEMU's golden TPM2.tis.tpm2 has checksum 0x15 and
// TCPA.tis.tpm12 0x32: the same tables patched by our linker give the same bytes.
START_TEST(test_patched_tables_match_qemu_golden) {
  for (bool tpm2 : {true, false}) {
    TpmAcpiDescription d = tis_description(tpm2 ? TpmVersion::k2_0 : TpmVersion::k1_2, true);
    Bytes tables;
    TableLoader loader;
    // The tables go to the F-segment here, so that the log is the only high allocation.
    loader.allocate(kAcpiTablesFile, 64, LoaderZone::kFSeg);
    Bytes log = append_tpm_log_table(d, true, {}, &tables, &loader);
    ck_assert_uint_eq(log.size(), kTpmLogAreaMinimumSize);
    std::map<std::string, LinkedFile> linked;
    LinkerLayout layout;
    layout.high_base = 0x07ff0000;
    Status s = link_tables({{kAcpiTablesFile, tables}, {kTpmLogFile, log}}, loader.bytes(), layout,
                           &linked);
    ck_assert_msg(s.is_ok(), "%s", s.message().c_str());
    ck_assert_uint_eq(linked[kTpmLogFile].address, 0x07ff0000);
    const Bytes &t = linked[kAcpiTablesFile].data;
    size_t lasa = tpm_log_pointer_offset(tpm2 ? TpmLogTable::kTpm2 : TpmLogTable::kTcpa);
    ck_assert_uint_eq(le(t, lasa, 8), 0x07ff0000);
    ck_assert_uint_eq(t[9], tpm2 ? 0x15 : 0x32);
    ck_assert_uint_eq(byte_sum(t), 0);
  }
}
END_TEST

START_TEST(test_loader_entries) {
  TableLoader l;
  l.allocate("etc/tpm/log", 1, LoaderZone::kHigh);
  l.add_pointer("etc/acpi/tables", 0x1234, 8, "etc/tpm/log");
  l.add_checksum("etc/acpi/tables", 0x09, 0x10, 0x4c);
  const Bytes &b = l.bytes();
  ck_assert_uint_eq(b.size(), 3 * 128);
  ck_assert_uint_eq(l.command_count(), 3);
  // ALLOCATE: command 1, name at 4, align at 60, zone at 64.
  ck_assert_uint_eq(le(b, 0, 4), 1);
  ck_assert_str_eq(reinterpret_cast<const char *>(b.data() + 4), "etc/tpm/log");
  ck_assert_uint_eq(le(b, 60, 4), 1);
  ck_assert_uint_eq(b[64], 1);
  // ADD_POINTER: command 2, destination at 4, source at 60, offset at 116, size at 120.
  ck_assert_uint_eq(le(b, 128, 4), 2);
  ck_assert_str_eq(reinterpret_cast<const char *>(b.data() + 128 + 4), "etc/acpi/tables");
  ck_assert_str_eq(reinterpret_cast<const char *>(b.data() + 128 + 60), "etc/tpm/log");
  ck_assert_uint_eq(le(b, 128 + 116, 4), 0x1234);
  ck_assert_uint_eq(b[128 + 120], 8);
  // ADD_CHECKSUM: command 3, file at 4, offset at 60, start at 64, length at 68.
  ck_assert_uint_eq(le(b, 256, 4), 3);
  ck_assert_uint_eq(le(b, 256 + 60, 4), 0x09);
  ck_assert_uint_eq(le(b, 256 + 64, 4), 0x10);
  ck_assert_uint_eq(le(b, 256 + 68, 4), 0x4c);
  // Everything after the fields is zero.
  for (size_t i = 121; i < 128; i++) ck_assert_uint_eq(b[128 + i], 0);

  std::vector<TableLoaderCommand> cmds;
  Bytes padded = b;
  padded.resize(4096, 0);  // QEMU pads its list with zero commands
  ck_assert(TableLoader::parse(padded, &cmds).is_ok());
  ck_assert_uint_eq(cmds.size(), 3);
  ck_assert(cmds[0].type == LoaderCommandType::kAllocate && cmds[0].file == "etc/tpm/log");
  ck_assert(cmds[1].type == LoaderCommandType::kAddPointer && cmds[1].src_file == "etc/tpm/log" &&
            cmds[1].offset == 0x1234 && cmds[1].size == 8);
  ck_assert(cmds[2].type == LoaderCommandType::kAddChecksum && cmds[2].start == 0x10 &&
            cmds[2].length == 0x4c);
}
END_TEST

START_TEST(test_loader_parse_errors) {
  std::vector<TableLoaderCommand> cmds;
  TableLoader l;
  l.add_pointer("a", 0, 4, "b");
  Bytes good = l.bytes();

  Bytes short_list(good.begin(), good.end() - 1);
  ck_assert(!TableLoader::parse(short_list, &cmds).is_ok());
  Bytes unknown = good;
  unknown[0] = 9;
  QTPM_ASSERT_STR(TableLoader::parse(unknown, &cmds).message(),
                   "table-loader: command 0 has unknown type 9");
  Bytes bad_size = good;
  bad_size[120] = 3;
  QTPM_ASSERT_STR(TableLoader::parse(bad_size, &cmds).message(),
                   "table-loader: command 0 is malformed");
  Bytes unterminated = good;
  std::memset(unterminated.data() + 4, 'x', 56);
  ck_assert(!TableLoader::parse(unterminated, &cmds).is_ok());
  Bytes empty_name = good;
  empty_name[60] = 0;
  ck_assert(!TableLoader::parse(empty_name, &cmds).is_ok());
  TableLoader a;
  a.allocate("f", 4, LoaderZone::kFSeg);
  Bytes bad_align = a.bytes();
  bad_align[60] = 3;
  ck_assert(!TableLoader::parse(bad_align, &cmds).is_ok());
  Bytes bad_zone = a.bytes();
  bad_zone[64] = 3;
  ck_assert(!TableLoader::parse(bad_zone, &cmds).is_ok());
}
END_TEST

START_TEST(test_linker_errors) {
  std::map<std::string, LinkedFile> out;
  std::vector<FirmwareFile> files = {{"a", Bytes(16, 0)}, {"b", Bytes(4, 0)}};
  TableLoader missing;
  missing.allocate("c", 1, LoaderZone::kHigh);
  QTPM_ASSERT_STR(link_tables(files, missing.bytes(), {}, &out).message(),
                   "table-loader: command 0: no file 'c'");
  TableLoader twice;
  twice.allocate("a", 1, LoaderZone::kHigh);
  twice.allocate("a", 1, LoaderZone::kHigh);
  ck_assert(!link_tables(files, twice.bytes(), {}, &out).is_ok());
  TableLoader outside;
  outside.allocate("a", 1, LoaderZone::kHigh);
  outside.allocate("b", 1, LoaderZone::kHigh);
  outside.add_pointer("b", 1, 4, "a");  // 1 + 4 > 4 bytes
  QTPM_ASSERT_STR(link_tables(files, outside.bytes(), {}, &out).message(),
                   "table-loader: command 2: pointer at 1+4 outside 'b'");
  TableLoader unallocated;
  unallocated.allocate("a", 1, LoaderZone::kHigh);
  unallocated.add_pointer("a", 0, 4, "b");
  ck_assert(!link_tables(files, unallocated.bytes(), {}, &out).is_ok());
  TableLoader sum;
  sum.allocate("a", 1, LoaderZone::kHigh);
  sum.add_checksum("a", 0, 8, 0xfffffffc);  // start + length overflows 32 bits
  ck_assert(!link_tables(files, sum.bytes(), {}, &out).is_ok());
  TableLoader sum2;
  sum2.allocate("a", 1, LoaderZone::kHigh);
  sum2.add_checksum("a", 16, 0, 16);  // checksum byte beyond the file
  ck_assert(!link_tables(files, sum2.bytes(), {}, &out).is_ok());
  TableLoader fseg;
  fseg.allocate("a", 1, LoaderZone::kFSeg);
  LinkerLayout tiny;
  tiny.fseg_limit = tiny.fseg_base + 8;
  ck_assert(!link_tables(files, fseg.bytes(), tiny, &out).is_ok());
  // Alignment is honoured.
  TableLoader aligned;
  aligned.allocate("b", 1, LoaderZone::kHigh);
  aligned.allocate("a", 64, LoaderZone::kHigh);
  LinkerLayout l;
  l.high_base = 0x1001;
  ck_assert(link_tables(files, aligned.bytes(), l, &out).is_ok());
  ck_assert_uint_eq(out["b"].address, 0x1001);
  ck_assert_uint_eq(out["a"].address, 0x1040);
}
END_TEST

namespace {

// Follows RSDP -> RSDT/XSDT -> tables in linked memory; returns the signatures found.
std::vector<std::string> walk_root(const std::map<std::string, LinkedFile> &linked, bool xsdt) {
  const LinkedFile &rsdp = linked.at(kAcpiRsdpFile);
  const LinkedFile &tables = linked.at(kAcpiTablesFile);
  ck_assert_uint_eq(byte_sum(rsdp.data.data(), kAcpiRsdpV1Length), 0);
  ck_assert(std::memcmp(rsdp.data.data(), "RSD PTR ", 8) == 0);
  uint64_t root = xsdt ? le(rsdp.data, 24, 8) : le(rsdp.data, 16, 4);
  if (xsdt) {
    ck_assert_uint_eq(rsdp.data.size(), 36);
    ck_assert_uint_eq(byte_sum(rsdp.data), 0);
  }
  ck_assert(root >= tables.address && root < tables.address + tables.data.size());
  size_t off = root - tables.address;
  ck_assert(std::memcmp(tables.data.data() + off, xsdt ? "XSDT" : "RSDT", 4) == 0);
  size_t len = le(tables.data, off + 4, 4);
  ck_assert_uint_eq(byte_sum(tables.data.data() + off, len), 0);
  unsigned width = xsdt ? 8 : 4;
  std::vector<std::string> sigs;
  for (size_t e = off + 36; e < off + len; e += width) {
    uint64_t addr = le(tables.data, e, width);
    ck_assert(addr >= tables.address && addr < tables.address + tables.data.size());
    size_t t = addr - tables.address;
    size_t tlen = le(tables.data, t + 4, 4);
    ck_assert_uint_eq(byte_sum(tables.data.data() + t, tlen), 0);
    sigs.emplace_back(reinterpret_cast<const char *>(tables.data.data() + t), 4);
  }
  return sigs;
}

}  // namespace

START_TEST(test_firmware_files_per_machine) {
  struct Case {
    const char *label;
    const TpmAcpiDescription *tpm;
    AcpiMachine machine;
    std::vector<std::string> tables;
    bool config;
    size_t log;
  };
  TpmAcpiDescription tis2 = tis_description(TpmVersion::k2_0, true);
  TpmAcpiDescription tis2_noppi = tis_description(TpmVersion::k2_0, false);
  TpmAcpiDescription tis12 = tis_description(TpmVersion::k1_2, true);
  TpmAcpiDescription crb = crb_description(true);
  TpmAcpiDescription virt = virt_tis_description();
  TpmAcpiDescription virt12 = virt_tis_description();
  virt12.version = TpmVersion::k1_2;
  const Case cases[] = {
      {"q35 tis 2.0", &tis2, AcpiMachine::kX86Q35, {"SSDT", "TPM2"}, true, 0x10000},
      {"pc tis 2.0 no ppi", &tis2_noppi, AcpiMachine::kX86Pc, {"SSDT", "TPM2"}, false, 0x10000},
      {"q35 tis 1.2", &tis12, AcpiMachine::kX86Q35, {"SSDT", "TCPA"}, true, 0x10000},
      {"q35 crb", &crb, AcpiMachine::kX86Q35, {"SSDT", "TPM2"}, true, 0x10000},
      {"virt tis 2.0", &virt, AcpiMachine::kArmVirt, {"SSDT", "TPM2"}, false, 0x10000},
      {"virt tis 1.2", &virt12, AcpiMachine::kArmVirt, {"SSDT"}, false, 0},
      {"q35 without tpm", nullptr, AcpiMachine::kX86Q35, {}, false, 0},
      {"virt without tpm", nullptr, AcpiMachine::kArmVirt, {}, false, 0},
  };
  for (const Case &c : cases) {
    FirmwareFiles f;
    Status s = build_firmware_files(c.tpm, c.machine, {}, &f);
    ck_assert_msg(s.is_ok(), "%s: %s", c.label, s.message().c_str());
    ck_assert_msg((f.find(kTpmFwCfgConfigFile) != nullptr) == c.config, "%s: etc/tpm/config", c.label);
    ck_assert_msg(f.find(kTpmLogFile) && f.find(kTpmLogFile)->data.size() == c.log, "%s: log",
                  c.label);
    ck_assert(f.find(kAcpiTablesFile) && f.find(kAcpiRsdpFile) && f.find(kTableLoaderFile));
    for (const FirmwareFile &file : f.files) ck_assert_uint_lt(file.name.size(), 56);

    std::map<std::string, LinkedFile> linked;
    s = link_tables(f.files, f.find(kTableLoaderFile)->data, {}, &linked);
    ck_assert_msg(s.is_ok(), "%s: %s", c.label, s.message().c_str());
    bool xsdt = c.machine == AcpiMachine::kArmVirt;
    ck_assert_msg(walk_root(linked, xsdt) == c.tables, "%s: tables", c.label);
    ck_assert(linked[kAcpiRsdpFile].zone == LoaderZone::kFSeg);
    ck_assert_uint_eq(linked[kAcpiTablesFile].address % 64, 0);
    // LASA points at the log area.
    for (const BuiltTable &t : f.tables) {
      if (t.signature != "TPM2" && t.signature != "TCPA") continue;
      size_t lasa = t.offset + tpm_log_pointer_offset(t.signature == "TPM2" ? TpmLogTable::kTpm2
                                                                            : TpmLogTable::kTcpa);
      ck_assert_uint_eq(le(linked[kAcpiTablesFile].data, lasa, 8), linked[kTpmLogFile].address);
      ck_assert(linked[kTpmLogFile].address != 0);
    }
  }
  // The linked view of the tables: LASA is the log's address, every checksum holds.
  FirmwareFiles q35;
  ck_assert(build_firmware_files(&tis2, AcpiMachine::kX86Q35, {}, &q35).is_ok());
  std::vector<BuiltTable> seen;
  LinkerLayout layout;
  ck_assert(linked_tables(q35, layout, &seen).is_ok());
  ck_assert_uint_eq(seen.size(), 3);
  ck_assert_str_eq(seen[1].signature.c_str(), "TPM2");
  for (const BuiltTable &t : seen) ck_assert_uint_eq(byte_sum(t.data), 0);
  ck_assert_uint_ne(le(seen[1].data, offsetof(Tpm2Table, log_area_start_address), 8), 0);
  ck_assert(seen[0].data == q35.tables[0].data);  // the SSDT has no pointers

  FirmwareFiles f;
  TpmAcpiDescription bad = tis2;
  bad.resources.clear();
  ck_assert(!build_firmware_files(&bad, AcpiMachine::kX86Q35, {}, &f).is_ok());
}
END_TEST

// With QTPM_QEMU_SOURCE pointing at a QEMU 7.2 source tree, the same checks against QEMU's own
// golden tables (tests/data/acpi/q35): the device term is found in DSDT.tis.tpm2/.tpm12, and
// TPM2/TCPA equal ours once LASA is patched to the address SeaBIOS gave the log there.
namespace {
Bytes read_golden(const std::string &root, const char *name) {
  std::string path = root + "/tests/data/acpi/q35/" + name;
  gchar *data = nullptr;
  gsize len = 0;
  ck_assert_msg(g_file_get_contents(path.c_str(), &data, &len, nullptr), "cannot read %s",
                path.c_str());
  Bytes out(reinterpret_cast<uint8_t *>(data), reinterpret_cast<uint8_t *>(data) + len);
  g_free(data);
  return out;
}
}  // namespace

START_TEST(test_qemu_golden_tables) {
  std::string root = g_getenv("QTPM_QEMU_SOURCE");
  for (bool tpm2 : {true, false}) {
    TpmAcpiDescription d = tis_description(tpm2 ? TpmVersion::k2_0 : TpmVersion::k1_2, true);
    Bytes dsdt = read_golden(root, tpm2 ? "DSDT.tis.tpm2" : "DSDT.tis.tpm12");
    Bytes frag = fragment(d);
    ck_assert_msg(std::search(dsdt.begin(), dsdt.end(), frag.begin(), frag.end()) != dsdt.end(),
                  "device AML not found in QEMU's DSDT");
    Bytes golden = read_golden(root, tpm2 ? "TPM2.tis.tpm2" : "TCPA.tis.tpm12");
    Bytes ours = tpm2 ? build_tpm2_table(d, {}) : build_tcpa_table({});
    size_t lasa = tpm_log_pointer_offset(tpm2 ? TpmLogTable::kTpm2 : TpmLogTable::kTcpa);
    for (int i = 0; i < 8; i++) ours[lasa + i] = golden.at(lasa + i);
    ours[9] = 0;
    ours[9] = static_cast<uint8_t>(-byte_sum(ours));
    ck_assert_msg(ours == golden, "table differs from QEMU's:\n  ours   %s\n  golden %s",
                  hex(ours).c_str(), hex(golden).c_str());
  }
}
END_TEST

int main() {
  Suite *s = suite_create("tpm-tables");
  TCase *tc = tcase_create("tables");
  tcase_add_test(tc, test_device_aml_matches_qemu);
  tcase_add_test(tc, test_virt_device_bytes);
  tcase_add_test(tc, test_object_order);
  tcase_add_test(tc, test_description_checks);
  tcase_add_test(tc, test_ssdt_header);
  tcase_add_test(tc, test_tpm2_table_bytes);
  tcase_add_test(tc, test_tcpa_table_bytes);
  tcase_add_test(tc, test_patched_tables_match_qemu_golden);
  tcase_add_test(tc, test_loader_entries);
  tcase_add_test(tc, test_loader_parse_errors);
  tcase_add_test(tc, test_linker_errors);
  tcase_add_test(tc, test_firmware_files_per_machine);
  if (g_getenv("QTPM_QEMU_SOURCE"))
    tcase_add_test(tc, test_qemu_golden_tables);
  else
    printf("tpm-tables: QTPM_QEMU_SOURCE unset, QEMU golden-table comparison not run\n");
  suite_add_tcase(s, tc);
  return qtpm::testing::run_suite(s);
}
