// SPDX-License-Identifier: GPL-2.0-or-later
//
// The qtpm-system command line (see command_line.h).  Option names, argument syntax and
// messages follow QEMU 7.2's softmmu/vl.c and the QemuOpts lists of the options involved.
#include "qtest/server/command_line.h"

#include <json-c/json.h>

#include <algorithm>
#include <fstream>
#include <functional>
#include <string_view>

#include "qom/object.h"
#include "qtest/server/help.h"
#include "qtest/server/json_writer.h"
#include "qtest/server/qemu_opts.h"

namespace qtpm::host {

std::string Config::error_at(const OptionLocation &loc, const std::string &message) const {
  return program + ": " + loc.text() + ": " + message;
}

std::string Config::error(const std::string &message) const { return program + ": " + message; }

namespace {

constexpr uint64_t kMiB = uint64_t{1} << 20;

// Parser state: the config being built and what to do when an option ends the run early.
class Parser {
 public:
  explicit Parser(Config *config) : c_(*config) {}

  // Runs the handler of one option; false when parsing must stop (error or help).
  bool handle(const std::string &option, const OptionLocation &loc);
  bool finish();  // post-parse checks; false on error
  ParseResult &result() { return result_; }

 private:
  // Ends parsing: print `text` to stdout (exit 0) or to stderr (with `code`).
  bool stop_out(std::string text) {
    result_.out += text;
    result_.exit_code = 0;
    return false;
  }
  bool stop_err(std::string text, int code = 1) {
    result_.err += text;
    result_.exit_code = code;
    return false;
  }
  bool fail(const OptionLocation &loc, const std::string &message) {
    return stop_err(c_.error_at(loc, message) + "\n");
  }
  bool fail(const OptionLocation &loc, const Status &st) { return fail(loc, st.message()); }

  bool opt_machine(const OptionLocation &loc);
  bool opt_accel(const OptionLocation &loc);
  bool opt_chardev(const OptionLocation &loc);
  bool opt_tpmdev(const OptionLocation &loc);
  bool opt_device(const OptionLocation &loc);
  bool opt_device_json(const OptionLocation &loc);
  bool opt_mon(const OptionLocation &loc);
  bool opt_qmp(const OptionLocation &loc);
  bool opt_memory(const OptionLocation &loc);
  bool opt_trace(const OptionLocation &loc);
  bool opt_log(const OptionLocation &loc);
  bool opt_display(const OptionLocation &loc);
  bool opt_name(const OptionLocation &loc);
  bool add_chardev(const OptionLocation &loc, const QemuOpts &opts);

  bool resolve_machine();
  bool check_machine_props();
  bool choose_accel();

  Config &c_;
  ParseResult result_;
  std::string machine_type_;
  std::optional<std::string> machine_accel_;
  bool have_accel_option_ = false;
  std::vector<std::string> device_ids_;
};

struct OptionSpec {
  const char *name;
  bool has_arg;
};

constexpr OptionSpec kOptions[] = {
    {"machine", true}, {"M", true},        {"accel", true},     {"chardev", true},
    {"tpmdev", true},  {"device", true},   {"mon", true},       {"qmp", true},
    {"qtest", true},   {"qtest-log", true}, {"display", true},  {"nographic", false},
    {"nodefaults", false}, {"no-user-config", false}, {"S", false}, {"incoming", true},
    {"name", true},    {"m", true},        {"trace", true},     {"d", true},
    {"version", false}, {"h", false},      {"help", false},    {"dump-acpi", true},
};

const OptionSpec *find_option(std::string_view name) {
  for (const auto &o : kOptions)
    if (name == o.name) return &o;
  return nullptr;
}

bool Parser::handle(const std::string &option, const OptionLocation &loc) {
  if (option == "machine" || option == "M") return opt_machine(loc);
  if (option == "accel") return opt_accel(loc);
  if (option == "chardev") return opt_chardev(loc);
  if (option == "tpmdev") return opt_tpmdev(loc);
  if (option == "device") return loc.arg.rfind("{", 0) == 0 ? opt_device_json(loc) : opt_device(loc);
  if (option == "mon") return opt_mon(loc);
  if (option == "qmp") return opt_qmp(loc);
  if (option == "m") return opt_memory(loc);
  if (option == "trace") return opt_trace(loc);
  if (option == "d") return opt_log(loc);
  if (option == "display") return opt_display(loc);
  if (option == "name") return opt_name(loc);
  if (option == "qtest") {
    c_.qtest = loc.arg;
    c_.qtest_loc = loc;
  } else if (option == "qtest-log") {
    c_.qtest_log = loc.arg;
  } else if (option == "S") {
    c_.start_paused = true;
  } else if (option == "incoming") {
    c_.incoming = loc.arg;
  } else if (option == "dump-acpi") {
    c_.dump_acpi = loc.arg;
    c_.dump_acpi_loc = loc;
  } else if (option == "nodefaults") {
    c_.nodefaults = true;
  } else if (option == "version") {
    return stop_out(version_text());
  } else if (option == "h" || option == "help") {
    return stop_out(help_usage(c_.program));
  }
  // -nographic, -no-user-config: qtpm has no display.  -nodefaults: only the pseries VIO bus
  // cares (which unit addresses QEMU's default devices take).
  return true;
}

bool Parser::opt_machine(const OptionLocation &loc) {
  QemuOpts opts;
  if (Status st = QemuOpts::parse(loc.arg, "type", &opts); !st) return fail(loc, st);
  std::optional<std::string> type = opts.get("type");
  if (opts.help_wanted() || (type && is_help_option(*type))) {
    return stop_out(help_machine_list(*c_.arch));
  }
  // -machine options merge, as QEMU's machine option list does; the last type wins.
  c_.machine_loc = loc;
  for (const auto &[name, value] : opts.items()) {
    if (name == "type") {
      machine_type_ = value;
    } else if (name == "accel") {
      machine_accel_ = value;
    } else {
      c_.machine_props.emplace_back(name, value);
    }
  }
  return true;
}

bool Parser::opt_accel(const OptionLocation &loc) {
  QemuOpts opts;
  if (Status st = QemuOpts::parse(loc.arg, "accel", &opts); !st) return fail(loc, st);
  std::optional<std::string> name = opts.get("accel");
  if (name && is_help_option(*name)) return stop_out(help_accel_list());
  if (!name) return fail(loc, "Parameter 'accel' is missing");
  AccelConfig a;
  a.loc = loc;
  a.name = *name;
  for (const auto &item : opts.items())
    if (item.first != "accel") a.props.push_back(item);
  c_.accels.push_back(std::move(a));
  have_accel_option_ = true;
  return true;
}

bool Parser::add_chardev(const OptionLocation &loc, const QemuOpts &opts) {
  ChardevConfig cd;
  cd.loc = loc;
  cd.backend = opts.get("backend").value_or("");
  if (!opts.id()) return fail(loc, "chardev: no id specified");
  cd.id = *opts.id();
  for (const auto &other : c_.chardevs) {
    if (other.id == cd.id) return fail(loc, "Duplicate ID '" + cd.id + "' for chardev");
  }
  if (cd.backend.empty()) return fail(loc, "chardev: \"" + cd.id + "\" missing backend");
  if (cd.backend != "socket") {
    return fail(loc, "'" + cd.backend + "' is not a valid char driver name");
  }
  if (Status st = opts.validate({"backend", "path", "server", "wait"}); !st) return fail(loc, st);
  for (const char *flag : {"server", "wait"}) {
    std::optional<std::string> v = opts.get(flag);
    if (v && !parse_bool(*v)) {
      return fail(loc, strprintf("Parameter '%s' expects 'on' or 'off'", flag));
    }
  }
  if (!opts.has("path")) return fail(loc, "chardev: socket: no host given");
  for (const auto &item : opts.items())
    if (item.first != "backend") cd.props.push_back(item);
  c_.chardevs.push_back(std::move(cd));
  return true;
}

bool Parser::opt_chardev(const OptionLocation &loc) {
  QemuOpts opts;
  if (Status st = QemuOpts::parse(loc.arg, "backend", &opts); !st) return fail(loc, st);
  std::optional<std::string> backend = opts.get("backend");
  if (opts.help_wanted() || (backend && is_help_option(*backend))) {
    return stop_out(help_chardev_list());
  }
  return add_chardev(loc, opts);
}

bool Parser::opt_tpmdev(const OptionLocation &loc) {
  // softmmu/tpm.c: "-tpmdev help" lists the backends on stderr and exits with status 1.
  if (loc.arg == "help") return stop_err(help_tpmdev_list(), 1);
  QemuOpts opts;
  if (Status st = QemuOpts::parse(loc.arg, "type", &opts); !st) return fail(loc, st);
  TpmdevConfig t;
  t.loc = loc;
  t.id = opts.id().value_or("");
  t.type = opts.get("type").value_or("");
  for (const auto &other : c_.tpmdevs) {
    if (!t.id.empty() && other.id == t.id) return fail(loc, "Duplicate ID '" + t.id + "' for tpmdev");
  }
  for (const auto &item : opts.items())
    if (item.first != "type") t.props.push_back(item);
  c_.tpmdevs.push_back(std::move(t));
  return true;
}

bool Parser::opt_device(const OptionLocation &loc) {
  QemuOpts opts;
  if (Status st = QemuOpts::parse(loc.arg, "driver", &opts); !st) return fail(loc, st);
  DeviceConfig d;
  d.loc = loc;
  d.driver = opts.get("driver").value_or("");
  if (is_help_option(d.driver)) return stop_out(help_device_list(*c_.arch));
  if (opts.help_wanted() && !d.driver.empty()) {
    std::string text;
    Status st = help_device_properties(*c_.arch, d.driver, &text);
    return st ? stop_out(text) : fail(loc, st);
  }
  d.id = opts.id();
  if (d.id) {
    for (const auto &id : device_ids_)
      if (id == *d.id) return fail(loc, "Duplicate ID '" + id + "' for device");
    device_ids_.push_back(*d.id);
  }
  for (const auto &[name, value] : opts.items()) {
    if (name != "driver") d.props.push_back({name, value, DeviceProp::Kind::kText});
  }
  c_.devices.push_back(std::move(d));
  return true;
}

DeviceProp json_member(const char *key, json_object *value) {
  DeviceProp p;
  p.name = key;
  switch (json_object_get_type(value)) {
    case json_type_string:
      p.kind = DeviceProp::Kind::kString;
      p.value = json_object_get_string(value);
      break;
    case json_type_boolean:
      p.kind = DeviceProp::Kind::kBool;
      p.value = json_object_get_boolean(value) ? "on" : "off";
      break;
    case json_type_int:
      p.kind = DeviceProp::Kind::kNumber;
      p.value = json_write(value);
      break;
    default:
      p.kind = DeviceProp::Kind::kOther;
      p.value = json_write(value);
  }
  return p;
}

bool Parser::opt_device_json(const OptionLocation &loc) {
  json_tokener_error err = json_tokener_success;
  JsonPtr root(json_tokener_parse_verbose(loc.arg.c_str(), &err));
  if (err != json_tokener_success) {
    return fail(loc, std::string("JSON parse error, ") + json_tokener_error_desc(err));
  }
  if (!json_object_is_type(root.get(), json_type_object)) {
    return fail(loc, "Invalid parameter type, expected: object");
  }
  DeviceConfig d;
  d.loc = loc;
  json_object_object_foreach(root.get(), key, value) {
    DeviceProp p = json_member(key, value);
    if (p.name == "driver" || p.name == "id") {
      if (p.kind != DeviceProp::Kind::kString) {
        return fail(loc, "Invalid parameter type for '" + p.name + "', expected: string");
      }
      (p.name == "driver" ? d.driver : d.id.emplace()) = p.value;
      continue;
    }
    d.props.push_back(std::move(p));
  }
  if (d.id) {
    if (!id_wellformed(*d.id)) return fail(loc, "Parameter 'id' expects an identifier");
    for (const auto &id : device_ids_)
      if (id == *d.id) return fail(loc, "Duplicate ID '" + id + "' for device");
    device_ids_.push_back(*d.id);
  }
  c_.devices.push_back(std::move(d));
  return true;
}

bool Parser::opt_mon(const OptionLocation &loc) {
  QemuOpts opts;
  if (Status st = QemuOpts::parse(loc.arg, "chardev", &opts); !st) return fail(loc, st);
  if (Status st = opts.validate({"chardev", "mode", "pretty"}); !st) return fail(loc, st);
  MonitorConfig m;
  m.loc = loc;
  std::optional<std::string> chardev = opts.get("chardev");
  if (!chardev) return fail(loc, "chardev is required");
  m.chardev = *chardev;
  std::string mode = opts.get("mode").value_or("readline");
  if (mode == "readline") return fail(loc, "mode=readline (HMP) is not supported; use mode=control");
  if (mode != "control") return fail(loc, "Parameter 'mode' does not accept value '" + mode + "'");
  std::optional<bool> pretty = parse_bool(opts.get("pretty").value_or("off"));
  if (!pretty) return fail(loc, "Parameter 'pretty' expects 'on' or 'off'");
  m.pretty = *pretty;
  c_.monitors.push_back(std::move(m));
  return true;
}

bool Parser::opt_qmp(const OptionLocation &loc) {
  // -qmp unix:PATH[,server=on][,wait=off]: a chardev "compat_monitorN" and a QMP monitor on it.
  if (loc.arg.rfind("unix:", 0) != 0) {
    return fail(loc, "only 'unix:PATH' sockets are supported");
  }
  std::string id = "compat_monitor" + std::to_string(c_.monitors.size());
  QemuOpts opts;
  std::string spec = "socket,id=" + id + ",path=" + loc.arg.substr(5);
  if (Status st = QemuOpts::parse(spec, "backend", &opts); !st) return fail(loc, st);
  if (!add_chardev(loc, opts)) return false;
  MonitorConfig m;
  m.loc = loc;
  m.chardev = id;
  c_.monitors.push_back(std::move(m));
  return true;
}

bool Parser::opt_memory(const OptionLocation &loc) {
  QemuOpts opts;
  if (Status st = QemuOpts::parse(loc.arg, "size", &opts); !st) return fail(loc, st);
  if (Status st = opts.validate({"size", "slots", "maxmem"}); !st) return fail(loc, st);
  std::optional<std::string> text = opts.get("size");
  if (!text) return true;
  if (text->empty()) return fail(loc, "missing 'size' option value");
  // A number without suffix is MiB (QEMU's legacy -m format).
  std::optional<uint64_t> size = parse_size(*text, kMiB);
  if (!size) return fail(loc, "Parameter 'size' expects a non-negative number below 2^64");
  if (*size == 0) return true;  // QEMU: "-m 0" means the default
  constexpr uint64_t kAlign = 8192;
  if (*size > UINT64_MAX - kAlign) return fail(loc, "ram size too large");
  c_.ram_size = (*size + kAlign - 1) / kAlign * kAlign;
  return true;
}

bool Parser::opt_trace(const OptionLocation &loc) {
  QemuOpts opts;
  if (Status st = QemuOpts::parse(loc.arg, "enable", &opts); !st) return fail(loc, st);
  if (Status st = opts.validate({"enable", "events"}); !st) return fail(loc, st);
  for (const auto &[name, value] : opts.items()) {
    if (name == "enable") {
      c_.trace_patterns.push_back(value);
      continue;
    }
    std::ifstream file(value);
    if (!file) return fail(loc, "could not open trace events file '" + value + "'");
    for (std::string line; std::getline(file, line);) {
      if (!line.empty() && line[0] != '#') c_.trace_patterns.push_back(line);
    }
  }
  return true;
}

bool Parser::opt_log(const OptionLocation &loc) {
  // -d: qtpm logs guest errors and unimplemented features; QEMU's other log items concern the
  // CPU, which qtpm does not emulate, and are accepted without effect.
  static constexpr std::string_view kIgnored[] = {
      "out_asm", "in_asm", "op", "op_opt", "op_ind", "int", "exec", "cpu", "fpu", "mmu",
      "pcall", "cpu_reset", "page", "nochain", "plugin", "strace", "tid", "vpu", "invalid_mem"};
  size_t pos = 0;
  while (pos <= loc.arg.size()) {
    size_t comma = loc.arg.find(',', pos);
    if (comma == std::string::npos) comma = loc.arg.size();
    std::string item = loc.arg.substr(pos, comma - pos);
    pos = comma + 1;
    if (item == "guest_errors") {
      c_.log_guest_errors = true;
    } else if (item == "unimp") {
      c_.log_unimp = true;
    } else if (item.rfind("trace:", 0) == 0) {
      c_.trace_patterns.push_back(item.substr(6));
    } else if (std::find(std::begin(kIgnored), std::end(kIgnored), item) == std::end(kIgnored)) {
      return fail(loc, "unknown log item '" + item + "'");
    }
  }
  return true;
}

bool Parser::opt_display(const OptionLocation &loc) {
  if (is_help_option(loc.arg)) return stop_out("Available display backend types:\nnone\n");
  QemuOpts opts;
  if (Status st = QemuOpts::parse(loc.arg, "type", &opts); !st) return fail(loc, st);
  std::string type = opts.get("type").value_or("");
  if (type != "none") return fail(loc, "Display '" + type + "' is not available.");
  return true;
}

bool Parser::opt_name(const OptionLocation &loc) {
  QemuOpts opts;
  if (Status st = QemuOpts::parse(loc.arg, "guest", &opts); !st) return fail(loc, st);
  if (Status st = opts.validate({"guest", "process", "debug-threads"}); !st) return fail(loc, st);
  c_.name = opts.get("guest").value_or("");
  return true;
}

bool Parser::resolve_machine() {
  if (machine_type_.empty()) {
    c_.machine = c_.arch->default_machine();
    if (!c_.machine) return stop_err(c_.error("No machine specified, and there is no default") + "\n");
    return true;
  }
  c_.machine = c_.arch->find_machine(machine_type_);
  if (!c_.machine) return fail(c_.machine_loc, "unsupported machine type");
  return true;
}

bool Parser::check_machine_props() {
  static constexpr std::string_view kBoolProps[] = {"usb", "graphics", "dump-guest-core",
                                                    "mem-merge"};
  for (const auto &[name, value] : c_.machine_props) {
    bool is_bool = std::find(std::begin(kBoolProps), std::end(kBoolProps), name) != std::end(kBoolProps);
    if (is_bool) {
      if (!parse_bool(value)) return fail(c_.machine_loc, "Parameter '" + name + "' expects 'on' or 'off'");
    } else if (name == "gic-version" && c_.machine->irq_controller == IrqController::kGic) {
      if (value == "host") return fail(c_.machine_loc, "gic-version=host requires KVM");
      if (value != "2" && value != "3" && value != "4" && value != "max") {
        return fail(c_.machine_loc, "Invalid gic-version value");
      }
    } else {
      return fail(c_.machine_loc, "Property '" + c_.machine->qom_type() + "." + name + "' not found");
    }
  }
  return true;
}

// QEMU tries the accelerators in order and keeps the first that initializes: qtest and tcg
// always do here; kvm is known but unavailable; anything else is invalid.
bool Parser::choose_accel() {
  if (have_accel_option_ && machine_accel_) {
    return stop_err(c_.error("The -accel and \"-machine accel=\" options are incompatible") + "\n");
  }
  if (!have_accel_option_) {
    std::string list = machine_accel_.value_or("tcg");
    for (size_t pos = 0; pos <= list.size();) {
      size_t colon = std::min(list.find(':', pos), list.size());
      AccelConfig a;
      a.loc = c_.machine_loc;
      a.name = list.substr(pos, colon - pos);
      c_.accels.push_back(std::move(a));
      pos = colon + 1;
    }
  }
  bool init_failed = false;
  for (const AccelConfig &a : c_.accels) {
    if (a.name == "qtest" || a.name == "tcg") {
      static constexpr std::string_view kTcgProps[] = {"thread", "tb-size", "split-wx",
                                                       "one-insn-per-tb"};
      for (const auto &prop : a.props) {
        bool known = a.name == "tcg" && std::find(std::begin(kTcgProps), std::end(kTcgProps),
                                                  prop.first) != std::end(kTcgProps);
        if (!known) return fail(a.loc, "Property '" + a.name + "-accel." + prop.first + "' not found");
      }
      c_.accel = a.name;
      if (init_failed && !c_.qtest) result_.err += c_.error("falling back to " + a.name) + "\n";
      return true;
    }
    init_failed = true;
    bool qtest_with_kvm = a.name == "kvm" && c_.qtest;
    if (a.name == "kvm") {
      if (!qtest_with_kvm) result_.err += c_.error("failed to initialize kvm: No such file or directory") + "\n";
    } else {
      result_.err += c_.error("invalid accelerator " + a.name) + "\n";
    }
  }
  result_.exit_code = 1;
  if (!init_failed) result_.err += c_.error("no accelerator found") + "\n";
  return false;
}

bool Parser::finish() {
  if (!resolve_machine() || !check_machine_props() || !choose_accel()) return false;
  if (c_.ram_size > c_.machine->ram_max) {
    return stop_err(c_.error(c_.machine->irq_controller == IrqController::kGic
                                 ? "mach-virt: cannot model more than 255GB RAM"
                                 : "ram size too large") + "\n");
  }
  return true;
}

}  // namespace

ParseResult parse_command_line(const std::vector<std::string> &argv, Config *config) {
  *config = Config();
  std::string argv0 = argv.empty() ? "qtpm-system" : argv[0];
  size_t slash = argv0.rfind('/');
  config->program = slash == std::string::npos ? argv0 : argv0.substr(slash + 1);
  Parser parser(config);
  std::string arch = arch_from_program_name(argv0);
  config->arch = arch_find(arch);
  if (!config->arch) {
    parser.result().err = config->error("unsupported target architecture '" + arch + "'") + "\n";
    parser.result().exit_code = 1;
    return parser.result();
  }
  for (size_t i = 1; i < argv.size(); i++) {
    OptionLocation loc;
    loc.option = argv[i];
    std::string_view name = argv[i];
    if (name.size() < 2 || name[0] != '-') {
      parser.result().err = config->error_at(loc, "invalid option") + "\n";
      parser.result().exit_code = 1;
      return parser.result();
    }
    name.remove_prefix(name.rfind("--", 0) == 0 ? 2 : 1);
    const OptionSpec *spec = find_option(name);
    if (!spec) {
      parser.result().err = config->error_at(loc, "invalid option") + "\n";
      parser.result().exit_code = 1;
      return parser.result();
    }
    if (spec->has_arg) {
      if (i + 1 >= argv.size()) {
        parser.result().err = config->error_at(loc, "requires an argument") + "\n";
        parser.result().exit_code = 1;
        return parser.result();
      }
      loc.arg = argv[++i];
      loc.has_arg = true;
    }
    if (!parser.handle(spec->name, loc)) return parser.result();
  }
  if (!parser.finish()) return parser.result();
  parser.result().run = true;
  return parser.result();
}

}  // namespace qtpm::host
