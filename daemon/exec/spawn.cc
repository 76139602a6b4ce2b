#include "daemon/exec/spawn.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "daemon/common/errno_status.h"
#include "daemon/netns/netns.h"

extern char** environ;

namespace nslab::exec {
namespace {

struct Pipe {
  UniqueFd read;
  UniqueFd write;
};

absl::StatusOr<Pipe> MakePipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    return ErrnoStatus("pipe2", errno);
  }
  return Pipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

// Runs in the forked child: only async-signal-safe calls until execvpe.
[[noreturn]] void ChildMain(int netns_fd, const char* netns_name, int stdin_fd, int stdout_fd,
                            int stderr_fd, int error_fd, char* const* argv, char* const* envp) {
  auto fail = [&](int err) {
    (void)!::write(error_fd, &err, sizeof(err));
    ::_exit(127);
  };
  ::setpgid(0, 0);
  // The daemon may block signals in its threads; the command starts with none blocked.
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::signal(SIGPIPE, SIG_DFL);
  if (::setns(netns_fd, CLONE_NEWNET) != 0) {
    fail(errno);
  }
  if (::unshare(CLONE_NEWNS) == 0 && ::mount("", "/", "none", MS_SLAVE | MS_REC, nullptr) == 0 &&
      ::umount2("/sys", MNT_DETACH) == 0) {
    ::mount(netns_name, "/sys", "sysfs", 0, nullptr);
  }
  if (stdin_fd >= 0) {
    ::dup2(stdin_fd, STDIN_FILENO);
  } else {
    int devnull = ::open("/dev/null", O_RDONLY);
    ::dup2(devnull, STDIN_FILENO);
  }
  ::dup2(stdout_fd, STDOUT_FILENO);
  ::dup2(stderr_fd, STDERR_FILENO);
  ::execvpe(argv[0], argv, envp);
  fail(errno);
  ::_exit(127);
}

}  // namespace

absl::StatusOr<SpawnedProcess> Spawn(const SpawnSpec& spec) {
  if (spec.argv.empty() || spec.argv[0].empty()) {
    return absl::InvalidArgumentError("no command given");
  }
  auto netns_fd = netns::Open(spec.netns);
  if (!netns_fd.ok()) {
    return netns_fd.status();
  }
  auto out = MakePipe();
  auto err = MakePipe();
  auto status_pipe = MakePipe();
  auto in = spec.pipe_stdin ? MakePipe() : absl::StatusOr<Pipe>(Pipe{});
  for (const auto* p : {&out, &err, &status_pipe, &in}) {
    if (!p->ok()) {
      return p->status();
    }
  }

  // Everything the child needs is built before fork: allocation is not safe after it.
  std::vector<char*> argv;
  for (const auto& arg : spec.argv) {
    argv.push_back(const_cast<char*>(arg.c_str()));
  }
  argv.push_back(nullptr);
  std::vector<std::string> env_storage(spec.extra_env);
  std::vector<char*> envp;
  for (char** e = environ; *e != nullptr; ++e) {
    envp.push_back(*e);
  }
  for (auto& entry : env_storage) {
    envp.push_back(entry.data());
  }
  envp.push_back(nullptr);

  const pid_t pid = ::fork();
  if (pid < 0) {
    return ErrnoStatus("fork", errno);
  }
  if (pid == 0) {
    ChildMain(netns_fd->get(), spec.netns.c_str(), spec.pipe_stdin ? in->read.get() : -1,
              out->write.get(), err->write.get(), status_pipe->write.get(), argv.data(),
              envp.data());
  }
  // Also set from the parent: whichever runs first, the group exists before any kill.
  ::setpgid(pid, pid);
  status_pipe->write.Reset();
  int child_errno = 0;
  ssize_t n;
  do {
    n = ::read(status_pipe->read.get(), &child_errno, sizeof(child_errno));
  } while (n < 0 && errno == EINTR);
  if (n == sizeof(child_errno)) {
    ::waitpid(pid, nullptr, 0);
    if (child_errno == ENOENT) {
      return absl::NotFoundError(absl::StrCat("command not found: ", spec.argv[0]));
    }
    return ErrnoStatus(absl::StrCat("start ", spec.argv[0], " in ", spec.netns), child_errno);
  }
  SpawnedProcess result;
  result.pid = pid;
  result.stdout_fd = std::move(out->read);
  result.stderr_fd = std::move(err->read);
  if (spec.pipe_stdin) {
    result.stdin_fd = std::move(in->write);
  }
  return result;
}

}  // namespace nslab::exec
