// The nftables text of flow-scoped impairments on a veth (classifier and loss table), and the
// plan that decides which of them a direction needs.
#include "daemon/impair/kernel/flow_rules.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "daemon/impair/flow_match.h"
#include "daemon/impair/kernel/kernel_plan.h"

namespace nslab::impair::kernel {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

nslab::v1::FlowMatch Match(const char* text) {
  absl::StatusOr<nslab::v1::FlowMatch> match = ParseFlowMatch(text);
  EXPECT_TRUE(match.ok()) << text << ": " << match.status();
  return match.ok() ? *match : nslab::v1::FlowMatch();
}

std::vector<std::string> Conditions(const char* text) {
  absl::StatusOr<std::vector<std::string>> conditions = FlowMatchConditions(Match(text));
  EXPECT_TRUE(conditions.ok()) << conditions.status();
  return conditions.ok() ? *conditions : std::vector<std::string>{};
}

TEST(FlowMatchConditionsTest, PortsWithoutAFamilyGiveOneRulePerFamilyWithoutFragments) {
  // nft reads the ports of a first fragment; the wire's matcher reads none of any fragment.
  EXPECT_THAT(Conditions("tcp dport 5432"),
              ElementsAre("meta protocol ip ip frag-off & 0x3fff == 0 meta l4proto tcp tcp dport "
                          "5432",
                          "meta protocol ip6 exthdr frag missing meta l4proto tcp tcp dport 5432"));
  EXPECT_THAT(Conditions("udp sport 53-60 dport 9000"),
              ElementsAre(HasSubstr("meta l4proto udp udp sport 53-60 udp dport 9000"),
                          HasSubstr("meta l4proto udp udp sport 53-60 udp dport 9000")));
}

TEST(FlowMatchConditionsTest, AddressesAndIcmpFixTheFamily) {
  EXPECT_THAT(Conditions("ip saddr 10.1.0.0/16 ip daddr 10.2.0.1 sctp dport 9"),
              ElementsAre("meta protocol ip ip frag-off & 0x3fff == 0 ip saddr 10.1.0.0/16 ip "
                          "daddr 10.2.0.1 meta l4proto sctp sctp dport 9"));
  EXPECT_THAT(Conditions("ip6 daddr fd00::/64"),
              ElementsAre("meta protocol ip6 ip6 daddr fd00::/64"));
  EXPECT_THAT(Conditions("icmp"), ElementsAre("meta protocol ip meta l4proto icmp"));
  EXPECT_THAT(Conditions("icmpv6"), ElementsAre("meta protocol ip6 meta l4proto ipv6-icmp"));
  // No ports: fragments match as on the wire, and either family in one rule.
  EXPECT_THAT(Conditions("udp"), ElementsAre("meta l4proto udp"));
}

TEST(FlowMatchConditionsTest, TheEmptyMatchIsEveryFrameAndABadOneIsRefused) {
  absl::StatusOr<std::vector<std::string>> all = FlowMatchConditions(nslab::v1::FlowMatch());
  ASSERT_TRUE(all.ok());
  EXPECT_THAT(*all, ElementsAre(""));
  nslab::v1::FlowMatch bad;
  bad.set_protocol("tcp");
  bad.mutable_destination_port()->set_first(70000);
  EXPECT_EQ(FlowMatchConditions(bad).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(FlowClassifierTest, FirstMatchWinsAndEveryOtherFrameGetsTheDefault) {
  const std::vector<KernelFlowRule> flows = {{Match("tcp dport 5001"), 0x4e530001, 0},
                                             {Match("icmp"), 0x4e530000, 0}};
  absl::StatusOr<std::string> text = RenderFlowClassifierRuleset("eth0", flows, 0x4e53007f);
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_EQ(*text,
            "add table netdev nslab_flows_eth0\n"
            "delete table netdev nslab_flows_eth0\n"
            "table netdev nslab_flows_eth0 {\n"
            "\tchain flow_0 {\n"
            "\t\tcounter meta priority set 4e53:1 accept\n"
            "\t}\n"
            "\tchain flow_1 {\n"
            "\t\tcounter meta priority set 4e53:0 accept\n"
            "\t}\n"
            "\tchain egress_flows {\n"
            "\t\ttype filter hook egress device \"eth0\" priority -500; policy accept;\n"
            "\t\tmeta protocol ip ip frag-off & 0x3fff == 0 meta l4proto tcp tcp dport 5001 jump "
            "flow_0\n"
            "\t\tmeta protocol ip6 exthdr frag missing meta l4proto tcp tcp dport 5001 jump "
            "flow_0\n"
            "\t\tmeta protocol ip meta l4proto icmp jump flow_1\n"
            "\t\tmeta priority set 4e53:7f\n"
            "\t}\n"
            "}\n");
  EXPECT_EQ(*RenderFlowClassifierRemoval("eth0"),
            "add table netdev nslab_flows_eth0\ndelete table netdev nslab_flows_eth0\n");
  EXPECT_EQ(RenderFlowClassifierRuleset("bad name", flows, 0).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(IngressFlowLossTest, EachFlowDropsItsShareAndShieldsItsFramesFromLaterRules) {
  const std::vector<KernelFlowRule> flows = {{Match("udp dport 9000"), 0, 20},
                                             {Match("tcp"), 0, 0}};
  absl::StatusOr<std::string> text = RenderIngressFlowLossRuleset("veth1", flows, 5);
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_EQ(*text,
            "add table netdev nslab_impair_veth1\n"
            "delete table netdev nslab_impair_veth1\n"
            "table netdev nslab_impair_veth1 {\n"
            "\tchain flow_0 {\n"
            "\t\tcounter\n"
            "\t\tnumgen random mod 1000000 < 200000 counter drop comment \"nslab: loss 20%\"\n"
            "\t\taccept\n"
            "\t}\n"
            "\tchain flow_1 {\n"
            "\t\tcounter\n"
            "\t\taccept\n"
            "\t}\n"
            "\tchain ingress_loss {\n"
            "\t\ttype filter hook ingress device \"veth1\" priority -500; policy accept;\n"
            "\t\tmeta protocol ip ip frag-off & 0x3fff == 0 meta l4proto udp udp dport 9000 jump "
            "flow_0\n"
            "\t\tmeta protocol ip6 exthdr frag missing meta l4proto udp udp dport 9000 jump "
            "flow_0\n"
            "\t\tmeta l4proto tcp jump flow_1\n"
            "\t\tnumgen random mod 1000000 < 50000 counter drop comment \"nslab: loss 5%\"\n"
            "\t}\n"
            "}\n");
  // Without a loss of its own the link drops nothing of the rest.
  EXPECT_THAT(*RenderIngressFlowLossRuleset("veth1", flows, 0), Not(HasSubstr("< 50000")));
  EXPECT_EQ(RenderIngressFlowLossRuleset("veth1", {{Match("udp"), 0, 0.00001}}, 0).status().code(),
            absl::StatusCode::kInvalidArgument);
}

nslab::v1::Impairment Rate(uint64_t bps) {
  nslab::v1::Impairment impairment;
  impairment.set_rate_bps(bps);
  return impairment;
}

nslab::v1::Impairment Loss(double percent) {
  nslab::v1::Impairment impairment;
  impairment.set_loss(percent);
  return impairment;
}

TEST(PlanKernelFlowsTest, ARateNeedsTheTreeAndLossWithoutNetemTheIngressTable) {
  const KernelFeatures no_netem{.tbf = true, .htb = true, .nft_egress = true};
  absl::StatusOr<KernelFlowsPlan> plan =
      PlanKernelFlows({}, {{Match("tcp dport 5001"), Rate(8'000'000), ""}}, no_netem, 1500);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_TRUE(plan->egress_tree);
  EXPECT_FALSE(plan->ingress_loss);
  ASSERT_EQ(plan->flows.size(), 1u);
  EXPECT_EQ(plan->flows[0].root, RootQdisc::kTbf);
  EXPECT_EQ(plan->flows[0].tbf.rate_bytes_per_s, 1'000'000u);

  plan = PlanKernelFlows({}, {{Match("udp dport 9000"), Loss(20), ""}}, no_netem, 1500);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_FALSE(plan->egress_tree);
  EXPECT_TRUE(plan->ingress_loss);
  EXPECT_EQ(plan->flows[0].ingress_loss_percent, 20);

  // The link's own rate needs the tree too, so that a flow passing untouched escapes it.
  plan = PlanKernelFlows(Rate(1'000'000), {{Match("udp"), {}, ""}}, no_netem, 1500);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_TRUE(plan->egress_tree);
  EXPECT_EQ(plan->link.root, RootQdisc::kTbf);
  EXPECT_EQ(plan->flows[0].root, RootQdisc::kNone);
}

TEST(PlanKernelFlowsTest, WhatTheKernelCannotDoNamesTheFlowAndSaysUseAWire) {
  const KernelFeatures no_netem{.tbf = true, .htb = true, .nft_egress = true};
  nslab::v1::Impairment delay;
  delay.set_delay_us(10'000);
  absl::StatusOr<KernelFlowsPlan> plan = PlanKernelFlows(
      {}, {{Match("udp"), Loss(1), ""}, {Match("tcp dport 80"), delay, ""}}, no_netem, 1500);
  EXPECT_EQ(plan.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(plan.status().message(), HasSubstr("flow \"tcp dport 80\": kernel has no sch_netem"));
  EXPECT_THAT(plan.status().message(), HasSubstr("use mode: wire"));

  const KernelFeatures no_egress{.tbf = true, .htb = true, .nft_egress = false};
  plan = PlanKernelFlows({},
                         {{Match("udp"), Loss(1), "links[0].flows[0]"},
                          {Match("tcp dport 80"), Rate(8'000'000), "links[0].flows[1]"}},
                         no_egress, 1500);
  EXPECT_EQ(plan.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(plan.status().message(), HasSubstr("links[0].flows[1]: "));
  EXPECT_THAT(plan.status().message(), HasSubstr("no netdev egress hook; use mode: wire"));
  // Loss alone needs neither.
  EXPECT_TRUE(PlanKernelFlows({}, {{Match("udp"), Loss(1), ""}}, no_egress, 1500).ok());

  nslab::v1::Impairment bad = Rate(8'000'000);
  bad.set_burst_bytes(100);  // below one frame
  plan = PlanKernelFlows({}, {{Match("udp"), bad, ""}}, no_netem, 1500);
  EXPECT_EQ(plan.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(plan.status().message(), HasSubstr("flow \"udp\": burst_bytes"));
}

}  // namespace
}  // namespace nslab::impair::kernel
