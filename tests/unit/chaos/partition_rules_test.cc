#include "daemon/chaos/partition_rules.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace nslab::chaos {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(PartitionRules, DropIsSilentOnInputAndForward) {
  const std::string rules = RenderPartitionRules({"10.0.0.2", "fd00::2"}, /*reject=*/false);
  EXPECT_THAT(rules, HasSubstr("hook input"));
  EXPECT_THAT(rules, HasSubstr("hook forward"));
  EXPECT_THAT(rules, HasSubstr("ip saddr { 10.0.0.2 } drop"));
  EXPECT_THAT(rules, HasSubstr("ip6 saddr { fd00::2 } drop"));
  EXPECT_THAT(rules, Not(HasSubstr("reject")));
}

TEST(PartitionRules, RejectLetsThePeersAnswersThrough) {
  const std::string rules = RenderPartitionRules({"10.0.0.2"}, /*reject=*/true);
  const size_t rst = rules.find("tcp flags & rst == rst accept");
  const size_t reset = rules.find("reject with tcp reset");
  ASSERT_NE(rst, std::string::npos);
  ASSERT_NE(reset, std::string::npos);
  EXPECT_LT(rst, reset);
  EXPECT_THAT(rules, HasSubstr("icmp type destination-unreachable accept"));
}

TEST(PartitionRules, ReplacesAndHealsOnlyItsOwnTable) {
  EXPECT_EQ(RenderHeal(), "table inet nslab_partition {}\ndelete table inet nslab_partition\n");
  EXPECT_THAT(RenderPartitionRules({"10.0.0.2"}, false),
              ::testing::StartsWith(RenderHeal() + "table inet nslab_partition {"));
}

}  // namespace
}  // namespace nslab::chaos
