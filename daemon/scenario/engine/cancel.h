#pragma once

#include <atomic>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace nslab::scenario {

// A scenario's stop request: set once (a client went away, `nslab run` was interrupted), seen
// by every sleeping and running step. Thread-safe; never reset.
class Cancel {
 public:
  Cancel() = default;
  Cancel(const Cancel&) = delete;
  Cancel& operator=(const Cancel&) = delete;

  void Request();
  bool requested() const { return requested_.load(std::memory_order_acquire); }

  // Blocks until Request() or `deadline`, whichever comes first; true when requested.
  bool WaitUntil(absl::Time deadline) const;

 private:
  std::atomic<bool> requested_{false};
  mutable absl::Mutex mu_;
  mutable absl::CondVar changed_;
};

}  // namespace nslab::scenario
