#include "tests/integration/support/shell_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

namespace nslab::testing {

ShellProcess::ShellProcess(const std::string& command) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    return;
  }
  pid_ = ::fork();
  if (pid_ == 0) {
    // A group of its own, so that the whole pipeline can be stopped by this one id.
    ::setpgid(0, 0);
    ::dup2(pipe_fds[1], 3);  // dup2 clears FD_CLOEXEC on the copy
    ::execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(pipe_fds[1]);
  fd_ = pipe_fds[0];
  if (pid_ < 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

ShellProcess::~ShellProcess() {
  if (pid_ > 0) {
    ::kill(-pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  if (fd_ >= 0) {
    ::close(fd_);
  }
}

bool ShellProcess::ReadSome(std::chrono::steady_clock::time_point until) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      until - std::chrono::steady_clock::now());
  if (fd_ < 0 || left.count() <= 0) {
    return false;
  }
  pollfd ready{.fd = fd_, .events = POLLIN, .revents = 0};
  if (::poll(&ready, 1, static_cast<int>(left.count())) <= 0) {
    return std::chrono::steady_clock::now() < until;
  }
  char buffer[4096];
  const ssize_t got = ::read(fd_, buffer, sizeof(buffer));
  if (got <= 0) {
    ::close(fd_);
    fd_ = -1;
    return false;
  }
  report_.append(buffer, static_cast<size_t>(got));
  return true;
}

bool ShellProcess::WaitForReport(const std::string& text, std::chrono::milliseconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (report_.find(text) == std::string::npos) {
    if (!ReadSome(until)) {
      return false;
    }
  }
  return true;
}

std::optional<int> ShellProcess::Wait(std::chrono::milliseconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (ReadSome(until)) {
  }
  if (fd_ >= 0 || pid_ <= 0) {
    return std::nullopt;  // still writing at the deadline: the destructor stops it
  }
  // fd 3 ended: every process of the pipeline has exited or closed it; the shell is about to.
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      until - std::chrono::steady_clock::now());
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
  if (pidfd >= 0) {
    pollfd exited{.fd = pidfd, .events = POLLIN, .revents = 0};
    ::poll(&exited, 1, std::max(0, static_cast<int>(left.count())));
    ::close(pidfd);
  }
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) != pid_) {
    return std::nullopt;
  }
  pid_ = -1;
  return status;
}

CommandResult RunCommand(const std::string& command) {
  CommandResult result;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) {
    return result;
  }
  char buffer[4096];
  size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0) {
    result.output.append(buffer, n);
  }
  const int status = ::pclose(pipe);
  result.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

}  // namespace nslab::testing
