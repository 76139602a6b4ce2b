#include "daemon/topology/units.h"

#include <gtest/gtest.h>

namespace nslab::topology {
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

}  // namespace
}  // namespace nslab::topology
