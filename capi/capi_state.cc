// SPDX-License-Identifier: GPL-2.0-or-later
//
// The C API for saved state (include/qtpm/qtpm.h): through the Migratable interface
// (qom/saved_state.h) of whatever object the handle holds.

#include <string>

#include "backends/tpm/tpm_backend.h"
#include "capi/capi_host.h"
#include "qom/saved_state.h"
#include "qtpm/qtpm.h"

using qtpm::capi::fail;
using qtpm::capi::succeed;

namespace {

int save(qtpm::Object *obj, uint8_t **data, size_t *len, char **errmsg) {
  if (!obj || !data || !len) return fail(errmsg, QTPM_ERROR, "save: no object or output given");
  auto *m = dynamic_cast<qtpm::Migratable *>(obj);
  if (!m) {
    return fail(errmsg, QTPM_NOT_SUPPORTED,
                qtpm::strprintf("%s does not support migration", obj->type_name().c_str()));
  }
  qtpm::Status st = m->prepare_save();
  if (!st) return fail(errmsg, QTPM_NOT_SUPPORTED, st.message());
  std::vector<uint8_t> blob = m->save_state().finish();
  *data = qtpm::capi::dup_bytes(blob.data(), blob.size());
  *len = blob.size();
  return succeed(errmsg);
}

int load(qtpm::Object *obj, const uint8_t *data, size_t len, char **errmsg) {
  if (!obj || (!data && len)) return fail(errmsg, QTPM_ERROR, "load: no object or input given");
  auto *m = dynamic_cast<qtpm::Migratable *>(obj);
  if (!m) {
    return fail(errmsg, QTPM_NOT_SUPPORTED,
                qtpm::strprintf("%s does not support migration", obj->type_name().c_str()));
  }
  qtpm::StateReader reader;
  // The blob comes from a migration stream: parse() validates every length before anything
  // is read, and load_state() validates every value before the object changes.
  qtpm::Status st = qtpm::StateReader::parse(std::span<const uint8_t>(data, len), &reader);
  if (st) st = m->load_state(reader);
  if (!st) {
    // One prefix naming the object: backends already put their own ("tpm-emulator: ...").
    std::string prefix = obj->type_name() + ": ";
    if (st.message().compare(0, prefix.size(), prefix) == 0) {
      return fail(errmsg, QTPM_ERROR, st.message());
    }
    return fail(errmsg, QTPM_ERROR, prefix + st.message());
  }
  return succeed(errmsg);
}

}  // namespace

extern "C" {

int qtpm_device_save_state(QtpmDevice *dev, uint8_t **data, size_t *len, char **errmsg) {
  return save(dev ? dev->object.get() : nullptr, data, len, errmsg);
}

int qtpm_device_load_state(QtpmDevice *dev, const uint8_t *data, size_t len, char **errmsg) {
  return load(dev ? dev->object.get() : nullptr, data, len, errmsg);
}

int qtpm_backend_save_state(QtpmBackend *be, uint8_t **data, size_t *len, char **errmsg) {
  return save(be ? be->object.get() : nullptr, data, len, errmsg);
}

int qtpm_backend_load_state(QtpmBackend *be, const uint8_t *data, size_t len, char **errmsg) {
  return load(be ? be->object.get() : nullptr, data, len, errmsg);
}

int qtpm_backend_migration_blocker(const QtpmBackend *be, char **reason) {
  if (!be || !be->backend) return fail(reason, QTPM_ERROR, "migration: no backend given");
  std::string why;
  if (be->backend->blocks_migration(&why)) return fail(reason, QTPM_NOT_SUPPORTED, why);
  return succeed(reason);
}

}  // extern "C"
