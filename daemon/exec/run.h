#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "daemon/exec/process_registry.h"
#include "daemon/exec/spawn.h"

namespace nslab::exec {

enum class Stream { kStdout, kStderr };

struct ExitInfo {
  int code = 0;    // exit code, or 128 + signal
  int signal = 0;  // 0 if the command exited by itself
  bool timed_out = false;
};

struct RunOptions {
  std::string stdin_data;
  std::chrono::milliseconds timeout{0};  // 0 = none
  // Called with each chunk of output as it arrives. Returning false stops the command.
  std::function<bool(Stream, absl::string_view)> on_output;
  // Polled a few times a second; true stops the command (the caller went away).
  std::function<bool()> cancelled;
  // Where the process group is recorded while it runs (may be null).
  ProcessRegistry* registry = nullptr;
  std::string owner;  // registry key: the lab
};

// Runs a command to completion inside a node, streaming its output. The command's whole
// process group is killed on timeout or cancellation.
absl::StatusOr<ExitInfo> Run(SpawnSpec spec, const RunOptions& options);

}  // namespace nslab::exec
