// The prober against a witness: a userspace wire counts what it does to every frame (offered,
// lost, duplicated, corrupted, forwarded), and what the prober sees at the receiving interface
// must add up to exactly that. The probes are the only traffic (QuietLink), so the wire's
// counters, taken before and after the run, are the probes' alone. The link is made quiet while
// it is still unimpaired, so that nothing the lab's start sent (IPv6 DAD, router solicitations)
// is still held in a delay queue when the probes start; the impairment comes after.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>

#include "nslab/v1/chaos.grpc.pb.h"
#include "tests/integration/support/daemon_suite.h"
#include "tests/integration/support/test_daemon.h"
#include "tests/netem/support/link_probe.h"
#include "tests/netem/support/probe_stats.h"

namespace nslab::testing {
namespace {

using namespace std::chrono_literals;

constexpr char kTopology[] = R"(
seed: 7
nodes: {a: {}, b: {}}
links:
  - a: a:eth0
    b: b:eth0
    a_addr: 10.0.0.1/24
    b_addr: 10.0.0.2/24
    mode: wire
)";

void ImpairAToB(TestDaemon& daemon, const std::string& lab) {
  auto chaos = nslab::v1::ChaosService::NewStub(daemon.channel());
  nslab::v1::SetImpairmentRequest request;
  request.set_lab(lab);
  request.set_link("a:eth0");
  request.set_direction(nslab::v1::DIRECTION_A_TO_B);
  nslab::v1::Impairment& impairment = *request.mutable_impairment();
  impairment.set_delay_us(20'000);
  impairment.set_jitter_us(5'000);
  impairment.set_loss(10);
  impairment.set_duplicate(5);
  impairment.set_corrupt(5);
  nslab::v1::SetImpairmentResponse response;
  grpc::ClientContext context;
  const grpc::Status status = chaos->SetImpairment(&context, request, &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
}

nslab::v1::WireCounters AToB(TestDaemon& daemon, const std::string& lab) {
  auto chaos = nslab::v1::ChaosService::NewStub(daemon.channel());
  nslab::v1::ListImpairmentsRequest request;
  request.set_lab(lab);
  nslab::v1::ListImpairmentsResponse response;
  grpc::ClientContext context;
  const grpc::Status status = chaos->ListImpairments(&context, request, &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return response.links_size() > 0 ? response.links(0).a_to_b_counters()
                                   : nslab::v1::WireCounters();
}

class LinkProbeTest : public DaemonSuite<> {};

TEST_F(LinkProbeTest, SeesExactlyWhatTheWireDidToEachProbe) {
  const std::string lab = UniqueLabName("probe");
  LabGuard guard(daemon_, lab);
  const grpc::Status created = daemon_->CreateFromYaml(kTopology, lab);
  ASSERT_TRUE(created.ok()) << created.error_message();
  const netem::LinkEnd a = netem::LabLinkEnd(lab, "a", "eth0", "10.0.0.1");
  const netem::LinkEnd b = netem::LabLinkEnd(lab, "b", "eth0", "10.0.0.2");
  const absl::Status quiet = netem::QuietLink(a, b);
  ASSERT_TRUE(quiet.ok()) << quiet;
  ImpairAToB(*daemon_, lab);

  const nslab::v1::WireCounters before = AToB(*daemon_, lab);
  netem::ProbeOptions options;
  options.count = 3000;
  options.interval = 1ms;
  options.settle = 300ms;
  const absl::StatusOr<netem::ProbeRecords> records = netem::RunProbes(a, b, options);
  ASSERT_TRUE(records.ok()) << records.status();
  const nslab::v1::WireCounters after = AToB(*daemon_, lab);
  const netem::ProbeStats stats = netem::Summarize(*records);
  std::printf(
      "sent %u, delivered %u, lost %u, duplicates %lu, corrupted %lu, reordered %lu, foreign "
      "%lu, capture drops %lu; delay mean %.3f ms, p50 %.3f ms, p99 %.3f ms\n"
      "wire: offered %lu, dropped_loss %lu, duplicated %lu, corrupted %lu, forwarded %lu\n",
      stats.sent, stats.delivered, stats.lost, stats.duplicates, stats.corrupted, stats.reordered,
      stats.foreign, stats.capture_drops, stats.delay.mean_ns / 1e6, stats.delay.p50_ns / 1e6,
      stats.delay.p99_ns / 1e6, after.offered() - before.offered(),
      after.dropped_loss() - before.dropped_loss(), after.duplicated() - before.duplicated(),
      after.corrupted() - before.corrupted(), after.forwarded() - before.forwarded());

  EXPECT_EQ(stats.sent, options.count);
  EXPECT_EQ(stats.foreign, 0u);
  EXPECT_EQ(stats.capture_drops, 0u);
  EXPECT_EQ(after.offered() - before.offered(), options.count);
  // Every frame the wire forwarded reached the capture, intact or as the wire corrupted it.
  EXPECT_EQ(after.corrupted() - before.corrupted(), stats.corrupted);
  EXPECT_EQ(after.forwarded() - before.forwarded(), records->arrivals.size() + stats.corrupted);
  EXPECT_GT(stats.corrupted, 0u);
  EXPECT_GT(stats.duplicates, 0u);
  // Delay 20 ms +- 5 ms uniform: no probe arrives before 15 ms. No upper bound: what a busy
  // host adds on top is not the model's, and speed is not what this test judges.
  EXPECT_GE(stats.delay.min_ns, 15'000'000);
}

}  // namespace
}  // namespace nslab::testing
