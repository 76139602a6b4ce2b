#include "daemon/scenario/engine/check_run.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace nslab::scenario {
namespace {

TEST(AttemptLog, KeepsTheFirstAndTheLastAttemptsOfALongCheck) {
  AttemptLog log;
  for (uint32_t i = 0; i < 3000; ++i) {
    nslab::v1::CheckAttempt attempt;
    attempt.set_at_ms(i);
    log.Add(attempt);
  }
  const std::vector<nslab::v1::CheckAttempt> kept = log.Kept();
  EXPECT_EQ(log.total(), 3000u);
  ASSERT_EQ(kept.size(), 1000u);
  EXPECT_EQ(kept[0].at_ms(), 0u);
  EXPECT_EQ(kept[499].at_ms(), 499u);
  EXPECT_EQ(kept[500].at_ms(), 2500u);
  EXPECT_EQ(kept[999].at_ms(), 2999u);
}

TEST(AttemptLog, KeepsEverythingWhileUnderTheBound) {
  AttemptLog log;
  for (uint32_t i = 0; i < 700; ++i) {
    nslab::v1::CheckAttempt attempt;
    attempt.set_at_ms(i);
    log.Add(attempt);
  }
  const std::vector<nslab::v1::CheckAttempt> kept = log.Kept();
  ASSERT_EQ(kept.size(), 700u);
  for (uint32_t i = 0; i < 700; ++i) {
    EXPECT_EQ(kept[i].at_ms(), i);
  }
}

TEST(OffsetMs, CountsWholeMillisecondsAndNeverGoesNegative) {
  const absl::Time start = absl::FromUnixSeconds(100);
  EXPECT_EQ(OffsetMs(start, start + absl::Microseconds(2999)), 2u);
  EXPECT_EQ(OffsetMs(start, start - absl::Seconds(1)), 0u);
  EXPECT_EQ(OffsetMs(start, start + absl::Hours(24 * 100)), 4294967295u);
}

}  // namespace
}  // namespace nslab::scenario
