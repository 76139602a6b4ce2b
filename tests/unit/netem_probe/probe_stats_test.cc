#include "tests/netem/support/probe_stats.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

namespace nslab::netem {
namespace {

ProbeArrival Arrival(uint32_t seq, int64_t delay_ns, int64_t received_ns = 0) {
  const int64_t received = received_ns != 0 ? received_ns : 1'000'000 * (seq + 1) + delay_ns;
  return ProbeArrival{seq, received - delay_ns, received, 142};
}

TEST(NearestRankTest, PicksTheSmallestValueWithTheFractionAtOrBelowIt) {
  const std::vector<int64_t> sorted = {10, 20, 30, 40, 50, 60, 70, 80, 90, 100};
  EXPECT_EQ(NearestRank(sorted, 0.10), 10);
  EXPECT_EQ(NearestRank(sorted, 0.11), 20);
  EXPECT_EQ(NearestRank(sorted, 0.50), 50);
  EXPECT_EQ(NearestRank(sorted, 0.99), 100);
  EXPECT_EQ(NearestRank(sorted, 1.0), 100);
  EXPECT_EQ(NearestRank({7}, 0.5), 7);
}

TEST(RunLengthsTest, CountsRunsOfLostSequenceNumbersIncludingOneAtTheEnd) {
  //                          0     1     2     3      4     5     6     7     8
  const std::vector<bool> lost = {true, false, true, true, false, true, true, true, false};
  const auto runs = RunLengths(lost);
  EXPECT_EQ(runs, (std::map<uint32_t, uint32_t>{{1, 1}, {2, 1}, {3, 1}}));
  EXPECT_EQ(RunLengths({false, true, true}), (std::map<uint32_t, uint32_t>{{2, 1}}));
  EXPECT_TRUE(RunLengths({false, false}).empty());
}

TEST(Lag1AutocorrelationTest, AlternatingSeriesIsNegativeAndSmoothOnePositive) {
  std::vector<double> alternating;
  std::vector<double> ramp;
  for (int i = 0; i < 1000; ++i) {
    alternating.push_back(i % 2 == 0 ? 1.0 : -1.0);
    ramp.push_back(i);
  }
  EXPECT_NEAR(Lag1Autocorrelation(alternating), -1.0, 0.01);
  EXPECT_NEAR(Lag1Autocorrelation(ramp), 1.0, 0.01);
  EXPECT_EQ(Lag1Autocorrelation({1.0, 1.0, 1.0, 1.0}), 0.0);  // no variance
}

TEST(Lag1AutocorrelationTest, GapsBreakPairsWithoutShrinkingTheEstimate) {
  const double gap = std::numeric_limits<double>::quiet_NaN();
  std::vector<double> series;
  for (int i = 0; i < 1000; ++i) {
    series.push_back(i % 10 == 9 ? gap : static_cast<double>(i / 10));
  }
  // Steps of 1 every ten values over a range of 100: adjacent values nearly equal.
  EXPECT_GT(Lag1Autocorrelation(series), 0.95);
}

TEST(SummarizeTest, CountsLossDuplicatesReordersAndDelays) {
  ProbeRecords records;
  records.sent = 10;
  // Arrival order: 0 1 3 2 3(dup) 4 7 9; lost: 5 6 8.
  records.arrivals = {Arrival(0, 100), Arrival(1, 200), Arrival(3, 400), Arrival(2, 300),
                      Arrival(3, 900), Arrival(4, 500), Arrival(7, 800), Arrival(9, 1000)};
  records.corrupted = 2;
  records.foreign = 1;
  const ProbeStats stats = Summarize(records);
  EXPECT_EQ(stats.delivered, 7u);
  EXPECT_EQ(stats.lost, 3u);
  EXPECT_DOUBLE_EQ(stats.loss_rate, 0.3);
  EXPECT_EQ(stats.loss_bursts, (std::map<uint32_t, uint32_t>{{1, 1}, {2, 1}}));
  EXPECT_EQ(stats.loss_burst_count, 2u);
  EXPECT_DOUBLE_EQ(stats.mean_loss_burst, 1.5);
  EXPECT_EQ(stats.duplicates, 1u);
  EXPECT_EQ(stats.reordered, 1u);  // 2 after 3
  EXPECT_EQ(stats.corrupted, 2u);
  EXPECT_EQ(stats.foreign, 1u);
  // First arrivals' delays: 100 200 300 400 500 800 1000 (the duplicate's 900 is not one).
  EXPECT_EQ(stats.delay.count, 7u);
  EXPECT_NEAR(stats.delay.mean_ns, 3300.0 / 7, 1e-9);
  EXPECT_EQ(stats.delay.min_ns, 100);
  EXPECT_EQ(stats.delay.p50_ns, 400);
  EXPECT_EQ(stats.delay.max_ns, 1000);
  const double mean = 3300.0 / 7;
  double squares = 0;
  for (double d : {100, 200, 300, 400, 500, 800, 1000}) {
    squares += (d - mean) * (d - mean);
  }
  EXPECT_NEAR(stats.delay.stddev_ns, std::sqrt(squares / 6), 1e-9);
}

TEST(SummarizeTest, ThroughputCountsTheFramesAfterTheFirstOverTheirSpan) {
  ProbeRecords records;
  records.sent = 5;
  for (uint32_t seq = 0; seq < 5; ++seq) {
    // 1000-byte frames, one per millisecond: 8 Mbit/s.
    records.arrivals.push_back(ProbeArrival{seq, 0, 1'000'000 * (seq + 1), 1000});
  }
  EXPECT_DOUBLE_EQ(Summarize(records).throughput_bps, 8e6);
}

TEST(WindowThroughputsTest, OneRatePerCompleteWindowOfFirstArrivals) {
  ProbeRecords records;
  records.sent = 8;
  // 1000-byte frames: 1 ms apart for the first window, 2 ms apart after; seq 2 twice.
  const int64_t times[] = {0, 1, 2, 3, 5, 7, 9, 11};
  for (uint32_t seq = 0; seq < 8; ++seq) {
    records.arrivals.push_back(ProbeArrival{seq, 0, times[seq] * 1'000'000, 1000});
    if (seq == 2) {
      records.arrivals.push_back(ProbeArrival{seq, 0, times[seq] * 1'000'000 + 1, 1000});
    }
  }
  // Windows of 3: arrivals 0..3 (3 frames in 3 ms), 3..6 (3 frames in 6 ms); 6..9 incomplete.
  EXPECT_EQ(WindowThroughputs(records, 3), (std::vector<double>{8e6, 4e6}));
  EXPECT_EQ(Median({3, 1, 2}), 2);
  EXPECT_EQ(Median({4, 1, 3, 2}), 2);
  EXPECT_EQ(Median({}), 0);
}

TEST(SummarizeTest, IgnoresSequenceNumbersBeyondTheRun) {
  ProbeRecords records;
  records.sent = 2;
  records.arrivals = {Arrival(0, 5), Arrival(7, 5)};
  const ProbeStats stats = Summarize(records);
  EXPECT_EQ(stats.delivered, 1u);
  EXPECT_EQ(stats.lost, 1u);
  EXPECT_EQ(stats.loss_bursts, (std::map<uint32_t, uint32_t>{{1, 1}}));
}

TEST(SummarizeTest, NothingSentIsNothingLost) {
  const ProbeStats stats = Summarize(ProbeRecords{});
  EXPECT_EQ(stats.loss_rate, 0);
  EXPECT_EQ(stats.delay.count, 0u);
  EXPECT_EQ(stats.throughput_bps, 0);
}

}  // namespace
}  // namespace nslab::netem
