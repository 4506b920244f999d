// SPDX-License-Identifier: GPL-2.0-or-later
//
// The TPM's ACPI checked with the real ACPICA tools (acpica-tools 20200925):
//  - iasl disassembles every SSDT variant without errors or warnings, and the disassembly
//    compiles back to the same AML (iasl -vw 6105: QEMU's _STR is a String where ACPI wants a
//    Unicode Buffer; the only compiler warnings allowed are the two QEMU's _DSM shape causes);
//  - iasl decodes the TPM2 and TCPA tables to the fields the guest reads;
//  - acpiexec loads each SSDT and evaluates _HID/_UID/_STA/_CRS and every _DSM function of both
//    UUIDs in both revisions, and the test checks the results and the PPI page afterwards.
//
// acpiexec simulates SystemMemory regions with buffers of its own; a harness DSDT (generated
// from PpiLayout) covers the whole PPI page and touches it first, so that the device's smaller
// regions (TPP1/TPP2/TPP3) share that one buffer (acpiexec loses data when it has to merge
// overlapping buffers created in another order).
#include <set>
#include <sstream>

#include "acpi/aml.h"
#include "acpi/tests/acpica_tools.h"
#include "acpi/tests/aml_test_util.h"
#include "acpi/tests/tpm_variants.h"
#include "acpi/tpm_aml.h"
#include "acpi/tpm_tables.h"
#include "hw/tpm/tpm_ppi.h"
#include "qom/status.h"
#include "qom/testing.h"

using namespace qtpm;
using namespace qtpm::testing;
using qtpm::acpi::Bytes;

namespace {

#define ASSERT_TOOL(cond, output) \
  ck_assert_msg((cond), "%s\n--- tool output ---\n%s", #cond, (output).c_str())

void require_tools() {
  ck_assert_msg(!find_tool("iasl").empty() && !find_tool("acpiexec").empty(),
                "iasl/acpiexec not found: install acpica-tools (scripts/install-deps --tests)");
}

Bytes ssdt_for(const TpmAcpiDescription &d) {
  Bytes out;
  Status s = acpi::build_tpm_ssdt(d, {}, &out);
  ck_assert_msg(s.is_ok(), "%s", s.message().c_str());
  return out;
}

// Message ids of "Warning NNNN" / "Error NNNN" lines in iasl's output.
std::set<int> iasl_messages(const std::string &output, const char *kind) {
  std::set<int> ids;
  std::istringstream in(output);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(kind, 0) == 0) ids.insert(atoi(line.c_str() + strlen(kind)));
  }
  return ids;
}

std::string hex_args(const std::array<uint8_t, 16> &bytes) {
  std::string out = "(";
  char buf[4];
  for (size_t i = 0; i < bytes.size(); i++) {
    snprintf(buf, sizeof buf, "%s%02X", i ? " " : "", bytes[i]);
    out += buf;
  }
  return out + ")";
}

std::string hex32(uint64_t v) {
  char buf[24];
  snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

// ---------------------------------------------------------------------------------------------
// iasl

START_TEST(test_iasl_round_trip) {
  require_tools();
  for (const TpmVariant &v : all_tpm_variants()) {
    TempDir dir;
    Bytes ssdt = ssdt_for(v.desc);
    ck_assert_uint_eq(acpi::byte_sum(ssdt), 0);
    ck_assert(write_file(dir.file("ssdt.aml"), ssdt));

    std::string out;
    int rc = run_tool({"iasl", "-d", "ssdt.aml"}, dir.path(), &out);
    ASSERT_TOOL(rc == 0, out);
    ASSERT_TOOL(out.find("Error") == std::string::npos, out);
    ASSERT_TOOL(out.find("Warning") == std::string::npos, out);

    rc = run_tool({"iasl", "-vw", "6105", "-p", "re", "ssdt.dsl"}, dir.path(), &out);
    ASSERT_TOOL(rc == 0, out);
    ASSERT_TOOL(iasl_messages(out, "Error").empty(), out);
    // QEMU's _DSM returns nothing for unknown UUIDs and unknown memory-clear functions.
    std::set<int> allowed = v.desc.ppi ? std::set<int>{3107, 3115} : std::set<int>{};
    ASSERT_TOOL(iasl_messages(out, "Warning") == allowed, out);

    Bytes again;
    ck_assert(read_file(dir.file("re.aml"), &again));
    ck_assert_msg(again.size() == ssdt.size(), "%s: %zu bytes recompiled vs %zu", v.label.c_str(),
                  again.size(), ssdt.size());
    // Same AML; the header differs only in the compiler id/revision iasl writes and thus the
    // checksum.
    ck_assert_msg(Bytes(again.begin() + 36, again.end()) == Bytes(ssdt.begin() + 36, ssdt.end()),
                  "%s: AML differs after iasl -d / iasl", v.label.c_str());
    ck_assert(Bytes(again.begin(), again.begin() + 9) == Bytes(ssdt.begin(), ssdt.begin() + 9));
    ck_assert(Bytes(again.begin() + 10, again.begin() + 28) ==
              Bytes(ssdt.begin() + 10, ssdt.begin() + 28));
  }
}
END_TEST

// Fields of an iasl data-table disassembly: "[030h 0048   4]   Start Method : 06 [...]".
std::string dsl_field(const std::string &dsl, const std::string &name) {
  std::istringstream in(dsl);
  for (std::string line; std::getline(in, line);) {
    size_t colon = line.find(" : ");
    if (colon == std::string::npos) continue;
    std::string key = line.substr(0, colon);
    size_t k = key.find_last_not_of(' ');
    key = key.substr(0, k + 1);
    if (key.size() >= name.size() && key.compare(key.size() - name.size(), name.size(), name) == 0)
      return line.substr(colon + 3);
  }
  return "";
}

void expect_field(const std::string &dsl, const std::string &name, const std::string &want) {
  std::string got = dsl_field(dsl, name);
  ck_assert_msg(got == want, "%s: got '%s', want '%s'", name.c_str(), got.c_str(), want.c_str());
}

std::string disassemble_table(const TempDir &dir, const Bytes &table, const char *file) {
  ck_assert(write_file(dir.file(std::string(file) + ".aml"), table));
  std::string out;
  int rc = run_tool({"iasl", "-d", std::string(file) + ".aml"}, dir.path(), &out);
  ASSERT_TOOL(rc == 0, out);
  ASSERT_TOOL(out.find("Error") == std::string::npos, out);
  ASSERT_TOOL(out.find("Warning") == std::string::npos, out);
  Bytes dsl;
  ck_assert(read_file(dir.file(std::string(file) + ".dsl"), &dsl));
  return std::string(dsl.begin(), dsl.end());
}

START_TEST(test_iasl_tpm2_tcpa_tables) {
  require_tools();
  TempDir dir;
  std::string tis = disassemble_table(
      dir, acpi::build_tpm2_table(tis_description(TpmVersion::k2_0, true), {}), "tpm2tis");
  expect_field(tis, "Signature",
                   "\"TPM2\"    [Trusted Platform Module hardware interface table]");
  expect_field(tis, "Table Length", "0000004C");
  expect_field(tis, "Revision", "04");
  expect_field(tis, "Oem ID", "\"BOCHS \"");
  expect_field(tis, "Oem Table ID", "\"BXPC    \"");
  expect_field(tis, "Asl Compiler ID", "\"BXPC\"");
  expect_field(tis, "Platform Class", "0000");
  expect_field(tis, "Control Address", "0000000000000000");
  expect_field(tis, "Start Method", "06 [Memory Mapped I/O]");
  expect_field(tis, "Minimum Log Length", "00010000");
  expect_field(tis, "Log Address", "0000000000000000");

  std::string crb =
      disassemble_table(dir, acpi::build_tpm2_table(crb_description(true), {}), "tpm2crb");
  expect_field(crb, "Control Address", "00000000FED40040");
  expect_field(crb, "Start Method", "07 [Command Response Buffer]");

  std::string tcpa = disassemble_table(dir, acpi::build_tcpa_table({}), "tcpa");
  expect_field(tcpa, "Table Length", "00000032");
  expect_field(tcpa, "Revision", "02");
  expect_field(tcpa, "Platform Class", "0000");
  expect_field(tcpa, "Min Event Log Length", "00010000");
  expect_field(tcpa, "Event Log Address", "0000000000000000");
}
END_TEST

// ---------------------------------------------------------------------------------------------
// acpiexec

// A DSDT covering the PPI page, with accessors by offset (all offsets from PpiLayout).
std::string harness_asl() {
  char buf[2048];
  snprintf(buf, sizeof buf, R"(DefinitionBlock ("", "DSDT", 2, "QTPM", "HARNESS", 1)
{
    OperationRegion (HPPI, SystemMemory, 0x%llX, 0x%X)
    Field (HPPI, ByteAcc, NoLock, Preserve) { HB00, 8 }
    Method (HINI, 0, NotSerialized) { Return (HB00) }
    Method (HW08, 2, Serialized)
    {
        OperationRegion (HR, SystemMemory, (0x%llX + Arg0), One)
        Field (HR, ByteAcc, NoLock, Preserve) { HV, 8 }
        HV = Arg1
        Return (HV)
    }
    Method (HR08, 1, Serialized)
    {
        OperationRegion (HR, SystemMemory, (0x%llX + Arg0), One)
        Field (HR, ByteAcc, NoLock, Preserve) { HV, 8 }
        Return (HV)
    }
    Method (HW32, 2, Serialized)
    {
        OperationRegion (HR, SystemMemory, (0x%llX + Arg0), 0x04)
        Field (HR, ByteAcc, NoLock, Preserve) { HV, 32 }
        HV = Arg1
        Return (HV)
    }
    Method (HR32, 1, Serialized)
    {
        OperationRegion (HR, SystemMemory, (0x%llX + Arg0), 0x04)
        Field (HR, ByteAcc, NoLock, Preserve) { HV, 32 }
        Return (HV)
    }
}
)",
           static_cast<unsigned long long>(PpiLayout::kAddress), PpiLayout::kSize,
           static_cast<unsigned long long>(PpiLayout::kAddress),
           static_cast<unsigned long long>(PpiLayout::kAddress),
           static_cast<unsigned long long>(PpiLayout::kAddress),
           static_cast<unsigned long long>(PpiLayout::kAddress));
  return buf;
}

// Compiles the harness and writes the SSDT; returns the table files for acpiexec.
std::vector<std::string> prepare_tables(const TempDir &dir, const Bytes &ssdt) {
  ck_assert(write_text(dir.file("harness.asl"), harness_asl()));
  std::string out;
  int rc = run_tool({"iasl", "-p", "harness", "harness.asl"}, dir.path(), &out);
  ASSERT_TOOL(rc == 0, out);
  ck_assert(write_file(dir.file("ssdt.aml"), ssdt));
  return {"harness.aml", "ssdt.aml"};
}

// A script of acpiexec evaluations with the result each must give.
class Script {
 public:
  explicit Script(std::string device) : dev_(std::move(device)) {
    add("evaluate \\HINI", "int 0x0");  // first access: the whole page (see the file comment)
  }
  void add(std::string command, std::string expect) {
    commands_.push_back(std::move(command));
    expects_.push_back(std::move(expect));
  }
  void eval(const std::string &object, std::string expect) {
    add("evaluate " + dev_ + "." + object, std::move(expect));
  }
  // _DSM (uuid, revision, function, Package (args))
  void dsm(const char *uuid, unsigned rev, unsigned func, const std::string &pkg,
           std::string expect) {
    add("evaluate " + dev_ + "._DSM " + hex_args(aml::uuid_bytes(uuid)) + " " + hex32(rev) + " " +
            hex32(func) + " [" + pkg + "]",
        std::move(expect));
  }
  void set_func(unsigned op, unsigned value) {
    add("evaluate \\HW08 " + hex32(PpiLayout::kFunc + op) + " " + hex32(value),
        "int " + hex32(value));
  }
  void expect_u32(uint32_t offset, uint32_t value) {
    add("evaluate \\HR32 " + hex32(offset), "int " + hex32(value));
  }
  void set_u32(uint32_t offset, uint32_t value) {
    add("evaluate \\HW32 " + hex32(offset) + " " + hex32(value), "int " + hex32(value));
  }
  void expect_u8(uint32_t offset, uint8_t value) {
    add("evaluate \\HR08 " + hex32(offset), "int " + hex32(value));
  }

  void run(const std::string &label, const TempDir &dir, const std::vector<std::string> &tables) {
    AcpiexecRun r = run_acpiexec(commands_, tables, dir.path());
    ASSERT_TOOL(r.status == 0, r.output);
    ck_assert_msg(r.evals.size() == commands_.size(), "%s: %zu results for %zu commands\n%s",
                  label.c_str(), r.evals.size(), commands_.size(), r.output.c_str());
    for (size_t i = 0; i < commands_.size(); i++) {
      ck_assert_msg(r.evals[i].value == expects_[i], "%s: '%s'\n  got  %s\n  want %s",
                    label.c_str(), commands_[i].c_str(), r.evals[i].value.c_str(),
                    expects_[i].c_str());
    }
    for (const std::string &p : r.problems) {
      ck_assert_msg(allowed_problem(p), "%s: acpiexec reported: %s\n%s", label.c_str(), p.c_str(),
                    r.output.c_str());
    }
  }
  // Lines acpiexec prints for a failed lookup we asked for on purpose.
  void allow_problem(std::string needle) { allowed_.push_back(std::move(needle)); }

 private:
  bool allowed_problem(const std::string &line) const {
    for (const std::string &a : allowed_)
      if (line.find(a) != std::string::npos) return true;
    return false;
  }
  std::string dev_;
  std::vector<std::string> commands_, expects_, allowed_;
};

// _CRS as acpiexec prints it: the descriptors the description calls for, then the End Tag.
std::string expected_crs(const TpmAcpiDescription &d) {
  std::vector<uint8_t> b;
  auto le = [&b](uint64_t v, int n) {
    for (int i = 0; i < n; i++) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
  };
  for (const auto &r : d.resources) {
    b.insert(b.end(), {0x86, 0x09, 0x00, 0x01});
    le(r.address, 4);
    le(r.length, 4);
  }
  if (d.irq && d.irq_kind == TpmAcpiDescription::IrqKind::kIsa) {
    b.push_back(0x22);
    le(1u << d.irq, 2);
  } else if (d.irq) {
    b.insert(b.end(), {0x89, 0x06, 0x00, 0x01, 0x01});
    le(d.irq, 4);
  }
  b.insert(b.end(), {0x79, 0x00});
  return "buf " + hex(b);
}

START_TEST(test_acpiexec_identity) {
  require_tools();
  for (const TpmVariant &v : all_tpm_variants()) {
    TempDir dir;
    std::vector<std::string> tables = prepare_tables(dir, ssdt_for(v.desc));
    Script s(v.device_path);
    bool tpm2 = v.desc.version == TpmVersion::k2_0;
    // EisaId ("PNP0C31") is the integer 0x310CD041.
    s.eval("_HID", tpm2 ? "str \"MSFT0101\"" : "int 0x310cd041");
    s.eval("_UID", "int " + hex32(v.desc.uid));
    s.eval("_STA", v.desc.has_sta ? "int 0xf" : "fail AE_NOT_FOUND");
    s.eval("_CRS", expected_crs(v.desc));
    s.eval("_CID", "fail AE_NOT_FOUND");
    if (!v.desc.ppi) {
      s.eval("_DSM", "fail AE_NOT_FOUND");
      s.eval("TPFN", "fail AE_NOT_FOUND");
    }
    s.allow_problem("AE_NOT_FOUND");
    s.run(v.label, dir, tables);
  }
}
END_TEST

// Every _DSM function of the PPI UUID, revisions 1 and 2, and its effect on the page.
void ppi_script(Script &s) {
  const char *ppi = acpi::kPpiDsmUuid;
  for (unsigned rev : {1u, 2u}) {
    s.dsm(ppi, rev, 0, "0x0", "buf ff 01");  // functions 0..8
    s.dsm(ppi, rev, 1, "0x0", "str \"1.3\"");
    s.dsm(ppi, rev, 4, "0x0", "int 0x2");  // reboot
    s.dsm(ppi, rev, 6, "0x0", "int 0x3");  // not implemented
    s.dsm(ppi, rev, 9, "0x0", "buf 00");   // unknown function
  }
  // Function 2: an operation firmware does not implement is refused and changes nothing.
  s.dsm(ppi, 1, 2, "0x5", "int 0x1");
  s.expect_u32(PpiLayout::kPprq, 0);
  s.set_func(5, PpiLayout::kFuncAllowedUsrNotReq);
  s.set_u32(PpiLayout::kPprm, 0x55);
  s.dsm(ppi, 1, 2, "0x5", "int 0x0");
  s.expect_u32(PpiLayout::kPprq, 5);
  s.expect_u32(PpiLayout::kPprm, 0);  // function 2 carries no argument
  s.dsm(ppi, 2, 2, "0x5", "int 0x0");
  s.dsm(ppi, 1, 2, "0x100", "int 0x1");  // op beyond func[]: TPFN answers 0
  // Function 3: {0, PPRQ} in revision 1, {0, PPRQ, PPRM} in revision 2; others fall through.
  s.set_u32(PpiLayout::kPprm, 0x21);
  s.dsm(ppi, 1, 3, "0x0", "pkg [int 0x0, int 0x5]");
  s.dsm(ppi, 2, 3, "0x0", "pkg [int 0x0, int 0x5, int 0x21]");
  s.dsm(ppi, 3, 3, "0x0", "buf 00");
  // Function 5: {0, LPPR, PPRP} from firmware's last response.
  s.set_u32(PpiLayout::kLppr, 0x17);
  s.set_u32(PpiLayout::kPprp, 0xfffffff0);
  s.dsm(ppi, 1, 5, "0x0", "pkg [int 0x0, int 0x17, int 0xfffffff0]");
  s.dsm(ppi, 2, 5, "0x0", "pkg [int 0x0, int 0x17, int 0xfffffff0]");
  // Function 7: not implemented 1, blocked 3, else recorded (argument in revision 2 only).
  s.dsm(ppi, 1, 7, "0x17", "int 0x1");
  s.set_func(0x17, PpiLayout::kFuncBlocked);
  s.dsm(ppi, 2, 7, "0x17 0x9", "int 0x3");
  s.expect_u32(PpiLayout::kPprq, 5);
  s.set_func(0x17, PpiLayout::kFuncAllowedUsrReq);
  s.dsm(ppi, 2, 7, "0x17 0x9", "int 0x0");
  s.expect_u32(PpiLayout::kPprq, 0x17);
  s.expect_u32(PpiLayout::kPprm, 9);
  s.dsm(ppi, 1, 7, "0x17", "int 0x0");
  s.expect_u32(PpiLayout::kPprm, 0);
  // Function 8: func[op] & 7, whatever else firmware stored in the byte.
  s.dsm(ppi, 1, 8, "0x17", "int 0x3");
  s.set_func(0x22, 0x0c);  // 0b1100: only the low three bits count
  s.dsm(ppi, 2, 8, "0x22", "int 0x4");
  s.dsm(ppi, 1, 8, "0x23", "int 0x0");
  s.dsm(ppi, 1, 8, "0x100", "int 0x0");
  s.set_func(0xff, PpiLayout::kFuncBiosOnly);
  s.dsm(ppi, 1, 8, "0xff", "int 0x1");
}

// The memory-clear UUID: function 0 lists function 1, which stores MOVV; nothing else returns.
void mor_script(Script &s) {
  const char *mor = acpi::kMorDsmUuid;
  for (unsigned rev : {1u, 2u}) {
    s.dsm(mor, rev, 0, "0x0", "buf 03");
    s.dsm(mor, rev, 1, "0x1", "int 0x0");
    s.expect_u8(PpiLayout::kMovv, 1);
    s.dsm(mor, rev, 1, "0x0", "int 0x0");
    s.expect_u8(PpiLayout::kMovv, 0);
    s.dsm(mor, rev, 2, "0x0", "none");
  }
  s.dsm("00000000-0000-0000-0000-000000000000", 1, 0, "0x0", "none");
  // The request registers are untouched by the memory-clear functions.
  s.expect_u32(PpiLayout::kPprq, 0x17);
}

START_TEST(test_acpiexec_ppi_dsm) {
  require_tools();
  for (const TpmVariant &v : all_tpm_variants()) {
    if (!v.desc.ppi) continue;
    TempDir dir;
    std::vector<std::string> tables = prepare_tables(dir, ssdt_for(v.desc));
    Script s(v.device_path);
    ppi_script(s);
    mor_script(s);
    // TPFN directly: the Windows-safe func[] read.
    s.eval("TPFN 0x17", "int 0x3");
    s.eval("TPFN 0x1000", "int 0x0");
    s.run(v.label, dir, tables);
  }
}
END_TEST

// The device fragment an embedder puts into its own DSDT, here inside an ISA-bridge-like scope.
START_TEST(test_acpiexec_fragment_in_isa_scope) {
  require_tools();
  TpmAcpiDescription d = tis_description(TpmVersion::k2_0, true);
  aml::Bytes fragment;
  ck_assert(acpi::build_tpm_device_fragment(d, &fragment).is_ok());
  aml::Aml sb = aml::scope("\\_SB");
  aml::Aml pci = aml::device("PCI0");
  aml::Aml isa = aml::device("SF8");
  isa.append(aml::Aml::raw(fragment));
  pci.append(isa);
  sb.append(pci);
  Bytes dsdt = acpi::build_definition_block("SSDT", 2, {}, sb.encode());
  TempDir dir;
  std::vector<std::string> tables = prepare_tables(dir, dsdt);
  Script s("\\_SB.PCI0.SF8.TPM");
  s.eval("_STA", "int 0xf");
  s.dsm(acpi::kPpiDsmUuid, 1, 1, "0x0", "str \"1.3\"");
  s.dsm(acpi::kMorDsmUuid, 1, 1, "0x1", "int 0x0");
  s.expect_u8(PpiLayout::kMovv, 1);
  s.run("fragment", dir, tables);
}
END_TEST

}  // namespace

int main() {
  Suite *s = suite_create("acpica");
  TCase *tc = tcase_create("tools");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_iasl_round_trip);
  tcase_add_test(tc, test_iasl_tpm2_tcpa_tables);
  tcase_add_test(tc, test_acpiexec_identity);
  tcase_add_test(tc, test_acpiexec_ppi_dsm);
  tcase_add_test(tc, test_acpiexec_fragment_in_isa_scope);
  suite_add_tcase(s, tc);
  return qtpm::testing::run_suite(s);
}
