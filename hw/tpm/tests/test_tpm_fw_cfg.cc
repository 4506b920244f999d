// SPDX-License-Identifier: GPL-2.0-or-later
//
// Unit tests for the shared TPM firmware pieces: fw_cfg "etc/tpm/config" bytes (QEMU 7.2,
// hw/i386/acpi-build.c layout) and the PPI page's saved state (tpm_ppi.h).
#include "qom/testing.h"

#include "hw/tpm/tpm_fw_cfg.h"
#include "hw/tpm/tpm_ppi.h"

using namespace qtpm;

START_TEST(test_config_bytes) {
  TpmAcpiDescription tpm;
  tpm.ppi = true;
  tpm.version = TpmVersion::k2_0;
  auto config = tpm_fw_cfg_config(tpm);
  ck_assert(config.has_value());
  const TpmFwCfgConfig tpm2 = {0x00, 0x50, 0xd4, 0xfe, 0x02, 0x01};
  ck_assert(*config == tpm2);
  tpm.version = TpmVersion::k1_2;
  const TpmFwCfgConfig tpm12 = {0x00, 0x50, 0xd4, 0xfe, 0x01, 0x01};
  ck_assert(*tpm_fw_cfg_config(tpm) == tpm12);
  ck_assert_str_eq(kTpmFwCfgConfigFile, "etc/tpm/config");
  // No PPI page: QEMU does not add the file.
  tpm.ppi = false;
  ck_assert(!tpm_fw_cfg_config(tpm).has_value());
}
END_TEST

START_TEST(test_ppi_state) {
  TpmPpi a;
  a.data()[PpiLayout::kMovv] = 1;
  a.data()[PpiLayout::kSize - 1] = 0x5a;
  std::vector<uint8_t> blob = a.save_state().finish();
  StateReader reader;
  ck_assert(StateReader::parse(blob, &reader).is_ok());
  TpmPpi::Page page{};
  ck_assert(TpmPpi::parse_state(reader, &page).is_ok());
  TpmPpi b;
  ck_assert_uint_eq(b.data()[PpiLayout::kMovv], 0);  // parse does not apply
  b.restore(page);
  ck_assert_int_eq(memcmp(a.data(), b.data(), TpmPpi::size()), 0);
  // A page of the wrong size is refused.
  StateWriter bad(TpmPpi::kStateSection, TpmPpi::kStateVersion);
  bad.put_bytes("memory", std::vector<uint8_t>(PpiLayout::kSize + 1, 0));
  std::vector<uint8_t> bad_blob = bad.finish();
  ck_assert(StateReader::parse(bad_blob, &reader).is_ok());
  ck_assert(!TpmPpi::parse_state(reader, &page).is_ok());
}
END_TEST

int main() {
  Suite *s = suite_create("tpm-fw-cfg");
  TCase *tc = tcase_create("fw-cfg");
  tcase_add_test(tc, test_config_bytes);
  tcase_add_test(tc, test_ppi_state);
  suite_add_tcase(s, tc);
  return qtpm::testing::run_suite(s);
}
