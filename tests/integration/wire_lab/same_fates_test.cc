// "Same seed, same fates" measured on real labs: fresh labs built from one topology and seed,
// doing the same steps, lose the same echo requests although other traffic (the kernel's IPv6
// router solicitations, MLD reports and DAD, plus a ping and a UDP stream of other classes)
// crosses the lossy direction at moments of the scheduler's choosing. Another seed loses an
// unrelated set.
//
// Agreement is the Jaccard index of two runs' sets of lost icmp_seq: |A ∩ B| / |A ∪ B|. Two
// independent sets, each frame lost with p = 0.2, meet with probability p^2 and join with
// 2p - p^2, so their Jaccard index is about p / (2 - p) = 0.11.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "nslab/v1/chaos.grpc.pb.h"
#include "tests/integration/support/daemon_suite.h"
#include "tests/integration/support/test_daemon.h"

namespace nslab::testing {
namespace {

constexpr int kPings = 300;

// IPv6 addresses keep the kernel's own IPv6 traffic (RS, MLD, DAD) in the lab, as an
// IPv4-only lab would not have it (no link-local addresses there): it is part of what the
// fates must not depend on. The server's second IPv4 address gives the background ping a
// class of its own.
constexpr char kTopology[] = R"(
seed: SEED
nodes: {client: {}, server: {}}
links:
  - {a: client:eth0, b: server:eth0, a_addr: [10.0.0.1/24, "fd00::1/64"],
     b_addr: [10.0.0.2/24, 10.0.0.3/24, "fd00::2/64"],
     mode: wire}
)";

// Background of two other classes for as long as the measured ping runs (about 3 s at
// -i 0.01), then the measured ping, whose replies alone reach stdout.
constexpr char kWorkload[] = R"(
ping -n -q -i 0.004 -w 5 10.0.0.3 >/dev/null 2>&1 &
python3 -c '
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
end = time.monotonic() + 5
while time.monotonic() < end:
    s.sendto(b"x" * 64, ("10.0.0.2", 9999))
    time.sleep(0.003)
' >/dev/null 2>&1 &
ping -n -i 0.01 -c PINGS -W 2 10.0.0.2
wait
)";

struct LabRun {
  std::set<int> lost;
  uint64_t other_frames = 0;  // frames of other classes offered to the lossy direction
};

double Jaccard(const std::set<int>& a, const std::set<int>& b) {
  size_t both = 0;
  for (int seq : a) {
    both += b.count(seq);
  }
  const size_t either = a.size() + b.size() - both;
  return either == 0 ? 1.0 : static_cast<double>(both) / static_cast<double>(either);
}

// The share of sequence numbers both runs treat alike (both lost or both answered).
double Agreement(const std::set<int>& a, const std::set<int>& b) {
  int same = 0;
  for (int seq = 1; seq <= kPings; ++seq) {
    same += a.contains(seq) == b.contains(seq);
  }
  return static_cast<double>(same) / kPings;
}

class SameFatesTest : public DaemonSuite<> {
 protected:
  // One fresh lab with `seed`: ARP resolved while the wire is clean (an unimpaired wire
  // draws no fates), then 20% loss client -> server and the workload; the lab is deleted
  // before returning.
  LabRun Measure(uint64_t seed) {
    const std::string name = UniqueLabName("samefates");
    LabGuard guard(daemon_, name);
    const std::string yaml = absl::StrReplaceAll(kTopology, {{"SEED", absl::StrCat(seed)}});
    auto status = daemon_->CreateFromYaml(yaml, name);
    EXPECT_TRUE(status.ok()) << status.error_message();
    for (const char* address : {"10.0.0.2", "10.0.0.3"}) {
      auto warm = daemon_->Exec(name, "client", {"ping", "-n", "-c", "1", "-W", "2", address});
      EXPECT_EQ(warm.code, 0) << warm.out << warm.err;
    }
    auto chaos = nslab::v1::ChaosService::NewStub(daemon_->channel());
    const uint64_t offered_before = Offered(*chaos, name);
    {
      nslab::v1::SetImpairmentRequest request;
      request.set_lab(name);
      request.set_link("client:eth0");
      request.set_direction(nslab::v1::DIRECTION_A_TO_B);
      request.mutable_impairment()->set_loss(20);
      nslab::v1::SetImpairmentResponse response;
      grpc::ClientContext context;
      auto set = chaos->SetImpairment(&context, request, &response);
      EXPECT_TRUE(set.ok()) << set.error_message();
    }
    const std::string script = absl::StrReplaceAll(kWorkload, {{"PINGS", absl::StrCat(kPings)}});
    auto ping = daemon_->Exec(name, "client", {"/bin/sh", "-c", script});
    LabRun run;
    std::set<int> answered;
    const std::regex reply(R"(icmp_seq=(\d+))");
    for (auto it = std::sregex_iterator(ping.out.begin(), ping.out.end(), reply);
         it != std::sregex_iterator(); ++it) {
      answered.insert(std::stoi((*it)[1]));
    }
    EXPECT_NE(ping.out.find(absl::StrCat(kPings, " packets transmitted")), std::string::npos)
        << ping.out << ping.err;
    for (int seq = 1; seq <= kPings; ++seq) {
      if (!answered.contains(seq)) {
        run.lost.insert(seq);
      }
    }
    const uint64_t offered = Offered(*chaos, name) - offered_before;
    run.other_frames = offered > kPings ? offered - kPings : 0;
    EXPECT_TRUE(daemon_->Delete(name).ok());
    std::printf("seed %lu, lab %s: %zu of %d echo requests lost, %lu frames of other classes\n",
                static_cast<unsigned long>(seed), name.c_str(), run.lost.size(), kPings,
                static_cast<unsigned long>(run.other_frames));
    return run;
  }

  static uint64_t Offered(nslab::v1::ChaosService::Stub& chaos, const std::string& lab) {
    nslab::v1::ListImpairmentsRequest request;
    request.set_lab(lab);
    nslab::v1::ListImpairmentsResponse response;
    grpc::ClientContext context;
    auto status = chaos.ListImpairments(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.links_size() > 0 ? response.links(0).a_to_b_counters().offered() : 0;
  }
};

TEST_F(SameFatesTest, SameSeedLosesTheSameEchoRequestsWhateverElseCrossesTheWire) {
  const std::vector<LabRun> first = {Measure(1001), Measure(1001)};
  const std::vector<LabRun> second = {Measure(2002), Measure(2002)};
  const double same_first = Jaccard(first[0].lost, first[1].lost);
  const double same_second = Jaccard(second[0].lost, second[1].lost);
  const double other = Jaccard(first[0].lost, second[0].lost);
  std::printf(
      "Jaccard of lost sets: seed 1001 vs 1001 %.3f (per-seq agreement %.3f), "
      "seed 2002 vs 2002 %.3f (%.3f), seed 1001 vs 2002 %.3f (%.3f; chance ~0.11)\n",
      same_first, Agreement(first[0].lost, first[1].lost), same_second,
      Agreement(second[0].lost, second[1].lost), other, Agreement(first[0].lost, second[0].lost));
  for (const LabRun& run : {first[0], first[1], second[0], second[1]}) {
    // 99.99% interval of Binomial(300, 0.2): 60 +- 3.9 * sqrt(48).
    EXPECT_GE(run.lost.size(), 33u);
    EXPECT_LE(run.lost.size(), 87u);
    // The background really crossed the lossy direction, interleaved with the pings.
    EXPECT_GE(run.other_frames, 500u);
  }
  EXPECT_GE(same_first, 0.99);
  EXPECT_GE(same_second, 0.99);
  EXPECT_LT(other, 0.5);
}

}  // namespace
}  // namespace nslab::testing
