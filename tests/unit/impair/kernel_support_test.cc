#include "daemon/impair/kernel_support.h"

#include <map>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace nslab::impair {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST(KernelBackendSupportTest, NothingToDo) {
  const KernelSupport support = KernelBackendSupport(nslab::v1::Impairment(), false);
  EXPECT_TRUE(support.ok());
  EXPECT_FALSE(support.netem || support.tbf || support.nft_drop);
}

TEST(KernelBackendSupportTest, WithoutNetemRateAndPlainLossStillWork) {
  nslab::v1::Impairment impairment;
  impairment.set_rate_bps(10'000'000);
  impairment.set_burst_bytes(15'000);
  impairment.set_limit_packets(50);
  impairment.set_loss(10);
  const KernelSupport support = KernelBackendSupport(impairment, /*has_netem=*/false);
  EXPECT_THAT(support.unsupported, IsEmpty());
  EXPECT_TRUE(support.tbf);
  EXPECT_TRUE(support.nft_drop);
  EXPECT_FALSE(support.netem);
}

TEST(KernelBackendSupportTest, WithoutNetemEverythingElseNeedsTheWire) {
  nslab::v1::Impairment impairment;
  impairment.set_delay_us(1000);
  impairment.set_jitter_us(100);
  impairment.set_delay_correlation(10);
  impairment.set_distribution(nslab::v1::DELAY_DISTRIBUTION_NORMAL);
  impairment.set_loss(1);
  impairment.set_loss_correlation(25);
  impairment.set_duplicate(1);
  impairment.set_reorder(1);
  impairment.set_reorder_gap(3);
  impairment.set_corrupt(1);
  impairment.set_rate_bps(1'000'000);
  const KernelSupport support = KernelBackendSupport(impairment, /*has_netem=*/false);
  EXPECT_THAT(support.unsupported,
              ElementsAre("delay_us", "jitter_us", "delay_correlation", "distribution", "loss",
                          "loss_correlation", "duplicate", "reorder", "reorder_gap", "corrupt"));
  EXPECT_TRUE(support.tbf);
  EXPECT_FALSE(support.nft_drop);  // correlated loss cannot be done by numgen

  nslab::v1::Impairment ge;
  ge.mutable_gilbert_elliott()->set_p(1);
  EXPECT_THAT(KernelBackendSupport(ge, false).unsupported, ElementsAre("gilbert_elliott"));
}

TEST(KernelBackendSupportTest, WithNetemOnlyTheTraceNeedsTheWire) {
  nslab::v1::Impairment impairment;
  impairment.set_delay_us(1000);
  impairment.set_loss(1);
  impairment.set_loss_correlation(25);
  impairment.set_corrupt(1);
  impairment.set_rate_bps(1'000'000);
  KernelSupport support = KernelBackendSupport(impairment, /*has_netem=*/true);
  EXPECT_TRUE(support.ok());
  EXPECT_TRUE(support.netem);
  EXPECT_TRUE(support.tbf);
  EXPECT_FALSE(support.nft_drop);

  impairment.set_rate_bps(0);
  impairment.set_trace_file("cell.trace");
  support = KernelBackendSupport(impairment, /*has_netem=*/true);
  EXPECT_THAT(support.unsupported, ElementsAre("trace_file"));
}

}  // namespace
TEST(KernelSupportByParameterTest, WithoutNetemOnlyRateFieldsAndPlainLoss) {
  std::map<std::string, std::string> how;
  for (const auto& row : KernelSupportByParameter(/*has_netem=*/false, /*has_tbf=*/true)) {
    how[std::string(row.parameter)] = row.kernel ? std::string(row.how) : "no";
  }
  EXPECT_EQ(how.size(), 15u);  // every Impairment field
  EXPECT_EQ(how["rate_bps"], "tbf");
  EXPECT_EQ(how["limit_packets"], "tbf");
  EXPECT_THAT(how["loss"], ::testing::HasSubstr("nftables"));
  EXPECT_EQ(how["delay_us"], "no");
  EXPECT_EQ(how["loss_correlation"], "no");
  EXPECT_EQ(how["trace_file"], "no");
}

TEST(KernelSupportByParameterTest, WithNetemEverythingButTraces) {
  for (const auto& row : KernelSupportByParameter(/*has_netem=*/true, /*has_tbf=*/true)) {
    EXPECT_EQ(row.kernel, row.parameter != "trace_file") << row.parameter;
  }
}

}  // namespace nslab::impair
