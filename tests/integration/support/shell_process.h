#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>

namespace nslab::testing {

// A shell command started by a test, in a process group of its own, that reports progress on
// file descriptor 3 (e.g. `nslab capture ... 2>&3`): the test waits for the report of the
// event it needs instead of sleeping, and a command that never reports cannot hang the test.
class ShellProcess {
 public:
  explicit ShellProcess(const std::string& command);
  // Kills the command's process group if it is still running.
  ~ShellProcess();
  ShellProcess(const ShellProcess&) = delete;
  ShellProcess& operator=(const ShellProcess&) = delete;

  // Reads fd 3 until `text` appears or `timeout` passes; true if it appeared.
  bool WaitForReport(const std::string& text, std::chrono::milliseconds timeout);
  // Reads fd 3 to its end and reaps the shell, for at most `timeout`: its wait status, or
  // nothing (and the group killed) if it did not end in time.
  std::optional<int> Wait(std::chrono::milliseconds timeout);
  // Everything read from fd 3 so far.
  const std::string& report() const { return report_; }

 private:
  // Reads what is there within `until`; false at end of file or when time is up.
  bool ReadSome(std::chrono::steady_clock::time_point until);

  pid_t pid_ = -1;
  int fd_ = -1;
  std::string report_;
};

// A shell command run to its end: its exit code (-1 when it did not exit normally) and its
// stdout and stderr, interleaved.
struct CommandResult {
  int code = -1;
  std::string output;
};
CommandResult RunCommand(const std::string& command);

}  // namespace nslab::testing
