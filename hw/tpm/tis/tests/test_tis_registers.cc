// SPDX-License-Identifier: GPL-2.0-or-later
//
// TIS register file: reset values of every register of every locality for TPM 1.2 and 2.0,
// identity checks firmware makes (SeaBIOS, OVMF, Linux), access sizes and offsets (8-byte,
// unaligned, unmapped, XDATA_FIFO), locality 4, the debug register and side-effect-free peeks.
// Every test body runs for both variants (tpm-tis and tpm-tis-device).
#include "hw/tpm/tis/tests/tis_fixture.h"

using namespace qtpm;
using namespace qtpm::tis;
using namespace qtpm::testing;

namespace {

// Loop index -> (variant, version): 0 ISA/2.0, 1 sysbus/2.0, 2 ISA/1.2, 3 sysbus/1.2.
TisOptions options_for(int i) {
  TisOptions o;
  o.variant = (i & 1) ? TisVariant::kSysbus : TisVariant::kIsa;
  o.version = (i & 2) ? TpmVersion::k1_2 : TpmVersion::k2_0;
  return o;
}

}  // namespace

START_TEST(test_reset_values) {
  TisOptions o = options_for(_i);
  TisFixture f(o);
  const TisIdentity &id = tis_identity(o.version);
  for (uint8_t l = 0; l < kLocalities; l++) {
    // Emulator-like backend: established flag false -> bit 0 reads 1 (0x81, QEMU's qtests).
    ck_assert_uint_eq(f.readb(l, reg::kAccess), 0x81);
    ck_assert_uint_eq(f.readl(l, reg::kAccess), 0x00000081);  // QEMU's dword slot
    ck_assert_uint_eq(f.readl(l, reg::kIntEnable), kRegisters[kRegIntEnable].reset);
    ck_assert_uint_eq(f.readl(l, reg::kIntEnable), 0x00000008);
    ck_assert_uint_eq(f.readl(l, reg::kIntVector), kDefaultIrq);
    ck_assert_uint_eq(f.readl(l, reg::kIntStatus), 0);
    ck_assert_uint_eq(f.readl(l, reg::kIntfCapability), id.intf_capability);
    ck_assert_uint_eq(f.readl(l, reg::kSts), 0xffffffff);  // nobody owns the TPM
    ck_assert_uint_eq(f.readl(l, reg::kDataFifo), 0xffffffff);
    ck_assert_uint_eq(f.readl(l, reg::kInterfaceId), id.interface_id);
    ck_assert_uint_eq(f.readl(l, reg::kDidVid), 0x00011014);
    ck_assert_uint_eq(f.readl(l, reg::kRid), 0x00000001);
    ck_assert_uint_eq(f.readl(l, reg::kDebug), 0xffffffff);
  }
  ck_assert_uint_eq(f.readl(0, reg::kIntfCapability),
                    o.version == TpmVersion::k2_0 ? 0x30000697 : 0x20000697);
  ck_assert_uint_eq(f.readl(0, reg::kInterfaceId),
                    o.version == TpmVersion::k2_0 ? 0x00002100 : 0xffffffff);
  // The owner's STS: tpmFamily and the whole buffer as burst count.
  f.request_locality(0);
  uint32_t family = o.version == TpmVersion::k2_0 ? 0x04000000 : 0;
  ck_assert_uint_eq(f.sts(0), family | 0x100000);
  // Byte reads of the burst count never show 0x00 for 0x100 free bytes: 0x00ff.
  ck_assert_uint_eq(f.readb(0, reg::kSts + 1), 0xff);
  ck_assert_uint_eq(f.readb(0, reg::kSts + 2), 0x00);
  ck_assert_uint_eq(f.readb(0, reg::kSts + 3), family >> 24);
  // A 16-bit read at +1 is split into bytes as QEMU's memory core does: 0x00ff too.
  ck_assert_uint_eq(f.read(0, reg::kSts + 1, 2), 0x00ff);
  ck_assert_uint_eq(f.read(0, reg::kSts + 2, 2), family >> 16 | 0x10);
  // Established flag set: bit 0 reads 0.
  f.backend.set_established(true);
  ck_assert_uint_eq(f.access(1), 0x80);
  ck_assert_uint_eq(f.access(0), 0xa0);
  f.check_invariants();
}
END_TEST

// What SeaBIOS (tpm_drivers.c), OVMF (Tpm2Ptp.c) and Linux (tpm_tis_core.c) look at to find and
// classify the TPM.
START_TEST(test_firmware_probes) {
  TisOptions o = options_for(_i);
  TisFixture f(o);
  bool tpm2 = o.version == TpmVersion::k2_0;
  // OVMF: present if the first byte is not 0xff.
  ck_assert_uint_ne(f.readb(0, reg::kAccess), 0xff);
  // SeaBIOS/Linux: tpmRegValidSts, DID_VID neither 0 nor all ones, not Intel (no iTPM probe).
  ck_assert(f.access(0) & access::kRegValidSts);
  uint32_t didvid = f.readl(0, reg::kDidVid);
  ck_assert(didvid != 0 && didvid != 0xffffffff);
  ck_assert_uint_ne(didvid & 0xffff, 0x8086);
  uint32_t ifid = f.readl(0, reg::kInterfaceId);
  uint32_t cap = f.readl(0, reg::kIntfCapability);
  if (tpm2) {
    // PTP FIFO: InterfaceType 0, CapFIFO, INTF_CAPABILITY.InterfaceVersion 3; not CRB.
    ck_assert_uint_eq(iface_id::kInterfaceType.extract(ifid), 0);
    ck_assert(ifid & iface_id::kCapFifo);
    ck_assert(!(ifid & iface_id::kCapCrb));
    ck_assert_uint_eq(intf_cap::kInterfaceVersion.extract(cap), 3);
  } else {
    // TIS 1.3: no INTERFACE_ID (type 0xf), InterfaceVersion 2.
    ck_assert_uint_eq(iface_id::kInterfaceType.extract(ifid), 0xf);
    ck_assert_uint_eq(intf_cap::kInterfaceVersion.extract(cap), 2);
  }
  // SeaBIOS selects the FIFO interface (writes 0) and locks the selection (IntfSelLock), from
  // locality 0 only; the lock shows in every locality and nothing else changes.
  AccessOutcome out;
  f.write(0, reg::kInterfaceId, 0, 4, &out);
  ck_assert(out == AccessOutcome::kOk);
  ck_assert_uint_eq(f.readl(0, reg::kInterfaceId), ifid);
  f.write(0, reg::kInterfaceId, iface_id::kIntfSelLock, 4, &out);
  ck_assert(out == AccessOutcome::kOk);
  for (uint8_t l = 0; l < kLocalities; l++) {
    ck_assert_uint_eq(f.readl(l, reg::kInterfaceId), ifid | iface_id::kIntfSelLock);
  }
  if (tpm2) ck_assert_uint_eq(f.readl(3, reg::kInterfaceId), 0x00082100);
  // A byte write to the lane that holds bit 19 locks as well (after a reset clears it).
  f.dev->reset();
  ck_assert_uint_eq(f.readl(2, reg::kInterfaceId), ifid);
  f.writeb(2, reg::kInterfaceId + 2, iface_id::kIntfSelLock >> 16);
  ck_assert_uint_eq(f.readl(0, reg::kInterfaceId), ifid | iface_id::kIntfSelLock);
  f.check_invariants();
}
END_TEST

START_TEST(test_access_sizes) {
  TisFixture f(options_for(_i));
  AccessOutcome out;
  // 8 bytes: split into DID_VID and RID.
  ck_assert_uint_eq(f.mmio().read(TisFixture::addr(0, reg::kDidVid), 8, false, &out),
                    0x0000000100011014ull);
  ck_assert(out == AccessOutcome::kOk);
  // Unaligned: naturally aligned pieces, bytes gathered in order.
  ck_assert_uint_eq(f.read(1, reg::kDidVid + 1, 4, &out), 0x01000110);
  ck_assert_uint_eq(f.read(1, reg::kDidVid + 2, 2, &out), 0x0001);
  ck_assert_uint_eq(f.read(1, reg::kDidVid + 3, 1, &out), 0x00);
  // Unmapped offsets read all ones and say so.
  for (uint32_t off : {0x04u, 0x1cu, 0x20u, 0x28u, 0x34u, 0x7cu, 0xc0u, 0xf08u, 0xf8cu, 0xffcu}) {
    ck_assert_uint_eq(f.read(0, off, 4, &out), 0xffffffff);
    ck_assert_msg(out == AccessOutcome::kUnmapped, "offset 0x%x", off);
    ck_assert_uint_eq(f.read(2, off + 1, 2, &out), 0xffff);
    f.write(0, off, 0x12345678, 4, &out);
    ck_assert(out == AccessOutcome::kUnmapped);
  }
  // A read straddling a register and a hole: the hole's bytes are 0xff.
  ck_assert_uint_eq(f.read(0, reg::kRid + 2, 4, &out), 0xffff0000);
  ck_assert(out == AccessOutcome::kUnmapped);
  // Read-only registers refuse writes and keep their value.
  for (uint32_t off : {reg::kDidVid, reg::kRid, reg::kIntfCapability, reg::kIntVector,
                       reg::kDebug}) {
    uint32_t before = f.readl(0, off);
    f.write(0, off, 0, 4, &out);
    ck_assert_msg(out == AccessOutcome::kIgnored, "offset 0x%x", off);
    ck_assert_uint_eq(f.readl(0, off), before);
  }
  f.check_invariants();
}
END_TEST

// Writes from locality 4 are refused (hardware only); reads are fine.
START_TEST(test_locality4_writes_refused) {
  TisFixture f(options_for(_i));
  AccessOutcome out;
  f.write(4, reg::kAccess, access::kRequestUse, 1, &out);
  ck_assert(out == AccessOutcome::kIgnored);
  ck_assert_uint_eq(f.access(4), 0x81);
  ck_assert_uint_eq(f.dev->core().active_locality(), kNoLocality);
  f.write(4, reg::kAccess, access::kSeize, 1, &out);
  ck_assert(out == AccessOutcome::kIgnored);
  ck_assert_uint_eq(f.access(4), 0x81);
  f.write(4, reg::kInterfaceId, iface_id::kIntfSelLock, 4, &out);
  ck_assert(out == AccessOutcome::kIgnored);
  ck_assert(!(f.readl(0, reg::kInterfaceId) & iface_id::kIntfSelLock) ||
            f.backend.version() == TpmVersion::k1_2);
  // An unaligned 8-byte write straddling localities 3 and 4: the locality-3 half lands.
  f.request_locality(3);
  f.mmio().write(TisFixture::addr(3, 0xffc), 0x1111111122222222ull, 8, &out);
  ck_assert(out == AccessOutcome::kUnmapped);  // 0x3ffc is a hole; locality 4 refused too
  ck_assert_uint_eq(f.access(4), 0x81);  // unchanged: locality 3 owns the TPM, nobody waits
  ck_assert_uint_eq(f.access(3), 0xa1);
  f.check_invariants();
}
END_TEST

// QEMU's debug register printed to stdout; here it reads all ones and changes nothing.
START_TEST(test_debug_register_and_peek) {
  TisFixture f(options_for(_i));
  f.request_locality(0);
  f.send(0, tpm2_get_random());
  f.wait_response(0);
  uint32_t sts = f.sts(0);
  uint64_t fifo = f.peek(0, reg::kDataFifo, 4);
  ck_assert_uint_eq(f.readl(0, reg::kDebug), 0xffffffff);
  ck_assert_uint_eq(f.readl(3, reg::kDebug), 0xffffffff);
  ck_assert_uint_eq(f.sts(0), sts);
  // Peeking the FIFO shows the next bytes without consuming them.
  ck_assert_uint_eq(f.peek(0, reg::kDataFifo, 4), fifo);
  ck_assert_uint_eq(f.peek(0, reg::kDataFifo, 1), fifo & 0xff);
  ck_assert_uint_eq(f.sts(0), sts);
  ck_assert_uint_eq(f.read(0, reg::kDataFifo, 4), fifo);  // a real read consumes them
  ck_assert_uint_eq(TisFixture::burst(f.sts(0)), TisFixture::burst(sts) - 4);
  f.check_invariants();
}
END_TEST

// XDATA_FIFO (0x80..0xbf) is the same FIFO as DATA_FIFO, at any of its 16 dwords.
START_TEST(test_xdata_fifo) {
  TisFixture f(options_for(_i));
  f.request_locality(1);
  f.send(1, tpm2_get_random(), reg::kXDataFifo + 0x10);
  f.wait_response(1);
  std::vector<uint8_t> rsp = f.receive(1, true, reg::kXDataFifo + 4 * (reg::kXDataFifoSlots - 1));
  ck_assert_uint_eq(rsp.size(), 10);
  ck_assert_uint_eq(f.backend.commands().at(0).size(), 12);
  // Dword writes and reads through the FIFO: 4 bytes each.
  std::vector<uint8_t> cmd = tpm2_get_random();
  f.writeb(1, reg::kSts, sts::kCommandReady);
  for (size_t i = 0; i < cmd.size(); i += 4) {
    uint32_t v = cmd[i] | cmd[i + 1] << 8 | cmd[i + 2] << 16 | uint32_t(cmd[i + 3]) << 24;
    f.writel(1, reg::kXDataFifo, v);
  }
  ck_assert(!(f.sts(1) & sts::kExpect));
  f.writeb(1, reg::kSts, sts::kGo);
  f.wait_response(1);
  ck_assert(f.backend.commands().at(1) == cmd);
  uint32_t w0 = f.readl(1, reg::kDataFifo);
  ck_assert_uint_eq(w0, 0x00000180);  // 80 01 00 00 little-endian
  f.check_invariants();
}
END_TEST

int main() {
  Suite *s = suite_create("tis-registers");
  TCase *tc = tcase_create("registers");
  tcase_add_loop_test(tc, test_reset_values, 0, 4);
  tcase_add_loop_test(tc, test_firmware_probes, 0, 4);
  tcase_add_loop_test(tc, test_access_sizes, 0, 4);
  tcase_add_loop_test(tc, test_locality4_writes_refused, 0, 2);
  tcase_add_loop_test(tc, test_debug_register_and_peek, 0, 2);
  tcase_add_loop_test(tc, test_xdata_fifo, 0, 2);
  suite_add_tcase(s, tc);
  return qtpm::testing::run_suite(s);
}
