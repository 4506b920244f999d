// SPDX-License-Identifier: GPL-2.0-or-later
//
// The host: builds what the command line asks for and provides HostServices to devices and
// backends.
//
// Creation order is QEMU's (softmmu/vl.c): the machine and its RAM, chardevs (-chardev, the
// -qtest socket), TPM backends (-tpmdev), monitors' chardevs checked, devices (-device), the
// machine's fw_cfg with the TPM's ACPI files (firmware_config.h), then a machine reset.  Each object gets set_host() before its properties and realize.  A failure
// is one located line ("qtpm-system-x86_64: -device tpm-tis: 'tpmdev' property is required");
// what was created so far is torn down in order, nothing leaks.
//
// Teardown (shutdown(), also from the destructor) runs in reverse: devices are unplugged and
// unrealized (frontends let go of their backends), then backends are unrealized and destroyed
// (the emulator backend says CMD_SHUTDOWN to swtpm), then chardevs.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "backends/tpm/tpm_backend.h"
#include "hw/core/device.h"
#include "qom/chardev.h"
#include "qom/host_services.h"
#include "qom/main_loop.h"
#include "qtest/server/command_line.h"
#include "qtest/server/firmware_config.h"
#include "qtest/server/machine.h"
#include "qtest/server/run_state.h"

namespace qtpm::host {

class Host : public HostServices {
 public:
  // `loop`: where backend completions run; null means the GLib default main context.
  explicit Host(const Config &config, CompletionLoop *loop = nullptr);
  ~Host() override;
  Host(const Host &) = delete;
  Host &operator=(const Host &) = delete;

  // Creates everything and resets the machine.  The message is a complete located line.
  Status build();
  // Orderly teardown; idempotent.
  void shutdown();

  // Machine reset: every device's reset(), in creation order.
  void reset_devices();

  // HostServices
  Object *find_tpm_backend(std::string_view id) override;
  Chardev *find_chardev(std::string_view id) override;
  CompletionLoop &completion_loop() override { return *loop_; }
  void clear_guest_ram() override;
  bool incoming_migration_pending() const override;
  bool dma_read(uint64_t addr, void *buf, size_t len) override;
  bool dma_write(uint64_t addr, const void *buf, size_t len) override;

  const Config &config() const { return config_; }
  Object *root() const { return root_.get(); }
  Machine &machine() { return *machine_; }
  const std::vector<Device *> &devices() const { return devices_; }
  std::vector<TpmBackend *> backends() const;
  Chardev *qtest_chardev() const { return qtest_chardev_; }
  // The fw_cfg device's files (empty on machines without fw_cfg).
  const FirmwareConfig &firmware() const { return firmware_; }

  RunState run_state() const { return run_state_; }
  void set_run_state(RunState state) { run_state_ = state; }

  // -incoming: the URI, and the hook the migration code calls once the state is loaded (the
  // backends then start the TPM on the next reset/startup they do).
  const std::optional<std::string> &incoming_uri() const { return config_.incoming; }
  void set_incoming_done() { incoming_done_ = true; }

 private:
  Status create_chardev(const ChardevConfig &cd);
  Status create_qtest_chardev();
  Status create_backend(const TpmdevConfig &t, size_t index);
  Status create_device(const DeviceConfig &d);
  Status set_device_props(Device *device, const DeviceConfig &d);
  Status check_device_type(const DeviceConfig &d, const TypeInfo **type);
  Status add_chardev_object(std::unique_ptr<Chardev> chardev, const std::string &id);

  Config config_;
  std::unique_ptr<GlibCompletionLoop> own_loop_;
  CompletionLoop *loop_;
  std::unique_ptr<Object> root_;
  Object *chardevs_ = nullptr;
  std::unique_ptr<Machine> machine_;
  std::vector<std::unique_ptr<TpmBackend>> backends_;
  std::vector<Device *> devices_;  // creation order; owned by the tree
  FirmwareConfig firmware_;        // its device is the last of devices_
  Chardev *qtest_chardev_ = nullptr;
  RunState run_state_ = RunState::kPrelaunch;
  bool incoming_done_ = false;
  bool shut_down_ = false;
};

}  // namespace qtpm::host
