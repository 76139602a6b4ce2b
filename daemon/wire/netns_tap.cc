#include "daemon/wire/netns_tap.h"

#include <optional>
#include <utility>

#include "daemon/netns/netns.h"

namespace nslab::wire {

absl::StatusOr<tap::TapDevice> OpenTapInNetns(int netns_fd, absl::string_view ifname,
                                              const tap::TapOptions& options) {
  std::optional<tap::TapDevice> device;
  absl::Status status = netns::RunIn(netns_fd, [&]() -> absl::Status {
    absl::StatusOr<tap::TapDevice> opened = tap::TapDevice::Open(ifname, options);
    if (!opened.ok()) {
      return opened.status();
    }
    device.emplace(*std::move(opened));
    return absl::OkStatus();
  });
  if (!status.ok()) {
    return status;
  }
  return *std::move(device);
}

}  // namespace nslab::wire
