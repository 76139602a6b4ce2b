// The userspace wire on real TAP devices: two namespaces made by the test, a WireLink between
// them on an io_context thread, and real traffic (ping, UDP probes, TCP) across it. The tests
// assert behaviour, and times only as bounds the impairment model sets (a delay of d makes no
// RTT shorter than d); how fast the wire is, and how close to the model it keeps the timing, is
// for tests/bench/wire_link to report.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "daemon/netns/netns.h"
#include "daemon/wire/netns_tap.h"
#include "daemon/wire/tap_link.h"
#include "nslab/v1/topology.pb.h"
#include "tests/integration/wire/wire_lab.h"

namespace nslab::testing {
namespace {

using ::nslab::v1::Impairment;
using ::nslab::wire::Direction;
using ::nslab::wire::MacAddress;
using ::nslab::wire::OpenTapInNetns;
using ::nslab::wire::StopMode;
using ::nslab::wire::WireLink;
using ::nslab::wire::WireLinkSpec;

constexpr char kIfname[] = "wire0";
constexpr char kAddrA[] = "10.77.0.1";
constexpr char kAddrB[] = "10.77.0.2";
constexpr MacAddress kMacA = {0x02, 0x77, 0, 0, 0, 0x01};
constexpr MacAddress kMacB = {0x02, 0x77, 0, 0, 0, 0x02};

std::string MacText(const MacAddress& mac) {
  char text[18];
  std::snprintf(text, sizeof(text), "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
                mac[4], mac[5]);
  return text;
}

Impairment Delay(uint32_t ms) {
  Impairment impairment;
  impairment.set_delay_us(ms * 1000);
  return impairment;
}

class WireLinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto a = ScopedNamespace::Create(UniqueNetnsName("nslab-wiret"));
    ASSERT_TRUE(a.ok()) << a.status();
    ns_a_ = *std::move(a);
    auto b = ScopedNamespace::Create(UniqueNetnsName("nslab-wiret"));
    ASSERT_TRUE(b.ok()) << b.status();
    ns_b_ = *std::move(b);
  }

  // The link and the addresses on it. Static neighbours keep ARP off the wire where a test
  // needs the frames crossing it to be exactly its own.
  void Connect(const Impairment& a_to_b = {}, const Impairment& b_to_a = {},
               bool static_neighbours = true, uint64_t seed = 1) {
    WireLinkSpec spec;
    spec.lab_seed = seed;
    spec.link_name = "a:wire0--b:wire0";
    spec.ns_a = ns_a_->fd();
    spec.ifname_a = kIfname;
    spec.ns_b = ns_b_->fd();
    spec.ifname_b = kIfname;
    spec.a_to_b = a_to_b;
    spec.b_to_a = b_to_a;
    spec.mac_a = kMacA;
    spec.mac_b = kMacB;
    auto link = WireLink::Create(io_.io(), spec);
    ASSERT_TRUE(link.ok()) << link.status();
    link_ = *std::move(link);
    Address(static_neighbours);
  }

  void Address(bool static_neighbours) {
    for (const auto& [ns, self, peer, peer_mac] :
         {std::tuple(ns_a_.get(), kAddrA, kAddrB, kMacB),
          std::tuple(ns_b_.get(), kAddrB, kAddrA, kMacA)}) {
      auto added =
          Shell(absl::StrCat("ip -n ", ns->name(), " addr replace ", self, "/24 dev ", kIfname));
      ASSERT_TRUE(added.ok()) << added.status();
      if (static_neighbours) {
        auto neighbour =
            Shell(absl::StrCat("ip -n ", ns->name(), " neigh replace ", peer, " lladdr ",
                               MacText(peer_mac), " dev ", kIfname, " nud permanent"));
        ASSERT_TRUE(neighbour.ok()) << neighbour.status();
      }
    }
  }

  void Disconnect() {
    ASSERT_TRUE(link_->Stop(StopMode::kDeleteDevices).ok());
    link_.reset();
  }

  PingResult PingB(int count, double interval_s = 0.05) {
    auto result = Ping(ns_a_->name(), kAddrB, count, interval_s);
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? *result : PingResult{};
  }

  // Declaration order is teardown order in reverse: the link closes its TAPs while the
  // io_context still runs, then the thread stops, then the namespaces go.
  std::unique_ptr<ScopedNamespace> ns_a_;
  std::unique_ptr<ScopedNamespace> ns_b_;
  IoThread io_{/*realtime=*/true};
  std::unique_ptr<WireLink> link_;
};

TEST_F(WireLinkTest, PingAcrossAnUnimpairedWire) {
  ASSERT_NO_FATAL_FAILURE(Connect({}, {}, /*static_neighbours=*/false));
  PingResult ping = PingB(100, 0.01);
  EXPECT_EQ(ping.transmitted, 100);
  EXPECT_EQ(ping.received, 100);
  const wire::WireCounters a_to_b = link_->Counters(Direction::kAToB);
  const wire::WireCounters b_to_a = link_->Counters(Direction::kBToA);
  // 100 echo requests and at least one ARP exchange each way.
  EXPECT_GE(a_to_b.pipeline.forwarded, 101u);
  EXPECT_GE(b_to_a.pipeline.forwarded, 101u);
  EXPECT_EQ(a_to_b.pipeline.dropped_loss + a_to_b.tx_dropped + a_to_b.tx_errors, 0u);
  EXPECT_EQ(b_to_a.pipeline.dropped_loss + b_to_a.tx_dropped + b_to_a.tx_errors, 0u);
  RecordProperty("baseline_rtt_ms", absl::StrCat(ping.MedianMs()));
}

// Every RTT of `ping` is at least `ms`: the wire never hands a frame over before its delay.
void ExpectNoneEarlierThan(const PingResult& ping, double ms) {
  for (double rtt : ping.rtt_ms) {
    EXPECT_GE(rtt, ms) << "a reply earlier than the delays in force allow";
  }
}

TEST_F(WireLinkTest, OneWayDelayAddsToTheRoundTrip) {
  ASSERT_NO_FATAL_FAILURE(Connect(Delay(20)));
  PingResult delayed = PingB(20);
  EXPECT_EQ(delayed.received, 20);
  std::printf("delay 20 ms a->b: min RTT %.3f ms, median %.3f ms\n", delayed.MinMs(),
              delayed.MedianMs());
  // The request waits 20 ms on the wire, so no reply comes sooner. Had the delay also been
  // applied to the way back, none would come sooner than 40 ms: the fastest of 20 replies shows
  // it was not.
  ExpectNoneEarlierThan(delayed, 20.0);
  EXPECT_LT(delayed.MinMs(), 40.0) << "the a->b delay also held the replies";
}

TEST_F(WireLinkTest, SeededLossIsBinomialAndReplays) {
  constexpr uint32_t kProbes = 2000;
  constexpr double kLoss = 0.10;
  Impairment lossy;
  lossy.set_loss(kLoss * 100);
  std::vector<std::vector<uint32_t>> lost_per_run;
  for (uint64_t seed : {42u, 42u, 43u}) {
    ASSERT_NO_FATAL_FAILURE(Connect(lossy, {}, /*static_neighbours=*/true, seed));
    auto probes = SendUdpProbes(ns_a_->fd(), ns_b_->fd(), kAddrB, kProbes);
    ASSERT_TRUE(probes.ok()) << probes.status();
    EXPECT_EQ(probes->mismatched, 0u);
    const std::vector<uint32_t>& lost = probes->lost;
    const wire::WireCounters counters = link_->Counters(Direction::kAToB);
    // Only the probes crossed the wire (no ARP, no IPv6), and every loss was the wire's.
    EXPECT_EQ(counters.pipeline.offered, kProbes);
    EXPECT_EQ(counters.pipeline.dropped_loss, lost.size());
    EXPECT_EQ(counters.tx_dropped + counters.tx_errors, 0u);
    std::printf("seed %lu: %zu of %u probes lost\n", static_cast<unsigned long>(seed), lost.size(),
                kProbes);
    lost_per_run.push_back(lost);
    Disconnect();
  }
  // The 99% interval of Binomial(2000, 0.1), normal approximation: 200 +- 2.576 * 13.4. The
  // seeds fix the outcome (only the probes cross the wire), so this cannot fail by chance.
  const double mean = kProbes * kLoss;
  const double half_width = 2.576 * std::sqrt(kProbes * kLoss * (1 - kLoss));
  for (const auto& lost : lost_per_run) {
    EXPECT_GE(static_cast<double>(lost.size()), mean - half_width);
    EXPECT_LE(static_cast<double>(lost.size()), mean + half_width);
  }
  EXPECT_EQ(lost_per_run[0], lost_per_run[1]) << "the same seed must drop the same probes";
  EXPECT_NE(lost_per_run[0], lost_per_run[2]) << "another seed, another sequence";
}

TEST_F(WireLinkTest, LinkDownStopsTrafficAndUpRestoresIt) {
  ASSERT_NO_FATAL_FAILURE(Connect({}, {}, /*static_neighbours=*/false));
  EXPECT_EQ(PingB(3).received, 3);
  ASSERT_TRUE(link_->SetUp(false).ok());
  const uint64_t down_before = link_->Counters(Direction::kAToB).pipeline.dropped_link_down;
  PingResult down = PingB(5, 0.1);
  EXPECT_EQ(down.received, 0);
  EXPECT_GE(link_->Counters(Direction::kAToB).pipeline.dropped_link_down, down_before + 5);
  ASSERT_TRUE(link_->SetUp(true).ok());
  EXPECT_EQ(PingB(5, 0.1).received, 5);
}

// Each change holds from the next frame on. The bounds are the model's: a delay in force makes
// every RTT at least that long, and a delay not in force (or removed) shows in the fastest of
// 20 replies coming sooner than it.
TEST_F(WireLinkTest, RuntimeImpairmentChangesDelay) {
  ASSERT_NO_FATAL_FAILURE(Connect());
  ASSERT_TRUE(link_->SetImpairment(Direction::kAToB, Delay(20)).ok());
  const PingResult one_way = PingB(20);
  ASSERT_TRUE(link_->SetImpairment(Direction::kBToA, Delay(10)).ok());
  const PingResult both = PingB(20);
  ASSERT_TRUE(link_->SetImpairment(Direction::kAToB, {}).ok());
  ASSERT_TRUE(link_->SetImpairment(Direction::kBToA, {}).ok());
  const PingResult cleared = PingB(20);
  std::printf(
      "runtime delay: min RTT %.3f ms (a->b 20), %.3f ms (and b->a 10), %.3f ms (cleared)\n",
      one_way.MinMs(), both.MinMs(), cleared.MinMs());
  // a->b 20: 20 ms at least, and less than the 40 ms of 20 ms in both directions.
  ExpectNoneEarlierThan(one_way, 20.0);
  EXPECT_LT(one_way.MinMs(), 40.0);
  // And b->a 10: 30 ms at least, and less than the 40 ms of 20 ms in both directions.
  ExpectNoneEarlierThan(both, 30.0);
  EXPECT_LT(both.MinMs(), 40.0);
  // Cleared: both directions are unimpaired again (and take their offloads back), and a reply
  // comes sooner than the smallest delay that was in force.
  EXPECT_TRUE(link_->Counters(Direction::kAToB).offloads);
  EXPECT_TRUE(link_->Counters(Direction::kBToA).offloads);
  EXPECT_LT(cleared.MinMs(), 10.0);

  Impairment invalid;
  invalid.set_loss(150);
  EXPECT_EQ(link_->SetImpairment(Direction::kAToB, invalid).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(WireLinkTest, RateLimitsTcpGoodput) {
  constexpr double kRateBps = 10e6;
  Impairment rate;
  rate.set_rate_bps(static_cast<uint64_t>(kRateBps));
  ASSERT_NO_FATAL_FAILURE(Connect(rate));
  auto bulk = TcpBulk(ns_a_->fd(), ns_b_->fd(), kAddrB, 4 << 20);
  ASSERT_TRUE(bulk.ok()) << bulk.status();
  // The rate counts whole Ethernet frames: a 1514-byte frame carries 1448 bytes of TCP payload
  // (20 IP + 32 TCP with timestamps + 14 Ethernet).
  const double expected_mbps = kRateBps / 1e6 * 1448.0 / 1514.0;
  std::printf("rate 10 Mbit/s: goodput %.3f Mbit/s (%.1f MB in %.2f s), expected %.3f\n",
              bulk->Mbps(), bulk->bytes / 1e6, bulk->seconds, expected_mbps);
  // The wire sends no frame before the previous one has had its time at 10 Mbit/s, so the
  // goodput cannot exceed the payload share of the rate. The receiver's clock starts at its
  // first read, whose bytes (up to 64 KiB of 4 MiB) count without their time: that and the
  // rounding of timer wake-ups stay well within 10%. How close to the rate TCP gets is a
  // speed, which bench_wire_link reports.
  EXPECT_LE(bulk->Mbps(), expected_mbps * 1.10);
}

// Unimpaired, a direction hands the kernel's TSO super-frames over whole (the fast path); as
// soon as it is impaired every frame is one MTU-sized packet again, so the impairment acts per
// packet; cleared, the super-frames come back. The data arrives intact in all three phases.
TEST_F(WireLinkTest, OffloadsCarrySuperFramesOnlyWhileUnimpaired) {
  ASSERT_NO_FATAL_FAILURE(Connect());
  constexpr uint64_t kBytes = 16 << 20;
  auto bulk = TcpBulk(ns_a_->fd(), ns_b_->fd(), kAddrB, kBytes);
  ASSERT_TRUE(bulk.ok()) << bulk.status();
  const wire::WireCounters unimpaired = link_->Counters(Direction::kAToB);
  EXPECT_TRUE(unimpaired.offloads);
  EXPECT_GT(unimpaired.super_frames, 0u);
  // Far fewer frames than MTU-sized segments would need.
  EXPECT_LT(unimpaired.pipeline.forwarded, kBytes / 1448 / 2);
  std::printf("unimpaired: %lu frames for %lu bytes, %lu super-frames\n",
              unimpaired.pipeline.forwarded, unimpaired.pipeline.bytes, unimpaired.super_frames);

  Impairment rate;
  rate.set_rate_bps(2'000'000'000);  // an impairment that hardly slows this transfer
  ASSERT_TRUE(link_->SetImpairment(Direction::kAToB, rate).ok());
  bulk = TcpBulk(ns_a_->fd(), ns_b_->fd(), kAddrB, kBytes);
  ASSERT_TRUE(bulk.ok()) << bulk.status();
  const wire::WireCounters impaired = link_->Counters(Direction::kAToB);
  EXPECT_FALSE(impaired.offloads);
  EXPECT_EQ(impaired.super_frames, unimpaired.super_frames);
  const uint64_t frames = impaired.pipeline.forwarded - unimpaired.pipeline.forwarded;
  const uint64_t bytes = impaired.pipeline.bytes - unimpaired.pipeline.bytes;
  ASSERT_GT(frames, 0u);
  EXPECT_LE(bytes / frames, 1514u);  // the largest frame of a 1500-byte MTU
  // The other direction (ACKs) was never impaired and keeps its offloads.
  EXPECT_TRUE(link_->Counters(Direction::kBToA).offloads);

  ASSERT_TRUE(link_->SetImpairment(Direction::kAToB, Impairment()).ok());
  bulk = TcpBulk(ns_a_->fd(), ns_b_->fd(), kAddrB, kBytes);
  ASSERT_TRUE(bulk.ok()) << bulk.status();
  const wire::WireCounters cleared = link_->Counters(Direction::kAToB);
  EXPECT_TRUE(cleared.offloads);
  EXPECT_GT(cleared.super_frames, impaired.super_frames);
}

// Corruption must be caught by the receiver's checksums, which only holds if a corrupting
// direction never forwards partial (offloaded) checksums: the receiving kernel would trust them
// and hand the flipped bits to the application. The probes are mostly payload, so most flips
// land there, and every datagram received is compared with the probe as it was sent.
TEST_F(WireLinkTest, CorruptedUdpNeverReachesTheApplication) {
  Impairment corrupt;
  corrupt.set_corrupt(100);
  ASSERT_NO_FATAL_FAILURE(Connect(corrupt));
  constexpr uint32_t kProbes = 200;
  auto probes = SendUdpProbes(ns_a_->fd(), ns_b_->fd(), kAddrB, kProbes, /*payload_bytes=*/1200);
  ASSERT_TRUE(probes.ok()) << probes.status();
  std::printf("corrupt 100%%: %zu of %u probes lost, %u delivered with other bytes\n",
              probes->lost.size(), kProbes, probes->mismatched);
  EXPECT_EQ(probes->mismatched, 0u) << "corrupted datagrams reached the application";
  // Every frame had a bit flipped; a flip in the source MAC address (6 bytes of ~1250) harms
  // nothing and the probe arrives intact, as on a real link. All others are dropped.
  EXPECT_GE(probes->lost.size(), kProbes * 9 / 10);
  const wire::WireCounters counters = link_->Counters(Direction::kAToB);
  EXPECT_FALSE(counters.offloads);
  EXPECT_GE(counters.pipeline.corrupted, kProbes);
}

TEST_F(WireLinkTest, StopKeepsPersistentTapsForReattach) {
  ASSERT_NO_FATAL_FAILURE(Connect());
  EXPECT_EQ(PingB(3).received, 3);
  ASSERT_TRUE(link_->Stop(StopMode::kKeepDevices).ok());
  EXPECT_EQ(link_->SetUp(true).code(), absl::StatusCode::kFailedPrecondition);
  link_.reset();
  // The devices and their addresses outlive the daemon's fds.
  auto shown = Shell(absl::StrCat("ip -n ", ns_a_->name(), " -4 addr show dev ", kIfname));
  ASSERT_TRUE(shown.ok()) << shown.status();
  EXPECT_THAT(*shown, ::testing::HasSubstr(kAddrA));

  WireLinkSpec spec;
  spec.link_name = "reattached";
  spec.ns_a = ns_a_->fd();
  spec.ifname_a = kIfname;
  spec.ns_b = ns_b_->fd();
  spec.ifname_b = kIfname;
  spec.reattach = true;
  auto link = WireLink::Create(io_.io(), spec);
  ASSERT_TRUE(link.ok()) << link.status();
  link_ = *std::move(link);
  EXPECT_EQ(PingB(3).received, 3);
}

TEST_F(WireLinkTest, ManyLinksShareOneIoThread) {
  constexpr int kLinks = 8;
  std::vector<std::unique_ptr<WireLink>> links;
  for (int i = 0; i < kLinks; ++i) {
    WireLinkSpec spec;
    spec.link_name = absl::StrCat("link", i);
    spec.ns_a = ns_a_->fd();
    spec.ifname_a = absl::StrCat("many", i);
    spec.ns_b = ns_b_->fd();
    spec.ifname_b = spec.ifname_a;
    spec.a_to_b = Delay(10 * i);  // link i adds 10 * i ms
    auto link = WireLink::Create(io_.io(), spec);
    ASSERT_TRUE(link.ok()) << link.status();
    links.push_back(*std::move(link));
    for (const auto& [ns, host] : {std::pair(ns_a_.get(), 1), std::pair(ns_b_.get(), 2)}) {
      auto added = Shell(absl::StrCat("ip -n ", ns->name(), " addr add 10.78.", i, ".", host,
                                      "/24 dev ", spec.ifname_a));
      ASSERT_TRUE(added.ok()) << added.status();
    }
  }
  for (int i = 0; i < kLinks; ++i) {
    auto ping = Ping(ns_a_->name(), absl::StrCat("10.78.", i, ".2"), 5, 0.02);
    ASSERT_TRUE(ping.ok()) << ping.status();
    EXPECT_EQ(ping->received, 5) << "link " << i;
    // Link i's delay and no other: no reply sooner than 10 * i ms, and the fastest sooner than
    // the 10 * (i + 1) ms of the next link's.
    for (double rtt : ping->rtt_ms) {
      EXPECT_GE(rtt, 10.0 * i) << "link " << i;
    }
    EXPECT_LT(ping->MinMs(), 10.0 * (i + 1)) << "link " << i;
  }
}

TEST_F(WireLinkTest, TapFdsKeepADeletedNamespaceAlive) {
  ASSERT_NO_FATAL_FAILURE(Connect());
  ASSERT_TRUE(netns::Delete(ns_b_->name()).ok());
  // The name is gone, but B's stack still answers through the TAP fd the link holds; this is
  // why a lab stops its wire links before it deletes its namespaces.
  EXPECT_EQ(PingB(3).received, 3);
  // Closing the fds releases B (and its TAP); A's TAP goes with kDeleteDevices.
  ASSERT_TRUE(link_->Stop(StopMode::kDeleteDevices).ok());
  EXPECT_FALSE(Shell(absl::StrCat("ip -n ", ns_a_->name(), " link show dev ", kIfname)).ok());
}

TEST_F(WireLinkTest, TapDeviceLifecycle) {
  const tap::TapOptions kAttach{.mode = tap::OpenMode::kAttach};
  auto device = OpenTapInNetns(
      ns_a_->fd(), "tapx0",
      {.mode = tap::OpenMode::kCreate, .mtu = 1400, .mac = kMacA, .up = true, .persistent = true});
  ASSERT_TRUE(device.ok()) << device.status();
  EXPECT_GT(device->ifindex(), 0);
  auto mac = device->Mac();
  ASSERT_TRUE(mac.ok());
  EXPECT_EQ(*mac, kMacA);
  auto shown = Shell(absl::StrCat("ip -n ", ns_a_->name(), " link show dev tapx0"));
  ASSERT_TRUE(shown.ok()) << shown.status();
  EXPECT_THAT(*shown, ::testing::HasSubstr("mtu 1400"));
  EXPECT_THAT(*shown, ::testing::HasSubstr("UP"));
  // Created in A only.
  EXPECT_FALSE(Shell(absl::StrCat("ip -n ", ns_b_->name(), " link show dev tapx0")).ok());

  EXPECT_EQ(OpenTapInNetns(ns_a_->fd(), "tapx0", {}).status().code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(OpenTapInNetns(ns_a_->fd(), "lo", {}).status().code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(OpenTapInNetns(ns_a_->fd(), "lo", kAttach).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(OpenTapInNetns(ns_a_->fd(), "nosuchtap", kAttach).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(OpenTapInNetns(ns_a_->fd(), "a-name-far-too-long", {}).status().code(),
            absl::StatusCode::kInvalidArgument);

  const int ifindex = device->ifindex();
  device->Close();  // persistent: the device stays
  auto again = OpenTapInNetns(ns_a_->fd(), "tapx0", kAttach);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->ifindex(), ifindex);
  ASSERT_TRUE(again->DeletePersistent().ok());
  EXPECT_FALSE(Shell(absl::StrCat("ip -n ", ns_a_->name(), " link show dev tapx0")).ok());
  EXPECT_EQ(OpenTapInNetns(ns_a_->fd(), "tapx0", kAttach).status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace nslab::testing
