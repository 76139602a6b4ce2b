#include "daemon/scenario/engine/virtual_clock.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/scenario_engine/fakes.h"

namespace nslab::scenario {
namespace {

using ::nslab::scenario::testing::Call;
using ::nslab::scenario::testing::CallLog;
using ::nslab::scenario::testing::VirtualMs;
using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;

absl::Time At(int64_t ms) { return VirtualClock::kDefaultStart + absl::Milliseconds(ms); }

// Runs `body` on a participant thread: threads it starts are then all counted before time can
// move (the test's own thread is not a participant, and would let time run during set-up).
void AsParticipant(VirtualClock& clock, const std::function<void()>& body) {
  std::thread root = clock.StartThread(body);
  clock.JoinThread(root);
}

TEST(VirtualClock, AThreadOfItsOwnSleepsAnHourAtOnce) {
  VirtualClock clock;
  Cancel never;
  EXPECT_TRUE(clock.SleepUntil(At(3'600'000), never));
  EXPECT_EQ(clock.Now(), At(3'600'000));
  EXPECT_TRUE(clock.SleepUntil(At(10), never));  // the past: at once
  EXPECT_EQ(clock.Now(), At(3'600'000));
}

TEST(VirtualClock, WakesSleepersInDeadlineOrderAndWaitsForRunningThreads) {
  VirtualClock clock;
  CallLog log;
  Cancel never;
  AsParticipant(clock, [&] {
    std::thread a = clock.StartThread([&] {
      clock.SleepUntil(At(5000), never);
      log.Add("a woke", VirtualMs(clock));
    });
    std::thread b = clock.StartThread([&] {
      clock.SleepUntil(At(3000), never);
      log.Add("b woke", VirtualMs(clock));
      // Real work while the others sleep: time must not move until b sleeps again.
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      log.Add("b worked", VirtualMs(clock));
      clock.SleepUntil(At(7000), never);
      log.Add("b woke again", VirtualMs(clock));
    });
    clock.JoinThread(a);
    clock.JoinThread(b);
  });
  EXPECT_THAT(log.calls(), ElementsAre(Call{"b woke", 3000}, Call{"b worked", 3000},
                                       Call{"a woke", 5000}, Call{"b woke again", 7000}));
  EXPECT_EQ(clock.advances(), 3);
}

TEST(VirtualClock, SleepersDueAtTheSameTimeWakeTogether) {
  VirtualClock clock;
  CallLog log;
  Cancel never;
  AsParticipant(clock, [&] {
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i) {
      threads.push_back(clock.StartThread([&, i] {
        clock.SleepUntil(At(i % 2 == 0 ? 100 : 200), never);
        log.Add("woke", VirtualMs(clock));
      }));
    }
    for (std::thread& thread : threads) clock.JoinThread(thread);
  });
  EXPECT_THAT(log.calls(), ElementsAre(Call{"woke", 100}, Call{"woke", 100}, Call{"woke", 200},
                                       Call{"woke", 200}));
  EXPECT_EQ(clock.advances(), 2);
}

TEST(VirtualClock, ACancelWakesSleepersWithoutMovingTime) {
  VirtualClock clock;
  CallLog log;
  Cancel cancel;
  Cancel never;
  AsParticipant(clock, [&] {
    std::thread sleeper = clock.StartThread([&] {
      const bool reached = clock.SleepUntil(At(100'000), cancel);
      log.Add(reached ? "reached" : "cancelled", VirtualMs(clock));
    });
    std::thread canceller = clock.StartThread([&] {
      clock.SleepUntil(At(2000), never);
      cancel.Request();
    });
    clock.JoinThread(canceller);
    clock.JoinThread(sleeper);
  });
  EXPECT_THAT(log.calls(), ElementsAre(Call{"cancelled", 2000}));
  EXPECT_FALSE(clock.SleepUntil(At(5000), cancel));
}

TEST(VirtualClock, AJoiningThreadWaitsWithoutHoldingTimeBack) {
  VirtualClock clock;
  CallLog log;
  Cancel never;
  AsParticipant(clock, [&] {
    std::thread parent = clock.StartThread([&] {
      std::thread child = clock.StartThread([&] {
        clock.SleepUntil(At(10'000), never);
        log.Add("child done", VirtualMs(clock));
      });
      clock.JoinThread(child);
      log.Add("parent joined", VirtualMs(clock));
    });
    std::thread other = clock.StartThread([&] {
      clock.SleepUntil(At(4000), never);
      log.Add("other", VirtualMs(clock));
    });
    clock.JoinThread(parent);
    clock.JoinThread(other);
  });
  EXPECT_THAT(log.calls(), UnorderedElementsAre(Call{"other", 4000}, Call{"child done", 10'000},
                                                Call{"parent joined", 10'000}));
}

TEST(VirtualClockDeathTest, AbortsInsteadOfHangingWhenNoOneCanWake) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        VirtualClock clock;
        Cancel never;
        clock.SleepUntil(absl::InfiniteFuture(), never);
      },
      "sleeps forever");
}

}  // namespace
}  // namespace nslab::scenario
