// SPDX-License-Identifier: GPL-2.0-or-later
//
// Migration URIs (see migration_uri.h).
#include "qtest/server/migration_uri.h"

namespace qtpm::host {

namespace {

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

Status parse_tcp(std::string_view rest, MigrationUri *out) {
  std::string_view host, port;
  if (starts_with(rest, "[")) {
    size_t close = rest.find(']');
    if (close == std::string_view::npos) {
      return Status::errorf("tcp: unterminated '[' in '%.*s'", static_cast<int>(rest.size()),
                            rest.data());
    }
    host = rest.substr(1, close - 1);
    std::string_view after = rest.substr(close + 1);
    if (!starts_with(after, ":")) {
      return Status::errorf("tcp:HOST:PORT needs a port: 'tcp:%.*s'", static_cast<int>(rest.size()),
                            rest.data());
    }
    port = after.substr(1);
  } else {
    size_t colon = rest.rfind(':');
    if (colon == std::string_view::npos) {
      return Status::errorf("tcp:HOST:PORT needs a port: 'tcp:%.*s'", static_cast<int>(rest.size()),
                            rest.data());
    }
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
  }
  if (port.empty()) {
    return Status::errorf("tcp:HOST:PORT needs a port: 'tcp:%.*s'", static_cast<int>(rest.size()),
                          rest.data());
  }
  out->kind = MigrationUri::Kind::kTcp;
  out->host = std::string(host);
  out->port = std::string(port);
  return Status::ok();
}

}  // namespace

bool migration_uri_known(std::string_view uri) {
  return starts_with(uri, "unix:") || starts_with(uri, "tcp:") || starts_with(uri, "exec:");
}

Status parse_migration_uri(std::string_view uri, MigrationUri *out) {
  *out = MigrationUri();
  if (starts_with(uri, "unix:")) {
    out->kind = MigrationUri::Kind::kUnix;
    out->path = std::string(uri.substr(5));
    if (out->path.empty()) return Status::error("unix:PATH needs a path");
    return Status::ok();
  }
  if (starts_with(uri, "tcp:")) return parse_tcp(uri.substr(4), out);
  if (starts_with(uri, "exec:")) {
    out->kind = MigrationUri::Kind::kExec;
    out->command = std::string(uri.substr(5));
    if (out->command.empty()) return Status::error("exec:COMMAND needs a command");
    return Status::ok();
  }
  return Status::errorf("unknown migration protocol: %.*s", static_cast<int>(uri.size()),
                        uri.data());
}

}  // namespace qtpm::host
