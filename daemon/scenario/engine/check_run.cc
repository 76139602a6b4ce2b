#include "daemon/scenario/engine/check_run.h"

#include <algorithm>
#include <limits>

#include "absl/strings/str_cat.h"
#include "daemon/scenario/engine/step_text.h"

namespace nslab::scenario {
namespace {

constexpr absl::Duration kWithinSpacing = absl::Milliseconds(50);

class Attempter {
 public:
  Attempter(const nslab::v1::Check& check, absl::Time scenario_start, Probe& probe, Clock& clock,
            CheckRun& run)
      : want_ok_(check.expect() != nslab::v1::EXPECT_FAIL),
        scenario_start_(scenario_start),
        probe_(probe),
        clock_(clock),
        run_(run) {}

  // Makes one attempt, logs it and says whether it matched `expect`.
  bool Attempt(absl::Duration timeout) {
    const absl::Time began = clock_.Now();
    ProbeOutcome outcome = probe_.Attempt(timeout);
    const absl::Time ended = clock_.Now();
    nslab::v1::CheckAttempt attempt;
    attempt.set_at_ms(OffsetMs(scenario_start_, began));
    attempt.set_duration_ms(OffsetMs(began, ended));
    attempt.set_ok(outcome.ok);
    attempt.set_observed(outcome.observed);
    last_observed_ = std::move(outcome.observed);
    last_at_ms_ = attempt.at_ms();
    run_.attempts.Add(std::move(attempt));
    return outcome.ok == want_ok_;
  }

  const char* wanted() const { return want_ok_ ? "ok" : "fail"; }
  const std::string& last_observed() const { return last_observed_; }
  uint32_t last_at_ms() const { return last_at_ms_; }

 private:
  const bool want_ok_;
  const absl::Time scenario_start_;
  Probe& probe_;
  Clock& clock_;
  CheckRun& run_;
  std::string last_observed_;
  uint32_t last_at_ms_ = 0;
};

void PlayOnce(Attempter& attempter, absl::Duration timeout, CheckRun& run) {
  run.passed = attempter.Attempt(timeout);
  run.seen = attempter.last_observed();
}

void PlayWithin(Attempter& attempter, absl::Duration timeout, absl::Time start,
                absl::Duration within, Clock& clock, const Cancel& cancel, CheckRun& run) {
  const absl::Time deadline = start + within;
  const absl::Duration spacing = std::min(kWithinSpacing, timeout);
  absl::Time next = start;
  while (true) {
    if (!clock.SleepUntil(next, cancel)) {
      run.cancelled = true;
      return;
    }
    const absl::Time began = clock.Now();
    if (began >= deadline && run.attempts.total() != 0) {
      break;
    }
    // The last attempt is cut short so that the check decides by its deadline.
    const absl::Duration left = std::max(deadline - began, absl::Milliseconds(1));
    if (attempter.Attempt(std::min(timeout, left))) {
      run.passed = true;
      run.seen = attempter.last_observed();
      return;
    }
    next = began + spacing;
  }
  run.seen =
      absl::StrCat(attempter.last_observed(), " (not ", attempter.wanted(), " within ",
                   absl::ToInt64Milliseconds(within), " ms; ", run.attempts.total(), " attempts)");
}

void PlayEvery(Attempter& attempter, absl::Duration timeout, absl::Time start, absl::Duration every,
               absl::Duration span, Clock& clock, const Cancel& cancel, CheckRun& run) {
  const absl::Time end = start + span;
  int64_t tick = 0;
  while (tick == 0 || start + tick * every < end) {
    if (!clock.SleepUntil(start + tick * every, cancel)) {
      run.cancelled = true;
      run.seen = absl::StrCat("cancelled after ", run.attempts.total(), " attempts");
      return;
    }
    if (!attempter.Attempt(timeout)) {
      run.seen = absl::StrCat("attempt ", run.attempts.total(), " at ", attempter.last_at_ms(),
                              " ms: ", attempter.last_observed());
      return;
    }
    // An attempt that outlasted its interval is followed by the next at once, never by a
    // burst of the ticks it missed.
    tick = std::max(tick + 1, (clock.Now() - start) / every);
  }
  // The check holds for its whole `for`, and a serial group's next member starts after it.
  if (!clock.SleepUntil(end, cancel)) {
    run.cancelled = true;
    run.seen = absl::StrCat("cancelled after ", run.attempts.total(), " attempts");
    return;
  }
  run.passed = true;
  run.seen = absl::StrCat(run.attempts.total(), " attempts all ", attempter.wanted(),
                          "; last: ", attempter.last_observed());
}

}  // namespace

void AttemptLog::Add(nslab::v1::CheckAttempt attempt) {
  ++total_;
  if (first_.size() < kKeepFirst) {
    first_.push_back(std::move(attempt));
    return;
  }
  last_.push_back(std::move(attempt));
  if (last_.size() > kKeepLast) {
    last_.pop_front();
  }
}

std::vector<nslab::v1::CheckAttempt> AttemptLog::Kept() const {
  std::vector<nslab::v1::CheckAttempt> kept(first_.begin(), first_.end());
  kept.insert(kept.end(), last_.begin(), last_.end());
  return kept;
}

uint32_t OffsetMs(absl::Time from, absl::Time to) {
  if (to <= from) {
    return 0;
  }
  const int64_t ms = absl::ToInt64Milliseconds(to - from);
  return static_cast<uint32_t>(std::min<int64_t>(ms, std::numeric_limits<uint32_t>::max()));
}

CheckRun PlayCheck(const nslab::v1::Check& check, uint32_t for_ms, absl::Time start,
                   absl::Time scenario_start, Probe& probe, Clock& clock, const Cancel& cancel) {
  CheckRun run;
  Attempter attempter(check, scenario_start, probe, clock, run);
  const absl::Duration timeout = absl::Milliseconds(AttemptTimeoutMs(check));
  if (check.every_ms() != 0) {
    PlayEvery(attempter, timeout, start, absl::Milliseconds(check.every_ms()),
              absl::Milliseconds(for_ms), clock, cancel, run);
  } else if (check.within_ms() != 0) {
    PlayWithin(attempter, timeout, start, absl::Milliseconds(check.within_ms()), clock, cancel,
               run);
  } else {
    PlayOnce(attempter, timeout, run);
  }
  if (run.cancelled && run.seen.empty()) {
    run.seen = absl::StrCat("cancelled after ", run.attempts.total(), " attempts");
  }
  run.ended = clock.Now();
  return run;
}

}  // namespace nslab::scenario
