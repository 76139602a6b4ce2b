#include "daemon/scenario/engine/cancel.h"

namespace nslab::scenario {

void Cancel::Request() {
  absl::MutexLock lock(&mu_);
  requested_.store(true, std::memory_order_release);
  changed_.SignalAll();
}

bool Cancel::WaitUntil(absl::Time deadline) const {
  absl::MutexLock lock(&mu_);
  while (!requested()) {
    // True when the deadline passed; false on a signal (or a spurious wake-up: loop).
    if (changed_.WaitWithDeadline(&mu_, deadline)) {
      return requested();
    }
  }
  return true;
}

}  // namespace nslab::scenario
