// How `nslab ustack stats` reads its service-time histograms: quantiles as the bound of the
// bucket that holds them (never above the largest sample), and a table that says when nothing
// was answered.
#include "client/ustack_print.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace nslab::client {
namespace {

using ::testing::HasSubstr;

nslab::v1::UstackLatencyHistogram Histogram(
    std::initializer_list<std::pair<std::uint64_t, std::uint64_t>> buckets, std::uint64_t max_ns,
    std::uint64_t above = 0) {
  nslab::v1::UstackLatencyHistogram histogram;
  std::uint64_t count = above;
  for (const auto& [le_ns, n] : buckets) {
    auto* bucket = histogram.add_buckets();
    bucket->set_le_ns(le_ns);
    bucket->set_count(n);
    count += n;
  }
  histogram.set_count(count);
  histogram.set_max_ns(max_ns);
  histogram.set_sum_ns(count * 1000);
  histogram.set_above_largest_bound(above);
  return histogram;
}

TEST(LatencyQuantileTest, IsTheBoundOfTheBucketThatHoldsTheRank) {
  // 90 samples at or below 4 µs, 9 at or below 16 µs, 1 at or below 64 µs (max 40 µs).
  const auto histogram = Histogram({{4000, 90}, {16000, 9}, {64000, 1}}, 40000);
  EXPECT_EQ(LatencyQuantileNs(histogram, 0.5), 4000u);
  EXPECT_EQ(LatencyQuantileNs(histogram, 0.9), 4000u);
  EXPECT_EQ(LatencyQuantileNs(histogram, 0.91), 16000u);
  EXPECT_EQ(LatencyQuantileNs(histogram, 0.99), 16000u);
  EXPECT_EQ(LatencyQuantileNs(histogram, 1.0), 40000u);  // the max, below the bucket's bound
}

TEST(LatencyQuantileTest, EmptyIsZeroAndAboveEveryBoundIsTheMax) {
  EXPECT_EQ(LatencyQuantileNs(nslab::v1::UstackLatencyHistogram(), 0.5), 0u);
  const auto histogram = Histogram({{1000, 1}}, 3'000'000'000, /*above=*/3);
  EXPECT_EQ(LatencyQuantileNs(histogram, 0.25), 1000u);
  EXPECT_EQ(LatencyQuantileNs(histogram, 0.5), 3'000'000'000u);
}

TEST(UstackServiceTimesTextTest, PrintsQuantilesAndBucketsAndSaysWhenNothingWasAnswered) {
  nslab::v1::UstackServiceTimes times;
  *times.mutable_answer() = Histogram({{4000, 90}, {16000, 10}}, 12000);
  const std::string text = UstackServiceTimesText(times);
  EXPECT_THAT(text, HasSubstr("handshake (SYN -> SYN-ACK)"));
  EXPECT_THAT(text, HasSubstr("<= 4.0 us"));
  EXPECT_THAT(text, HasSubstr("<= 12.0 us"));  // p99 capped by the max
  EXPECT_THAT(text, HasSubstr("answer (request -> response) buckets: <= 4.0 us: 90, "
                              "<= 16.0 us: 10"));
  EXPECT_THAT(text, ::testing::Not(HasSubstr("handshake (SYN -> SYN-ACK) buckets")));
}

}  // namespace
}  // namespace nslab::client
