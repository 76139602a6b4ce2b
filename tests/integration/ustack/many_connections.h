#pragma once

// Many kernel TCP connections to one ustack service, opened and held: what the integration
// test (2,000) and the manual benchmark in tests/bench/ustack (10,000) share.

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tests/integration/ustack/ustack_lab.h"

namespace nslab::ustack::testing {

// Raises this process's open-files limit (soft and, as root may, hard) to at least `needed`.
absl::Status RaiseOpenFilesLimit(std::size_t needed);

struct ConnectOptions {
  std::size_t count = 0;
  // Connects in flight at once: each wave is connected before the next starts, as a load
  // generator with this concurrency would (ab -c). `count` makes it one burst.
  std::size_t wave = 100;
  // For each wave to connect.
  std::chrono::milliseconds timeout{10'000};
};

// Opens sockets in namespace `ns` and connects them to ip:port; the connected sockets, in
// blocking mode. An error names the first that failed.
absl::StatusOr<std::vector<Fd>> OpenConnections(const std::string& ns, const std::string& ip,
                                                std::uint16_t port, const ConnectOptions& options);

// Writes `message` on `wave` sockets, then reads each one's echo back, and so on through all of
// them; an error names the first socket whose echo did not come (within `timeout` in all) or
// differed.
absl::Status EchoOnEach(const std::vector<Fd>& sockets, const std::string& message,
                        std::chrono::milliseconds timeout, std::size_t wave = 100);

// The resident set of process `pid` (VmRSS), in bytes.
absl::StatusOr<std::uint64_t> ResidentBytes(pid_t pid);

}  // namespace nslab::ustack::testing
