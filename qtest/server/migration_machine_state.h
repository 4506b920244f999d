// SPDX-License-Identifier: GPL-2.0-or-later
//
// What of a qtpm-system machine travels in a migration stream (qom/migration_stream.h), and how
// it is taken and put back:
//
//  - guest RAM, the pages with data ("/machine/ram", migration_ram_state.h);
//  - every device, in creation order, by QOM path and type, those that are Migratable with
//    their state section, each after the Migratable objects it contains (a vTPM's TCE table);
//  - every TPM backend bound to a device, as "<device path>/tpmdev" (backends are not in the QOM
//    tree, and the destination may name its -tpmdev differently); a backend bound to nothing
//    has nothing a guest can see and does not travel.
//
// Capture (source, VM stopped): prepare_save() on RAM and every device, so that a command in
// flight completes into the device's state, then on every backend (which takes the TPM's
// state), then save_state() on all, then the encoding.  Load (destination): the whole stream is
// decoded and checked against this machine before anything is touched; then RAM and the devices
// load in that order (each validates its section before it changes), then the backends (which
// hand the state to the TPM).  If a device or backend refuses, what loaded before gets its
// previous state back, so a failed load leaves the machine as it was.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "qom/migration_stream.h"
#include "qtest/server/host.h"

namespace qtpm::host {

// The machine as a stream header describes it (states not taken).
MigrationHeader describe_machine(Host &host);

// The first reason migration is impossible ("Migration disabled: TPM passthrough does not
// support migration"), or empty.
std::string migration_blocker(Host &host);

// Takes the state of every object and encodes the stream.  `run_state` is the run state the VM
// had before it was stopped for the migration.
Status capture_machine_state(Host &host, const std::string &run_state, std::vector<uint8_t> *out);

// Validates the whole stream against this machine, then loads it.  *source_run_state receives
// the source's run state (the destination follows it).
Status load_machine_state(Host &host, std::span<const uint8_t> stream,
                          std::string *source_run_state);

}  // namespace qtpm::host
