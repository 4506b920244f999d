// SPDX-License-Identifier: GPL-2.0-or-later
//
// A libtpms backend created through QOM (type "tpm-libtpms") with a TestHost and a recording
// frontend, so tests send commands exactly as a frontend does: deliver() on the main thread,
// completion through the host's loop.
#pragma once

#include <glib.h>
#include <glib/gstdio.h>

#include <memory>
#include <string>
#include <vector>

#include "backends/tpm/tests/tpm_test_commands.h"
#include "backends/tpm/tpm_libtpms.h"
#include "qom/testing.h"

namespace qtpm::testing {

class RecordingFrontend : public TpmFrontend {
 public:
  explicit RecordingFrontend(TpmVersion v) : version_(v) {}
  void tpm_request_completed(std::unique_ptr<TpmRequest> r) override {
    done.push_back(std::move(r));
  }
  TpmVersion tpm_version() const override { return version_; }
  const char *tpm_model() const override { return "tpm-test"; }
  std::vector<std::unique_ptr<TpmRequest>> done;

 private:
  TpmVersion version_;
};

struct LibtpmsRigOptions {
  std::string version = "2.0";
  std::string state;  // empty: in memory
  std::string id = "tpm0";
  bool physical_presence = false;
  uint32_t buffer_size = 4096;
};

class LibtpmsRig {
 public:
  explicit LibtpmsRig(const LibtpmsRigOptions &opts = {})
      : opts_(opts),
        frontend_(opts.version == "1.2" ? TpmVersion::k1_2 : TpmVersion::k2_0) {
    register_builtin_types();
    object_ = object_new(kTypeTpmLibtpms);
    be = object_cast<LibtpmsBackend>(object_.get());
    be->set_id(opts.id);
    be->set_host(&host);
    host.backends[opts.id] = be;
  }
  ~LibtpmsRig() {
    if (be) be->detach();
  }

  // Properties, realize, attach, startup: the machine-creation path.
  Status start() {
    Status st = be->set_property("version", opts_.version);
    if (st && !opts_.state.empty()) st = be->set_property("state", opts_.state);
    if (st && opts_.physical_presence) st = be->set_property("physical-presence", "on");
    if (st) st = be->realize();
    if (st) st = be->attach(&frontend_);
    if (st) st = be->startup(opts_.buffer_size);
    return st;
  }

  // One command through deliver() and the completion loop; the whole request is kept in
  // `last` for tests that look at status or selftest_done.
  Bytes transact(const Bytes &cmd, uint8_t locality = 0) {
    auto req = std::make_unique<TpmRequest>();
    req->command = cmd;
    req->locality = locality;
    req->max_response = be->buffer_size();
    size_t before = frontend_.done.size();
    auto refused = be->deliver(std::move(req));
    ck_assert_ptr_null(refused.get());
    ck_assert(host.run_until([&] { return frontend_.done.size() > before; }, 60000));
    last = std::move(frontend_.done.back());
    frontend_.done.pop_back();
    return last->response;
  }
  uint32_t rc(const Bytes &cmd, uint8_t locality = 0) { return rc_of(transact(cmd, locality)); }

  // Destroys the backend (releases libtpms and the state directory).
  void destroy() {
    if (be) be->detach();
    host.backends.clear();
    object_.reset();
    be = nullptr;
  }

  TestHost host;
  LibtpmsBackend *be = nullptr;
  std::unique_ptr<TpmRequest> last;

 private:
  LibtpmsRigOptions opts_;
  RecordingFrontend frontend_;
  std::unique_ptr<Object> object_;
};

// SHA-256(a || b) with GLib's GChecksum: the expected PCR / NV-extend value.
inline Bytes sha256_concat(const Bytes &a, const Bytes &b) {
  GChecksum *c = g_checksum_new(G_CHECKSUM_SHA256);
  g_checksum_update(c, a.data(), static_cast<gssize>(a.size()));
  g_checksum_update(c, b.data(), static_cast<gssize>(b.size()));
  Bytes out(32);
  gsize len = out.size();
  g_checksum_get_digest(c, out.data(), &len);
  g_checksum_free(c);
  return out;
}
inline Bytes sha1_concat(const Bytes &a, const Bytes &b) {
  GChecksum *c = g_checksum_new(G_CHECKSUM_SHA1);
  g_checksum_update(c, a.data(), static_cast<gssize>(a.size()));
  g_checksum_update(c, b.data(), static_cast<gssize>(b.size()));
  Bytes out(20);
  gsize len = out.size();
  g_checksum_get_digest(c, out.data(), &len);
  g_checksum_free(c);
  return out;
}
inline Bytes sha256_of(const Bytes &a) { return sha256_concat(a, {}); }

// A fresh temporary directory, removed (with its files) by the destructor.
class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/qtpm-test-XXXXXX";
    char *p = g_mkdtemp(tmpl);
    ck_assert_ptr_nonnull(p);
    path = p;
  }
  ~TempDir() { remove_tree(path); }
  std::string file(const std::string &name) const { return path + "/" + name; }
  std::string path;

 private:
  static void remove_tree(const std::string &dir) {
    GDir *d = g_dir_open(dir.c_str(), 0, nullptr);
    if (d) {
      while (const char *name = g_dir_read_name(d)) {
        std::string p = dir + "/" + name;
        if (g_file_test(p.c_str(), G_FILE_TEST_IS_DIR) &&
            !g_file_test(p.c_str(), G_FILE_TEST_IS_SYMLINK)) {
          remove_tree(p);
        } else {
          g_unlink(p.c_str());
        }
      }
      g_dir_close(d);
    }
    g_rmdir(dir.c_str());
  }
};

inline Bytes read_file_bytes(const std::string &path) {
  gchar *data = nullptr;
  gsize len = 0;
  if (!g_file_get_contents(path.c_str(), &data, &len, nullptr)) return {};
  Bytes b(reinterpret_cast<uint8_t *>(data), reinterpret_cast<uint8_t *>(data) + len);
  g_free(data);
  return b;
}

}  // namespace qtpm::testing
