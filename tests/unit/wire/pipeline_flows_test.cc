// Flows on one direction of a wire: the first flow whose match a frame fits decides its fate,
// each flow is a netem of its own (streams, rate limiter, queue limit), and frames no flow takes
// follow the direction's own impairment.
#include <algorithm>
#include <cstring>
#include <vector>

#include "daemon/impair/flow_match.h"
#include "daemon/wire/pipeline.h"
#include "gtest/gtest.h"

namespace nslab::wire {
namespace {

using impair::FromNanos;
using impair::ToNanos;

constexpr int64_t kMs = 1'000'000;
constexpr uint8_t kTcp = 6;
constexpr uint8_t kUdp = 17;

TimePoint At(int64_t ns) { return FromNanos(ns); }

// An Ethernet + IPv4 frame from 10.0.0.1 to 10.0.0.2 with a TCP or UDP header. Its first four
// bytes (the destination MAC, which no match reads) say which frame it is.
std::vector<std::byte> Ipv4Frame(uint32_t id, uint8_t protocol, uint16_t destination_port,
                                 size_t size = 100) {
  std::vector<std::byte> frame(size);
  std::memcpy(frame.data(), &id, sizeof(id));
  const auto set = [&](size_t at, uint8_t value) { frame[at] = std::byte{value}; };
  set(12, 0x08);
  set(13, 0x00);
  set(14, 0x45);  // IPv4, 20-byte header
  set(16, static_cast<uint8_t>((size - 14) >> 8));
  set(17, static_cast<uint8_t>(size - 14));
  set(22, 64);
  set(23, protocol);
  const uint8_t addresses[] = {10, 0, 0, 1, 10, 0, 0, 2};
  for (size_t i = 0; i < sizeof(addresses); ++i) {
    set(26 + i, addresses[i]);
  }
  set(34, 0xc3);  // source port 50000
  set(35, 0x50);
  set(36, static_cast<uint8_t>(destination_port >> 8));
  set(37, static_cast<uint8_t>(destination_port));
  return frame;
}

uint32_t IdOf(std::span<const std::byte> frame) {
  uint32_t id = 0;
  std::memcpy(&id, frame.data(), sizeof(id));
  return id;
}

FlowRule Rule(const char* match, const nslab::v1::Impairment& impairment) {
  absl::StatusOr<nslab::v1::FlowMatch> parsed = impair::ParseFlowMatch(match);
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  return FlowRule{*parsed, impairment};
}

nslab::v1::Impairment Delay(uint32_t ms) {
  nslab::v1::Impairment impairment;
  impairment.set_delay_us(ms * 1000);
  return impairment;
}

nslab::v1::Impairment Loss(double percent) {
  nslab::v1::Impairment impairment;
  impairment.set_loss(percent);
  return impairment;
}

ImpairmentPipeline Make(const nslab::v1::Impairment& own, const std::vector<FlowRule>& flows,
                        uint64_t seed = 7) {
  absl::StatusOr<ImpairmentPipeline> pipeline = ImpairmentPipeline::Create(own, seed);
  EXPECT_TRUE(pipeline.ok()) << pipeline.status();
  EXPECT_TRUE(pipeline->SetFlows(flows).ok());
  return *std::move(pipeline);
}

TEST(PipelineFlowsTest, TheFirstMatchingFlowDecidesAndTheRestFollowTheDirection) {
  ImpairmentPipeline pipeline =
      Make(Delay(1), {Rule("udp dport 9000", Delay(10)), Rule("udp", Delay(50))});
  EXPECT_FALSE(pipeline.passes_through());
  EXPECT_EQ(ToNanos(pipeline.Offer(Ipv4Frame(1, kUdp, 9000), At(0)).frame.deliver_at), 10 * kMs);
  EXPECT_EQ(ToNanos(pipeline.Offer(Ipv4Frame(2, kUdp, 9001), At(0)).frame.deliver_at), 50 * kMs);
  EXPECT_EQ(ToNanos(pipeline.Offer(Ipv4Frame(3, kTcp, 9000), At(0)).frame.deliver_at), 1 * kMs);
  std::vector<uint32_t> order;
  pipeline.PopDue(At(60 * kMs), [&](std::span<const std::byte> frame, TimePoint) {
    order.push_back(IdOf(frame));
  });
  EXPECT_EQ(order, (std::vector<uint32_t>{3, 1, 2}));

  const std::vector<FlowState> flows = pipeline.flows();
  ASSERT_EQ(flows.size(), 2u);
  EXPECT_EQ(impair::FlowMatchText(flows[0].match), "udp dport 9000");
  EXPECT_EQ(flows[0].counters.offered, 1u);
  EXPECT_EQ(flows[0].counters.forwarded, 1u);
  EXPECT_EQ(flows[1].counters.offered, 1u);
  EXPECT_EQ(pipeline.counters().offered, 3u);
  EXPECT_EQ(pipeline.counters().forwarded, 3u);
  std::vector<PipelineCounters> copied;
  pipeline.CopyFlowCounters(&copied);
  ASSERT_EQ(copied.size(), 2u);
  EXPECT_EQ(copied[1].bytes, 100u);
}

TEST(PipelineFlowsTest, AFlowsRateLimitQueuesOnlyItsOwnFrames) {
  nslab::v1::Impairment slow;
  slow.set_rate_bps(8000);  // 1000 bytes a second: a 100-byte frame takes 100 ms
  ImpairmentPipeline pipeline = Make(nslab::v1::Impairment(), {Rule("tcp dport 5432", slow)});
  for (uint32_t i = 0; i < 3; ++i) {
    pipeline.Offer(Ipv4Frame(i, kTcp, 5432), At(0));
  }
  const Verdict other = pipeline.Offer(Ipv4Frame(10, kTcp, 80), At(0));
  EXPECT_EQ(ToNanos(other.frame.deliver_at), 0);
  const Verdict fourth = pipeline.Offer(Ipv4Frame(3, kTcp, 5432), At(0));
  EXPECT_EQ(ToNanos(fourth.frame.deliver_at), 400 * kMs);
}

TEST(PipelineFlowsTest, AFlowsFatesDependNeitherOnOtherTrafficNorOnTheFlowsOrder) {
  const auto drops = [](const std::vector<FlowRule>& flows, bool interleave) {
    ImpairmentPipeline pipeline = Make(Loss(30), flows, 99);
    std::vector<bool> lost;
    for (uint32_t i = 0; i < 200; ++i) {
      if (interleave) {
        pipeline.Offer(Ipv4Frame(1000 + i, kUdp, 7000 + i % 5), At(i * kMs));
        pipeline.Offer(Ipv4Frame(2000 + i, kTcp, 443), At(i * kMs));
      }
      lost.push_back(pipeline.Offer(Ipv4Frame(i, kUdp, 9000), At(i * kMs)).frame.outcome ==
                     Outcome::kDroppedLoss);
    }
    return lost;
  };
  const std::vector<FlowRule> one_way = {Rule("udp dport 9000", Loss(50)),
                                         Rule("tcp dport 443", Loss(50))};
  const std::vector<FlowRule> other_way = {Rule("tcp dport 443", Loss(50)),
                                           Rule("udp dport 9000", Loss(50))};
  const std::vector<bool> quiet = drops(one_way, false);
  EXPECT_EQ(drops(other_way, true), quiet);
  const size_t lost = std::count(quiet.begin(), quiet.end(), true);
  EXPECT_GT(lost, 60u);  // 50% of 200: far from 0 and from 200 for any seed
  EXPECT_LT(lost, 140u);
}

TEST(PipelineFlowsTest, ChangingFlowsKeepsTheOnesThatStayAndRefusesBadInputWhole) {
  ImpairmentPipeline pipeline = Make(nslab::v1::Impairment(), {Rule("udp dport 9000", Delay(5))});
  pipeline.Offer(Ipv4Frame(1, kUdp, 9000), At(0));
  ASSERT_TRUE(
      pipeline
          .SetFlows(std::vector<FlowRule>{Rule("tcp", Delay(1)), Rule("udp dport 9000", Delay(20))})
          .ok());
  std::vector<FlowState> flows = pipeline.flows();
  ASSERT_EQ(flows.size(), 2u);
  EXPECT_EQ(flows[1].counters.offered, 1u);  // the same flow, moved to second place
  EXPECT_EQ(flows[1].counters.queue_depth, 1u);
  EXPECT_EQ(ToNanos(pipeline.Offer(Ipv4Frame(2, kUdp, 9000), At(0)).frame.deliver_at), 20 * kMs);

  // Refused whole: a second equal match, an impairment out of range, too many flows.
  const std::vector<FlowRule> twice = {Rule("udp", Delay(1)), Rule("udp", Delay(2))};
  absl::Status status = pipeline.SetFlows(twice);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("comes twice"), std::string_view::npos) << status;
  EXPECT_FALSE(pipeline.SetFlows(std::vector<FlowRule>{Rule("udp", Loss(150))}).ok());
  EXPECT_FALSE(pipeline.SetFlows(std::vector<FlowRule>(kMaxFlows + 1, Rule("udp", Delay(1)))).ok());
  flows = pipeline.flows();
  ASSERT_EQ(flows.size(), 2u);
  EXPECT_EQ(impair::FlowMatchText(flows[0].match), "tcp");
}

TEST(PipelineFlowsTest, FramesOfARemovedFlowStillLeaveOnTime) {
  ImpairmentPipeline pipeline = Make(nslab::v1::Impairment(), {Rule("udp", Delay(10))});
  pipeline.Offer(Ipv4Frame(1, kUdp, 53), At(0));
  ASSERT_TRUE(pipeline.SetFlows({}).ok());
  EXPECT_TRUE(pipeline.flows().empty());
  std::vector<uint32_t> delivered;
  pipeline.PopDue(At(10 * kMs), [&](std::span<const std::byte> frame, TimePoint) {
    delivered.push_back(IdOf(frame));
  });
  EXPECT_EQ(delivered, std::vector<uint32_t>{1});
  EXPECT_EQ(pipeline.counters().forwarded, 1u);
  EXPECT_EQ(pipeline.counters().queue_depth, 0u);
}

TEST(PipelineFlowsTest, ALinkGoingDownCountsEachFlowsLosses) {
  ImpairmentPipeline pipeline = Make(Delay(5), {Rule("udp", Delay(10))});
  pipeline.Offer(Ipv4Frame(1, kUdp, 53), At(0));
  pipeline.Offer(Ipv4Frame(2, kTcp, 80), At(0));
  pipeline.SetLinkUp(false);
  EXPECT_EQ(pipeline.counters().dropped_link_down, 2u);
  EXPECT_EQ(pipeline.flows()[0].counters.dropped_link_down, 1u);
  EXPECT_EQ(pipeline.flows()[0].counters.queue_depth, 0u);
  EXPECT_FALSE(pipeline.NextDeadline().has_value());
}

}  // namespace
}  // namespace nslab::wire
