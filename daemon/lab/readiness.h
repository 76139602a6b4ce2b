#pragma once

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace nslab::lab {

// Whether a socket inside the namespace listens on (tcp) or is bound to (udp) `port`,
// IPv4 or IPv6. Read from /proc/thread-self/net on a thread inside the namespace.
absl::StatusOr<bool> IsListening(const std::string& netns, const std::string& protocol,
                                 uint32_t port);

// Polls IsListening until it holds or `deadline` passes (DEADLINE_EXCEEDED).
absl::Status WaitListening(const std::string& netns, const std::string& protocol, uint32_t port,
                           absl::Time deadline);

}  // namespace nslab::lab
