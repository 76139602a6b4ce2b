#pragma once

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "daemon/tap/tap_device.h"

namespace nslab::wire {

// Opens a TAP in the network namespace `netns_fd`: /dev/net/tun is opened and TUNSETIFF issued
// on a thread inside that namespace, so the device is created there (never in the host
// namespace, never moved) and its fd stays attached to it whichever namespace its later users
// run in.
absl::StatusOr<tap::TapDevice> OpenTapInNetns(int netns_fd, absl::string_view ifname,
                                              const tap::TapOptions& options);

}  // namespace nslab::wire
