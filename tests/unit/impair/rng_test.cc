#include "daemon/impair/rng.h"

#include <set>

#include "gtest/gtest.h"

namespace nslab::impair {
namespace {

TEST(RngTest, MatchesXoshiro256StarStarReference) {
  // Outputs of the reference xoshiro256starstar.c from state {1, 2, 3, 4}.
  Rng rng(std::array<uint64_t, 4>{1, 2, 3, 4});
  EXPECT_EQ(rng.Next64(), 11520u);
  EXPECT_EQ(rng.Next64(), 0u);
  EXPECT_EQ(rng.Next64(), 1509978240u);
  EXPECT_EQ(rng.Next64(), 1215971899390074240u);
}

TEST(RngTest, SplitMix64MatchesReference) {
  uint64_t state = 0;
  EXPECT_EQ(SplitMix64(state), 0xe220a8397b1dcdafULL);
  EXPECT_EQ(SplitMix64(state), 0x6e789e6aa1b965f4ULL);
}

TEST(RngTest, Fnv1a64MatchesReference) {
  EXPECT_EQ(Fnv1a64(""), 0xcbf29ce484222325ULL);
  EXPECT_EQ(Fnv1a64("a"), 0xaf63dc4c8601ec8cULL);
  EXPECT_EQ(Fnv1a64("foobar"), 0x85944171f73967e8ULL);
}

TEST(RngTest, SeedForIsPinned) {
  // Pinned: changing the derivation changes every lab's fates, which users can see.
  EXPECT_EQ(SeedFor(42, "client:eth0-gw:lan0", Direction::kAToB), 0x7ca5208efc5f8637ULL);
}

TEST(RngTest, SeedForSeparatesSeedsLinksAndDirections) {
  std::set<uint64_t> seeds;
  for (uint64_t lab_seed : {0, 1, 42}) {
    for (const char* link : {"a:eth0-b:eth0", "a:eth1-b:eth1", ""}) {
      for (Direction direction : {Direction::kAToB, Direction::kBToA}) {
        seeds.insert(SeedFor(lab_seed, link, direction));
      }
    }
  }
  EXPECT_EQ(seeds.size(), 3u * 3u * 2u);
}

TEST(RngTest, SameSeedSameStream) {
  Rng a(7);
  Rng b(7);
  Rng c(8);
  bool differs = false;
  for (int i = 0; i < 100; ++i) {
    const uint64_t x = a.Next64();
    EXPECT_EQ(x, b.Next64());
    differs |= x != c.Next64();
  }
  EXPECT_TRUE(differs);
}

TEST(RngTest, BelowStaysInRange) {
  Rng rng(1);
  std::set<uint32_t> seen;
  for (int i = 0; i < 10000; ++i) {
    const uint32_t v = rng.Below(8);
    ASSERT_LT(v, 8u);
    seen.insert(v);
  }
  EXPECT_EQ(seen.size(), 8u);
}

}  // namespace
}  // namespace nslab::impair
