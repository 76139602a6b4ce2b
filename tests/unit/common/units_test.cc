#include "daemon/common/units.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

namespace nslab {
namespace {

TEST(ParseDurationUs, AcceptsTcSpellings) {
  EXPECT_EQ(*ParseDurationUs("40ms"), 40'000u);
  EXPECT_EQ(*ParseDurationUs("500us"), 500u);
  EXPECT_EQ(*ParseDurationUs("1.5s"), 1'500'000u);
  EXPECT_EQ(*ParseDurationUs("2m"), 120'000'000u);
  EXPECT_EQ(*ParseDurationUs("10"), 10'000u);  // bare numbers are milliseconds
  EXPECT_EQ(*ParseDurationUs(" 5 ms "), 5'000u);
}

TEST(ParseDurationUs, RejectsWithAnExample) {
  auto bad = ParseDurationUs("fast");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("e.g."), absl::string_view::npos);
  EXPECT_FALSE(ParseDurationUs("10parsecs").ok());
  EXPECT_FALSE(ParseDurationUs("").ok());
  EXPECT_FALSE(ParseDurationUs("-5ms").ok());
}

TEST(ParsePercent, RangeAndForms) {
  EXPECT_DOUBLE_EQ(*ParsePercent("1%"), 1.0);
  EXPECT_DOUBLE_EQ(*ParsePercent("0.5%"), 0.5);
  EXPECT_DOUBLE_EQ(*ParsePercent("25"), 25.0);
  EXPECT_FALSE(ParsePercent("101%").ok());
  EXPECT_FALSE(ParsePercent("5x").ok());
}

TEST(ParseRateBps, BitsAndBytes) {
  EXPECT_EQ(*ParseRateBps("20mbit"), 20'000'000u);
  EXPECT_EQ(*ParseRateBps("512kbit"), 512'000u);
  EXPECT_EQ(*ParseRateBps("1gbit"), 1'000'000'000u);
  EXPECT_EQ(*ParseRateBps("1mbps"), 8'000'000u);  // tc: bps is bytes per second
  EXPECT_FALSE(ParseRateBps("fast").ok());
}

TEST(ParseRateBps, WholeNumbersAreExactUpToTheLargestUint64) {
  // Through a double, 2^53 + 1 would come back as 2^53.
  EXPECT_EQ(*ParseRateBps("9007199254740993bit"), 9'007'199'254'740'993u);
  EXPECT_EQ(*ParseRateBps("18446744073709551615"), 18'446'744'073'709'551'615u);
  EXPECT_EQ(*ParseRateBps("18446744073709551kbit"), 18'446'744'073'709'551'000u);
  EXPECT_FALSE(ParseRateBps("18446744073709551616").ok());
  EXPECT_FALSE(ParseRateBps("18446744073709552kbit").ok());
  EXPECT_EQ(*ParseRateBps("1.5kbit"), 1'500u);  // a fraction still scales
}

TEST(ParseSizeBytes, Units) {
  EXPECT_EQ(*ParseSizeBytes("32kb"), 32u * 1024);
  EXPECT_EQ(*ParseSizeBytes("1500b"), 1500u);
  EXPECT_EQ(*ParseSizeBytes("1mb"), 1u << 20);
  EXPECT_FALSE(ParseSizeBytes("1zb").ok());
}

TEST(FormatUnits, LargestExactUnit) {
  EXPECT_EQ(FormatDurationUs(40'000), "40ms");
  EXPECT_EQ(FormatDurationUs(1'500'000), "1500ms");
  EXPECT_EQ(FormatDurationUs(2'000'000), "2s");
  EXPECT_EQ(FormatDurationUs(7), "7us");
  EXPECT_EQ(FormatDurationSeconds(600), "10m");
  EXPECT_EQ(FormatDurationSeconds(7200), "2h");
  EXPECT_EQ(FormatDurationSeconds(61), "61s");
  EXPECT_EQ(FormatRateBps(20'000'000), "20mbit");
  EXPECT_EQ(FormatRateBps(1'500), "1500bit");
  EXPECT_EQ(FormatSizeBytes(32 * 1024), "32kb");
  EXPECT_EQ(FormatSizeBytes(1500), "1500b");
  EXPECT_EQ(FormatPercent(1), "1%");
  EXPECT_EQ(FormatPercent(0.1), "0.1%");
  EXPECT_EQ(FormatPercent(100.0 / 3), "33.333333333333336%");
}

TEST(FormatUnits, ReadBackExactly) {
  std::mt19937_64 rng(7);
  std::vector<uint64_t> values = {
      0,          1,         999, 1000, 1001, 59, 60, 3599, 3600, 1 << 20, (uint64_t{1} << 53) + 1,
      UINT32_MAX, UINT64_MAX};
  for (int i = 0; i < 2000; ++i) {
    values.push_back(rng() >> (rng() % 64));
    values.push_back((rng() % 100000) * 1'000'000);
  }
  for (uint64_t value : values) {
    EXPECT_EQ(*ParseRateBps(FormatRateBps(value)), value) << FormatRateBps(value);
    EXPECT_EQ(*ParseSizeBytes(FormatSizeBytes(value)), value) << FormatSizeBytes(value);
    if (value <= UINT32_MAX) {  // what the proto holds
      EXPECT_EQ(*ParseDurationUs(FormatDurationUs(value)), value) << FormatDurationUs(value);
      EXPECT_EQ(*ParseDurationUs(FormatDurationSeconds(value)), value * 1'000'000)
          << FormatDurationSeconds(value);
    }
  }
  std::vector<double> percents = {0, 5e-324, 1e-300, 1e-7, 0.1, 99.99999999999999, 100};
  for (int i = 0; i < 2000; ++i) {
    percents.push_back(static_cast<double>(rng() >> 11) * 0x1.0p-53 * 100);
  }
  for (double percent : percents) {
    EXPECT_EQ(*ParsePercent(FormatPercent(percent)), percent) << FormatPercent(percent);
  }
}

}  // namespace
}  // namespace nslab
