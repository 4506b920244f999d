// SPDX-License-Identifier: GPL-2.0-or-later
//
// Interrupt lines.  A device owns IrqOutput objects and only sets their level; the machine
// connects each output to a sink (an ISA IRQ, a platform-bus SPI, a qtest interceptor, or a
// qemu_irq in the QEMU glue).
#pragma once

#include <functional>

namespace qtpm {

class IrqOutput {
 public:
  using Sink = std::function<void(bool level)>;

  void connect(Sink sink) {
    sink_ = std::move(sink);
    if (sink_) sink_(level_);
  }
  void set(bool level) {
    if (level == level_) return;
    level_ = level;
    if (sink_) sink_(level);
  }
  void raise() { set(true); }
  void lower() { set(false); }
  bool level() const { return level_; }
  bool connected() const { return static_cast<bool>(sink_); }

 private:
  bool level_ = false;
  Sink sink_;
};

}  // namespace qtpm
