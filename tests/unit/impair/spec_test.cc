#include "daemon/impair/spec.h"

#include <limits>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace nslab::impair {
namespace {

TEST(CompileImpairmentTest, ConvertsUnitsAndDefaults) {
  nslab::v1::Impairment impairment;
  impairment.set_delay_us(40'000);
  impairment.set_jitter_us(5'000);
  impairment.set_delay_correlation(100);
  impairment.set_distribution(nslab::v1::DELAY_DISTRIBUTION_NORMAL);
  impairment.set_loss(50);
  impairment.set_reorder(25);
  impairment.set_rate_bps(1'000'000);
  absl::StatusOr<ImpairmentSpec> spec = CompileImpairment(impairment);
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->delay_ns, 40'000'000);
  EXPECT_EQ(spec->jitter_ns, 5'000'000);
  EXPECT_EQ(spec->delay_correlation, std::numeric_limits<uint32_t>::max());
  EXPECT_EQ(spec->distribution, NormalTable());
  ASSERT_TRUE(std::holds_alternative<RandomLossParams>(spec->loss));
  EXPECT_EQ(std::get<RandomLossParams>(spec->loss).probability, 2147483648u);
  EXPECT_EQ(spec->reorder_gap, 1u);  // iproute2's default gap
  EXPECT_EQ(spec->limit_packets, kDefaultLimitPackets);
  EXPECT_EQ(spec->rate_bps, 1'000'000u);
  EXPECT_EQ(spec->trace, nullptr);
}

TEST(CompileImpairmentTest, GilbertElliottTakesNetemArguments) {
  nslab::v1::Impairment impairment;
  auto* ge = impairment.mutable_gilbert_elliott();
  ge->set_p(1);
  ge->set_r(10);
  ge->set_h(70);
  ge->set_k(0.1);
  absl::StatusOr<ImpairmentSpec> spec = CompileImpairment(impairment);
  ASSERT_TRUE(spec.ok()) << spec.status();
  ASSERT_TRUE(std::holds_alternative<GilbertElliottParams>(spec->loss));
  const auto& params = std::get<GilbertElliottParams>(spec->loss);
  EXPECT_EQ(params.h, std::numeric_limits<uint32_t>::max() - ScaledPercent(70));
  EXPECT_EQ(params.k1, ScaledPercent(0.1));
  // 1/11 of the time in the bad state losing 70%, else 0.1%.
  EXPECT_NEAR(StationaryLossRate(spec->loss), 0.7 / 11 + 0.001 * 10 / 11, 1e-6);
}

TEST(CompileImpairmentTest, RejectsInvalid) {
  nslab::v1::Impairment impairment;
  impairment.set_loss(200);
  EXPECT_EQ(CompileImpairment(impairment).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(CompileImpairmentTest, ParsesTheTraceText) {
  nslab::v1::Impairment impairment;
  impairment.set_trace_file("cell.trace");
  impairment.set_trace("1\n2\n");
  absl::StatusOr<ImpairmentSpec> spec = CompileImpairment(impairment);
  ASSERT_TRUE(spec.ok()) << spec.status();
  ASSERT_NE(spec->trace, nullptr);
  EXPECT_EQ(spec->trace->size(), 2u);

  impairment.set_trace("1\n-2\n");
  EXPECT_THAT(std::string(CompileImpairment(impairment).status().message()),
              ::testing::StartsWith("trace_file cell.trace: delivery trace line 2"));
}

// The daemon opens no path a client names: a name without its text is refused, unread.
TEST(CompileImpairmentTest, ATraceFileNameWithoutItsTextIsRefused) {
  nslab::v1::Impairment impairment;
  impairment.set_trace_file("/etc/hostname");
  absl::StatusOr<ImpairmentSpec> spec = CompileImpairment(impairment);
  EXPECT_EQ(spec.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(spec.status().message()), ::testing::HasSubstr("its text was not sent"));
}

TEST(IsUnimpairedTest, OnlyAnEmptyImpairmentOrAQueueLimitForwardsUnchanged) {
  nslab::v1::Impairment none;
  ASSERT_TRUE(IsUnimpaired(*CompileImpairment(none)));
  nslab::v1::Impairment limit_only;
  limit_only.set_limit_packets(10);
  EXPECT_TRUE(IsUnimpaired(*CompileImpairment(limit_only)));

  const auto impaired = [](auto set) {
    nslab::v1::Impairment impairment;
    set(impairment);
    absl::StatusOr<ImpairmentSpec> spec = CompileImpairment(impairment);
    EXPECT_TRUE(spec.ok()) << spec.status();
    return spec.ok() && !IsUnimpaired(*spec);
  };
  EXPECT_TRUE(impaired([](auto& i) { i.set_delay_us(1); }));
  EXPECT_TRUE(impaired([](auto& i) { i.set_loss(0.5); }));
  EXPECT_TRUE(impaired([](auto& i) {
    i.mutable_gilbert_elliott()->set_p(1);
    i.mutable_gilbert_elliott()->set_r(30);
    i.mutable_gilbert_elliott()->set_h(100);
  }));
  EXPECT_TRUE(impaired([](auto& i) { i.set_duplicate(1); }));
  EXPECT_TRUE(impaired([](auto& i) { i.set_corrupt(1); }));
  EXPECT_TRUE(impaired([](auto& i) { i.set_rate_bps(1'000'000); }));
}

}  // namespace
}  // namespace nslab::impair
