// SPDX-License-Identifier: GPL-2.0-or-later
//
// The C API for devices (include/qtpm/qtpm.h): properties, lifecycle, regions, IRQ lines and the
// TPM frontend queries.  Everything goes through the generic Device / TpmFrontend contracts, so
// frontends added later need nothing here.
#include <json-c/json.h>

#include <cstring>

#include "capi/capi_host.h"
#include "capi/option_string.h"
#include "hw/tpm/tpm_ppi.h"
#include "qtpm/qtpm.h"

using qtpm::capi::dup_string;
using qtpm::capi::fail;
using qtpm::capi::succeed;

namespace {

constexpr uint64_t kAllOnes = ~uint64_t{0};

qtpm::TpmFrontend *frontend_of(const QtpmDevice *dev) {
  return dev ? dynamic_cast<qtpm::TpmFrontend *>(dev->object.get()) : nullptr;
}

// The backend the device attached to while realizing: the one whose frontend it now is.
QtpmBackend *find_bound_backend(const QtpmDevice *dev) {
  qtpm::TpmFrontend *fe = frontend_of(dev);
  if (!fe) return nullptr;
  for (const auto &[id, be] : dev->host->backends) {
    if (be->backend->frontend() == fe) return be;
  }
  return nullptr;
}

void unbind(QtpmDevice *dev) {
  QtpmBackend *be = dev->bound;
  if (!be) return;
  dev->bound = nullptr;
  be->users--;
  qtpm::capi::backend_destroy_if_unused(be);
}

// Checks an access before it reaches MemoryRegion, whose contract is "in range, 1..8 bytes".
const qtpm::MemoryRegion *checked_region(const QtpmDevice *dev, size_t index, uint64_t offset,
                                         unsigned size, QtpmAccessOutcome *outcome) {
  QtpmAccessOutcome result = QTPM_ACCESS_OK;
  const qtpm::MemoryRegion *r = nullptr;
  if (!dev || !dev->device->realized() || index >= dev->device->regions().size()) {
    result = QTPM_ACCESS_UNMAPPED;
  } else if (size != 1 && size != 2 && size != 4 && size != 8) {
    result = QTPM_ACCESS_BAD_SIZE;
  } else {
    r = &dev->device->regions()[index];
    // Written so that offset + size cannot overflow.
    if (offset >= r->size() || size > r->size() - offset) {
      result = QTPM_ACCESS_UNMAPPED;
      r = nullptr;
    }
  }
  if (outcome) *outcome = result;
  return r;
}

QtpmAccessOutcome to_c(qtpm::AccessOutcome o) {
  switch (o) {
    case qtpm::AccessOutcome::kOk: return QTPM_ACCESS_OK;
    case qtpm::AccessOutcome::kUnmapped: return QTPM_ACCESS_UNMAPPED;
    case qtpm::AccessOutcome::kBadSize: return QTPM_ACCESS_BAD_SIZE;
    case qtpm::AccessOutcome::kIgnored: return QTPM_ACCESS_IGNORED;
    case qtpm::AccessOutcome::kUnimplemented: return QTPM_ACCESS_UNIMPLEMENTED;
  }
  return QTPM_ACCESS_UNIMPLEMENTED;
}

uint64_t region_read(QtpmDevice *dev, size_t index, uint64_t offset, unsigned size, bool peek,
                     QtpmAccessOutcome *outcome) {
  const qtpm::MemoryRegion *r = checked_region(dev, index, offset, size, outcome);
  if (!r) return kAllOnes;
  qtpm::AccessOutcome o = qtpm::AccessOutcome::kOk;
  uint64_t v = r->read(offset, size, peek, &o);
  if (outcome) *outcome = to_c(o);
  return v;
}

}  // namespace

extern "C" {

QtpmDevice *qtpm_device_new(QtpmHost *host, const char *type, char **errmsg) {
  if (!host || !type) {
    fail(errmsg, QTPM_ERROR, "device: no host or type given");
    return nullptr;
  }
  const qtpm::TypeInfo *info = qtpm::type_find(type);
  if (!info || info->abstract || !qtpm::type_is_a(type, qtpm::kTypeDevice)) {
    fail(errmsg, QTPM_ERROR, qtpm::strprintf("'%s' is not a valid device model name", type));
    return nullptr;
  }
  std::unique_ptr<qtpm::Object> obj = qtpm::object_new(type);
  auto *device = qtpm::object_cast<qtpm::Device>(obj.get());
  if (!device) {
    fail(errmsg, QTPM_ERROR, qtpm::strprintf("'%s' is not a valid device model name", type));
    return nullptr;
  }
  device->set_host(host);
  auto *dev = new QtpmDevice;
  dev->host = host;
  dev->object = std::move(obj);
  dev->device = device;
  succeed(errmsg);
  return dev;
}

const char *qtpm_device_type(const QtpmDevice *dev) { return dev->object->type_name().c_str(); }

int qtpm_device_set_property(QtpmDevice *dev, const char *name, const char *value,
                             char **errmsg) {
  if (!dev || !name) return fail(errmsg, QTPM_ERROR, "device: no property name given");
  if (std::strcmp(name, "id") == 0) {
    if (dev->object->realized()) {
      return fail(errmsg, QTPM_ERROR, "Attempt to set property 'id' after it was realized");
    }
    dev->object->set_id(value ? value : "");
    return succeed(errmsg);
  }
  qtpm::Status st = dev->object->set_property(name, value ? value : "");
  return st ? succeed(errmsg) : fail(errmsg, QTPM_ERROR, st.message());
}

int qtpm_device_set_options(QtpmDevice *dev, const char *opts, char **errmsg) {
  if (!dev) return fail(errmsg, QTPM_ERROR, "device: no device given");
  qtpm::capi::OptionList list;
  qtpm::Status st = qtpm::capi::parse_option_string(opts ? opts : "", &list);
  if (!st) return fail(errmsg, QTPM_ERROR, st.message());
  // Check every name first, so that a bad option leaves the device as it was ("a failed call
  // changes nothing"); a value that does not parse is caught by the property, which stays
  // unchanged, but earlier options of the same string have then been applied.
  for (const auto &kv : list) {
    if (kv.first != "id" && !dev->object->find_property(kv.first)) {
      return fail(errmsg, QTPM_ERROR,
                  qtpm::strprintf("Property '%s.%s' not found",
                                  dev->object->type_name().c_str(), kv.first.c_str()));
    }
  }
  for (const auto &kv : list) {
    int rc = qtpm_device_set_property(dev, kv.first.c_str(), kv.second.c_str(), errmsg);
    if (rc != QTPM_OK) return rc;
  }
  return succeed(errmsg);
}

int qtpm_device_set_backend(QtpmDevice *dev, const QtpmBackend *be, char **errmsg) {
  if (!be) return fail(errmsg, QTPM_ERROR, "device: no backend given");
  return qtpm_device_set_property(dev, "tpmdev", be->object->id().c_str(), errmsg);
}

char *qtpm_device_get_property(const QtpmDevice *dev, const char *name) {
  if (!dev || !name) return nullptr;
  if (std::strcmp(name, "id") == 0) return dup_string(dev->object->id());
  std::optional<std::string> v = dev->object->get_property(name);
  return v ? dup_string(*v) : nullptr;
}

size_t qtpm_device_property_count(const QtpmDevice *dev) {
  return dev ? dev->object->properties().size() : 0;
}

int qtpm_device_property_info(const QtpmDevice *dev, size_t index, QtpmPropertyInfo *info) {
  if (!dev || !info || index >= dev->object->properties().size()) return QTPM_ERROR;
  const qtpm::Property &p = dev->object->properties()[index];
  info->name = p.name.c_str();
  info->type = p.type.c_str();
  info->description = p.description.c_str();
  info->default_value = p.default_value.c_str();
  return QTPM_OK;
}

int qtpm_device_realize(QtpmDevice *dev, char **errmsg) {
  if (!dev) return fail(errmsg, QTPM_ERROR, "device: no device given");
  if (dev->object->realized()) return succeed(errmsg);
  qtpm::Status st = dev->object->realize();
  if (!st) return fail(errmsg, QTPM_ERROR, st.message());
  dev->bound = find_bound_backend(dev);
  if (dev->bound) dev->bound->users++;
  return succeed(errmsg);
}

bool qtpm_device_realized(const QtpmDevice *dev) { return dev && dev->object->realized(); }

int qtpm_device_reset(QtpmDevice *dev, char **errmsg) {
  if (!dev || !dev->object->realized()) {
    return fail(errmsg, QTPM_ERROR, "device: reset before realize");
  }
  dev->object->reset();
  if (dev->bound && dev->bound->backend->had_startup_error()) {
    return fail(errmsg, QTPM_ERROR,
                qtpm::strprintf("%s: the TPM backend '%s' failed to start",
                                dev->object->type_name().c_str(),
                                dev->bound->object->id().c_str()));
  }
  return succeed(errmsg);
}

void qtpm_device_free(QtpmDevice *dev) {
  if (!dev) return;
  QtpmHost *host = dev->host;
  dev->object->unrealize();
  // Completions posted for this device have nothing to deliver to once it is unrealized; run
  // them now, while everything they refer to still exists.
  host->loop.queue().run_pending();
  unbind(dev);
  delete dev;
}

// ---------------------------------------------------------------------------------------------
// Regions

size_t qtpm_device_region_count(const QtpmDevice *dev) {
  return dev && dev->object->realized() ? dev->device->regions().size() : 0;
}

int qtpm_device_region_info(const QtpmDevice *dev, size_t index, QtpmRegionInfo *info) {
  if (!info || index >= qtpm_device_region_count(dev)) return QTPM_ERROR;
  const qtpm::MemoryRegion &r = dev->device->regions()[index];
  info->name = r.name().c_str();
  info->size = r.size();
  info->kind = r.kind() == qtpm::MemoryRegion::Kind::kRam ? QTPM_REGION_RAM : QTPM_REGION_MMIO;
  info->has_fixed_address = r.fixed_address().has_value();
  info->fixed_address = r.fixed_address().value_or(0);
  info->max_access = r.max_access();
  info->host_ptr = r.host_ptr();
  return QTPM_OK;
}

const char *qtpm_access_outcome_name(QtpmAccessOutcome outcome) {
  switch (outcome) {
    case QTPM_ACCESS_OK: return "ok";
    case QTPM_ACCESS_UNMAPPED: return "unmapped";
    case QTPM_ACCESS_BAD_SIZE: return "bad size";
    case QTPM_ACCESS_IGNORED: return "ignored";
    case QTPM_ACCESS_UNIMPLEMENTED: return "unimplemented";
  }
  return "unknown";
}

uint64_t qtpm_device_mmio_read(QtpmDevice *dev, size_t index, uint64_t offset, unsigned size,
                               QtpmAccessOutcome *outcome) {
  return region_read(dev, index, offset, size, false, outcome);
}

uint64_t qtpm_device_mmio_peek(QtpmDevice *dev, size_t index, uint64_t offset, unsigned size,
                               QtpmAccessOutcome *outcome) {
  return region_read(dev, index, offset, size, true, outcome);
}

void qtpm_device_mmio_write(QtpmDevice *dev, size_t index, uint64_t offset, uint64_t value,
                            unsigned size, QtpmAccessOutcome *outcome) {
  const qtpm::MemoryRegion *r = checked_region(dev, index, offset, size, outcome);
  if (!r) return;
  qtpm::AccessOutcome o = qtpm::AccessOutcome::kOk;
  r->write(offset, value, size, &o);
  if (outcome) *outcome = to_c(o);
}

// ---------------------------------------------------------------------------------------------
// IRQ lines

size_t qtpm_device_irq_count(const QtpmDevice *dev) {
  return dev && dev->object->realized() ? dev->device->irq_count() : 0;
}

int qtpm_device_connect_irq(QtpmDevice *dev, unsigned line, QtpmIrqHandler handler, void *opaque,
                            char **errmsg) {
  if (line >= qtpm_device_irq_count(dev)) {
    return fail(errmsg, QTPM_ERROR,
                qtpm::strprintf("device has no IRQ line %u (it has %zu)", line,
                                qtpm_device_irq_count(dev)));
  }
  if (!handler) {
    dev->device->irq(line).connect(nullptr);
  } else {
    dev->device->irq(line).connect(
        [handler, opaque, line](bool level) { handler(opaque, line, level); });
  }
  return succeed(errmsg);
}

bool qtpm_device_irq_level(const QtpmDevice *dev, unsigned line) {
  return line < qtpm_device_irq_count(dev) && dev->device->irq(line).level();
}

// ---------------------------------------------------------------------------------------------
// TPM frontend queries

int qtpm_device_tpm_version(const QtpmDevice *dev) {
  qtpm::TpmFrontend *fe = frontend_of(dev);
  if (!fe) return QTPM_ERROR;
  return static_cast<int>(fe->tpm_version());
}

const char *qtpm_device_tpm_model(const QtpmDevice *dev) {
  qtpm::TpmFrontend *fe = frontend_of(dev);
  return fe ? fe->tpm_model() : nullptr;
}

char *qtpm_device_query_tpm_json(const QtpmDevice *dev, char **errmsg) {
  qtpm::TpmFrontend *fe = frontend_of(dev);
  if (!fe) {
    fail(errmsg, QTPM_ERROR, "device: not a TPM frontend");
    return nullptr;
  }
  if (!dev->bound) {
    fail(errmsg, QTPM_ERROR,
         qtpm::strprintf("%s: no TPM backend bound (not realized?)", fe->tpm_model()));
    return nullptr;
  }
  qtpm::TpmBackend *be = dev->bound->backend;
  json_object *data = json_object_new_object();
  for (const auto &[key, value] : be->tpm_options()) {
    json_object_object_add(data, key.c_str(), json_object_new_string(value.c_str()));
  }
  json_object *options = json_object_new_object();
  json_object_object_add(options, "type", json_object_new_string(be->tpm_type().c_str()));
  json_object_object_add(options, "data", data);
  json_object *info = json_object_new_object();
  json_object_object_add(info, "id", json_object_new_string(be->id().c_str()));
  json_object_object_add(info, "model", json_object_new_string(fe->tpm_model()));
  json_object_object_add(info, "options", options);
  char *text = dup_string(json_object_to_json_string_ext(info, JSON_C_TO_STRING_PLAIN));
  json_object_put(info);
  succeed(errmsg);
  return text;
}

int qtpm_device_tpm_config(const QtpmDevice *dev, uint8_t **data, size_t *len, char **errmsg) {
  qtpm::TpmFrontend *fe = frontend_of(dev);
  if (!fe || !data || !len) return fail(errmsg, QTPM_ERROR, "device: not a TPM frontend");
  // Firmware learns about PPI from this file only; a device without the PPI page has none.
  const qtpm::MemoryRegion *ppi = nullptr;
  for (const qtpm::MemoryRegion &r : dev->device->regions()) {
    if (r.name() == "tpm-ppi" && r.fixed_address()) ppi = &r;
  }
  if (!ppi) {
    return fail(errmsg, QTPM_NOT_SUPPORTED,
                qtpm::strprintf("%s: no PPI page", dev->object->type_name().c_str()));
  }
  // struct { le32 tpmppi_address; u8 tpm_version; u8 tpmppi_version; } packed, as SeaBIOS and
  // OVMF read it.
  uint64_t addr = *ppi->fixed_address();
  uint8_t config[6] = {static_cast<uint8_t>(addr), static_cast<uint8_t>(addr >> 8),
                       static_cast<uint8_t>(addr >> 16), static_cast<uint8_t>(addr >> 24),
                       static_cast<uint8_t>(fe->tpm_version()), qtpm::PpiLayout::kVersion130};
  *data = qtpm::capi::dup_bytes(config, sizeof config);
  *len = sizeof config;
  return succeed(errmsg);
}

}  // extern "C"
