#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "daemon/common/fd.h"

namespace nslab {

// An exclusive lock on a directory, held for the life of the object (a flock on a `.lock`
// file inside it, released by the kernel when the process dies, so a killed daemon never
// leaves it stale). The file holds the owner's pid, for the message a second daemon gets.
class DirLock {
 public:
  // Creates `dir` if needed and locks it. FAILED_PRECONDITION, naming the pid that holds the
  // lock, when another process does.
  static absl::StatusOr<DirLock> Acquire(const std::string& dir);

 private:
  explicit DirLock(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
};

}  // namespace nslab
