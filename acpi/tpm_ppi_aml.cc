// SPDX-License-Identifier: GPL-2.0-or-later
//
// PPI objects and _DSM methods of the TPM device (TCG PPI 1.30, section 2 "ACPI Functions";
// TCG Platform Reset Attack Mitigation Specification 1.00, chapter 6 "ACPI _DSM Function"),
// over the PPI page QEMU defines (hw/tpm/tpm_ppi.h).  The OS writes a request (PPRQ, PPRM) that
// firmware executes at the next boot; firmware tells the OS which operations it allows through
// func[] and reports results in LPPR/PPRP.
//
// The statement order and encodings are QEMU 7.2's (hw/acpi/tpm.c), including the behaviours
// a guest could notice: function 3 with a revision other than 1 or 2 falls through to the
// generic Buffer {0} answer, and the memory-clear UUID returns nothing for unknown functions.
#include "acpi/tpm_aml.h"
#include "hw/tpm/tpm_ppi.h"

namespace qtpm::acpi {

using namespace aml;

namespace {

// The fields TPP2 covers must sit back to back, as the Field below lays them out.
static_assert(PpiLayout::kPpip == PpiLayout::kPpin + 1);
static_assert(PpiLayout::kPprp == PpiLayout::kPpip + 4);
static_assert(PpiLayout::kPprq == PpiLayout::kPprp + 4);
static_assert(PpiLayout::kPprm == PpiLayout::kPprq + 4);
static_assert(PpiLayout::kLppr == PpiLayout::kPprm + 4);

// TPP2 spans from PPIN up to MOVV (which has its own byte-wide region, TPP3).
constexpr uint32_t kTpp2Length = PpiLayout::kMovv - PpiLayout::kPpin;
// func[] has one byte per operation code.
constexpr uint32_t kFuncEntries = PpiLayout::kPpin - PpiLayout::kFunc;

// _DSM arguments and the two locals it uses.
Aml uuid_arg() { return arg(0); }
Aml revision_arg() { return arg(1); }
Aml function_arg() { return arg(2); }
Aml args_arg() { return arg(3); }
Aml op_local() { return local(0); }     // the requested operation
Aml flags_local() { return local(1); }  // func[op]

Aml if_function(unsigned n) { return if_(lequal(function_arg(), integer(n))); }

// Local0 = DerefOf (Arg3 [n])
Aml load_operation() { return store(deref_of(index(args_arg(), zero())), op_local()); }
// Local1 = TPFN (Local0)
Aml load_flags() { return store(call("TPFN", {op_local()}), flags_local()); }
// If ((Local1 & 7) == value) { Return (result) }
Aml return_if_flags(uint8_t value, uint64_t result) {
  return if_(lequal(and_(flags_local(), integer(PpiLayout::kFuncMask)), integer(value)))
      .append(return_(integer(result)));
}

void append_regions(Aml *dev) {
  // TPP2: the request and response registers the OS and firmware exchange.
  dev->append(operation_region("TPP2", RegionSpace::kSystemMemory,
                               integer(PpiLayout::kAddress + PpiLayout::kPpin),
                               integer(kTpp2Length)));
  dev->append(FieldBuilder("TPP2", FieldAccess::kAny)
                  .unit("PPIN", 8)
                  .unit("PPIP", 32)
                  .unit("PPRP", 32)
                  .unit("PPRQ", 32)
                  .unit("PPRM", 32)
                  .unit("LPPR", 32)
                  .build());
  // TPP3: the memory-overwrite request variable, one byte.
  dev->append(operation_region("TPP3", RegionSpace::kSystemMemory,
                               integer(PpiLayout::kAddress + PpiLayout::kMovv), integer(1)));
  dev->append(FieldBuilder("TPP3", FieldAccess::kByte).unit("MOVV", 8).build());
}

// TPFN (op): func[op], or 0 for op >= 256.  A fresh one-byte region per call instead of an index
// into a region-wide buffer, because Windows' DerefOf over SystemMemory fields is broken.
Aml tpfn_method() {
  Aml m = method("TPFN", 1, MethodSerialize::kSerialized);
  m.append(if_(lgreater_equal(arg(0), integer(kFuncEntries))).append(return_(zero())));
  m.append(operation_region("TPP1", RegionSpace::kSystemMemory,
                            add(integer(PpiLayout::kAddress + PpiLayout::kFunc), arg(0)),
                            integer(1)));
  m.append(FieldBuilder("TPP1", FieldAccess::kByte).unit("TPPF", 8).build());
  m.append(return_(name_ref("TPPF")));
  return m;
}

// Global return packages: Windows mishandles packages built inside the method.
void append_return_packages(Aml *dev) {
  dev->append(name("TPM2", package().append({zero(), zero()})));
  dev->append(name("TPM3", package().append({zero(), zero(), zero()})));
}

// Function 2, "Submit TPM Operation Request to Pre-OS Environment": 1 if firmware does not
// implement the operation, else records it without an argument and returns 0.
Aml ppi_submit_request() {
  return if_function(2).append({
      load_operation(),
      load_flags(),
      return_if_flags(PpiLayout::kFuncNotImplemented, 1),
      store(op_local(), name_ref("PPRQ")),
      store(zero(), name_ref("PPRM")),
      return_(zero()),
  });
}

// Function 3, "Get Pending TPM Operation Requested By the OS": {0, PPRQ} for revision 1,
// {0, PPRQ, PPRM} for revision 2.
Aml ppi_get_pending() {
  Aml rev1 = if_(lequal(revision_arg(), one()))
                 .append({store(name_ref("PPRQ"), index(name_ref("TPM2"), one())),
                          return_(name_ref("TPM2"))});
  Aml rev2 = if_(lequal(revision_arg(), integer(2)))
                 .append({store(name_ref("PPRQ"), index(name_ref("TPM3"), one())),
                          store(name_ref("PPRM"), index(name_ref("TPM3"), integer(2))),
                          return_(name_ref("TPM3"))});
  return if_function(3).append({rev1, rev2});
}

// Function 5, "Return TPM Operation Response to OS Environment": {0, LPPR, PPRP}.
Aml ppi_get_response() {
  return if_function(5).append({
      store(name_ref("LPPR"), index(name_ref("TPM3"), one())),
      store(name_ref("PPRP"), index(name_ref("TPM3"), integer(2))),
      return_(name_ref("TPM3")),
  });
}

// Function 7, "Submit TPM Operation Request to Pre-OS Environment 2": 1 not implemented,
// 3 blocked by firmware, else records the operation (and, in revision 2, its argument).
Aml ppi_submit_request2() {
  Aml rev1 = if_(lequal(revision_arg(), one()))
                 .append({store(op_local(), name_ref("PPRQ")), store(zero(), name_ref("PPRM"))});
  Aml rev2 = if_(lequal(revision_arg(), integer(2)))
                 .append({store(op_local(), name_ref("PPRQ")),
                          store(deref_of(index(args_arg(), one())), name_ref("PPRM"))});
  return if_function(7).append({
      load_operation(),
      load_flags(),
      return_if_flags(PpiLayout::kFuncNotImplemented, 1),
      return_if_flags(PpiLayout::kFuncBlocked, 3),
      rev1,
      rev2,
      return_(zero()),
  });
}

// Function 8, "Get User Confirmation Status for Operation": func[op] & 7.
Aml ppi_get_confirmation() {
  return if_function(8).append({
      load_operation(),
      load_flags(),
      return_(and_(flags_local(), integer(PpiLayout::kFuncMask))),
  });
}

Aml ppi_dsm() {
  Aml ppi = if_(lequal(uuid_arg(), to_uuid(kPpiDsmUuid)));
  // Function 0: functions 0..8 are supported.
  ppi.append(if_function(0).append(return_(buffer({0xff, 0x01}))));
  // Function 1, "Get Physical Presence Interface Version".
  ppi.append(if_function(1).append(return_(string("1.3"))));
  ppi.append(ppi_submit_request());
  ppi.append(ppi_get_pending());
  // Function 4, "Get Platform-Specific Action to Transition to Pre-OS Environment": reboot.
  ppi.append(if_function(4).append(return_(integer(2))));
  ppi.append(ppi_get_response());
  // Function 6, "Submit preferred user language": not implemented.
  ppi.append(if_function(6).append(return_(integer(3))));
  ppi.append(ppi_submit_request2());
  ppi.append(ppi_get_confirmation());
  ppi.append(return_(buffer({0x00})));
  return ppi;
}

// Memory clear: function 0 lists function 1; function 1 stores the requested MOR value.
Aml mor_dsm() {
  Aml mor = if_(lequal(uuid_arg(), to_uuid(kMorDsmUuid)));
  mor.append(if_function(0).append(return_(buffer({0x03}))));
  mor.append(if_function(1).append(
      {load_operation(), store(op_local(), name_ref("MOVV")), return_(zero())}));
  return mor;
}

}  // namespace

void append_tpm_ppi_aml(Aml *dev) {
  append_regions(dev);
  dev->append(tpfn_method());
  append_return_packages(dev);
  Aml dsm = method("_DSM", 4, MethodSerialize::kSerialized);
  dsm.append(ppi_dsm());
  dsm.append(mor_dsm());
  dev->append(dsm);
}

}  // namespace qtpm::acpi
