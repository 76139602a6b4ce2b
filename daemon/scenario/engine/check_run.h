#pragma once

#include <cstddef>
#include <deque>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "daemon/scenario/engine/cancel.h"
#include "daemon/scenario/engine/clock.h"
#include "daemon/scenario/engine/probe.h"
#include "nslab/v1/scenario.pb.h"

namespace nslab::scenario {

// A check's attempts, bounded: the first kKeepFirst and the last kKeepLast are kept, so that a
// continuous check over an hour neither fills memory nor loses how it began and ended.
class AttemptLog {
 public:
  static constexpr size_t kKeepFirst = 500;
  static constexpr size_t kKeepLast = 500;

  void Add(nslab::v1::CheckAttempt attempt);
  size_t total() const { return total_; }
  // The kept attempts in the order they were made.
  std::vector<nslab::v1::CheckAttempt> Kept() const;

 private:
  std::vector<nslab::v1::CheckAttempt> first_;
  std::deque<nslab::v1::CheckAttempt> last_;
  size_t total_ = 0;
};

// How a check went.
struct CheckRun {
  bool passed = false;
  bool cancelled = false;  // stopped by the scenario's Cancel before it decided
  std::string seen;        // the deciding attempt's outcome, or why none decided
  AttemptLog attempts;
  absl::Time ended;
};

// Plays one check from `start`: one attempt (one-shot); attempts spaced min(50 ms, timeout)
// apart until one matches `expect` or `within` passes; or an attempt every `every` until
// start + `for_ms`, stopping at the first that does not match. Attempt offsets are counted
// from `scenario_start`.
CheckRun PlayCheck(const nslab::v1::Check& check, uint32_t for_ms, absl::Time start,
                   absl::Time scenario_start, Probe& probe, Clock& clock, const Cancel& cancel);

// Whole milliseconds from `from` to `to`, 0 when `to` is earlier, saturated at 2^32 - 1.
uint32_t OffsetMs(absl::Time from, absl::Time to);

}  // namespace nslab::scenario
