// SPDX-License-Identifier: GPL-2.0-or-later
//
// The qtpm object model: type registry, properties, lifecycle and composition tree.
// See object.h for the contract.
#include "qom/object.h"

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <mutex>

namespace qtpm {

std::string vstrprintf(const char *fmt, va_list ap) {
  va_list copy;
  va_copy(copy, ap);
  int n = std::vsnprintf(nullptr, 0, fmt, copy);
  va_end(copy);
  if (n <= 0) return std::string();
  std::string out(static_cast<size_t>(n) + 1, '\0');
  std::vsnprintf(out.data(), out.size(), fmt, ap);
  out.resize(static_cast<size_t>(n));
  return out;
}

std::string strprintf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  std::string s = vstrprintf(fmt, ap);
  va_end(ap);
  return s;
}

Status Status::errorf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  std::string s = vstrprintf(fmt, ap);
  va_end(ap);
  return Status(std::move(s));
}

// ---------------------------------------------------------------------------------------------
// Type registry

namespace {

std::map<std::string, TypeInfo, std::less<>> &registry() {
  static std::map<std::string, TypeInfo, std::less<>> types = [] {
    std::map<std::string, TypeInfo, std::less<>> m;
    TypeInfo root;
    root.name = "object";
    root.abstract = true;
    m.emplace(root.name, root);
    TypeInfo iface;
    iface.name = "interface";
    iface.parent = "object";
    iface.abstract = true;
    iface.is_interface = true;
    m.emplace(iface.name, iface);
    TypeInfo container;
    container.name = "container";
    container.parent = "object";
    container.user_creatable = false;
    container.instantiate = [] { return std::unique_ptr<Object>(new Container()); };
    m.emplace(container.name, container);
    return m;
  }();
  return types;
}

}  // namespace

bool type_register(TypeInfo info) {
  auto &types = registry();
  if (info.name.empty() || types.count(info.name)) return false;
  std::string name = info.name;
  types.emplace(std::move(name), std::move(info));
  return true;
}

const TypeInfo *type_find(std::string_view name) {
  auto &types = registry();
  auto it = types.find(name);
  return it == types.end() ? nullptr : &it->second;
}

bool type_is_a(std::string_view type, std::string_view ancestor) {
  // Walk up the parent chain; at each level check the interfaces too.  The depth bound guards
  // against a (buggy) registration cycle.
  const TypeInfo *t = type_find(type);
  for (int depth = 0; t && depth < 64; depth++) {
    if (t->name == ancestor) return true;
    for (const auto &iface : t->interfaces) {
      if (iface == ancestor || type_is_a(iface, ancestor)) return true;
    }
    if (t->parent.empty()) break;
    t = type_find(t->parent);
  }
  return false;
}

std::vector<const TypeInfo *> type_list(std::string_view ancestor, bool include_abstract) {
  std::vector<const TypeInfo *> out;
  for (auto &[name, info] : registry()) {
    if ((include_abstract || !info.abstract) && type_is_a(name, ancestor)) out.push_back(&info);
  }
  return out;  // std::map iterates in name order
}

std::unique_ptr<Object> object_new(std::string_view type) {
  const TypeInfo *t = type_find(type);
  if (!t || t->abstract || !t->instantiate) return nullptr;
  std::unique_ptr<Object> o = t->instantiate();
  o->type_name_ = t->name;
  return o;
}

// ---------------------------------------------------------------------------------------------
// Value parsing

std::optional<bool> parse_bool(std::string_view text) {
  if (text == "on" || text == "yes" || text == "true" || text == "y") return true;
  if (text == "off" || text == "no" || text == "false" || text == "n") return false;
  return std::nullopt;
}

std::optional<uint64_t> parse_uint(std::string_view text) {
  if (text.empty() || text.front() == '-' || text.front() == '+' || text.front() == ' ')
    return std::nullopt;
  std::string s(text);
  errno = 0;
  char *end = nullptr;
  unsigned long long v = std::strtoull(s.c_str(), &end, 0);
  if (errno != 0 || end == s.c_str() || *end != '\0') return std::nullopt;
  return static_cast<uint64_t>(v);
}

std::optional<int64_t> parse_int(std::string_view text) {
  if (text.empty() || text.front() == ' ') return std::nullopt;
  std::string s(text);
  errno = 0;
  char *end = nullptr;
  long long v = std::strtoll(s.c_str(), &end, 0);
  if (errno != 0 || end == s.c_str() || *end != '\0') return std::nullopt;
  return static_cast<int64_t>(v);
}

// ---------------------------------------------------------------------------------------------
// Objects

Object::~Object() {
  // Children are destroyed before their parent: unrealize them first so that a child never
  // outlives resources its parent released.
  for (auto &entry : children_) entry.second->unrealize();
  children_.clear();
}

const Property *Object::find_property(std::string_view name) const {
  for (const auto &p : properties_)
    if (p.name == name) return &p;
  return nullptr;
}

Status Object::set_property(std::string_view name, std::string_view value) {
  for (auto &p : properties_) {
    if (p.name != name) continue;
    if (phase_ == Phase::kRealized) {
      return Status::errorf("Attempt to set property '%s' on device '%s' (type '%s') after it "
                            "was realized",
                            p.name.c_str(), id_.c_str(), type_name_.c_str());
    }
    if (!p.set) return Status::errorf("Property '%s.%s' is read-only", type_name_.c_str(),
                                      p.name.c_str());
    Status st = p.set(value);
    if (st) p.set_by_user = true;
    return st;
  }
  return Status::errorf("Property '%s.%.*s' not found", type_name_.c_str(),
                        static_cast<int>(name.size()), name.data());
}

std::optional<std::string> Object::get_property(std::string_view name) const {
  const Property *p = find_property(name);
  if (!p || !p->get) return std::nullopt;
  return p->get();
}

bool Object::property_was_set(std::string_view name) const {
  const Property *p = find_property(name);
  return p && p->set_by_user;
}

void Object::add_property(Property property) {
  assert(!find_property(property.name) && "duplicate property");
  properties_.push_back(std::move(property));
}

void Object::add_bool_property(const char *name, bool *field, bool default_value,
                               const char *help) {
  *field = default_value;
  Property p;
  p.name = name;
  p.type = "bool";
  p.json_kind = "bool";
  p.description = help;
  p.default_value = default_value ? "true" : "false";
  std::string pname = name;
  p.set = [field, pname](std::string_view v) {
    auto b = parse_bool(v);
    if (!b) {
      return Status::errorf("Parameter '%s' expects 'on' or 'off'", pname.c_str());
    }
    *field = *b;
    return Status::ok();
  };
  p.get = [field] { return std::string(*field ? "true" : "false"); };
  add_property(std::move(p));
}

void Object::add_uint32_property(const char *name, uint32_t *field, uint32_t default_value,
                                 const char *help) {
  *field = default_value;
  Property p;
  p.name = name;
  p.type = "uint32";
  p.json_kind = "number";
  p.description = help;
  p.default_value = std::to_string(default_value);
  std::string pname = name;
  p.set = [field, pname](std::string_view v) {
    auto n = parse_uint(v);
    if (!n || *n > UINT32_MAX) {
      return Status::errorf("Parameter '%s' expects uint32_t", pname.c_str());
    }
    *field = static_cast<uint32_t>(*n);
    return Status::ok();
  };
  p.get = [field] { return std::to_string(*field); };
  add_property(std::move(p));
}

void Object::add_string_property(const char *name, std::string *field, const char *default_value,
                                 const char *help) {
  *field = default_value ? default_value : "";
  Property p;
  p.name = name;
  p.type = "str";
  p.description = help;
  p.default_value = default_value ? default_value : "";
  p.set = [field](std::string_view v) {
    *field = std::string(v);
    return Status::ok();
  };
  p.get = [field] { return *field; };
  add_property(std::move(p));
}

Status Object::realize() {
  if (phase_ == Phase::kRealized) return Status::ok();
  Status st = do_realize();
  if (st) phase_ = Phase::kRealized;
  return st;
}

void Object::reset() {
  if (phase_ == Phase::kRealized) do_reset();
}

void Object::unrealize() {
  if (phase_ != Phase::kRealized) return;
  do_unrealize();
  phase_ = Phase::kUnrealized;
}

Status Object::add_child(const std::string &name, std::unique_ptr<Object> child) {
  if (name.empty() || name.find('/') != std::string::npos) {
    return Status::errorf("invalid object name '%s'", name.c_str());
  }
  if (children_.count(name) || links_.count(name)) {
    return Status::errorf("attempt to add duplicate property '%s' to object (type '%s')",
                          name.c_str(), type_name_.c_str());
  }
  child->parent_ = this;
  child->name_in_parent_ = name;
  children_.emplace(name, std::move(child));
  return Status::ok();
}

Status Object::add_link(const std::string &name, Object *target) {
  if (children_.count(name) || links_.count(name)) {
    return Status::errorf("attempt to add duplicate property '%s' to object (type '%s')",
                          name.c_str(), type_name_.c_str());
  }
  links_.emplace(name, target);
  return Status::ok();
}

std::unique_ptr<Object> Object::remove_child(const std::string &name) {
  auto it = children_.find(name);
  if (it == children_.end()) return nullptr;
  std::unique_ptr<Object> c = std::move(it->second);
  children_.erase(it);
  c->parent_ = nullptr;
  c->name_in_parent_.clear();
  return c;
}

Object *Object::child(std::string_view name) const {
  for (auto &[n, c] : children_)
    if (n == name) return c.get();
  for (auto &[n, l] : links_)
    if (n == name) return l;
  return nullptr;
}

std::string Object::canonical_path() const {
  if (!parent_) return "/";
  std::string path;
  for (const Object *o = this; o->parent_; o = o->parent_) path = "/" + o->name_in_parent_ + path;
  return path;
}

namespace {

std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> parts;
  size_t i = 0;
  while (i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    if (j > i) parts.emplace_back(path.substr(i, j - i));
    i = j + 1;
  }
  return parts;
}

Object *walk(Object *from, const std::vector<std::string> &parts, size_t first) {
  Object *o = from;
  for (size_t i = first; o && i < parts.size(); i++) o = o->child(parts[i]);
  return o;
}

// Depth-first search for objects whose path ends with `parts`; follows children only (links
// would revisit objects).
void find_partial(Object *o, const std::vector<std::string> &parts, Object **found, int *count) {
  if (Object *hit = walk(o, parts, 0); hit && *count < 2) {
    if (*found != hit) {
      *found = hit;
      (*count)++;
    }
  }
  for (auto &entry : o->children()) find_partial(entry.second.get(), parts, found, count);
}

}  // namespace

Object *object_resolve_path(Object *root, std::string_view path, bool *ambiguous) {
  if (ambiguous) *ambiguous = false;
  if (!root) return nullptr;
  std::vector<std::string> parts = split_path(path);
  if (!path.empty() && path.front() == '/') return walk(root, parts, 0);
  if (parts.empty()) return nullptr;
  Object *found = nullptr;
  int count = 0;
  find_partial(root, parts, &found, &count);
  if (count > 1) {
    if (ambiguous) *ambiguous = true;
    return nullptr;
  }
  return found;
}

}  // namespace qtpm
