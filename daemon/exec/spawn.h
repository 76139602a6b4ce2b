#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "daemon/common/fd.h"

namespace nslab::exec {

struct SpawnSpec {
  std::string netns;  // name under /run/netns
  std::vector<std::string> argv;
  std::vector<std::string> extra_env;  // "KEY=VALUE", added to the daemon's environment
  bool pipe_stdin = false;
};

// A child started inside a node. It leads its own process group, so everything it
// starts can be stopped together by that exact group id.
struct SpawnedProcess {
  pid_t pid = -1;
  UniqueFd stdin_fd;  // valid when pipe_stdin
  UniqueFd stdout_fd;
  UniqueFd stderr_fd;
};

// Forks, enters the node's network namespace (and, like `ip netns exec`, a private mount
// namespace whose /sys shows the node's devices), and execs argv[0] searched in PATH.
// NOT_FOUND when the program does not exist; the error names it.
absl::StatusOr<SpawnedProcess> Spawn(const SpawnSpec& spec);

}  // namespace nslab::exec
