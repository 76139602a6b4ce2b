#include "daemon/nft/ruleset_listing.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace nslab::nft {
namespace {

// `nft -a list ruleset` as nftables 1.0.6 prints it.
constexpr char kListing[] = R"(table inet filter { # handle 1
	set blocked { # handle 3
		type ipv4_addr
		elements = { 10.0.0.9 }
	}

	chain input { # handle 1
		type filter hook input priority filter; policy accept;
		ip saddr @blocked counter packets 12 bytes 1008 drop # handle 4
		tcp dport 22 accept # handle 5
	}
}
table ip nat { # handle 2
	chain post { # handle 1
		type nat hook postrouting priority srcnat; policy accept;
		oifname "wan0" masquerade # handle 2
	}
}
)";

TEST(ParseRulesetListing, RulesWithCountersAndHandles) {
  auto rules = ParseRulesetListing(kListing);
  ASSERT_EQ(rules.size(), 3u);
  EXPECT_EQ(rules[0].family, "inet");
  EXPECT_EQ(rules[0].table, "filter");
  EXPECT_EQ(rules[0].chain, "input");
  EXPECT_EQ(rules[0].handle, 4u);
  EXPECT_TRUE(rules[0].has_counter);
  EXPECT_EQ(rules[0].packets, 12u);
  EXPECT_EQ(rules[0].bytes, 1008u);
  EXPECT_EQ(rules[0].text, "ip saddr @blocked drop");
  EXPECT_FALSE(rules[1].has_counter);
  EXPECT_EQ(rules[1].text, "tcp dport 22 accept");
  EXPECT_EQ(rules[2].table, "nat");
  EXPECT_EQ(rules[2].text, "oifname \"wan0\" masquerade");
}

TEST(ParseRulesetListing, ARuleThatOnlyCountsShowsItsStatement) {
  auto rules = ParseRulesetListing(R"(table inet t { # handle 7
	chain c { # handle 1
		type filter hook input priority filter; policy accept;
		counter packets 3 bytes 252 # handle 2
		iifname "eth0" counter packets 0 bytes 0 # handle 3
	}
}
)");
  ASSERT_EQ(rules.size(), 2u);
  EXPECT_EQ(rules[0].text, "counter");
  EXPECT_TRUE(rules[0].has_counter);
  EXPECT_EQ(rules[0].packets, 3u);
  EXPECT_EQ(rules[0].bytes, 252u);
  EXPECT_EQ(rules[1].text, "iifname \"eth0\"");
  EXPECT_EQ(rules[1].handle, 3u);
}

TEST(TablesIn, FamilyAndName) {
  EXPECT_THAT(TablesIn(kListing), ::testing::ElementsAre("inet filter", "ip nat"));
  EXPECT_TRUE(TablesIn("").empty());
}

}  // namespace
}  // namespace nslab::nft
