// SPDX-License-Identifier: GPL-2.0-or-later
//
// The C API for embedders (include/qtpm/qtpm.h): the library, types, the host and backends.
// Devices are in capi/capi_device.cc, saved state and ACPI in capi/capi_state.cc.
#include "qtpm/qtpm.h"

#include <cstdlib>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "capi/capi_host.h"
#include "capi/option_string.h"
#include "qom/object.h"

using qtpm::capi::dup_string;
using qtpm::capi::fail;
using qtpm::capi::succeed;

namespace {

constexpr const char *kBackendPrefix = "tpm-";

// The registered type behind a -tpmdev name: "emulator" is the type "tpm-emulator" (QEMU's
// naming); a backend type registered under the bare name is accepted too.
const qtpm::TypeInfo *find_backend_type(std::string_view tpmdev_type) {
  for (const std::string &name :
       {std::string(kBackendPrefix) + std::string(tpmdev_type), std::string(tpmdev_type)}) {
    const qtpm::TypeInfo *t = qtpm::type_find(name);
    if (t && !t->abstract && qtpm::type_is_a(name, qtpm::kTypeTpmBackend)) return t;
  }
  return nullptr;
}

std::string tpmdev_name(const std::string &type_name) {
  size_t n = std::strlen(kBackendPrefix);
  return type_name.compare(0, n, kBackendPrefix) == 0 ? type_name.substr(n) : type_name;
}

std::string backend_type_list() {
  std::string list;
  for (const qtpm::TypeInfo *t : qtpm::type_list(qtpm::kTypeTpmBackend, false)) {
    if (!t->user_creatable) continue;
    list += list.empty() ? "" : ", ";
    list += tpmdev_name(t->name);
  }
  return list.empty() ? "none" : list;
}

char **strv_from(const std::vector<std::string> &items) {
  auto **v = static_cast<char **>(std::calloc(items.size() + 1, sizeof(char *)));
  if (!v) return nullptr;
  for (size_t i = 0; i < items.size(); i++) v[i] = dup_string(items[i]);
  return v;
}

// Creates, configures and realizes a backend; registers it under its id.
QtpmBackend *backend_create(QtpmHost *host, const char *type, const qtpm::capi::OptionList &opts,
                            char **errmsg) {
  if (!host || !type) {
    fail(errmsg, QTPM_ERROR, "tpmdev: no host or type given");
    return nullptr;
  }
  const qtpm::TypeInfo *info = find_backend_type(type);
  if (!info) {
    fail(errmsg, QTPM_ERROR,
         qtpm::strprintf("'%s' is not a valid tpmdev type (available: %s)", type,
                         backend_type_list().c_str()));
    return nullptr;
  }
  std::string id;
  for (const auto &kv : opts) {
    if (kv.first == "id") id = kv.second;
  }
  if (id.empty()) {
    fail(errmsg, QTPM_ERROR, "tpmdev: Parameter 'id' is missing");
    return nullptr;
  }
  if (host->backends.count(id)) {
    fail(errmsg, QTPM_ERROR, qtpm::strprintf("duplicate ID '%s' for tpmdev", id.c_str()));
    return nullptr;
  }
  std::unique_ptr<qtpm::Object> obj = qtpm::object_new(info->name);
  auto *backend = qtpm::object_cast<qtpm::TpmBackend>(obj.get());
  if (!backend) {
    fail(errmsg, QTPM_ERROR, qtpm::strprintf("tpmdev: type '%s' is not a TPM backend", type));
    return nullptr;
  }
  obj->set_id(id);
  backend->set_host(host);
  for (const auto &kv : opts) {
    if (kv.first == "id") continue;
    qtpm::Status st = obj->set_property(kv.first, kv.second);
    if (!st) {
      fail(errmsg, QTPM_ERROR, st.message());
      return nullptr;
    }
  }
  qtpm::Status st = obj->realize();
  if (!st) {
    fail(errmsg, QTPM_ERROR, st.message());
    return nullptr;
  }
  auto *be = new QtpmBackend;
  be->host = host;
  be->object = std::move(obj);
  be->backend = backend;
  be->tpmdev_type = tpmdev_name(info->name);
  host->backends[id] = be;
  succeed(errmsg);
  return be;
}

}  // namespace

namespace qtpm::capi {

void backend_destroy_if_unused(QtpmBackend *be) {
  if (!be->released || be->users > 0) return;
  QtpmHost *host = be->host;
  // Finish what is in flight, let its posted completion run (it finds nothing to deliver), then
  // stop the worker: afterwards nothing in the post queue refers to this backend.
  be->backend->finish_sync();
  host->loop.queue().run_pending();
  be->object->unrealize();
  host->loop.queue().run_pending();
  delete be;
}

}  // namespace qtpm::capi

extern "C" {

const char *qtpm_version(void) { return QTPM_VERSION; }

void qtpm_init(void) { qtpm::register_builtin_types(); }

void qtpm_free(void *p) { std::free(p); }

void qtpm_strv_free(char **strv) {
  if (!strv) return;
  for (char **p = strv; *p; p++) std::free(*p);
  std::free(strv);
}

// ---------------------------------------------------------------------------------------------
// Types

char **qtpm_type_list(const char *family) {
  std::vector<std::string> names;
  if (family) {
    bool backends = std::strcmp(family, QTPM_TYPE_BACKEND) == 0;
    for (const qtpm::TypeInfo *t : qtpm::type_list(family, false)) {
      if (!t->user_creatable || !t->instantiate) continue;
      names.push_back(backends ? tpmdev_name(t->name) : t->name);
    }
  }
  return strv_from(names);
}

int qtpm_type_info(const char *name, QtpmTypeInfo *info, char **errmsg) {
  if (!name || !info) return fail(errmsg, QTPM_ERROR, "qtpm_type_info: no name or info");
  const qtpm::TypeInfo *t = qtpm::type_find(name);
  bool backend = false;
  if (!t || qtpm::type_is_a(t->name, qtpm::kTypeTpmBackend)) {
    const qtpm::TypeInfo *b = find_backend_type(name);
    if (b) {
      t = b;
      backend = true;
    }
  }
  if (!t) return fail(errmsg, QTPM_ERROR, qtpm::strprintf("unknown type '%s'", name));
  // TypeInfo lives in the registry for the life of the process, so its strings can be lent.
  // A backend's -tpmdev name is a suffix of its type name.
  info->name = backend ? t->name.c_str() + (t->name.size() - tpmdev_name(t->name).size())
                       : t->name.c_str();
  info->parent = t->parent.c_str();
  info->description = t->description.c_str();
  info->bus = t->bus.c_str();
  info->is_frontend = qtpm::type_is_a(t->name, qtpm::kTypeTpmIf);
  info->is_backend = backend;
  return succeed(errmsg);
}

char **qtpm_type_property_names(const char *type) {
  if (!type) return nullptr;
  const qtpm::TypeInfo *t = qtpm::type_find(type);
  if (!t || qtpm::type_is_a(t->name, qtpm::kTypeTpmBackend)) {
    if (const qtpm::TypeInfo *b = find_backend_type(type)) t = b;
  }
  if (!t || t->abstract || !t->instantiate) return nullptr;
  // Construction cannot fail and acquires nothing (realize does), so a throwaway object is a
  // cheap way to see the properties its constructor declares.
  std::unique_ptr<qtpm::Object> obj = qtpm::object_new(t->name);
  if (!obj) return nullptr;
  std::vector<std::string> names;
  for (const qtpm::Property &p : obj->properties()) names.push_back(p.name);
  return strv_from(names);
}

// ---------------------------------------------------------------------------------------------
// Host

QtpmHost *qtpm_host_new(const QtpmHostOps *ops, void *opaque, char **errmsg) {
  if (!ops || ops->size < offsetof(QtpmHostOps, post) + sizeof ops->post || !ops->post) {
    fail(errmsg, QTPM_ERROR, "qtpm_host_new: the host must provide post()");
    return nullptr;
  }
  succeed(errmsg);
  return new QtpmHost(*ops, opaque);
}

void qtpm_host_free(QtpmHost *host) { delete host; }

int qtpm_host_run_pending(QtpmHost *host) { return host ? host->loop.queue().run_pending() : 0; }

int qtpm_host_add_chardev_fd(QtpmHost *host, const char *id, int fd, char **errmsg) {
  if (!host || !id || !*id) return fail(errmsg, QTPM_ERROR, "chardev: Parameter 'id' is missing");
  if (host->chardevs.count(id)) {
    return fail(errmsg, QTPM_ERROR, qtpm::strprintf("duplicate ID '%s' for chardev", id));
  }
  auto chardev = std::make_unique<qtpm::Chardev>();
  chardev->set_id(id);
  qtpm::Status st = chardev->set_property("fd", std::to_string(fd));
  if (st) st = chardev->realize();
  if (!st) return fail(errmsg, QTPM_ERROR, st.message());
  host->chardevs[id] = std::move(chardev);
  return succeed(errmsg);
}

int qtpm_host_add_chardev_path(QtpmHost *host, const char *id, const char *path,
                               char **errmsg) {
  if (!host || !id || !*id) return fail(errmsg, QTPM_ERROR, "chardev: Parameter 'id' is missing");
  if (host->chardevs.count(id)) {
    return fail(errmsg, QTPM_ERROR, qtpm::strprintf("duplicate ID '%s' for chardev", id));
  }
  auto chardev = std::make_unique<qtpm::Chardev>();
  chardev->set_id(id);
  qtpm::Status st = chardev->set_property("path", path ? path : "");
  if (st) st = chardev->realize();
  if (!st) return fail(errmsg, QTPM_ERROR, st.message());
  host->chardevs[id] = std::move(chardev);
  return succeed(errmsg);
}

int qtpm_host_remove_chardev(QtpmHost *host, const char *id, char **errmsg) {
  if (!host || !id) return fail(errmsg, QTPM_ERROR, "chardev: no id given");
  auto it = host->chardevs.find(id);
  if (it == host->chardevs.end()) {
    return fail(errmsg, QTPM_ERROR, qtpm::strprintf("chardev '%s' not found", id));
  }
  // A backend that names the chardev in a property uses it.
  for (const auto &[be_id, be] : host->backends) {
    std::optional<std::string> cd = be->object->get_property("chardev");
    if (cd && *cd == id) {
      return fail(errmsg, QTPM_ERROR,
                  qtpm::strprintf("chardev '%s' is in use by tpmdev '%s'", id, be_id.c_str()));
    }
  }
  host->chardevs.erase(it);
  return succeed(errmsg);
}

// ---------------------------------------------------------------------------------------------
// Backends

QtpmBackend *qtpm_backend_new(QtpmHost *host, const char *type, const char *opts,
                              char **errmsg) {
  qtpm::capi::OptionList list;
  qtpm::Status st = qtpm::capi::parse_option_string(opts ? opts : "", &list);
  if (!st) {
    fail(errmsg, QTPM_ERROR, "tpmdev: " + st.message());
    return nullptr;
  }
  return backend_create(host, type, list, errmsg);
}

QtpmBackend *qtpm_backend_new_kv(QtpmHost *host, const char *type, const QtpmKeyValue *opts,
                                 size_t n_opts, char **errmsg) {
  qtpm::capi::OptionList list;
  std::set<std::string> seen;
  for (size_t i = 0; i < n_opts; i++) {
    if (!opts[i].key || !*opts[i].key) {
      fail(errmsg, QTPM_ERROR, "tpmdev: an option has no name");
      return nullptr;
    }
    if (!seen.insert(opts[i].key).second) {
      fail(errmsg, QTPM_ERROR, qtpm::strprintf("tpmdev: Duplicate option '%s'", opts[i].key));
      return nullptr;
    }
    list.emplace_back(opts[i].key, opts[i].value ? opts[i].value : "on");
  }
  return backend_create(host, type, list, errmsg);
}

QtpmBackend *qtpm_backend_find(QtpmHost *host, const char *id) {
  if (!host || !id) return nullptr;
  auto it = host->backends.find(std::string_view(id));
  return it == host->backends.end() ? nullptr : it->second;
}

const char *qtpm_backend_id(const QtpmBackend *be) { return be->object->id().c_str(); }

const char *qtpm_backend_type(const QtpmBackend *be) { return be->tpmdev_type.c_str(); }

int qtpm_backend_tpm_version(const QtpmBackend *be) {
  return static_cast<int>(be->backend->version());
}

void qtpm_backend_free(QtpmBackend *be) {
  if (!be || be->released) return;
  // The id is free for a new backend at once; the object itself lives until no realized device
  // uses it (QEMU frees backends at exit while the devices still exist).
  auto it = be->host->backends.find(be->object->id());
  if (it != be->host->backends.end() && it->second == be) be->host->backends.erase(it);
  be->released = true;
  qtpm::capi::backend_destroy_if_unused(be);
}

}  // extern "C"
