#include "daemon/impair/validate.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace nslab::impair {
namespace {

using ::testing::HasSubstr;
using ::testing::StrEq;

std::string Problems(const nslab::v1::Impairment& impairment) {
  const absl::Status status = ValidateImpairment(impairment);
  if (status.ok()) {
    return "";
  }
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  return std::string(status.message());
}

TEST(ValidateImpairmentTest, EmptyAndTypicalAreValid) {
  EXPECT_TRUE(ValidateImpairment(nslab::v1::Impairment()).ok());
  nslab::v1::Impairment typical;
  typical.set_delay_us(40'000);
  typical.set_jitter_us(5'000);
  typical.set_delay_correlation(25);
  typical.set_distribution(nslab::v1::DELAY_DISTRIBUTION_NORMAL);
  typical.set_loss(1);
  typical.set_loss_correlation(25);
  typical.set_duplicate(1);
  typical.set_reorder(25);
  typical.set_reorder_gap(5);
  typical.set_corrupt(0.1);
  typical.set_rate_bps(20'000'000);
  typical.set_burst_bytes(32'000);
  typical.set_limit_packets(100);
  EXPECT_TRUE(ValidateImpairment(typical).ok()) << ValidateImpairment(typical);
}

TEST(ValidateImpairmentTest, PercentagesNameFieldAndRange) {
  nslab::v1::Impairment impairment;
  impairment.set_loss(120);
  EXPECT_THAT(Problems(impairment), StrEq("loss must be in 0..100 (percent), got 120"));
  impairment.set_loss(-1);
  EXPECT_THAT(Problems(impairment), StrEq("loss must be in 0..100 (percent), got -1"));
  impairment.set_loss(std::nan(""));
  EXPECT_THAT(Problems(impairment), HasSubstr("loss must be in 0..100 (percent)"));
  // -0 equals 0 but is stored as set: a topology holding it could not be printed as YAML
  // and read back the same.
  impairment.set_loss(-0.0);
  EXPECT_THAT(Problems(impairment), StrEq("loss must be in 0..100 (percent), got -0"));
  nslab::v1::Impairment ge;
  ge.mutable_gilbert_elliott()->set_k(-0.0);  // checked even when the model is all zeros
  EXPECT_THAT(Problems(ge), StrEq("gilbert_elliott.k must be in 0..100 (percent), got -0"));

  nslab::v1::Impairment each;
  each.set_duplicate(101);
  each.set_corrupt(101);
  each.set_delay_us(1);
  each.set_reorder(101);
  EXPECT_THAT(Problems(each), StrEq("duplicate must be in 0..100 (percent), got 101; "
                                    "corrupt must be in 0..100 (percent), got 101; "
                                    "reorder must be in 0..100 (percent), got 101"));
}

TEST(ValidateImpairmentTest, Jitter) {
  nslab::v1::Impairment impairment;
  impairment.set_jitter_us(kMaxJitterUs + 1);
  EXPECT_THAT(Problems(impairment),
              StrEq("jitter_us must be in 0..2147483 (netem caps jitter at 2^31-1 ns), got "
                    "2147484"));
  impairment.set_jitter_us(0);
  impairment.set_delay_correlation(10);
  EXPECT_THAT(Problems(impairment), StrEq("delay_correlation needs jitter_us > 0 (it correlates "
                                          "the jitter)"));
  impairment.set_delay_correlation(0);
  impairment.set_distribution(nslab::v1::DELAY_DISTRIBUTION_PARETO);
  EXPECT_THAT(Problems(impairment), StrEq("distribution needs jitter_us > 0 (it shapes the "
                                          "jitter)"));
  impairment.set_distribution(static_cast<nslab::v1::DelayDistribution>(9));
  EXPECT_THAT(Problems(impairment), HasSubstr("distribution must be one of uniform, normal"));
}

TEST(ValidateImpairmentTest, LossModels) {
  nslab::v1::Impairment impairment;
  impairment.set_loss_correlation(10);
  EXPECT_THAT(Problems(impairment), StrEq("loss_correlation needs loss > 0"));

  nslab::v1::Impairment both;
  both.set_loss(1);
  both.mutable_gilbert_elliott()->set_p(1);
  both.mutable_gilbert_elliott()->set_r(10);
  both.mutable_gilbert_elliott()->set_h(100);
  EXPECT_THAT(Problems(both), StrEq("loss and gilbert_elliott cannot both be set: netem runs one "
                                    "loss model"));

  nslab::v1::Impairment ge;
  ge.mutable_gilbert_elliott()->set_p(1);
  EXPECT_THAT(Problems(ge), HasSubstr("gilbert_elliott.r must be in (0..100] when p > 0"));
  EXPECT_THAT(Problems(ge), HasSubstr("gilbert_elliott loses nothing"));
  ge.mutable_gilbert_elliott()->set_r(10);
  ge.mutable_gilbert_elliott()->set_h(150);
  EXPECT_THAT(Problems(ge), StrEq("gilbert_elliott.h must be in 0..100 (percent), got 150"));

  // An empty gilbert_elliott: {} is no model at all.
  nslab::v1::Impairment empty;
  empty.mutable_gilbert_elliott();
  empty.set_loss(1);
  EXPECT_TRUE(ValidateImpairment(empty).ok());
}

TEST(ValidateImpairmentTest, ReorderFollowsIproute2) {
  nslab::v1::Impairment impairment;
  impairment.set_reorder(10);
  EXPECT_THAT(Problems(impairment), StrEq("reorder needs delay_us > 0: frames are reordered by "
                                          "skipping the delay"));
  nslab::v1::Impairment gap;
  gap.set_delay_us(1000);
  gap.set_reorder_gap(5);
  EXPECT_THAT(Problems(gap), StrEq("reorder_gap needs reorder > 0"));
}

TEST(ValidateImpairmentTest, Bandwidth) {
  nslab::v1::Impairment impairment;
  impairment.set_burst_bytes(1500);
  EXPECT_THAT(Problems(impairment), StrEq("burst_bytes needs rate_bps > 0"));

  nslab::v1::Impairment limit;
  limit.set_limit_packets(kMaxLimitPackets + 1);
  EXPECT_THAT(Problems(limit), StrEq("limit_packets must be in 0..1000000 (0 = netem's default "
                                     "of 1000), got 1000001"));

  nslab::v1::Impairment trace;
  trace.set_trace_file("lte.trace");
  trace.set_rate_bps(1'000'000);
  EXPECT_THAT(Problems(trace), StrEq("trace_file and rate_bps cannot both be set: the trace is "
                                     "the rate"));
}

}  // namespace
}  // namespace nslab::impair
