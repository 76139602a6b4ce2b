#include "tests/integration/support/lab_leftovers.h"

#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace nslab::testing {
namespace {

std::string ReadAll(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// A zombie has been killed already; only its parent's wait is missing.
bool IsZombie(const std::filesystem::path& proc) {
  const std::string stat = ReadAll(proc / "stat");
  const size_t paren = stat.rfind(')');
  return paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] == 'Z';
}

}  // namespace

std::vector<pid_t> ProcessesOfLab(const std::string& lab) {
  const std::string marker = "NSLAB_LAB=" + lab;
  std::vector<pid_t> pids;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", error)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || !std::isdigit(static_cast<unsigned char>(name[0]))) {
      continue;
    }
    std::istringstream environ(ReadAll(entry.path() / "environ"));
    for (std::string variable; std::getline(environ, variable, '\0');) {
      if (variable == marker && !IsZombie(entry.path())) {
        pids.push_back(std::stoi(name));
        break;
      }
    }
  }
  return pids;
}

int TunFdsOf(pid_t pid) {
  int count = 0;
  std::error_code error;
  const std::filesystem::path fds = "/proc/" + std::to_string(pid) + "/fd";
  for (const auto& entry : std::filesystem::directory_iterator(fds, error)) {
    std::error_code link_error;
    if (std::filesystem::read_symlink(entry.path(), link_error) == "/dev/net/tun") {
      ++count;
    }
  }
  return count;
}

bool WaitForProcessExit(pid_t pid, int timeout_ms) {
  const int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) {
    return errno == ESRCH;  // already gone
  }
  pollfd ready{.fd = pidfd, .events = POLLIN, .revents = 0};
  const int polled = poll(&ready, 1, timeout_ms);
  close(pidfd);
  return polled > 0;
}

}  // namespace nslab::testing
