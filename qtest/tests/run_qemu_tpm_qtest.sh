#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Runs one of QEMU 7.2's own TPM qtest programs (tests/qtest/tpm-*-test, built by the qemu room
# from the Debian source package) against qtpm-system-<arch>, by pointing QTEST_QEMU_BINARY at
# it: the compatibility check of the qtest contract (docs/testing.md).
#
#   run_qemu_tpm_qtest.sh TEST ARCH HOST_BINARY
#
# QTPM_QEMU_TESTS names the directory holding the QEMU test programs (e.g.
# <qemu build>/tests/qtest).  Skips (exit 77) when it is unset or lacks TEST, or when the host
# is not built or does not offer the device the test needs.
set -u
test_name=$1
arch=$2
host=$3

if [ -z "${QTPM_QEMU_TESTS:-}" ]; then
  echo "SKIP: set QTPM_QEMU_TESTS to the directory of QEMU 7.2's qtest programs"
  exit 77
fi
prog=$QTPM_QEMU_TESTS/$test_name
if [ ! -x "$prog" ]; then
  echo "SKIP: $prog is not built"
  exit 77
fi
if [ ! -x "$host" ]; then
  echo "SKIP: $host is not built yet"
  exit 77
fi

# Each test program needs one frontend; while the host does not offer it yet, skip.
case $test_name in
  tpm-tis-device-*) device=tpm-tis-device machine="-machine virt" ;;
  tpm-tis-*) device=tpm-tis machine= ;;
  tpm-crb-*) device=tpm-crb machine= ;;
  *) device= machine= ;;
esac
if [ -n "$device" ] &&
   ! "$host" $machine -display none -device help 2>/dev/null | grep -q "name \"$device\""; then
  echo "SKIP: $host does not offer $device yet"
  exit 77
fi

# QEMU's tests take the architecture from the name after "-system-", which qtpm-system-<arch>
# has.  They create their sockets in TMPDIR: give them a private one.
tmp=$(mktemp -d "${TMPDIR:-/tmp}/qtpm-qemu-qtest.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
TMPDIR=$tmp QTEST_QEMU_BINARY=$host "$prog" --tap -k
