// The service-time histogram's buckets: power-of-two bounds from 1 µs, each inclusive of its
// bound (Prometheus' le), one bucket above them all.
#include "daemon/ustack/node/service_time.h"

#include <gtest/gtest.h>

namespace nslab::ustack::node {
namespace {

using std::chrono::microseconds;
using std::chrono::nanoseconds;

TEST(LatencyHistogram, BucketsAreInclusiveOfTheirBound) {
  EXPECT_EQ(LatencyHistogram::bucket_of(0), 0u);
  EXPECT_EQ(LatencyHistogram::bucket_of(1), 0u);
  EXPECT_EQ(LatencyHistogram::bucket_of(1000), 0u);
  EXPECT_EQ(LatencyHistogram::bucket_of(1001), 1u);
  EXPECT_EQ(LatencyHistogram::bucket_of(2000), 1u);
  EXPECT_EQ(LatencyHistogram::bucket_of(2001), 2u);
  EXPECT_EQ(LatencyHistogram::bucket_of(4000), 2u);
  EXPECT_EQ(LatencyHistogram::bucket_of(4001), 3u);
  for (std::size_t bucket = 0; bucket < LatencyHistogram::kBoundedBuckets; ++bucket) {
    const std::uint64_t bound = LatencyHistogram::bound_ns(bucket);
    EXPECT_EQ(LatencyHistogram::bucket_of(bound), bucket) << bound;
    EXPECT_EQ(LatencyHistogram::bucket_of(bound + 1), bucket + 1) << bound;
  }
  EXPECT_EQ(LatencyHistogram::bound_ns(LatencyHistogram::kBoundedBuckets - 1), 1000ull << 20);
  EXPECT_EQ(LatencyHistogram::bucket_of(~std::uint64_t{0}), LatencyHistogram::kBoundedBuckets);
}

TEST(LatencyHistogram, RecordsCountSumMaxAndBuckets) {
  LatencyHistogram histogram;
  histogram.record(microseconds(3));
  histogram.record(microseconds(3));
  histogram.record(nanoseconds(900));
  histogram.record(std::chrono::seconds(2));
  histogram.record(nanoseconds(-5));  // a clock step back counts as nothing, not as 2^64
  EXPECT_EQ(histogram.count(), 5u);
  EXPECT_EQ(histogram.sum_ns(), 3000u + 3000u + 900u + 2'000'000'000u);
  EXPECT_EQ(histogram.max_ns(), 2'000'000'000u);
  EXPECT_EQ(histogram.bucket_count(0), 2u);  // 900 ns and the negative one
  EXPECT_EQ(histogram.bucket_count(2), 2u);  // 3 µs: (2 µs, 4 µs]
  EXPECT_EQ(histogram.bucket_count(LatencyHistogram::kBoundedBuckets), 1u);
}

}  // namespace
}  // namespace nslab::ustack::node
