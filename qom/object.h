// SPDX-License-Identifier: GPL-2.0-or-later
//
// The qtpm object model: QEMU's QOM ideas (include/qom/object.h) in modern C++.
//
//  - A type registry: every type has a name, a parent type and the interfaces it implements;
//    `type_is_a()` answers for ancestors and interfaces alike.
//  - Typed properties with a default and a help text, set from QEMU-style `key=value` strings
//    (bool accepts on/off/yes/no/true/false, integers accept C prefixes as QEMU's do).
//  - A lifecycle: construct (cannot fail) -> set properties -> realize (validates; fails with a
//    message naming the property) -> reset (any number of times) -> unrealize -> destroy.
//  - A composition tree ("/machine/peripheral/tpm0"), for qom-list / qom-get and QOM paths
//    used by qtest's irq_intercept_in.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "qom/status.h"

namespace qtpm {

class Object;

// ---------------------------------------------------------------------------------------------
// Types

struct TypeInfo {
  std::string name;
  std::string parent;                   // empty only for the root type "object"
  std::vector<std::string> interfaces;  // interface type names this type implements
  std::string description;              // one line, shown by "-device help"
  bool abstract = false;
  bool is_interface = false;
  bool user_creatable = true;  // may be named on the command line
  // Where a device plugs in: "isa", "sysbus", "pc-system", "spapr-vio" (empty: not a device).
  // The host offers a device only on machines that have that bus.
  std::string bus;
  std::function<std::unique_ptr<Object>()> instantiate;  // null for abstract types
};

// Registers a type.  Returns false (and registers nothing) if the name is taken.
bool type_register(TypeInfo info);
const TypeInfo *type_find(std::string_view name);
// True if `type` is `ancestor`, derives from it, or implements it as an interface (also through
// an ancestor).
bool type_is_a(std::string_view type, std::string_view ancestor);
// All registered types that are `ancestor` (see type_is_a), sorted by name.
std::vector<const TypeInfo *> type_list(std::string_view ancestor, bool include_abstract);

// Registers every built-in qtpm type once; safe to call repeatedly.
void register_builtin_types();

// Creates an object of a concrete, registered type; nullptr if there is no such type or it is
// abstract.
std::unique_ptr<Object> object_new(std::string_view type);

// Registration helper for a concrete class with a default constructor.
template <typename T>
TypeInfo make_type(std::string name, std::string parent, std::string description) {
  TypeInfo info;
  info.name = std::move(name);
  info.parent = std::move(parent);
  info.description = std::move(description);
  info.instantiate = [] { return std::unique_ptr<Object>(new T()); };
  return info;
}

// ---------------------------------------------------------------------------------------------
// Properties

struct Property {
  std::string name;
  std::string type;  // QOM type name as qom-list reports it: "bool", "uint32", "str", ...
  std::string description;
  std::string default_value;  // as text; empty when there is none
  // Parses and stores a value.  Errors name the property; the object is left unchanged.
  std::function<Status(std::string_view value)> set;
  std::function<std::string()> get;  // value as text (for qom-get and help)
  // JSON form for qom-get: "bool", "number" or "string".
  std::string json_kind = "string";
  bool set_by_user = false;
};

// Value parsers shared by properties and the command line (QEMU's accepted spellings).
std::optional<bool> parse_bool(std::string_view text);
std::optional<uint64_t> parse_uint(std::string_view text);  // decimal, 0x.., 0..; no sign
std::optional<int64_t> parse_int(std::string_view text);

// ---------------------------------------------------------------------------------------------
// Objects

class Object {
 public:
  enum class Phase { kConstructed, kRealized, kUnrealized };

  virtual ~Object();
  Object(const Object &) = delete;
  Object &operator=(const Object &) = delete;

  const std::string &type_name() const { return type_name_; }
  bool is_a(std::string_view type) const { return type_is_a(type_name_, type); }

  // The id given by the user (-device ...,id=X / -tpmdev ...,id=X); may be empty.
  const std::string &id() const { return id_; }
  void set_id(std::string id) { id_ = std::move(id); }

  // Properties -------------------------------------------------------------------------------
  const std::vector<Property> &properties() const { return properties_; }
  const Property *find_property(std::string_view name) const;
  // Fails with "Property 'TYPE.NAME' not found" or the property's own parse error.  Only
  // allowed before realize ("Attempt to set property 'NAME' on TYPE after it was realized").
  Status set_property(std::string_view name, std::string_view value);
  std::optional<std::string> get_property(std::string_view name) const;
  bool property_was_set(std::string_view name) const;

  // Lifecycle ---------------------------------------------------------------------------------
  Phase phase() const { return phase_; }
  bool realized() const { return phase_ == Phase::kRealized; }
  // Validates the configuration and acquires resources.  On failure the object stays
  // constructed and can be destroyed.  The message names the property and its valid range.
  Status realize();
  // Returns to the power-on state.  Only for realized objects.
  void reset();
  // Releases what realize acquired.  Idempotent.
  void unrealize();

  // Composition tree --------------------------------------------------------------------------
  Object *parent() const { return parent_; }
  const std::string &name_in_parent() const { return name_in_parent_; }
  // Takes ownership of `child` under `name`; fails if the name is in use.
  Status add_child(const std::string &name, std::unique_ptr<Object> child);
  // Adds a non-owning link (e.g. a device that lives elsewhere); shown by qom-list as link<T>.
  Status add_link(const std::string &name, Object *target);
  std::unique_ptr<Object> remove_child(const std::string &name);
  Object *child(std::string_view name) const;
  const std::map<std::string, std::unique_ptr<Object>> &children() const { return children_; }
  const std::map<std::string, Object *> &links() const { return links_; }
  std::string canonical_path() const;  // "/machine/peripheral/tpm0"; "/" for a root

 protected:
  Object() = default;

  // Property declarations, for constructors.  `field` must outlive the object (a member).
  void add_bool_property(const char *name, bool *field, bool default_value, const char *help);
  void add_uint32_property(const char *name, uint32_t *field, uint32_t default_value,
                           const char *help);
  void add_string_property(const char *name, std::string *field, const char *default_value,
                           const char *help);
  void add_property(Property property);

  // Hooks for subclasses.  do_realize may fail; the others cannot.
  virtual Status do_realize() { return Status::ok(); }
  virtual void do_reset() {}
  virtual void do_unrealize() {}

 private:
  friend std::unique_ptr<Object> object_new(std::string_view type);

  std::string type_name_ = "object";
  std::string id_;
  Phase phase_ = Phase::kConstructed;
  std::vector<Property> properties_;
  Object *parent_ = nullptr;
  std::string name_in_parent_;
  std::map<std::string, std::unique_ptr<Object>> children_;
  std::map<std::string, Object *> links_;
};

// Resolves an absolute path ("/machine/peripheral/tpm0") from `root`, or a partial path ("tpm0",
// "peripheral/tpm0") that names exactly one object below root, as QEMU's object_resolve_path
// does.  Sets *ambiguous when a partial path matches more than one object.
Object *object_resolve_path(Object *root, std::string_view path, bool *ambiguous = nullptr);

// Downcast helper: nullptr when the object is not of C++ type T.
template <typename T>
T *object_cast(Object *o) {
  return dynamic_cast<T *>(o);
}

// A container: a plain node of the composition tree ("/machine/peripheral").
class Container : public Object {
 public:
  Container() = default;
};

}  // namespace qtpm
