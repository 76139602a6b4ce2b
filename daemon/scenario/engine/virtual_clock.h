#pragma once

#include <list>
#include <map>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "daemon/scenario/engine/clock.h"

namespace nslab::scenario {

// Time for tests: it stands still while any participating thread runs, and jumps to the
// earliest deadline the moment every participant waits (sleeps in SleepUntil or joins another
// participant in JoinThread). A 60-second scenario thus plays in milliseconds, and what each
// thread sees of time depends only on the deadlines it asked for, not on the host's speed.
//
// Participants are the threads started with StartThread, from the call until their body
// returns. A thread that was not started here (a test's main thread) counts as a participant
// only while it sleeps. Sleepers whose Cancel was requested are woken (returning false) before
// time moves. When every participant waits and none sleeps, or the earliest deadline is
// infinite, no one can ever wake: the clock prints who waits and aborts, so a broken test fails
// loudly instead of hanging.
class VirtualClock final : public Clock {
 public:
  static constexpr absl::Time kDefaultStart = absl::FromUnixSeconds(1'700'000'000);

  explicit VirtualClock(absl::Time start = kDefaultStart) : now_(start) {}
  ~VirtualClock() override;

  absl::Time Now() override;
  bool SleepUntil(absl::Time deadline, const Cancel& cancel) override;
  std::thread StartThread(std::function<void()> body) override;
  void JoinThread(std::thread& thread) override;

  // How many times time moved forward (tests of the clock itself).
  int advances() const;

 private:
  struct Sleeper {
    absl::Time deadline;
    const Cancel* cancel;
    bool woken = false;
    bool cancelled = false;
  };
  struct ThreadRecord {
    bool done = false;
    bool joiner_waits = false;  // a participant waits in JoinThread: counted in waiting_
  };

  // Wakes cancelled sleepers, else moves time to the earliest deadline and wakes its sleepers,
  // when every participant waits. Whoever it wakes stops counting as waiting here, before it
  // runs again, so that time cannot move twice while it gets back on a CPU.
  void AdvanceIfAllWaitLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  [[noreturn]] void AbortDeadlockLocked(const std::string& why) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool IsParticipant() const;

  mutable absl::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_);
  int participants_ ABSL_GUARDED_BY(mu_) = 0;
  int waiting_ ABSL_GUARDED_BY(mu_) = 0;
  int advances_ ABSL_GUARDED_BY(mu_) = 0;
  std::list<Sleeper*> sleepers_ ABSL_GUARDED_BY(mu_);
  std::map<std::thread::id, std::shared_ptr<ThreadRecord>> threads_ ABSL_GUARDED_BY(mu_);
};

}  // namespace nslab::scenario
