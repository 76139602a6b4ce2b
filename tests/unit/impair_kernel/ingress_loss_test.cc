// The nftables text for loss without netem.
#include "daemon/impair/kernel/ingress_loss.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

namespace nslab::impair::kernel {
namespace {

using ::testing::HasSubstr;

TEST(IngressLossTest, RendersOneTableReplacedInOneTransaction) {
  absl::StatusOr<std::string> text = RenderIngressLossRuleset("eth0", 10);
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_EQ(*text,
            "add table netdev nslab_impair_eth0\n"
            "delete table netdev nslab_impair_eth0\n"
            "table netdev nslab_impair_eth0 {\n"
            "\tchain ingress_loss {\n"
            "\t\ttype filter hook ingress device \"eth0\" priority -500; policy accept;\n"
            "\t\tnumgen random mod 1000000 < 100000 counter drop comment \"nslab: loss 10%\"\n"
            "\t}\n"
            "}\n");
}

TEST(IngressLossTest, ResolutionIsOneInAMillion) {
  EXPECT_THAT(*RenderIngressLossRuleset("eth0", 0.1), HasSubstr("mod 1000000 < 1000 "));
  EXPECT_THAT(*RenderIngressLossRuleset("eth0", 0.0001), HasSubstr("mod 1000000 < 1 "));
  EXPECT_THAT(*RenderIngressLossRuleset("eth0", 100), HasSubstr("mod 1000000 < 1000000 "));
  EXPECT_EQ(RenderIngressLossRuleset("eth0", 0.00001).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(IngressLossTest, RefusesLossOutOfRange) {
  for (double loss : {0.0, -1.0, 100.5, std::nan("")}) {
    EXPECT_EQ(RenderIngressLossRuleset("eth0", loss).status().code(),
              absl::StatusCode::kInvalidArgument)
        << loss;
  }
}

TEST(IngressLossTest, InterfaceNamesNftCanCarry) {
  EXPECT_THAT(*RenderIngressLossRuleset("veth-a.1_b", 1),
              HasSubstr("table netdev nslab_impair_veth-a.1_b {"));
  for (const char* name : {"", "sixteen-chars-xx", "eth 0", "eth\"0", "a/b", "eth@0"}) {
    EXPECT_EQ(RenderIngressLossRuleset(name, 1).status().code(), absl::StatusCode::kInvalidArgument)
        << name;
  }
}

TEST(IngressLossTest, RemovalWorksWhetherOrNotTheTableExists) {
  EXPECT_EQ(*RenderIngressLossRemoval("eth0"),
            "add table netdev nslab_impair_eth0\n"
            "delete table netdev nslab_impair_eth0\n");
  EXPECT_EQ(IngressLossTableName("eth0"), "nslab_impair_eth0");
}

}  // namespace
}  // namespace nslab::impair::kernel
