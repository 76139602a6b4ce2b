#include "daemon/impair/token_bucket.h"

#include "gtest/gtest.h"

namespace nslab::impair {
namespace {

constexpr int64_t kMs = 1'000'000;

TEST(TokenBucketTest, DisabledPassesThrough) {
  TokenBucket bucket;
  EXPECT_FALSE(bucket.enabled());
  EXPECT_EQ(bucket.Depart(123, 1500), 123);
}

TEST(TokenBucketTest, BackToBackFramesLeaveAtSerializationTimes) {
  // 1000 bytes at 8 Mbit/s take exactly 1 ms each.
  TokenBucket bucket(8'000'000, 0);
  const int64_t t0 = 5 * kMs;
  for (int k = 1; k <= 10; ++k) {
    EXPECT_EQ(bucket.Depart(t0, 1000), t0 + k * kMs) << "frame " << k;
  }
}

TEST(TokenBucketTest, FractionalTimesDoNotDrift) {
  // 100 bytes at 3 Mbit/s take 266666.67 ns: frame k leaves at ceil(k * 800e9 / 3e6) ns after
  // the start, not k * 266667 (per-frame rounding would drift by 1/3 ns a frame).
  TokenBucket bucket(3'000'000, 0);
  for (int64_t k = 1; k <= 3000; ++k) {
    const int64_t expected = (k * 800'000'000'000LL + 3'000'000 - 1) / 3'000'000;
    ASSERT_EQ(bucket.Depart(0, 100), expected) << "frame " << k;
  }
}

TEST(TokenBucketTest, IdleLinkStartsAfresh) {
  TokenBucket bucket(8'000'000, 0);
  EXPECT_EQ(bucket.Depart(0, 1000), 1 * kMs);
  EXPECT_EQ(bucket.Depart(10 * kMs, 1000), 11 * kMs);
  // Ready while the previous frame is still on the link: waits for it.
  EXPECT_EQ(bucket.Depart(10 * kMs + 1, 500), 11 * kMs + kMs / 2);
}

TEST(TokenBucketTest, BurstLeavesAtOnceThenRateApplies) {
  TokenBucket bucket(8'000'000, 3000);  // 1 ms per 1000 bytes, 3000-byte bucket
  EXPECT_EQ(bucket.Depart(0, 1000), 0);
  EXPECT_EQ(bucket.Depart(0, 1000), 0);
  EXPECT_EQ(bucket.Depart(0, 1000), 0);
  EXPECT_EQ(bucket.Depart(0, 1000), 1 * kMs);
  EXPECT_EQ(bucket.Depart(0, 1000), 2 * kMs);
  // After 10 ms idle the bucket is full again (3000, not 10000 bytes).
  EXPECT_EQ(bucket.Depart(12 * kMs, 3000), 12 * kMs);
  EXPECT_EQ(bucket.Depart(12 * kMs, 1000), 13 * kMs);
}

TEST(TokenBucketTest, FrameLargerThanBurstWaitsForItsSize) {
  TokenBucket bucket(8'000'000, 1000);
  EXPECT_EQ(bucket.Depart(0, 1500), kMs / 2);  // 1000 bytes in hand, 500 more to wait for
}

TEST(TokenBucketTest, RateChangeKeepsOrder) {
  TokenBucket bucket(8'000'000, 0);
  EXPECT_EQ(bucket.Depart(0, 1000), 1 * kMs);
  bucket.Reconfigure(80'000'000, 0);  // ten times faster
  // Still queued behind the frame that leaves at 1 ms.
  EXPECT_EQ(bucket.Depart(0, 1000), 1 * kMs + kMs / 10);
}

TEST(TokenBucketTest, ResetForgetsTheBusyLink) {
  TokenBucket bucket(8'000'000, 0);
  EXPECT_EQ(bucket.Depart(0, 10'000), 10 * kMs);
  bucket.Reset();
  EXPECT_EQ(bucket.Depart(2 * kMs, 1000), 3 * kMs);
}

}  // namespace
}  // namespace nslab::impair
