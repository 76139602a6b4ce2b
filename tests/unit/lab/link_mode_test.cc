#include "daemon/lab/link_mode.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace nslab::lab {
namespace {

using ::testing::HasSubstr;

constexpr impair::kernel::KernelFeatures kNoNetem{.netem = false, .tbf = true};
constexpr impair::kernel::KernelFeatures kNetem{.netem = true, .tbf = true};

TEST(ChooseLinkModeTest, AnExplicitModeIsKept) {
  nslab::v1::Link link;
  link.set_mode(nslab::v1::LINK_MODE_VETH);
  link.mutable_impair()->set_delay_us(1000);  // refused later, when the veth is impaired
  EXPECT_EQ(ChooseLinkMode(link, kNoNetem).mode, nslab::v1::LINK_MODE_VETH);
  link.set_mode(nslab::v1::LINK_MODE_WIRE);
  const LinkModeChoice choice = ChooseLinkMode(link, kNetem);
  EXPECT_EQ(choice.mode, nslab::v1::LINK_MODE_WIRE);
  EXPECT_THAT(choice.reason, HasSubstr("mode: wire"));
}

TEST(ChooseLinkModeTest, AutoIsAVethWhenTheKernelCanDoIt) {
  nslab::v1::Link link;
  EXPECT_EQ(ChooseLinkMode(link, kNoNetem).mode, nslab::v1::LINK_MODE_VETH);
  EXPECT_THAT(ChooseLinkMode(link, kNoNetem).reason, HasSubstr("no impairment"));
  link.mutable_impair()->set_rate_bps(10'000'000);
  link.mutable_a_to_b()->set_loss(1);
  EXPECT_EQ(ChooseLinkMode(link, kNoNetem).mode, nslab::v1::LINK_MODE_VETH);
  link.mutable_b_to_a()->set_delay_us(20'000);
  EXPECT_EQ(ChooseLinkMode(link, kNetem).mode, nslab::v1::LINK_MODE_VETH);
}

TEST(ChooseLinkModeTest, AutoIsAWireWhenOneDirectionAsksForWhatTheKernelCannot) {
  nslab::v1::Link link;
  link.mutable_b_to_a()->set_delay_us(20'000);
  link.mutable_b_to_a()->set_duplicate(1);
  const LinkModeChoice choice = ChooseLinkMode(link, kNoNetem);
  EXPECT_EQ(choice.mode, nslab::v1::LINK_MODE_WIRE);
  EXPECT_THAT(choice.reason, HasSubstr("delay_us"));
  EXPECT_THAT(choice.reason, HasSubstr("duplicate"));
  EXPECT_THAT(choice.reason, HasSubstr("no sch_netem"));
  link.Clear();
  link.mutable_impair()->set_trace_file("cell.trace");  // the wire's alone, netem or not
  EXPECT_EQ(ChooseLinkMode(link, kNetem).mode, nslab::v1::LINK_MODE_WIRE);
}

}  // namespace
}  // namespace nslab::lab
