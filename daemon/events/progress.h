#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "daemon/events/progress_text.h"
#include "nslab/v1/events.pb.h"

namespace nslab::events {

class EventBus;

// When a long operation's PROGRESS events go out. Quiet at first, so that a lab built or
// removed in a moment adds nothing to its watchers' stream (and nothing to a CLI's output);
// then often enough for a line on a terminal to move, rarely enough that a watcher of a
// ten-minute build reads a few hundred events, not one per node.
class ProgressThrottle {
 public:
  static constexpr absl::Duration kQuiet = absl::Milliseconds(500);
  static constexpr absl::Duration kInterval = absl::Milliseconds(250);
  // While no count moves (a slow process start, links settling), the elapsed time still
  // should.
  static constexpr absl::Duration kHeartbeat = absl::Seconds(1);

  // `quiet`: how long the start stays quiet (nslabd --progress-after).
  explicit ProgressThrottle(absl::Duration quiet = kQuiet) : quiet_(quiet) {}

  // Whether an event is due `elapsed` into the operation. `phase_end`: a phase has just
  // ended; `moved`: a count changed since the last event.
  bool Due(absl::Duration elapsed, bool phase_end, bool moved) const;
  void Published(absl::Duration elapsed) { last_ = elapsed; }

 private:
  absl::Duration quiet_;
  std::optional<absl::Duration> last_;
};

// Counts a lab's build or removal as its workers go and publishes PROGRESS events for it
// (ProgressThrottle decides when, a thread of its own ticks). The counts are relaxed atomics:
// bumping one costs the workers nothing next to the netlink request it follows.
class ProgressReporter {
 public:
  // `bus` may be null: the reporter then only counts. `quiet`: as ProgressThrottle's.
  ProgressReporter(EventBus* bus, std::string lab, nslab::v1::LabOperation operation,
                   uint32_t nodes_total, uint32_t links_total,
                   absl::Duration quiet = ProgressThrottle::kQuiet);
  ~ProgressReporter();
  ProgressReporter(const ProgressReporter&) = delete;
  ProgressReporter& operator=(const ProgressReporter&) = delete;

  // Called between phases, by the thread that runs the operation. The phase's own count
  // starts at 0 of `total`.
  void BeginPhase(nslab::v1::LabPhase phase, uint32_t total);
  // The phase completed: an event goes out (past the quiet start) with its final counts.
  void EndPhase();

  // From any thread.
  void NodeDone() { nodes_.fetch_add(1, std::memory_order_relaxed); }
  void LinkDone() { links_.fetch_add(1, std::memory_order_relaxed); }
  // An item of a phase that counts neither nodes nor links.
  void StepDone() { steps_.fetch_add(1, std::memory_order_relaxed); }

  // No event after this one: called before the event that closes the operation
  // (LAB_READY, LAB_DELETED), which must be the last a watcher sees of it.
  void Stop();

  nslab::v1::LabProgress Snapshot() const;

 private:
  void Tick();
  nslab::v1::LabProgress SnapshotLocked() const ABSL_SHARED_LOCKS_REQUIRED(mutex_);
  void PublishIfDueLocked(bool phase_end) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  absl::Duration Elapsed() const;

  EventBus* const bus_;
  const std::string lab_;
  const nslab::v1::LabOperation operation_;
  const uint32_t nodes_total_;
  const uint32_t links_total_;
  const std::chrono::steady_clock::time_point start_;
  std::atomic<uint32_t> nodes_{0};
  std::atomic<uint32_t> links_{0};
  std::atomic<uint32_t> steps_{0};
  mutable absl::Mutex mutex_;
  nslab::v1::LabPhase phase_ ABSL_GUARDED_BY(mutex_) = nslab::v1::LAB_PHASE_UNSPECIFIED;
  uint32_t phase_total_ ABSL_GUARDED_BY(mutex_) = 0;
  ProgressThrottle throttle_ ABSL_GUARDED_BY(mutex_);
  // What the last event said, to tell whether anything moved since.
  std::optional<nslab::v1::LabProgress> last_ ABSL_GUARDED_BY(mutex_);
  bool stopped_ ABSL_GUARDED_BY(mutex_) = false;
  std::thread ticker_;
};

}  // namespace nslab::events
