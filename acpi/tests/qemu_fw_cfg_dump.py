#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Reads the fw_cfg files of a running QEMU (or qtpm-system-*) through the qtest protocol, the way
# firmware would: DMA into guest RAM, then qtest "read".  This is how the QEMU 7.2 reference bytes
# in acpi/tests were taken, and how phase-2 golden tables per machine can be compared.
#
#   qemu_fw_cfg_dump.py x86|arm OUTDIR -- QEMU-COMMAND-LINE...
#
# The command line must include "-accel qtest -qtest stdio".  Writes each file under OUTDIR with
# '/' replaced by '_', and each table of etc/acpi/tables as tbl_SIG_OFFSET.
import os
import struct
import subprocess
import sys

FW_CFG_MMIO_BASE = 0x09020000  # Arm virt
RAM = {"x86": 0x100000, "arm": 0x40100000}  # scratch guest RAM for descriptor and buffer


class Qtest:
    def __init__(self, argv):
        self.p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL, text=True, bufsize=1)

    def cmd(self, line):
        self.p.stdin.write(line + "\n")
        self.p.stdin.flush()
        while True:
            reply = self.p.stdout.readline()
            if not reply:
                raise RuntimeError("QEMU exited while running: " + line)
            reply = reply.strip()
            if reply.startswith("IRQ"):
                continue
            if not reply.startswith("OK"):
                raise RuntimeError("%s -> %s" % (line, reply))
            return reply

    def close(self):
        self.p.stdin.close()
        try:
            self.p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.p.kill()  # the process this script started
            self.p.wait()


def le(data):
    return int.from_bytes(data, "little")


def dump(kind, outdir, argv):
    q = Qtest(argv)
    desc = RAM[kind]
    buf = desc + 0x1000

    def dma(control, length):
        q.cmd("write 0x%x 0x10 0x%s" % (desc, struct.pack(">IIQ", control, length, buf).hex()))
        if kind == "x86":
            q.cmd("outl 0x514 0x%x" % le(struct.pack(">I", desc >> 32)))
            q.cmd("outl 0x518 0x%x" % le(struct.pack(">I", desc & 0xffffffff)))
        else:
            q.cmd("writeq 0x%x 0x%x" % (FW_CFG_MMIO_BASE + 16, le(struct.pack(">Q", desc))))
        control_word = bytes.fromhex(q.cmd("read 0x%x 0x4" % desc).split()[1][2:])
        if control_word != b"\0\0\0\0":
            raise RuntimeError("DMA error, control %s" % control_word.hex())
        if length == 0:
            return b""
        return bytes.fromhex(q.cmd("read 0x%x 0x%x" % (buf, length)).split()[1][2:])

    def item(key, length):
        return dma(key << 16 | 0x08 | 0x02, length)  # select + read

    os.makedirs(outdir, exist_ok=True)
    print("signature", item(0, 4), "features", item(1, 4).hex())
    count = struct.unpack(">I", item(0x19, 4))[0]
    directory = dma(0x02, 64 * count)
    for i in range(count):
        entry = directory[64 * i:64 * (i + 1)]
        size, key = struct.unpack(">IH", entry[:6])
        name = entry[8:].split(b"\0")[0].decode()
        print("%-32s key 0x%02x size %d" % (name, key, size))
        if size <= 0x40000:
            with open(os.path.join(outdir, name.replace("/", "_")), "wb") as f:
                f.write(item(key, size))
    q.close()
    tables_path = os.path.join(outdir, "etc_acpi_tables")
    if os.path.exists(tables_path):
        split_tables(open(tables_path, "rb").read(), outdir)


def split_tables(blob, outdir):
    offset = 0
    while offset + 8 <= len(blob):
        sig = blob[offset:offset + 4]
        if not sig.isalnum():
            break
        length = struct.unpack("<I", blob[offset + 4:offset + 8])[0]
        if sig == b"FACS" or length >= 36:
            with open(os.path.join(outdir, "tbl_%s_%d" % (sig.decode(), offset)), "wb") as f:
                f.write(blob[offset:offset + length])
        offset += length


if __name__ == "__main__":
    if len(sys.argv) < 5 or sys.argv[1] not in RAM or sys.argv[3] != "--":
        sys.exit("usage: qemu_fw_cfg_dump.py x86|arm OUTDIR -- QEMU-COMMAND-LINE...")
    dump(sys.argv[1], sys.argv[2], sys.argv[4:])
