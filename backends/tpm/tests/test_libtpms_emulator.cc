// SPDX-License-Identifier: GPL-2.0-or-later
//
// One state directory moving between `-tpmdev libtpms,state=DIR` and `-tpmdev emulator` (qtpm's
// emulator backend driving a real swtpm 0.7.1 on DIR), in both directions: NV and PCR state
// written through one backend is read through the other.
//
// The emulator backend is reached through QOM by name ("tpm-emulator", property "chardev"), so
// this test builds whether or not that module is in the build; without it the suite has no tests
// and reports itself skipped.
#include "backends/tpm/tests/libtpms_rig.h"
#include "backends/tpm/tests/swtpm_dir_process.h"
#include "qom/chardev.h"

using namespace qtpm;
using namespace qtpm::testing;

namespace {

constexpr uint32_t kNvIndex = 0x01500001;

// The emulator backend as `-chardev socket,id=chrtpm,path=CTRL -tpmdev emulator,chardev=chrtpm`
// builds it, attached to a recording frontend.
class EmulatorRig {
 public:
  Status start(const std::string &ctrl_path) {
    register_builtin_types();
    chardev_ = object_new("chardev-socket");
    chardev_->set_id("chrtpm");
    Status st = chardev_->set_property("path", ctrl_path);
    if (st) st = chardev_->realize();
    if (!st) return st;
    host.chardevs["chrtpm"] = object_cast<Chardev>(chardev_.get());
    backend_obj_ = object_new("tpm-emulator");
    be = object_cast<TpmBackend>(backend_obj_.get());
    be->set_id("tpm0");
    be->set_host(&host);
    st = be->set_property("chardev", "chrtpm");
    if (st) st = be->realize();
    if (st) st = be->attach(&frontend_);
    if (st) st = be->startup(4096);
    return st;
  }
  Bytes transact(const Bytes &cmd) {
    auto req = std::make_unique<TpmRequest>();
    req->command = cmd;
    req->max_response = be->buffer_size();
    ck_assert_ptr_null(be->deliver(std::move(req)).get());
    ck_assert(host.run_until([&] { return !frontend_.done.empty(); }, 60000));
    Bytes resp = frontend_.done.back()->response;
    frontend_.done.clear();
    return resp;
  }
  uint32_t rc(const Bytes &cmd) { return rc_of(transact(cmd)); }
  // Destroys the backend (which shuts swtpm down) and the chardev.
  void destroy() {
    if (be) be->detach();
    backend_obj_.reset();
    be = nullptr;
    chardev_.reset();
  }
  ~EmulatorRig() { destroy(); }

  TestHost host;
  TpmBackend *be = nullptr;

 private:
  RecordingFrontend frontend_{TpmVersion::k2_0};
  std::unique_ptr<Object> chardev_, backend_obj_;
};

LibtpmsRigOptions in_dir(const std::string &dir) {
  LibtpmsRigOptions o;
  o.state = dir;
  return o;
}

}  // namespace

START_TEST(test_directory_moves_between_backends) {
  TempDir work;
  const std::string state = work.file("state");
  const Bytes d = sha256_of(Bytes{'e', 'm', 'u'});
  const Bytes first = {'l', 'i', 'b', 't', 'p', 'm', 's', '1'};
  const Bytes second = {'e', 'm', 'u', 'l', 'a', 't', 'o', 'r'};
  Bytes pcr;
  {  // -tpmdev libtpms,state=DIR
    LibtpmsRig rig(in_dir(state));
    ck_assert(rig.start().is_ok());
    ck_assert_uint_eq(rig.rc(tpm2_startup(0)), 0);
    ck_assert_uint_eq(rig.rc(tpm2_nv_define(kNvIndex, 8)), 0);
    ck_assert_uint_eq(rig.rc(tpm2_nv_write(kNvIndex, first, 0)), 0);
    ck_assert_uint_eq(rig.rc(tpm2_pcr_extend_sha256(10, d)), 0);
    pcr = tpm2_pcr_read_digest(rig.transact(tpm2_pcr_read_sha256(10)));
    ck_assert_uint_eq(rig.rc(tpm2_shutdown(1)), 0);
  }
  {  // -tpmdev emulator on a swtpm using DIR
    SwtpmDirProcess swtpm;
    Status st = swtpm.start_control_only(state, true, work.path);
    ck_assert_msg(st.is_ok(), "%s", st.message().c_str());
    EmulatorRig emu;
    st = emu.start(swtpm.control_path());
    ck_assert_msg(st.is_ok(), "%s", st.message().c_str());
    ck_assert_uint_eq(emu.rc(tpm2_startup(1)), 0);
    ck_assert(tpm2_pcr_read_digest(emu.transact(tpm2_pcr_read_sha256(10))) == pcr);
    ck_assert(tpm2_nv_read_data(emu.transact(tpm2_nv_read(kNvIndex, kNvIndex, 8, 0))) == first);
    ck_assert_uint_eq(emu.rc(tpm2_nv_write(kNvIndex, second, 0)), 0);
    ck_assert_uint_eq(emu.rc(tpm2_pcr_extend_sha256(10, d)), 0);
    pcr = tpm2_pcr_read_digest(emu.transact(tpm2_pcr_read_sha256(10)));
    ck_assert_uint_eq(emu.rc(tpm2_shutdown(1)), 0);
    emu.destroy();
    // swtpm lets go of the directory (and its lock) when the backend is gone.
    ck_assert_msg(swtpm.wait_exit(), "%s", swtpm.log().c_str());
  }
  // Back to -tpmdev libtpms.
  LibtpmsRig rig(in_dir(state));
  ck_assert(rig.start().is_ok());
  ck_assert_uint_eq(rig.rc(tpm2_startup(1)), 0);
  ck_assert(tpm2_pcr_read_digest(rig.transact(tpm2_pcr_read_sha256(10))) ==
            sha256_concat(sha256_concat(Bytes(32, 0), d), d));
  ck_assert(tpm2_pcr_read_digest(rig.transact(tpm2_pcr_read_sha256(10))) == pcr);
  ck_assert(tpm2_nv_read_data(rig.transact(tpm2_nv_read(kNvIndex, kNvIndex, 8, 0))) == second);
}
END_TEST

int main() {
  register_builtin_types();
  gchar *swtpm = g_find_program_in_path("swtpm");
  const bool have_swtpm = swtpm != nullptr;
  g_free(swtpm);
  if (!type_find("tpm-emulator") || !have_swtpm) {
    std::fprintf(stderr, "%s\n", have_swtpm ? "the emulator backend is not in this build"
                                            : "swtpm not found (scripts/install-deps --tests)");
    return 77;  // meson: skipped
  }
  Suite *s = suite_create("libtpms-emulator");
  TCase *tc = tcase_create("interop");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_directory_moves_between_backends);
  suite_add_tcase(s, tc);
  return qtpm::testing::run_suite(s);
}
