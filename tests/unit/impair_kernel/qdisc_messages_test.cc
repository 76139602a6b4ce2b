// The qdisc requests of the kernel backend, compared attribute by attribute with what tc
// (iproute2 6.1) sends for the same impairment.
//
// How the fixtures were captured: testdata/capture_tc.sh runs `tc qdisc add dev v0 ...` in a
// scratch namespace under `strace -f -e trace=sendmsg -e write=3` and keeps strace's hex dump
// of the RTM_NEWQDISC request (tc sends it even on this kernel, which has no sch_netem and
// answers ENOENT). Each testdata/*.hex names its tc command in its first line.
#include "daemon/impair/kernel/qdisc_messages.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>

#include <cstring>
#include <functional>
#include <limits>
#include <string>

#include "daemon/impair/kernel/kernel_plan.h"
#include "tests/unit/impair_kernel/request_decoder.h"

namespace nslab::impair::kernel {
namespace {

using testing::Attr;
using testing::Bytes;
using testing::BytesOf;
using testing::Decode;
using testing::DecodedRequest;
using ::testing::ElementsAre;
using testing::ReadStraceHex;

constexpr int kIfindex = 3;  // what tc's requests carry: v0 in the capture namespace

// The head of TCA_OPTIONS in tc's request for
//   tc qdisc add dev v0 root netem delay 100ms 10ms 25% distribution normal loss 1%
//       duplicate 1% reorder 25% gap 5 corrupt 0.1%
// copied from testdata/tc_netem_full.hex (offsets 0x34..0x77 of the message), decoded:
constexpr uint8_t kTcNetemFullOptionsHead[] = {
    // struct tc_netem_qopt
    0x84, 0xd7, 0x17, 0x00,  // latency   1562500 ticks = 100 ms at 64 ns a tick
    0xe8, 0x03, 0x00, 0x00,  // limit     1000 packets (tc's default)
    0x29, 0x5c, 0x8f, 0x02,  // loss      1% = rint(0.01 * UINT32_MAX)
    0x05, 0x00, 0x00, 0x00,  // gap       5
    0x29, 0x5c, 0x8f, 0x02,  // duplicate 1%
    0x5a, 0x62, 0x02, 0x00,  // jitter    156250 ticks = 10 ms
    // TCA_NETEM_CORR (len 16, type 1): delay 25%, loss 0, duplicate 0
    0x10, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    // TCA_NETEM_REORDER (len 12, type 3): probability 25%, correlation 0
    0x0c, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0x00, 0x00,
    // TCA_NETEM_CORRUPT (len 12, type 4): probability 0.1%, correlation 0
    0x0c, 0x00, 0x04, 0x00, 0x37, 0x89, 0x41, 0x00, 0x00, 0x00, 0x00, 0x00,
    // TCA_NETEM_DELAY_DIST (len 8196, type 2): 4096 s16 of iproute2's normal.dist follow
    0x04, 0x20, 0x02, 0x00};

const char* NetemAttrName(uint16_t type) {
  switch (type & NLA_TYPE_MASK) {
    case TCA_NETEM_CORR:
      return "TCA_NETEM_CORR";
    case TCA_NETEM_DELAY_DIST:
      return "TCA_NETEM_DELAY_DIST";
    case TCA_NETEM_REORDER:
      return "TCA_NETEM_REORDER";
    case TCA_NETEM_CORRUPT:
      return "TCA_NETEM_CORRUPT";
    case TCA_NETEM_LOSS:
      return "TCA_NETEM_LOSS";
    case TCA_NETEM_RATE:
      return "TCA_NETEM_RATE";
    case TCA_NETEM_RATE64:
      return "TCA_NETEM_RATE64";
    case TCA_NETEM_LATENCY64:
      return "TCA_NETEM_LATENCY64";
    case TCA_NETEM_JITTER64:
      return "TCA_NETEM_JITTER64";
    default:
      return "TCA_NETEM_?";
  }
}

std::string FixturePath(const std::string& name) {
  return std::string(NSLAB_IMPAIR_KERNEL_TESTDATA) + "/" + name;
}

DecodedRequest DecodeCapture(const std::string& name, size_t head_len) {
  std::optional<Bytes> bytes = ReadStraceHex(FixturePath(name));
  EXPECT_TRUE(bytes.has_value()) << "unreadable fixture " << name;
  if (!bytes) {
    return {};
  }
  std::optional<DecodedRequest> decoded = Decode(*bytes, head_len);
  EXPECT_TRUE(decoded.has_value()) << "undecodable fixture " << name;
  return decoded.value_or(DecodedRequest{});
}

DecodedRequest DecodeOurs(const absl::StatusOr<NlMsgPtr>& msg, size_t head_len) {
  EXPECT_TRUE(msg.ok()) << msg.status();
  if (!msg.ok()) {
    return {};
  }
  std::optional<DecodedRequest> decoded = Decode(BytesOf(msg->get()), head_len);
  EXPECT_TRUE(decoded.has_value());
  return decoded.value_or(DecodedRequest{});
}

// Every attribute, by name, then the whole TCA_OPTIONS (so that padding counts too).
void ExpectSameNetemOptions(const DecodedRequest& ours, const DecodedRequest& tc) {
  EXPECT_EQ(ours.kind, "netem");
  EXPECT_EQ(ours.kind, tc.kind);
  EXPECT_EQ(ours.options_type, tc.options_type) << "TCA_OPTIONS flags";
  EXPECT_EQ(ours.head, tc.head) << "struct tc_netem_qopt";
  ASSERT_EQ(ours.attrs.size(), tc.attrs.size());
  for (size_t i = 0; i < tc.attrs.size(); ++i) {
    SCOPED_TRACE(NetemAttrName(tc.attrs[i].type));
    EXPECT_EQ(ours.attrs[i].type, tc.attrs[i].type) << "attribute " << i;
    EXPECT_EQ(ours.attrs[i].payload, tc.attrs[i].payload) << "attribute " << i;
  }
  EXPECT_EQ(ours.options, tc.options);
  EXPECT_EQ(ours.tcm.tcm_parent, tc.tcm.tcm_parent);
  EXPECT_EQ(ours.tcm.tcm_ifindex, tc.tcm.tcm_ifindex);
}

KernelFeatures AllFeatures() { return KernelFeatures{.netem = true, .tbf = true}; }

ImpairmentSpec PlannedNetem(const nslab::v1::Impairment& impairment) {
  absl::StatusOr<KernelPlan> plan = PlanKernelImpairment(impairment, AllFeatures(), 1500);
  EXPECT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan.value_or(KernelPlan{}).root, RootQdisc::kNetem);
  return plan.value_or(KernelPlan{}).netem;
}

const QdiscTarget kRoot{kIfindex, 0x4e530000, TC_H_ROOT};

nslab::v1::Impairment FullImpairment() {
  nslab::v1::Impairment impairment;
  impairment.set_delay_us(100'000);
  impairment.set_jitter_us(10'000);
  impairment.set_delay_correlation(25);
  impairment.set_distribution(nslab::v1::DELAY_DISTRIBUTION_NORMAL);
  impairment.set_loss(1);
  impairment.set_duplicate(1);
  impairment.set_reorder(25);
  impairment.set_reorder_gap(5);
  impairment.set_corrupt(0.1);
  return impairment;
}

TEST(NetemRequestTest, FullImpairmentMatchesTheDecodedFixture) {
  DecodedRequest ours =
      DecodeOurs(BuildNetemRequest(kRoot, PlannedNetem(FullImpairment())), sizeof(tc_netem_qopt));
  const Bytes expected(std::begin(kTcNetemFullOptionsHead), std::end(kTcNetemFullOptionsHead));
  ASSERT_GE(ours.options.size(), expected.size());
  EXPECT_EQ(Bytes(ours.options.begin(), ours.options.begin() + expected.size()), expected);
  EXPECT_EQ(ours.options.size(), expected.size() + 4096 * sizeof(int16_t));
}

TEST(NetemRequestTest, FullImpairmentMatchesTcAttributeByAttribute) {
  DecodedRequest tc = DecodeCapture("tc_netem_full.hex", sizeof(tc_netem_qopt));
  // The decoded fixture above and the capture agree.
  ASSERT_GE(tc.options.size(), sizeof(kTcNetemFullOptionsHead));
  EXPECT_EQ(
      0, std::memcmp(tc.options.data(), kTcNetemFullOptionsHead, sizeof(kTcNetemFullOptionsHead)));
  DecodedRequest ours =
      DecodeOurs(BuildNetemRequest(kRoot, PlannedNetem(FullImpairment())), sizeof(tc_netem_qopt));
  ExpectSameNetemOptions(ours, tc);
}

// One tc command and the Impairment (or spec) that should produce the same request.
struct NetemCase {
  const char* fixture;
  std::function<ImpairmentSpec()> spec;
};

class NetemVersusTcTest : public ::testing::TestWithParam<NetemCase> {};

TEST_P(NetemVersusTcTest, SameAttributes) {
  DecodedRequest tc = DecodeCapture(GetParam().fixture, sizeof(tc_netem_qopt));
  DecodedRequest ours =
      DecodeOurs(BuildNetemRequest(kRoot, GetParam().spec()), sizeof(tc_netem_qopt));
  ExpectSameNetemOptions(ours, tc);
}

INSTANTIATE_TEST_SUITE_P(
    Captures, NetemVersusTcTest,
    ::testing::Values(
        // tc qdisc add dev v0 root netem loss gemodel 1% 10% 70% 0.1%
        NetemCase{"tc_netem_gemodel.hex",
                  [] {
                    nslab::v1::Impairment impairment;
                    auto* ge = impairment.mutable_gilbert_elliott();
                    ge->set_p(1);
                    ge->set_r(10);
                    ge->set_h(70);
                    ge->set_k(0.1);
                    return PlannedNetem(impairment);
                  }},
        // tc qdisc add dev v0 root netem loss state 1% 10% 20% 30% 0.5%: the proto has no
        // 4-state model yet; a spec carries it.
        NetemCase{"tc_netem_state.hex",
                  [] {
                    ImpairmentSpec spec;
                    spec.loss = MarkovLossParams::FromPercent(1, 10, 20, 30, 0.5);
                    return spec;
                  }},
        // tc qdisc add dev v0 root netem loss 1% 25%
        NetemCase{"tc_netem_loss_corr.hex",
                  [] {
                    nslab::v1::Impairment impairment;
                    impairment.set_loss(1);
                    impairment.set_loss_correlation(25);
                    return PlannedNetem(impairment);
                  }},
        // tc qdisc add dev v0 root netem delay 20ms rate 1mbit limit 500
        NetemCase{"tc_netem_rate.hex",
                  [] {
                    nslab::v1::Impairment impairment;
                    impairment.set_delay_us(20'000);
                    impairment.set_rate_bps(1'000'000);
                    impairment.set_limit_packets(500);
                    return PlannedNetem(impairment);
                  }},
        // tc qdisc add dev v0 root netem delay 20ms rate 40gbit
        NetemCase{"tc_netem_rate64.hex",
                  [] {
                    nslab::v1::Impairment impairment;
                    impairment.set_delay_us(20'000);
                    impairment.set_rate_bps(40'000'000'000);
                    return PlannedNetem(impairment);
                  }},
        // tc qdisc add dev v0 root netem delay 50ms 20ms distribution pareto
        NetemCase{"tc_netem_pareto.hex",
                  [] {
                    nslab::v1::Impairment impairment;
                    impairment.set_delay_us(50'000);
                    impairment.set_jitter_us(20'000);
                    impairment.set_distribution(nslab::v1::DELAY_DISTRIBUTION_PARETO);
                    return PlannedNetem(impairment);
                  }},
        // tc qdisc add dev v0 root netem delay 50ms 20ms distribution paretonormal
        NetemCase{"tc_netem_paretonormal.hex",
                  [] {
                    nslab::v1::Impairment impairment;
                    impairment.set_delay_us(50'000);
                    impairment.set_jitter_us(20'000);
                    impairment.set_distribution(nslab::v1::DELAY_DISTRIBUTION_PARETONORMAL);
                    return PlannedNetem(impairment);
                  }}),
    [](const ::testing::TestParamInfo<NetemCase>& info) {
      std::string name = info.param.fixture;
      name = name.substr(0, name.find('.'));
      return name;
    });

TEST(NetemRequestTest, HeaderAsksForCreateOrReplaceWithAck) {
  absl::StatusOr<NlMsgPtr> msg = BuildNetemRequest(kRoot, PlannedNetem(FullImpairment()));
  DecodedRequest ours = DecodeOurs(msg, sizeof(tc_netem_qopt));
  EXPECT_EQ(ours.nlmsg_type, RTM_NEWQDISC);
  EXPECT_EQ(ours.nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE);
  EXPECT_EQ(ours.tcm.tcm_family, AF_UNSPEC);
  EXPECT_EQ(ours.tcm.tcm_ifindex, kIfindex);
  EXPECT_EQ(ours.tcm.tcm_handle, 0x4e530000u);
  EXPECT_EQ(ours.tcm.tcm_parent, TC_H_ROOT);
}

TEST(NetemRequestTest, DelayBeyondThirtyTwoBitTicksAddsLatency64) {
  ImpairmentSpec spec;
  spec.delay_ns = int64_t{300} * 1'000'000'000;  // tc refuses this ("Illegal latency")
  DecodedRequest ours = DecodeOurs(BuildNetemRequest(kRoot, spec), sizeof(tc_netem_qopt));
  tc_netem_qopt qopt;
  ASSERT_EQ(ours.head.size(), sizeof(qopt));
  std::memcpy(&qopt, ours.head.data(), sizeof(qopt));
  EXPECT_EQ(qopt.latency, std::numeric_limits<uint32_t>::max());
  ASSERT_EQ(ours.attrs.size(), 1u);
  EXPECT_EQ(ours.attrs[0].type, TCA_NETEM_LATENCY64);
  int64_t latency_ns = 0;
  ASSERT_EQ(ours.attrs[0].payload.size(), sizeof(latency_ns));
  std::memcpy(&latency_ns, ours.attrs[0].payload.data(), sizeof(latency_ns));
  EXPECT_EQ(latency_ns, spec.delay_ns);
}

TEST(NetemRequestTest, SeedGoesLastAsPrngSeedOnlyWhenGiven) {
  ImpairmentSpec spec;
  spec.delay_ns = 10'000'000;
  DecodedRequest unseeded = DecodeOurs(BuildNetemRequest(kRoot, spec), sizeof(tc_netem_qopt));
  EXPECT_TRUE(unseeded.attrs.empty());

  constexpr uint64_t kSeed = 0x0123456789abcdef;
  DecodedRequest seeded = DecodeOurs(BuildNetemRequest(kRoot, spec, kSeed), sizeof(tc_netem_qopt));
  EXPECT_EQ(seeded.head, unseeded.head);
  ASSERT_EQ(seeded.attrs.size(), 1u);
  EXPECT_EQ(seeded.attrs[0].type, 14);  // TCA_NETEM_PRNG_SEED in Linux 6.7's pkt_sched.h
  uint64_t seed = 0;
  ASSERT_EQ(seeded.attrs[0].payload.size(), sizeof(seed));
  std::memcpy(&seed, seeded.attrs[0].payload.data(), sizeof(seed));
  EXPECT_EQ(seed, kSeed);
}

TEST(NetemRequestTest, ReorderWithoutGapSendsGapOne) {
  ImpairmentSpec spec;
  spec.delay_ns = 10'000'000;
  spec.reorder = 0x40000000;
  DecodedRequest ours = DecodeOurs(BuildNetemRequest(kRoot, spec), sizeof(tc_netem_qopt));
  tc_netem_qopt qopt;
  ASSERT_EQ(ours.head.size(), sizeof(qopt));
  std::memcpy(&qopt, ours.head.data(), sizeof(qopt));
  EXPECT_EQ(qopt.gap, 1u);
}

TEST(NetemRequestTest, RefusesTracesAndOversizedTables) {
  ImpairmentSpec traced;
  traced.trace = std::make_shared<DeliveryTrace>(
      *DeliveryTrace::Parse("1\n"));  // any trace: netem has no such thing
  EXPECT_EQ(BuildNetemRequest(kRoot, traced).status().code(), absl::StatusCode::kInvalidArgument);

  ImpairmentSpec huge;
  huge.delay_ns = 1'000'000;
  huge.jitter_ns = 1'000;
  huge.distribution =
      std::make_shared<DistributionTable>(std::vector<int16_t>(kNetemDistMax + 1, 0));
  EXPECT_EQ(BuildNetemRequest(kRoot, huge).status().code(), absl::StatusCode::kInvalidArgument);
}

// tbf: TCA_TBF_PARMS and TCA_TBF_BURST byte for byte as tc's; tc's 1 KiB TCA_TBF_RTAB is
// the one attribute not sent (the kernel ignores it for an ethernet ratespec).
void ExpectSameTbf(const TbfParams& params, const std::string& fixture) {
  DecodedRequest tc = DecodeCapture(fixture, 0);
  DecodedRequest ours = DecodeOurs(BuildTbfRequest(kRoot, params), 0);
  EXPECT_EQ(ours.kind, "tbf");
  EXPECT_EQ(ours.kind, tc.kind);
  EXPECT_EQ(ours.options_type, tc.options_type);
  std::vector<Attr> tc_without_rtab;
  for (const Attr& attr : tc.attrs) {
    if (attr.type != TCA_TBF_RTAB) {
      tc_without_rtab.push_back(attr);
    }
  }
  ASSERT_EQ(ours.attrs.size(), tc_without_rtab.size());
  for (size_t i = 0; i < ours.attrs.size(); ++i) {
    EXPECT_EQ(ours.attrs[i].type, tc_without_rtab[i].type) << "attribute " << i;
    EXPECT_EQ(ours.attrs[i].payload, tc_without_rtab[i].payload)
        << "attribute " << i << " (type " << ours.attrs[i].type << ")";
  }
}

TEST(TbfRequestTest, MatchesTc) {
  // tc qdisc add dev v0 root tbf rate 10mbit burst 32kb limit 95268
  ExpectSameTbf({.rate_bytes_per_s = 1'250'000, .burst_bytes = 32'768, .limit_bytes = 95'268},
                "tc_tbf.hex");
}

TEST(TbfRequestTest, SixtyFourBitRateMatchesTc) {
  // tc qdisc add dev v0 root tbf rate 40gbit burst 1mb limit 250000000
  ExpectSameTbf(
      {.rate_bytes_per_s = 5'000'000'000, .burst_bytes = 1 << 20, .limit_bytes = 250'000'000},
      "tc_tbf_rate64.hex");
}

TEST(TbfRequestTest, RefusesZeroRateOrBurst) {
  EXPECT_FALSE(BuildTbfRequest(kRoot, {.rate_bytes_per_s = 0, .burst_bytes = 3000}).ok());
  EXPECT_FALSE(BuildTbfRequest(kRoot, {.rate_bytes_per_s = 1000, .burst_bytes = 0}).ok());
}

TEST(PfifoRequestTest, CarriesTheLimitInPackets) {
  const QdiscTarget child{kIfindex, 0x4e550000, TC_H_MAKE(0x4e530000, 1)};
  DecodedRequest ours = DecodeOurs(BuildPfifoRequest(child, 77), sizeof(tc_fifo_qopt));
  EXPECT_EQ(ours.kind, "pfifo");
  EXPECT_EQ(ours.tcm.tcm_parent, 0x4e530001u);
  EXPECT_EQ(ours.tcm.tcm_handle, 0x4e550000u);
  // TCA_OPTIONS is a bare struct tc_fifo_qopt.
  EXPECT_THAT(ours.options, ElementsAre(77, 0, 0, 0));
  EXPECT_TRUE(ours.attrs.empty());
}

TEST(DeleteRequestTest, NamesHandleAndKind) {
  DecodedRequest ours =
      DecodeOurs(BuildDeleteQdiscRequest({kIfindex, 0x4e540000, TC_H_ROOT}, "netem"), 0);
  EXPECT_EQ(ours.nlmsg_type, RTM_DELQDISC);
  EXPECT_EQ(ours.nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK);
  EXPECT_EQ(ours.tcm.tcm_handle, 0x4e540000u);
  EXPECT_EQ(ours.tcm.tcm_parent, TC_H_ROOT);
  EXPECT_EQ(ours.kind, "netem");
}

}  // namespace
}  // namespace nslab::impair::kernel
