#include "daemon/ustack/driver/tap_port.h"

#include <utility>

namespace nslab::ustack::driver {

absl::StatusOr<TapPort> TapPort::open(absl::string_view name, const TapPortOptions& options) {
  tap::TapOptions tap_options;
  tap_options.mode = tap::OpenMode::kAttachOrCreate;
  tap_options.mtu = options.mtu;
  tap_options.up = options.up;
  tap_options.vnet_header = kVnetHeaderSize;
  tap_options.offloads = tap::Offloads{};
  absl::StatusOr<tap::TapDevice> device = tap::TapDevice::Open(name, tap_options);
  if (!device.ok()) {
    return device.status();
  }
  return TapPort(*std::move(device));
}

absl::Status TapPort::set_offloads(bool checksum, bool tso) {
  tap::Offloads offloads;
  offloads.checksum = checksum;
  offloads.tso4 = checksum && tso;
  return device_.SetOffloads(offloads);
}

}  // namespace nslab::ustack::driver
