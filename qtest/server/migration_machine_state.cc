// SPDX-License-Identifier: GPL-2.0-or-later
//
// Taking and loading a machine's migration state (see migration_machine_state.h).
#include "qtest/server/migration_machine_state.h"

#include <optional>

#include "qom/trace.h"
#include "qtest/server/migration_ram_state.h"

namespace qtpm::host {

namespace {

// One object that takes part, with where it is in the stream.
struct Participant {
  MigrationObject info;
  Migratable *state = nullptr;  // null: no state of its own
};

constexpr const char *kRamPath = "/machine/ram";

// "device tpm-crb at /machine/peripheral/tpm0", "guest RAM 'pc.ram'": the start of a message.
std::string where(const MigrationObject &o) {
  if (o.path == kRamPath) return strprintf("guest RAM '%s'", o.type.c_str());
  return strprintf("%s %s at %s", migration_role_name(o.role), o.type.c_str(), o.path.c_str());
}

// The Migratable objects inside a device (a vTPM's TCE table), children before their parents,
// so that they load before the device that uses them.
void add_children(Object *o, std::vector<Participant> *out) {
  for (const auto &[name, child] : o->children()) {
    add_children(child.get(), out);
    auto *state = dynamic_cast<Migratable *>(child.get());
    if (!state) continue;
    Participant p;
    p.info.path = child->canonical_path();
    p.info.type = child->type_name();
    p.state = state;
    out->push_back(p);
  }
}

Participant device_participant(Device *d) {
  Participant p;
  p.info.path = d->canonical_path();
  p.info.type = d->type_name();
  if (auto *fe = dynamic_cast<TpmFrontend *>(d)) {
    p.info.tpm_version = static_cast<uint8_t>(fe->tpm_version());
  }
  p.state = dynamic_cast<Migratable *>(d);
  return p;
}

// Guest RAM first, then every device (after what it contains), then the backends.
std::vector<Participant> participants(Host &host, GuestRamState *ram) {
  std::vector<Participant> out;
  Participant r;
  r.info.path = kRamPath;
  r.info.type = host.machine().ram().name();
  r.state = ram;
  out.push_back(r);
  for (Device *d : host.devices()) {
    add_children(d, &out);
    out.push_back(device_participant(d));
  }
  for (TpmBackend *b : host.backends()) {
    if (!b->frontend()) continue;
    for (Device *d : host.devices()) {
      if (dynamic_cast<TpmFrontend *>(d) != b->frontend()) continue;
      Participant p;
      p.info.path = d->canonical_path() + "/tpmdev";
      p.info.type = b->type_name();
      p.info.role = MigrationRole::kBackend;
      p.info.tpm_version = static_cast<uint8_t>(b->version());
      p.state = dynamic_cast<Migratable *>(b);
      out.push_back(p);
    }
  }
  for (Participant &p : out) {
    p.info.has_state = p.state != nullptr;
    if (p.state) p.info.section = p.state->state_section();
  }
  return out;
}

// Puts the saved device states back after a failed load (each was valid a moment ago).
void roll_back(const std::vector<std::pair<Migratable *, StateWriter>> &saved) {
  for (const auto &[object, writer] : saved) {
    StateReader r;
    Status st = StateReader::parse(writer.finish(), &r);
    if (st) st = object->load_state(r);
    if (!st) QTPM_TRACE("migration_rollback_failed", "%s", st.message().c_str());
  }
}

}  // namespace

MigrationHeader describe_machine(Host &host) {
  MigrationHeader h;
  h.arch = host.config().arch->name;
  h.machine = host.config().machine->name;
  h.producer = "qtpm " QTPM_VERSION;
  GuestRamState ram(host.machine().ram());
  for (const Participant &p : participants(host, &ram)) h.objects.push_back(p.info);
  return h;
}

std::string migration_blocker(Host &host) {
  for (TpmBackend *b : host.backends()) {
    std::string reason;
    if (b->blocks_migration(&reason)) return reason;
  }
  return "";
}

Status capture_machine_state(Host &host, const std::string &run_state, std::vector<uint8_t> *out) {
  GuestRamState ram(host.machine().ram());
  std::vector<Participant> parts = participants(host, &ram);
  // Devices first: their prepare_save() lets a command in flight complete into their state.
  for (MigrationRole role : {MigrationRole::kDevice, MigrationRole::kBackend}) {
    for (Participant &p : parts) {
      if (p.info.role != role || !p.state) continue;
      if (Status st = p.state->prepare_save(); !st) {
        return Status::errorf("%s: %s", where(p.info).c_str(), st.message().c_str());
      }
    }
  }
  MigrationHeader header = describe_machine(host);
  header.run_state = run_state;
  std::vector<MigrationObjectState> objects;
  for (Participant &p : parts) {
    MigrationObjectState o{p.info, std::nullopt};
    if (p.state) o.state = p.state->save_state();
    objects.push_back(std::move(o));
  }
  return encode_migration_stream(std::move(header), objects, out);
}

Status load_machine_state(Host &host, std::span<const uint8_t> bytes,
                          std::string *source_run_state) {
  MigrationStream stream;
  if (Status st = decode_migration_stream(bytes, &stream); !st) return st;
  if (Status st = check_migration_compat(stream.header, describe_machine(host)); !st) return st;
  GuestRamState ram(host.machine().ram());
  std::vector<Participant> parts = participants(host, &ram);
  // The compatibility check matched every object by path and role, one to one.
  auto state_of = [&](const Participant &p) -> const StateReader * {
    for (size_t i = 0; i < stream.header.objects.size(); i++) {
      const MigrationObject &o = stream.header.objects[i];
      if (o.path == p.info.path && o.role == p.info.role && stream.states[i])
        return &*stream.states[i];
    }
    return nullptr;
  };
  std::vector<std::pair<Migratable *, StateWriter>> loaded;
  for (MigrationRole role : {MigrationRole::kDevice, MigrationRole::kBackend}) {
    for (Participant &p : parts) {
      const StateReader *state = p.state ? state_of(p) : nullptr;
      if (p.info.role != role || !state) continue;
      // A device's state is cheap to keep and to put back; a backend is loaded last of all.
      std::optional<StateWriter> before;
      if (role == MigrationRole::kDevice) before = p.state->save_state();
      if (Status st = p.state->load_state(*state); !st) {
        roll_back(loaded);
        return Status::errorf("%s: %s", where(p.info).c_str(), st.message().c_str());
      }
      if (before) loaded.emplace_back(p.state, std::move(*before));
    }
  }
  *source_run_state = stream.header.run_state;
  return Status::ok();
}

}  // namespace qtpm::host
