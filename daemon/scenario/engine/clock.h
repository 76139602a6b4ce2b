#pragma once

#include <functional>
#include <thread>

#include "absl/time/time.h"
#include "daemon/scenario/engine/cancel.h"

namespace nslab::scenario {

// The executor's only source of time and its only way to wait or to start threads, so that a
// test can replace real time with a VirtualClock and play a minute-long scenario in
// milliseconds.
class Clock {
 public:
  virtual ~Clock() = default;

  virtual absl::Time Now() = 0;

  // Blocks until `deadline` (returns true) or until `cancel` is requested (returns false, at
  // once if it already was). A deadline in the past returns true at once.
  virtual bool SleepUntil(absl::Time deadline, const Cancel& cancel) = 0;

  // Runs `body` on a new thread that takes part in the timeline. Every thread that sleeps on
  // this clock or acts at a planned time must be started here and joined with JoinThread: a
  // VirtualClock advances time only while all of them wait.
  virtual std::thread StartThread(std::function<void()> body) {
    return std::thread(std::move(body));
  }
  // Waits for a thread StartThread returned to end.
  virtual void JoinThread(std::thread& thread) { thread.join(); }
};

// Real time (absl::Now). SleepUntil is precise: it blocks until shortly before the deadline,
// then spins, so that a step starts well under a millisecond late even where the kernel's timer
// slack or a loaded machine would make a plain sleep late. The spin does not yield: on a busy
// machine sched_yield hands the CPU to another task for a whole time slice (milliseconds),
// while a thread woken from a timed wait preempts niced work at once.
class RealClock final : public Clock {
 public:
  // How long before a deadline the blocking wait ends and the spin begins: a bit more than a
  // timed wait's usual wake-up lateness. Costs at most this much CPU per sleep.
  static constexpr absl::Duration kSpinMargin = absl::Microseconds(500);

  absl::Time Now() override { return absl::Now(); }
  bool SleepUntil(absl::Time deadline, const Cancel& cancel) override;
};

}  // namespace nslab::scenario
