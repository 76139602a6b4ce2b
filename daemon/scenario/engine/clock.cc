#include "daemon/scenario/engine/clock.h"

namespace nslab::scenario {

bool RealClock::SleepUntil(absl::Time deadline, const Cancel& cancel) {
  if (cancel.requested()) {
    return false;
  }
  if (deadline - absl::Now() > kSpinMargin && cancel.WaitUntil(deadline - kSpinMargin)) {
    return false;
  }
  while (absl::Now() < deadline) {
    if (cancel.requested()) {
      return false;
    }
  }
  return !cancel.requested();
}

}  // namespace nslab::scenario
