#pragma once

#include <sys/types.h>

#include <map>
#include <set>
#include <string>

#include "absl/synchronization/mutex.h"

namespace nslab::exec {

// Which process groups the daemon started for which lab, so that deleting a lab stops
// exactly those (by their group ids) and nothing else.
class ProcessRegistry {
 public:
  void Add(const std::string& lab, pid_t pgid);
  void Remove(const std::string& lab, pid_t pgid);
  // SIGKILLs every group registered for `lab`; returns how many were signalled.
  int KillAll(const std::string& lab);

 private:
  absl::Mutex mutex_;
  std::map<std::string, std::set<pid_t>> groups_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace nslab::exec
