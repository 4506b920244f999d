// SPDX-License-Identifier: GPL-2.0-or-later
//
// The host: object creation in QEMU's order, HostServices, teardown (see host.h).
#include "qtest/server/host.h"

#include <algorithm>
#include <cstring>

#include "qom/trace.h"
#include "qtest/server/spapr_machine_hooks.h"
#include "qtest/server/type_catalog.h"

namespace qtpm::host {

namespace {

// QEMU's wording for a JSON -device value of the wrong kind (qobject input visitor).
Status check_json_kind(const Property &prop, const DeviceProp &value) {
  const char *expected = nullptr;
  if (prop.json_kind == "bool" && value.kind != DeviceProp::Kind::kBool) expected = "boolean";
  if (prop.json_kind == "number" && value.kind != DeviceProp::Kind::kNumber) expected = "integer";
  if (prop.json_kind == "string" && value.kind != DeviceProp::Kind::kString) expected = "string";
  if (!expected) return Status::ok();
  return Status::errorf("Invalid parameter type for '%s', expected: %s", prop.name.c_str(), expected);
}

}  // namespace

Host::Host(const Config &config, CompletionLoop *loop) : config_(config), loop_(loop) {
  if (!loop_) {
    own_loop_ = std::make_unique<GlibCompletionLoop>();
    loop_ = own_loop_.get();
  }
  register_builtin_types();
  register_host_types();
}

Host::~Host() { shutdown(); }

Status Host::build() {
  root_ = object_new("container");
  machine_ = std::make_unique<Machine>(*config_.arch, *config_.machine);
  if (Status st = machine_->init(root_.get(), config_.ram_size, config_.machine_props); !st) {
    return Status::error(config_.error(st.message()));
  }
  // pseries: the VIO bus and QEMU's built-in VIO units (when the pseries code is linked in).
  if (spapr_machine_init) {
    if (Status st = spapr_machine_init(*machine_, config_); !st) return Status::error(config_.error(st.message()));
  }
  auto chardevs = object_new("container");
  chardevs_ = chardevs.get();
  (void)root_->add_child("chardevs", std::move(chardevs));
  (void)root_->add_child("objects", object_new("container"));

  for (const ChardevConfig &cd : config_.chardevs) {
    if (Status st = create_chardev(cd); !st) return Status::error(config_.error_at(cd.loc, st.message()));
  }
  if (Status st = create_qtest_chardev(); !st) return st;
  for (size_t i = 0; i < config_.tpmdevs.size(); i++) {
    const TpmdevConfig &t = config_.tpmdevs[i];
    if (Status st = create_backend(t, i); !st) return Status::error(config_.error_at(t.loc, st.message()));
  }
  for (size_t i = 0; i < config_.monitors.size(); i++) {
    const MonitorConfig &m = config_.monitors[i];
    if (!find_chardev(m.chardev)) {
      return Status::error(config_.error_at(m.loc, "chardev \"" + m.chardev + "\" not found"));
    }
    for (size_t j = 0; j < i; j++) {
      if (config_.monitors[j].chardev == m.chardev) {
        return Status::error(config_.error_at(m.loc, "Device '" + m.chardev + "' is in use"));
      }
    }
  }
  for (const DeviceConfig &d : config_.devices) {
    if (Status st = create_device(d); !st) return Status::error(config_.error_at(d.loc, st.message()));
  }
  Device *fwcfg = nullptr;
  if (Status st = firmware_.create(*machine_, this, devices_, &fwcfg); !st) {
    return Status::error(config_.error("fw_cfg: " + st.message()));
  }
  if (fwcfg) devices_.push_back(fwcfg);
  run_state_ = config_.incoming ? RunState::kInmigrate
               : config_.start_paused ? RunState::kPrelaunch
                                      : RunState::kRunning;
  reset_devices();
  return Status::ok();
}

Status Host::add_chardev_object(std::unique_ptr<Chardev> chardev, const std::string &id) {
  chardev->set_id(id);
  return chardevs_->add_child(id, std::move(chardev));
}

Status Host::create_chardev(const ChardevConfig &cd) {
  std::unique_ptr<Object> o = object_new("chardev-socket");
  std::unique_ptr<Chardev> chardev(static_cast<Chardev *>(o.release()));
  for (const auto &[name, value] : cd.props) {
    if (Status st = chardev->set_property(name, value); !st) return st;
  }
  if (Status st = chardev->realize(); !st) return st;
  return add_chardev_object(std::move(chardev), cd.id);
}

Status Host::create_qtest_chardev() {
  if (!config_.qtest) return Status::ok();
  // -qtest unix:PATH[,server=on|off][,wait=on|off], QEMU's legacy chardev syntax.
  const std::string &spec = *config_.qtest;
  auto fail = [&] {
    return Status::error(config_.error_at(config_.qtest_loc,
                                          "Failed to initialize device for qtest: \"" + spec + "\""));
  };
  QemuOpts opts;
  if (spec.rfind("unix:", 0) != 0 || !QemuOpts::parse(spec.substr(5), "path", &opts) ||
      !opts.validate({"path", "server", "wait"})) {
    return fail();
  }
  std::unique_ptr<Object> o = object_new("chardev-socket");
  std::unique_ptr<Chardev> chardev(static_cast<Chardev *>(o.release()));
  for (const auto &[name, value] : opts.items()) {
    if (!chardev->set_property(name, value)) return fail();
  }
  if (Status st = chardev->realize(); !st) {
    return Status::error(config_.error_at(config_.qtest_loc, st.message()));
  }
  qtest_chardev_ = chardev.get();
  if (Status st = add_chardev_object(std::move(chardev), "qtest"); !st) {
    return Status::error(config_.error_at(config_.qtest_loc, st.message()));
  }
  return Status::ok();
}

Status Host::create_backend(const TpmdevConfig &t, size_t index) {
  // The checks and their order are softmmu/tpm.c's tpm_init_tpmdev().
  if (index > 0) return Status::error("Only one TPM is allowed.");
  if (t.id.empty()) return Status::error("Parameter 'id' is missing");
  if (t.type.empty()) return Status::error("Parameter 'type' is missing");
  const TypeInfo *type = tpm_backend_type(t.type);
  if (!type) return Status::error("Parameter 'type' expects a TPM backend type");
  std::unique_ptr<Object> o = object_new(type->name);
  auto *backend = dynamic_cast<TpmBackend *>(o.get());
  if (!backend) return Status::errorf("'%s' is not a TPM backend", type->name.c_str());
  std::unique_ptr<TpmBackend> owned(backend);
  o.release();
  owned->set_host(this);
  owned->set_id(t.id);
  for (const auto &[name, value] : t.props) {
    if (!owned->find_property(name)) return Status::errorf("Invalid parameter '%s'", name.c_str());
    if (Status st = owned->set_property(name, value); !st) return st;
  }
  if (Status st = owned->realize(); !st) return st;
  backends_.push_back(std::move(owned));
  return Status::ok();
}

Status Host::check_device_type(const DeviceConfig &d, const TypeInfo **out) {
  // The checks and their order are softmmu/qdev-monitor.c's qdev_get_device_class() and
  // qdev_device_add_from_qdict().
  if (d.driver.empty()) return Status::error("Parameter 'driver' is missing");
  const TypeInfo *t = type_find(d.driver);
  bool is_device = t && type_is_a(t->name, kTypeDevice);
  if (!is_device || (!t->abstract && !device_type_on_arch(*t, *config_.arch))) {
    return Status::errorf("'%s' is not a valid device model name", d.driver.c_str());
  }
  if (t->abstract) return Status::error("Parameter 'driver' expects a non-abstract device type");
  if (!t->user_creatable) return Status::error("Parameter 'driver' expects a pluggable device type");
  const MachineSpec &m = *config_.machine;
  if (t->bus == kBusSysbus && !m.platform_bus) {
    return Status::error("Parameter 'driver' expects a dynamic sysbus device type for the machine");
  }
  if (!m.has_bus(t->bus)) {
    return Status::errorf("No '%s' bus found for device '%s'",
                          std::string(bus_display_name(t->bus)).c_str(), d.driver.c_str());
  }
  *out = t;
  return Status::ok();
}

Status Host::set_device_props(Device *device, const DeviceConfig &d) {
  for (const DeviceProp &p : d.props) {
    const Property *prop = device->find_property(p.name);
    if (prop && p.kind != DeviceProp::Kind::kText) {
      if (Status st = check_json_kind(*prop, p); !st) return st;
    }
    if (Status st = device->set_property(p.name, p.value); !st) return st;
  }
  return Status::ok();
}

Status Host::create_device(const DeviceConfig &d) {
  const TypeInfo *type = nullptr;
  if (Status st = check_device_type(d, &type); !st) return st;
  std::unique_ptr<Object> o = object_new(type->name);
  auto *raw = dynamic_cast<Device *>(o.get());
  if (!raw) return Status::errorf("'%s' is not a valid device model name", d.driver.c_str());
  o.release();
  std::unique_ptr<Device> owned(raw);
  owned->set_host(this);
  Device *device = nullptr;
  if (Status st = machine_->add_device(std::move(owned), d.id, &device); !st) return st;
  Status st = set_device_props(device, d);
  // QEMU's TPM frontends refuse to realize when another TPM frontend exists (tpm_find()).
  bool is_tpm = type_is_a(type->name, kTypeTpmIf);
  for (const Device *other : devices_) {
    if (st && is_tpm && other->is_a(kTypeTpmIf)) st = Status::error("at most one TPM device is permitted");
  }
  if (st) st = device->realize();
  if (st) {
    st = machine_->plug(device, *type);
    if (!st) device->unrealize();
    if (st) note_mapped_address(*machine_, device);
  }
  if (!st) {
    machine_->remove_device(device);
    return st;
  }
  devices_.push_back(device);
  return Status::ok();
}

void Host::reset_devices() {
  for (Device *d : devices_) d->reset();
}

void Host::shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  for (auto it = devices_.rbegin(); it != devices_.rend(); ++it) {
    machine_->unplug(*it);
    (*it)->unrealize();
  }
  for (auto it = devices_.rbegin(); it != devices_.rend(); ++it) machine_->remove_device(*it);
  devices_.clear();
  for (auto it = backends_.rbegin(); it != backends_.rend(); ++it) (*it)->unrealize();
  while (!backends_.empty()) backends_.pop_back();
  qtest_chardev_ = nullptr;
  chardevs_ = nullptr;
  root_.reset();
  machine_.reset();
}

Object *Host::find_tpm_backend(std::string_view id) {
  for (const auto &b : backends_)
    if (b->id() == id) return b.get();
  return nullptr;
}

Chardev *Host::find_chardev(std::string_view id) {
  if (!chardevs_) return nullptr;
  return dynamic_cast<Chardev *>(chardevs_->child(id));
}

void Host::clear_guest_ram() {
  if (machine_) machine_->ram().clear();
}

bool Host::dma_read(uint64_t addr, void *buf, size_t len) {
  const uint8_t *src = machine_ ? machine_->ram_at(addr, len) : nullptr;
  if (!src) return false;
  std::memcpy(buf, src, len);
  return true;
}

bool Host::dma_write(uint64_t addr, const void *buf, size_t len) {
  uint8_t *dst = machine_ ? machine_->ram_at(addr, len) : nullptr;
  if (!dst) return false;
  std::memcpy(dst, buf, len);
  return true;
}

bool Host::incoming_migration_pending() const { return config_.incoming && !incoming_done_; }

std::vector<TpmBackend *> Host::backends() const {
  std::vector<TpmBackend *> out;
  for (const auto &b : backends_) out.push_back(b.get());
  return out;
}

}  // namespace qtpm::host
