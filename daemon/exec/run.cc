#include "daemon/exec/run.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

namespace nslab::exec {
namespace {

constexpr int kPollIntervalMs = 100;

// Reads what is available; false at EOF or error (the fd is then closed).
bool Drain(UniqueFd& fd, Stream stream, const RunOptions& options, bool& keep_running) {
  char buf[16384];
  const ssize_t n = ::read(fd.get(), buf, sizeof(buf));
  if (n > 0) {
    if (options.on_output && !options.on_output(stream, absl::string_view(buf, n))) {
      keep_running = false;
    }
    return true;
  }
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
    return true;
  }
  fd.Reset();
  return false;
}

}  // namespace

absl::StatusOr<ExitInfo> Run(SpawnSpec spec, const RunOptions& options) {
  spec.pipe_stdin = !options.stdin_data.empty();
  auto child = Spawn(spec);
  if (!child.ok()) {
    return child.status();
  }
  if (options.registry != nullptr) {
    options.registry->Add(options.owner, child->pid);
  }
  ::fcntl(child->stdout_fd.get(), F_SETFL, O_NONBLOCK);
  ::fcntl(child->stderr_fd.get(), F_SETFL, O_NONBLOCK);
  if (child->stdin_fd.valid()) {
    ::fcntl(child->stdin_fd.get(), F_SETFL, O_NONBLOCK);
  }

  // Readable when the child exits, so the loop wakes at once instead of at the next
  // poll interval once the pipes are closed.
  UniqueFd exit_fd(static_cast<int>(::syscall(SYS_pidfd_open, child->pid, 0)));
  const auto start = std::chrono::steady_clock::now();
  size_t stdin_written = 0;
  bool keep_running = true;
  bool timed_out = false;
  bool exited = false;
  int wait_status = 0;
  while (true) {
    if (!exited) {
      const pid_t done = ::waitpid(child->pid, &wait_status, WNOHANG);
      exited = done == child->pid;
    }
    if (exited && !child->stdout_fd.valid() && !child->stderr_fd.valid()) {
      break;
    }
    pollfd fds[4] = {{child->stdout_fd.get(), POLLIN, 0},
                     {child->stderr_fd.get(), POLLIN, 0},
                     {child->stdin_fd.get(), POLLOUT, 0},
                     {exited ? -1 : exit_fd.get(), POLLIN, 0}};
    // Once the command exited, only what is already buffered is read: a background
    // grandchild holding the pipe open must not keep the call alive.
    const int ready = ::poll(fds, 4, exited ? 0 : kPollIntervalMs);
    if (ready < 0 && errno != EINTR) {
      break;
    }
    if (fds[0].revents != 0) {
      Drain(child->stdout_fd, Stream::kStdout, options, keep_running);
    }
    if (fds[1].revents != 0) {
      Drain(child->stderr_fd, Stream::kStderr, options, keep_running);
    }
    if (fds[2].revents != 0 && child->stdin_fd.valid()) {
      const ssize_t n = ::write(child->stdin_fd.get(), options.stdin_data.data() + stdin_written,
                                options.stdin_data.size() - stdin_written);
      if (n > 0) {
        stdin_written += n;
      }
      if ((n < 0 && errno != EAGAIN) || stdin_written == options.stdin_data.size()) {
        child->stdin_fd.Reset();
      }
    }
    if (exited && ready <= 0) {
      break;
    }
    if (fds[3].revents != 0 && ready == 1) {
      continue;  // only the exit woke us: reap it at the top of the loop
    }
    if (!exited) {
      if (options.timeout.count() > 0 &&
          std::chrono::steady_clock::now() - start > options.timeout) {
        timed_out = true;
        keep_running = false;
      }
      if (options.cancelled && options.cancelled()) {
        keep_running = false;
      }
      if (!keep_running) {
        ::kill(-child->pid, SIGKILL);
        ::waitpid(child->pid, &wait_status, 0);
        exited = true;
      }
    }
  }
  if (options.registry != nullptr) {
    options.registry->Remove(options.owner, child->pid);
  }
  ExitInfo info;
  info.timed_out = timed_out;
  if (WIFSIGNALED(wait_status)) {
    info.signal = WTERMSIG(wait_status);
    info.code = 128 + info.signal;
  } else if (WIFEXITED(wait_status)) {
    info.code = WEXITSTATUS(wait_status);
  }
  return info;
}

}  // namespace nslab::exec
