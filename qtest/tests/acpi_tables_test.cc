// SPDX-License-Identifier: GPL-2.0-or-later
//
// The TPM's ACPI tables as firmware gets them from qtpm-system: the test starts the host with a
// TPM (the in-process libtpms backend), reads the fw_cfg directory and the files etc/acpi/tables,
// etc/table-loader, etc/tpm/config and etc/tpm/log the way SeaBIOS does (selector 0x510, data
// 0x511, byte by byte; fw_cfg_mem on Arm virt) and the way OVMF does (a DMA descriptor in guest
// RAM, address written to 0x514/0x518), runs the loader over them as firmware does, and compares
// the SSDT and the TPM2/TCPA table with the golden files in acpi/tests/data/<config>/.  On a
// mismatch it prints the difference of both tables disassembled by iasl.
//
// QTPM_UPDATE_GOLDEN=1 writes the golden files from what the host served instead (a golden file
// changes only in a commit of its own, with the ASL diff in its message: docs/acpi.md).
#include "qom/testing.h"  // <check.h> without its `fail` macro, before any C++ header

#include <glib.h>

#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "acpi/table_linker.h"
#include "acpi/tests/acpica_tools.h"
#include "host_test.h"

using namespace qtpm;
using qtpm::testing::TempDir;

namespace {

// x86: QEMU's fw_cfg_io ports; Arm virt: fw_cfg_mem's registers.
constexpr uint16_t kPortSelector = 0x510;
constexpr uint16_t kPortData = 0x511;
constexpr uint16_t kPortDma = 0x514;
constexpr uint64_t kMmioBase = 0x09020000;
constexpr uint64_t kMmioData = kMmioBase + 0;
constexpr uint64_t kMmioSelector = kMmioBase + 8;
constexpr uint64_t kMmioDma = kMmioBase + 16;

constexpr uint16_t kKeySignature = 0x00;
constexpr uint16_t kKeyId = 0x01;
constexpr uint16_t kKeyFileDir = 0x19;
constexpr uint32_t kDmaError = 0x01, kDmaRead = 0x02, kDmaSelect = 0x08;

struct Config {
  const char *name;  // directory under acpi/tests/data
  const char *arch;
  const char *args;
  std::vector<std::string> tables;  // the TPM tables the guest must find
  uint8_t version;                  // in etc/tpm/config (x86)
};

const std::vector<Config> &configs() {
  static const std::vector<Config> all = {
      {"q35-tis-1.2", "x86_64",
       "-machine q35 -tpmdev libtpms,id=tpm0,version=1.2 -device tpm-tis,tpmdev=tpm0",
       {"SSDT", "TCPA"}, 1},
      {"q35-tis-2.0", "x86_64",
       "-machine q35 -tpmdev libtpms,id=tpm0,version=2.0 -device tpm-tis,tpmdev=tpm0",
       {"SSDT", "TPM2"}, 2},
      {"q35-crb-2.0-qemu", "x86_64",
       "-machine q35 -tpmdev libtpms,id=tpm0 -device tpm-crb,tpmdev=tpm0,buffer-layout=qemu",
       {"SSDT", "TPM2"}, 2},
      {"q35-crb-2.0-page-aligned", "x86_64",
       "-machine q35 -tpmdev libtpms,id=tpm0 "
       "-device tpm-crb,tpmdev=tpm0,buffer-layout=page-aligned",
       {"SSDT", "TPM2"}, 2},
      {"virt-tis-2.0", "aarch64",
       "-machine virt -tpmdev libtpms,id=tpm0 -device tpm-tis-device,tpmdev=tpm0",
       {"SSDT", "TPM2"}, 0},
  };
  return all;
}

bool is_x86() { return std::strcmp(qtest_get_arch(), "x86_64") == 0; }

// Guest RAM for DMA descriptors and buffers (RAM starts at 0 on x86, 1 GiB on virt).
uint64_t dma_scratch() { return is_x86() ? 0x100000 : 0x40100000; }

// fw_cfg as firmware drives it.
class FwCfgClient {
 public:
  explicit FwCfgClient(QTestState *s) : s_(s), x86_(is_x86()) {}

  void select(uint16_t key) {
    if (x86_) {
      qtest_outw(s_, kPortSelector, key);
    } else {
      qtest_writew(s_, kMmioSelector, GUINT16_TO_BE(key));  // big-endian register
    }
  }
  // SeaBIOS: select, then one byte at a time from the data register.
  std::vector<uint8_t> read_item(uint16_t key, size_t size) {
    select(key);
    std::vector<uint8_t> out(size);
    for (uint8_t &b : out) b = x86_ ? qtest_inb(s_, kPortData) : qtest_readb(s_, kMmioData);
    return out;
  }
  // OVMF: a descriptor {be32 control, be32 length, be64 address} in RAM, its address written to
  // the DMA register (x86: high half at 0x514, low half at 0x518, which starts the transfer).
  std::vector<uint8_t> read_item_dma(uint16_t key, size_t size) {
    uint64_t desc = dma_scratch();
    uint64_t buf = desc + 0x1000;
    uint8_t d[16];
    uint32_t control = GUINT32_TO_BE((uint32_t{key} << 16) | kDmaSelect | kDmaRead);
    uint32_t length = GUINT32_TO_BE(static_cast<uint32_t>(size));
    uint64_t address = GUINT64_TO_BE(buf);
    std::memcpy(d, &control, 4);
    std::memcpy(d + 4, &length, 4);
    std::memcpy(d + 8, &address, 8);
    qtest_memwrite(s_, desc, d, sizeof d);
    if (x86_) {
      qtest_outl(s_, kPortDma, GUINT32_TO_BE(static_cast<uint32_t>(desc >> 32)));
      qtest_outl(s_, kPortDma + 4, GUINT32_TO_BE(static_cast<uint32_t>(desc)));
    } else {
      qtest_writeq(s_, kMmioDma, GUINT64_TO_BE(desc));
    }
    uint32_t done;
    qtest_memread(s_, desc, &done, 4);
    ck_assert_msg(!(GUINT32_FROM_BE(done) & kDmaError), "DMA read of key 0x%x failed", key);
    ck_assert_uint_eq(GUINT32_FROM_BE(done), 0);
    std::vector<uint8_t> out(size);
    if (size) qtest_memread(s_, buf, out.data(), size);
    return out;
  }
  // The directory: name -> (key, size).
  std::map<std::string, std::pair<uint16_t, uint32_t>> directory() {
    std::vector<uint8_t> head = read_item(kKeyFileDir, 4);
    uint32_t count = (uint32_t{head[0]} << 24) | (head[1] << 16) | (head[2] << 8) | head[3];
    ck_assert_uint_le(count, 0x20);
    // Reading on from where the count ended, as SeaBIOS does.
    std::map<std::string, std::pair<uint16_t, uint32_t>> dir;
    for (uint32_t i = 0; i < count; i++) {
      uint8_t e[64];
      for (uint8_t &b : e) b = x86_ ? qtest_inb(s_, kPortData) : qtest_readb(s_, kMmioData);
      uint32_t size = (uint32_t{e[0]} << 24) | (e[1] << 16) | (e[2] << 8) | e[3];
      uint16_t key = static_cast<uint16_t>((e[4] << 8) | e[5]);
      ck_assert_msg(e[63] == 0, "directory entry %u: name not terminated", i);
      dir[reinterpret_cast<const char *>(e + 8)] = {key, size};
    }
    return dir;
  }

 private:
  QTestState *s_;
  bool x86_;
};

std::string golden_dir(const Config &c) {
  const char *root = std::getenv("QTPM_ACPI_GOLDEN_DIR");
  ck_assert_msg(root != nullptr, "QTPM_ACPI_GOLDEN_DIR is not set (meson sets it)");
  return std::string(root) + "/" + c.name;
}

// The tables in a linked etc/acpi/tables blob, walked by their header lengths.
std::map<std::string, std::vector<uint8_t>> split_tables(const std::vector<uint8_t> &blob) {
  std::map<std::string, std::vector<uint8_t>> out;
  size_t off = 0;
  while (off + 36 <= blob.size()) {
    uint32_t len;
    std::memcpy(&len, &blob[off + 4], 4);
    len = GUINT32_FROM_LE(len);
    ck_assert_msg(len >= 36 && len <= blob.size() - off, "table at %zu: bad length %u", off, len);
    std::vector<uint8_t> t(blob.begin() + off, blob.begin() + off + len);
    uint8_t sum = 0;
    for (uint8_t b : t) sum += b;
    std::string sig(reinterpret_cast<const char *>(t.data()), 4);
    ck_assert_msg(sum == 0, "%s: checksum does not sum to 0 after the loader", sig.c_str());
    out[sig] = t;
    off += len;
    // Tables follow each other; the rest of the blob (if any) is padding.
    if (off < blob.size() && blob[off] == 0) break;
  }
  return out;
}

// iasl -d of both, then diff -u: what a reviewer needs to see.
std::string asl_diff(const std::string &sig, const std::vector<uint8_t> &expected,
                     const std::vector<uint8_t> &actual) {
  TempDir dir;
  std::string out, text;
  qtpm::testing::write_file(dir.file("expected-" + sig + ".aml"), expected);
  qtpm::testing::write_file(dir.file("actual-" + sig + ".aml"), actual);
  if (qtpm::testing::find_tool("iasl").empty()) return "(iasl not installed: no ASL diff)";
  qtpm::testing::run_tool({"iasl", "-d", "expected-" + sig + ".aml", "actual-" + sig + ".aml"},
                          dir.path(), &out);
  qtpm::testing::run_tool({"diff", "-u", "expected-" + sig + ".dsl", "actual-" + sig + ".dsl"},
                          dir.path(), &text);
  return text;
}

void compare_with_golden(const Config &c, const std::string &sig,
                         const std::vector<uint8_t> &actual) {
  std::string path = golden_dir(c) + "/" + sig + ".aml";
  const char *update = std::getenv("QTPM_UPDATE_GOLDEN");
  if (update && std::strcmp(update, "1") == 0) {
    g_mkdir_with_parents(golden_dir(c).c_str(), 0755);
    ck_assert_msg(qtpm::testing::write_file(path, actual), "cannot write %s", path.c_str());
    return;
  }
  std::vector<uint8_t> expected;
  ck_assert_msg(qtpm::testing::read_file(path, &expected), "%s: missing golden file", path.c_str());
  if (expected == actual) return;
  std::string diff = asl_diff(sig, expected, actual);
  ck_abort_msg("%s/%s differs from %s:\n%s", c.name, sig.c_str(), path.c_str(), diff.c_str());
}

struct Served {
  std::map<std::string, std::pair<uint16_t, uint32_t>> dir;
  std::map<std::string, std::vector<uint8_t>> files;
};

// The TPM files and the RSDP the loader links: tables, RSDP, loader and config through the data
// register, the 64 KiB log by DMA (byte-wise it would be 65536 qtest round trips; one test reads it byte-wise too).
Served fetch(QTestState *s) {
  FwCfgClient fw(s);
  std::vector<uint8_t> sig = fw.read_item(kKeySignature, 4);
  ck_assert(std::memcmp(sig.data(), "QEMU", 4) == 0);
  std::vector<uint8_t> id = fw.read_item(kKeyId, 4);
  ck_assert_uint_eq(id[0], 3);  // traditional interface and DMA
  Served out;
  out.dir = fw.directory();
  for (const char *name :
       {"etc/acpi/tables", "etc/acpi/rsdp", "etc/table-loader", "etc/tpm/config"}) {
    auto it = out.dir.find(name);
    if (it != out.dir.end()) out.files[name] = fw.read_item(it->second.first, it->second.second);
  }
  auto log = out.dir.find("etc/tpm/log");
  ck_assert_msg(log != out.dir.end(), "etc/tpm/log is not served");
  out.files["etc/tpm/log"] = fw.read_item_dma(log->second.first, log->second.second);
  return out;
}

// Runs etc/table-loader over the served files as firmware does.
std::map<std::string, std::vector<uint8_t>> link(const Served &served) {
  std::vector<acpi::FirmwareFile> files;
  for (const auto &[name, data] : served.files) files.push_back({name, data});
  auto loader = served.files.find("etc/table-loader");
  ck_assert(loader != served.files.end());
  std::map<std::string, acpi::LinkedFile> linked;
  Status st = acpi::link_tables(files, loader->second, {}, &linked);
  ck_assert_msg(st.is_ok(), "loader: %s", st.message().c_str());
  ck_assert(linked.count("etc/acpi/tables"));
  ck_assert(linked.count("etc/tpm/log"));
  return split_tables(linked["etc/acpi/tables"].data);
}

void check_config(const Config &c) {
  QTestState *s = qtest_initf("%s", c.args);
  Served served = fetch(s);
  qtest_quit(s);

  std::vector<uint8_t> log = served.files["etc/tpm/log"];
  ck_assert_uint_eq(log.size(), 0x10000);
  for (uint8_t b : log) ck_assert_uint_eq(b, 0);
  if (c.version) {
    const std::vector<uint8_t> cfg = {0x00, 0x50, 0xd4, 0xfe, c.version, 0x01};
    ck_assert_msg(served.files["etc/tpm/config"] == cfg, "%s: etc/tpm/config", c.name);
  } else {
    ck_assert(!served.dir.count("etc/tpm/config"));
  }
  std::map<std::string, std::vector<uint8_t>> tables = link(served);
  for (const std::string &sig : c.tables) {
    ck_assert_msg(tables.count(sig), "%s: no %s table", c.name, sig.c_str());
    compare_with_golden(c, sig, tables[sig]);
  }
  const char *other = c.tables[1] == "TPM2" ? "TCPA" : "TPM2";
  ck_assert_msg(!tables.count(other), "%s: both TPM tables", c.name);
}

START_TEST(test_golden_tables) {
  const Config &c = configs()[_i];
  if (std::strcmp(c.arch, qtest_get_arch()) != 0) return;  // another target's configuration
  check_config(c);
}
END_TEST

// Without a TPM, QEMU still serves etc/tpm/log, empty, and no etc/tpm/config.
START_TEST(test_no_tpm) {
  QTestState *s = qtest_initf("%s", is_x86() ? "-machine q35" : "-machine virt");
  FwCfgClient fw(s);
  auto dir = fw.directory();
  qtest_quit(s);
  ck_assert(dir.count("etc/tpm/log"));
  ck_assert_uint_eq(dir["etc/tpm/log"].second, 0);
  ck_assert(!dir.count("etc/tpm/config"));
  ck_assert(dir.count("etc/acpi/tables") && dir.count("etc/table-loader"));
}
END_TEST

// Every file reads the same through the data register and by DMA (SeaBIOS's and OVMF's way).
START_TEST(test_ports_and_dma_agree) {
  const Config &c = is_x86() ? configs()[1] : configs()[4];
  QTestState *s = qtest_initf("%s", c.args);
  FwCfgClient fw(s);
  auto dir = fw.directory();
  for (const char *name : {"etc/acpi/tables", "etc/table-loader", "etc/tpm/log", "etc/acpi/rsdp"}) {
    ck_assert_msg(dir.count(name), "%s not served", name);
    auto [key, size] = dir[name];
    ck_assert_msg(fw.read_item(key, size) == fw.read_item_dma(key, size), "%s differs", name);
  }
  qtest_quit(s);
}
END_TEST

// A descriptor pointing outside guest RAM gets the error bit, and the host goes on.
START_TEST(test_dma_outside_ram) {
  QTestState *s = qtest_initf("%s", is_x86() ? "-machine q35" : "-machine virt");
  uint64_t desc = dma_scratch();
  uint8_t d[16] = {};
  uint32_t control = GUINT32_TO_BE((uint32_t{kKeySignature} << 16) | kDmaSelect | kDmaRead);
  uint32_t length = GUINT32_TO_BE(4);
  uint64_t address = GUINT64_TO_BE(0xfffffffff000ull);  // far beyond RAM
  std::memcpy(d, &control, 4);
  std::memcpy(d + 4, &length, 4);
  std::memcpy(d + 8, &address, 8);
  qtest_memwrite(s, desc, d, sizeof d);
  if (is_x86()) {
    qtest_outl(s, kPortDma, 0);
    qtest_outl(s, kPortDma + 4, GUINT32_TO_BE(static_cast<uint32_t>(desc)));
  } else {
    qtest_writeq(s, kMmioDma, GUINT64_TO_BE(desc));
  }
  uint32_t done;
  qtest_memread(s, desc, &done, 4);
  ck_assert_uint_eq(GUINT32_FROM_BE(done), kDmaError);
  FwCfgClient fw(s);
  std::vector<uint8_t> sig = fw.read_item(kKeySignature, 4);
  ck_assert(std::memcmp(sig.data(), "QEMU", 4) == 0);
  qtest_quit(s);
}
END_TEST

// Machine reset resets fw_cfg as QEMU does: the signature is selected again, from its start.
START_TEST(test_reset_selects_signature) {
  QTestState *s = qtest_initf("%s", is_x86() ? "-machine q35" : "-machine virt");
  FwCfgClient fw(s);
  std::vector<uint8_t> id = fw.read_item(kKeyId, 1);  // key 1, offset 1 now
  ck_assert_uint_eq(id[0], 3);
  json_object_put(qtest_qmp_assert_success_ref(s, "{'execute': 'system_reset'}"));
  qtest_qmp_eventwait(s, "RESET");
  uint8_t b = is_x86() ? qtest_inb(s, kPortData) : qtest_readb(s, kMmioData);
  ck_assert_uint_eq(b, 'Q');
  qtest_quit(s);
}
END_TEST

// -dump-acpi writes the same tables the guest links (the golden files), one line per file, and
// exits 0; a missing directory is one line naming the option, status 1.
START_TEST(test_dump_acpi) {
  const Config &c = is_x86() ? configs()[2] : configs()[4];
  TempDir dir;
  char *args = g_strdup_printf("%s -dump-acpi %s", c.args, dir.path().c_str());
  QTestRunResult r = qtest_run_binary(args, 60000);
  g_free(args);
  ck_assert_msg(r.exited && r.status == 0, "status %d: %s", r.status, r.err);
  bool dsl = !qtpm::testing::find_tool("iasl").empty();
  std::string expected_out;
  for (const std::string &sig : c.tables) {
    expected_out += dir.file(sig + ".aml") + "\n";
    if (dsl) expected_out += dir.file(sig + ".dsl") + "\n";
    std::vector<uint8_t> dumped, golden;
    ck_assert(qtpm::testing::read_file(dir.file(sig + ".aml"), &dumped));
    ck_assert(qtpm::testing::read_file(golden_dir(c) + "/" + sig + ".aml", &golden));
    ck_assert_msg(dumped == golden, "%s: -dump-acpi differs from the golden file", sig.c_str());
    if (dsl) ck_assert(g_file_test(dir.file(sig + ".dsl").c_str(), G_FILE_TEST_IS_REGULAR));
  }
  ck_assert_str_eq(r.out, expected_out.c_str());
  qtest_run_result_clear(&r);

  args = g_strdup_printf("%s -dump-acpi %s/missing", c.args, dir.path().c_str());
  r = qtest_run_binary(args, 60000);
  g_free(args);
  ck_assert(r.exited && r.status == 1);
  std::string err = r.err;
  ck_assert_msg(err.find("-dump-acpi " + dir.path() + "/missing: No such file or directory\n") !=
                    std::string::npos, "%s", r.err);
  ck_assert_int_eq(host_test_count_lines(r.err), 1);
  qtest_run_result_clear(&r);
}
END_TEST

Suite *acpi_tables_suite() {
  Suite *suite = suite_create("acpi-tables");
  TCase *tc = tcase_create("fw_cfg");
  tcase_set_timeout(tc, 240);
  tcase_add_loop_test(tc, test_golden_tables, 0, static_cast<int>(configs().size()));
  tcase_add_test(tc, test_no_tpm);
  tcase_add_test(tc, test_ports_and_dma_agree);
  tcase_add_test(tc, test_dma_outside_ram);
  tcase_add_test(tc, test_reset_selects_signature);
  tcase_add_test(tc, test_dump_acpi);
  suite_add_tcase(suite, tc);
  return suite;
}

}  // namespace

int main() {
  host_test_require_binary();
  return host_test_run(acpi_tables_suite());
}
