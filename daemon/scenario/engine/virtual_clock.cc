#include "daemon/scenario/engine/virtual_clock.h"

#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_cat.h"

namespace nslab::scenario {
namespace {

// The VirtualClock whose StartThread started this thread, if any.
thread_local const VirtualClock* current_participant_of = nullptr;

}  // namespace

VirtualClock::~VirtualClock() {
  absl::MutexLock lock(&mu_);
  if (participants_ != 0) {
    AbortDeadlockLocked("destroyed while its threads still run");
  }
}

absl::Time VirtualClock::Now() {
  absl::MutexLock lock(&mu_);
  return now_;
}

int VirtualClock::advances() const {
  absl::MutexLock lock(&mu_);
  return advances_;
}

bool VirtualClock::IsParticipant() const { return current_participant_of == this; }

bool VirtualClock::SleepUntil(absl::Time deadline, const Cancel& cancel) {
  const bool guest = !IsParticipant();
  absl::MutexLock lock(&mu_);
  if (cancel.requested()) {
    return false;
  }
  if (deadline <= now_) {
    return true;
  }
  Sleeper sleeper{.deadline = deadline, .cancel = &cancel};
  if (guest) {
    ++participants_;
  }
  sleepers_.push_back(&sleeper);
  ++waiting_;
  AdvanceIfAllWaitLocked();
  mu_.Await(absl::Condition(&sleeper.woken));
  if (guest) {
    --participants_;
    AdvanceIfAllWaitLocked();
  }
  return !sleeper.cancelled;
}

std::thread VirtualClock::StartThread(std::function<void()> body) {
  auto record = std::make_shared<ThreadRecord>();
  {
    // Counted before it exists, so that time cannot move before the new thread asks to sleep.
    absl::MutexLock lock(&mu_);
    ++participants_;
  }
  std::thread thread([this, record, body = std::move(body)] {
    current_participant_of = this;
    body();
    current_participant_of = nullptr;
    absl::MutexLock lock(&mu_);
    --participants_;
    record->done = true;
    if (record->joiner_waits) {
      record->joiner_waits = false;
      --waiting_;
    }
    AdvanceIfAllWaitLocked();
  });
  absl::MutexLock lock(&mu_);
  threads_[thread.get_id()] = record;
  return thread;
}

void VirtualClock::JoinThread(std::thread& thread) {
  const bool participant = IsParticipant();
  {
    absl::MutexLock lock(&mu_);
    auto it = threads_.find(thread.get_id());
    if (it != threads_.end()) {
      std::shared_ptr<ThreadRecord> record = it->second;
      threads_.erase(it);
      if (!record->done) {
        if (participant) {
          record->joiner_waits = true;
          ++waiting_;
          AdvanceIfAllWaitLocked();
        }
        mu_.Await(absl::Condition(&record->done));
      }
    }
  }
  thread.join();
}

void VirtualClock::AdvanceIfAllWaitLocked() {
  if (participants_ == 0 || waiting_ < participants_) {
    return;
  }
  bool woke_cancelled = false;
  for (auto it = sleepers_.begin(); it != sleepers_.end();) {
    if ((*it)->cancel->requested()) {
      (*it)->woken = true;
      (*it)->cancelled = true;
      --waiting_;
      woke_cancelled = true;
      it = sleepers_.erase(it);
    } else {
      ++it;
    }
  }
  if (woke_cancelled) {
    return;
  }
  if (sleepers_.empty()) {
    AbortDeadlockLocked("every participant waits for another one and none sleeps");
  }
  absl::Time earliest = absl::InfiniteFuture();
  for (const Sleeper* sleeper : sleepers_) {
    earliest = std::min(earliest, sleeper->deadline);
  }
  if (earliest == absl::InfiniteFuture()) {
    AbortDeadlockLocked("every participant sleeps forever");
  }
  now_ = earliest;
  ++advances_;
  for (auto it = sleepers_.begin(); it != sleepers_.end();) {
    if ((*it)->deadline == earliest) {
      (*it)->woken = true;
      --waiting_;
      it = sleepers_.erase(it);
    } else {
      ++it;
    }
  }
}

void VirtualClock::AbortDeadlockLocked(const std::string& why) {
  std::fprintf(stderr,
               "VirtualClock: %s (participants %d, waiting %d, sleepers %zu, now %s); "
               "aborting so that the test fails instead of hanging\n",
               why.c_str(), participants_, waiting_, sleepers_.size(),
               absl::FormatTime(now_).c_str());
  std::abort();
}

}  // namespace nslab::scenario
