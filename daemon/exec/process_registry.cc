#include "daemon/exec/process_registry.h"

#include <signal.h>

namespace nslab::exec {

void ProcessRegistry::Add(const std::string& lab, pid_t pgid) {
  absl::MutexLock lock(&mutex_);
  groups_[lab].insert(pgid);
}

void ProcessRegistry::Remove(const std::string& lab, pid_t pgid) {
  absl::MutexLock lock(&mutex_);
  auto it = groups_.find(lab);
  if (it != groups_.end()) {
    it->second.erase(pgid);
    if (it->second.empty()) {
      groups_.erase(it);
    }
  }
}

int ProcessRegistry::KillAll(const std::string& lab) {
  absl::MutexLock lock(&mutex_);
  auto it = groups_.find(lab);
  if (it == groups_.end()) {
    return 0;
  }
  int count = 0;
  for (pid_t pgid : it->second) {
    if (::kill(-pgid, SIGKILL) == 0) {
      ++count;
    }
  }
  return count;
}

}  // namespace nslab::exec
