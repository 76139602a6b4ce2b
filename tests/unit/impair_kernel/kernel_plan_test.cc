// Which qdiscs (and which receiving-end drop) the kernel backend chooses, and its errors.
#include "daemon/impair/kernel/kernel_plan.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <variant>

namespace nslab::impair::kernel {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr KernelFeatures kNoNetem{.netem = false, .tbf = true};
constexpr KernelFeatures kAll{.netem = true, .tbf = true};
constexpr uint32_t kMtu = 1500;

TEST(KernelPlanTest, RateAloneIsTbfAtTheRoot) {
  nslab::v1::Impairment impairment;
  impairment.set_rate_bps(10'000'000);
  for (const KernelFeatures& features : {kNoNetem, kAll}) {
    absl::StatusOr<KernelPlan> plan = PlanKernelImpairment(impairment, features, kMtu);
    ASSERT_TRUE(plan.ok()) << plan.status();
    EXPECT_EQ(plan->root, RootQdisc::kTbf);
    EXPECT_EQ(plan->tbf.rate_bytes_per_s, 1'250'000u);
    // 4 ms of traffic.
    EXPECT_EQ(plan->tbf.burst_bytes, 5'000u);
    // 50 ms of traffic behind the bucket.
    EXPECT_EQ(plan->tbf.limit_bytes, 62'500u + 5'000u);
    EXPECT_EQ(plan->pfifo_limit_packets, 0u);
    EXPECT_EQ(plan->ingress_loss_percent, 0);
  }
}

TEST(KernelPlanTest, DefaultBurstIsAtLeastTwoFullFrames) {
  nslab::v1::Impairment impairment;
  impairment.set_rate_bps(1'000'000);  // 4 ms would be 500 bytes
  absl::StatusOr<KernelPlan> plan = PlanKernelImpairment(impairment, kNoNetem, kMtu);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->tbf.burst_bytes, 2u * 1514);
  plan = PlanKernelImpairment(impairment, kNoNetem, 9000);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->tbf.burst_bytes, 2u * 9014);
}

TEST(KernelPlanTest, BurstAndLimitPacketsWithoutNetem) {
  nslab::v1::Impairment impairment;
  impairment.set_rate_bps(8'000'000);
  impairment.set_burst_bytes(20'000);
  impairment.set_limit_packets(64);
  absl::StatusOr<KernelPlan> plan = PlanKernelImpairment(impairment, kNoNetem, kMtu);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->root, RootQdisc::kTbf);
  EXPECT_EQ(plan->tbf.burst_bytes, 20'000u);
  EXPECT_EQ(plan->pfifo_limit_packets, 64u);
}

TEST(KernelPlanTest, BurstBelowOneFrameIsRefusedNamingTheField) {
  nslab::v1::Impairment impairment;
  impairment.set_rate_bps(8'000'000);
  impairment.set_burst_bytes(1000);
  absl::StatusOr<KernelPlan> plan = PlanKernelImpairment(impairment, kNoNetem, 9000);
  EXPECT_EQ(plan.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(plan.status().message(), HasSubstr("burst_bytes must be at least 9014"));
}

TEST(KernelPlanTest, LossWithoutNetemGoesToTheReceivingEnd) {
  nslab::v1::Impairment impairment;
  impairment.set_loss(10);
  absl::StatusOr<KernelPlan> plan = PlanKernelImpairment(impairment, kNoNetem, kMtu);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->root, RootQdisc::kNone);
  EXPECT_EQ(plan->ingress_loss_percent, 10);

  impairment.set_rate_bps(1'000'000);
  plan = PlanKernelImpairment(impairment, kNoNetem, kMtu);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->root, RootQdisc::kTbf);
  EXPECT_EQ(plan->ingress_loss_percent, 10);
}

TEST(KernelPlanTest, LossWithNetemIsNetems) {
  nslab::v1::Impairment impairment;
  impairment.set_loss(10);
  absl::StatusOr<KernelPlan> plan = PlanKernelImpairment(impairment, kAll, kMtu);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->root, RootQdisc::kNetem);
  EXPECT_EQ(plan->ingress_loss_percent, 0);
  ASSERT_TRUE(std::holds_alternative<RandomLossParams>(plan->netem.loss));
  EXPECT_THAT(plan->netem_fields, ElementsAre("loss"));
}

TEST(KernelPlanTest, NetemFieldsWithoutNetemAreAFailedPreconditionListingThem) {
  nslab::v1::Impairment impairment;
  impairment.set_delay_us(20'000);
  impairment.set_jitter_us(1'000);
  impairment.set_loss(1);  // has a fallback, so not listed
  impairment.set_duplicate(1);
  impairment.set_rate_bps(1'000'000);
  absl::StatusOr<KernelPlan> plan = PlanKernelImpairment(impairment, kNoNetem, kMtu);
  EXPECT_EQ(plan.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(
      plan.status().message(),
      "kernel has no sch_netem: delay_us, jitter_us, duplicate need sch_netem; use mode: wire "
      "(or rate/loss only, which work without netem)");
}

TEST(KernelPlanTest, CorrelatedLossNeedsNetem) {
  nslab::v1::Impairment impairment;
  impairment.set_loss(5);
  impairment.set_loss_correlation(25);
  absl::StatusOr<KernelPlan> plan = PlanKernelImpairment(impairment, kNoNetem, kMtu);
  EXPECT_EQ(plan.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(plan.status().message(), HasSubstr(": loss, loss_correlation need sch_netem"));
}

TEST(KernelPlanTest, RateBesideNetemIsNetemsOwnRate) {
  nslab::v1::Impairment impairment;
  impairment.set_delay_us(5'000);
  impairment.set_rate_bps(2'000'000);
  impairment.set_limit_packets(300);
  absl::StatusOr<KernelPlan> plan = PlanKernelImpairment(impairment, kAll, kMtu);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->root, RootQdisc::kNetem);
  EXPECT_FALSE(plan->tbf_under_netem);
  EXPECT_EQ(plan->netem.rate_bps, 2'000'000u);
  EXPECT_EQ(plan->netem.limit_packets, 300u);
  EXPECT_THAT(plan->netem_fields, ElementsAre("delay_us", "rate_bps", "limit_packets"));
}

TEST(KernelPlanTest, RateWithBurstBesideNetemIsATbfUnderNetem) {
  nslab::v1::Impairment impairment;
  impairment.set_delay_us(5'000);
  impairment.set_rate_bps(2'000'000);
  impairment.set_burst_bytes(10'000);
  absl::StatusOr<KernelPlan> plan = PlanKernelImpairment(impairment, kAll, kMtu);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->root, RootQdisc::kNetem);
  EXPECT_TRUE(plan->tbf_under_netem);
  EXPECT_EQ(plan->netem.rate_bps, 0u);
  EXPECT_EQ(plan->tbf.rate_bytes_per_s, 250'000u);
  EXPECT_EQ(plan->tbf.burst_bytes, 10'000u);
  EXPECT_THAT(plan->netem_fields, ElementsAre("delay_us"));
}

TEST(KernelPlanTest, NoTbfNoRate) {
  nslab::v1::Impairment impairment;
  impairment.set_rate_bps(2'000'000);
  absl::StatusOr<KernelPlan> plan =
      PlanKernelImpairment(impairment, KernelFeatures{.netem = false, .tbf = false}, kMtu);
  EXPECT_EQ(plan.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(plan.status().message(), HasSubstr("kernel has no sch_tbf"));
}

TEST(KernelPlanTest, BadValuesAreInvalidArgumentNamingTheField) {
  nslab::v1::Impairment impairment;
  impairment.set_loss(120);
  absl::StatusOr<KernelPlan> plan = PlanKernelImpairment(impairment, kAll, kMtu);
  EXPECT_EQ(plan.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(plan.status().message(), HasSubstr("loss must be in 0..100"));

  nslab::v1::Impairment slow;
  slow.set_rate_bps(7);
  plan = PlanKernelImpairment(slow, kAll, kMtu);
  EXPECT_EQ(plan.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(plan.status().message(), HasSubstr("rate_bps must be at least 8"));
}

TEST(KernelPlanTest, TraceFileIsTheWiresAlone) {
  nslab::v1::Impairment impairment;
  impairment.set_trace_file("cell.trace");
  absl::StatusOr<KernelPlan> plan = PlanKernelImpairment(impairment, kAll, kMtu);
  EXPECT_EQ(plan.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(plan.status().message(), HasSubstr("mode: wire"));
}

TEST(KernelPlanTest, NothingSetNeedsNothing) {
  absl::StatusOr<KernelPlan> plan = PlanKernelImpairment({}, kNoNetem, kMtu);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->root, RootQdisc::kNone);
  EXPECT_EQ(plan->ingress_loss_percent, 0);
  EXPECT_THAT(plan->netem_fields, IsEmpty());
}

TEST(TcGilbertElliottTest, ComputesHAsIproute2Does) {
  nslab::v1::GilbertElliott ge;
  ge.set_p(1);
  ge.set_r(10);
  ge.set_h(70);
  ge.set_k(0.1);
  GilbertElliottParams params = TcGilbertElliott(ge);
  EXPECT_EQ(params.p, 0x028f5c29u);
  EXPECT_EQ(params.r, 0x1999999au);
  EXPECT_EQ(params.h, 0x4ccccccdu);  // tc's; FromNetemArgs gives 0x4ccccccc
  EXPECT_EQ(params.k1, 0x00418937u);
}

}  // namespace
}  // namespace nslab::impair::kernel
