#include "daemon/exec/netns_processes.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <filesystem>
#include <set>
#include <utility>

#include "daemon/netns/netns.h"

namespace nslab::exec {

int KillProcessesIn(const std::vector<std::string>& namespaces) {
  std::set<std::pair<dev_t, ino_t>> targets;
  for (const auto& name : namespaces) {
    struct stat st {};
    if (::stat(netns::PathOf(name).c_str(), &st) == 0) {
      targets.emplace(st.st_dev, st.st_ino);
    }
  }
  if (targets.empty()) {
    return 0;
  }
  int killed = 0;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", error)) {
    const std::string pid_text = entry.path().filename().string();
    if (pid_text.empty() || !std::isdigit(static_cast<unsigned char>(pid_text[0]))) {
      continue;
    }
    const pid_t pid = std::stoi(pid_text);
    if (pid == ::getpid()) {
      continue;
    }
    struct stat st {};
    if (::stat((entry.path() / "ns/net").c_str(), &st) != 0) {
      continue;
    }
    if (targets.count({st.st_dev, st.st_ino}) != 0 && ::kill(pid, SIGKILL) == 0) {
      ++killed;
    }
  }
  return killed;
}

}  // namespace nslab::exec
