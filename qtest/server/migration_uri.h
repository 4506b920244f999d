// SPDX-License-Identifier: GPL-2.0-or-later
//
// Migration URIs, as QEMU 7.2's `migrate` and -incoming take them (migration/migration.c,
// socket.c, exec.c):
//
//   unix:PATH          a UNIX stream socket (the destination listens, the source connects)
//   tcp:HOST:PORT      a TCP socket; HOST may be a name, an IPv4 address or [IPv6]; an empty
//                      HOST listens on every address; PORT 0 lets the destination pick one
//   exec:COMMAND       `/bin/sh -c COMMAND`, fed the stream on its stdin (source) or read from
//                      its stdout (destination): "exec:cat > FILE" saves, "exec:cat < FILE"
//                      restores
//
// QEMU's rdma:, fd: and vsock: are not offered.
#pragma once

#include <string>
#include <string_view>

#include "qom/status.h"

namespace qtpm::host {

struct MigrationUri {
  enum class Kind { kUnix, kTcp, kExec };
  Kind kind = Kind::kUnix;
  std::string path;     // unix
  std::string host;     // tcp (without brackets)
  std::string port;     // tcp
  std::string command;  // exec
};

// Whether the URI names a protocol qtpm offers (unix:, tcp:, exec:).
bool migration_uri_known(std::string_view uri);
// Parses a URI of a known protocol.  Errors name the part that is wrong ("tcp:HOST:PORT needs a
// port: 'tcp:localhost'").
Status parse_migration_uri(std::string_view uri, MigrationUri *out);

}  // namespace qtpm::host
