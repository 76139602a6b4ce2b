// Flow-scoped impairments on wire links, through a real nslabd: a delay on one TCP port shows
// on that port's connects and not on another port's or on ping over the same link; a loss set
// at runtime on one UDP port drops about its share of that port's datagrams and none of the
// rest; bad flows are refused before anything is built. (Flows on veth links:
// impair_kernel/flow_impairment_veth_test.cc.)
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "nslab/v1/chaos.grpc.pb.h"
#include "tests/integration/support/daemon_suite.h"
#include "tests/integration/support/test_daemon.h"

namespace nslab::testing {
namespace {

using ::testing::HasSubstr;

// IPv6 off, so the wire carries only what the tests send (and ARP).
constexpr char kSysctls[] = R"(
sysctls:
  client: {net.ipv6.conf.all.disable_ipv6: "1", net.ipv6.conf.default.disable_ipv6: "1"}
  server: {net.ipv6.conf.all.disable_ipv6: "1", net.ipv6.conf.default.disable_ipv6: "1"}
)";

// Milliseconds from connect() to its refusal, for each port in turn, on the client. Nothing
// listens on the server: its RST answers the SYN, so a connect takes one round trip.
constexpr char kConnectTimes[] = R"(
import socket, sys, time
def refused_after_ms(port):
    s = socket.socket()
    s.settimeout(5)
    start = time.monotonic()
    try:
        s.connect(("10.0.0.2", port))
    except ConnectionRefusedError:
        return (time.monotonic() - start) * 1000
    finally:
        s.close()
    sys.exit("port %d: not refused" % port)
print(" ".join("%.2f" % refused_after_ms(int(p)) for p in sys.argv[1:]))
)";

class FlowImpairmentTest : public DaemonSuite<> {
 protected:
  void SetUp() override { chaos_ = nslab::v1::ChaosService::NewStub(daemon_->channel()); }

  grpc::Status Up(const std::string& yaml, nslab::v1::Lab* lab = nullptr) {
    name_ = UniqueLabName("flows");
    guard_ = std::make_unique<LabGuard>(daemon_, name_);
    nslab::v1::Lab ignored;
    return daemon_->CreateFromYaml(yaml, name_, lab != nullptr ? lab : &ignored);
  }

  std::vector<double> ConnectTimesMs(const std::vector<int>& ports) {
    std::vector<std::string> argv = {"python3", "-c", kConnectTimes};
    for (int port : ports) {
      argv.push_back(std::to_string(port));
    }
    const auto result = daemon_->Exec(name_, "client", argv);
    EXPECT_EQ(result.code, 0) << result.err;
    std::vector<double> times;
    std::istringstream in(result.out);
    for (double ms = 0; in >> ms;) {
      times.push_back(ms);
    }
    EXPECT_EQ(times.size(), ports.size()) << result.out;
    return times;
  }

  grpc::Status SetFlow(const std::string& link, const char* match,
                       const nslab::v1::Impairment* impairment,
                       nslab::v1::SetImpairmentResponse* response) {
    nslab::v1::SetImpairmentRequest request;
    request.set_lab(name_);
    request.set_link(link);
    request.set_direction(nslab::v1::DIRECTION_A_TO_B);
    // The structured form, as a gRPC client sends it: udp, destination port 9000.
    request.mutable_match()->set_protocol("udp");
    request.mutable_match()->mutable_destination_port()->set_first(9000);
    EXPECT_STREQ(match, "udp dport 9000");
    if (impairment != nullptr) {
      *request.mutable_impairment() = *impairment;
    }
    grpc::ClientContext context;
    return chaos_->SetImpairment(&context, request, response);
  }

  nslab::v1::LinkImpairment Listed() {
    nslab::v1::ListImpairmentsRequest request;
    request.set_lab(name_);
    nslab::v1::ListImpairmentsResponse response;
    grpc::ClientContext context;
    auto status = chaos_->ListImpairments(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.links_size() > 0 ? response.links(0) : nslab::v1::LinkImpairment();
  }

  std::string name_;
  std::unique_ptr<LabGuard> guard_;
  std::unique_ptr<nslab::v1::ChaosService::Stub> chaos_;
};

TEST_F(FlowImpairmentTest, ADelayOnOnePortShowsOnItsConnectsOnly) {
  nslab::v1::Lab lab;
  ASSERT_TRUE(Up(std::string(R"(
seed: 7
nodes: {client: {}, server: {}}
links:
  - a: client:eth0
    b: server:eth0
    a_addr: 10.0.0.1/24
    b_addr: 10.0.0.2/24
    mode: wire  # auto would pick a veth for this delay on a kernel with netem
    flows:
      - {match: "tcp dport 5432", impair: {delay: 100ms}}
)") + kSysctls,
                 &lab)
                  .ok());
  ASSERT_EQ(lab.links_size(), 1);
  EXPECT_EQ(lab.links(0).mode(), nslab::v1::LINK_MODE_WIRE);
  ASSERT_EQ(lab.links(0).a_to_b_flows_size(), 1);
  EXPECT_EQ(lab.links(0).a_to_b_flows(0).match_text(), "tcp dport 5432");
  EXPECT_EQ(lab.links(0).b_to_a_flows_size(), 1);

  // The SYN to 5432 waits 100 ms on its way; the server's RST comes from port 5432 to the
  // client's port, which the match does not select. Port 80 goes both ways untouched. The
  // first connect also resolves the neighbour.
  const std::vector<double> ms = ConnectTimesMs({81, 5432, 80, 5432, 80});
  ASSERT_EQ(ms.size(), 5u);
  std::printf("connect refused after: 5432 %.2f / %.2f ms, 80 %.2f / %.2f ms\n", ms[1], ms[3],
              ms[2], ms[4]);
  EXPECT_GE(ms[1], 99.5);
  EXPECT_GE(ms[3], 99.5);
  // Bounds on the untouched port are the host's scheduling, far below the 100 ms the flow adds.
  EXPECT_LT(ms[2], 50);
  EXPECT_LT(ms[4], 50);
  auto ping =
      daemon_->Exec(name_, "client", {"ping", "-n", "-q", "-c", "3", "-i", "0.05", "10.0.0.2"});
  EXPECT_EQ(ping.code, 0) << ping.out << ping.err;
  EXPECT_THAT(ping.out, HasSubstr("3 received"));

  const nslab::v1::LinkImpairment listed = Listed();
  ASSERT_EQ(listed.a_to_b_flows_size(), 1);
  EXPECT_EQ(listed.a_to_b_flows(0).counters().offered(), 2u);  // the two SYNs
  EXPECT_EQ(listed.a_to_b_flows(0).impairment().delay_us(), 100000u);
}

TEST_F(FlowImpairmentTest, ALossSetAtRuntimeDropsItsShareOfOnePortAndNothingElse) {
  ASSERT_TRUE(Up(std::string(R"(
seed: 11
nodes: {client: {}, server: {}}
links:
  - {a: client:eth0, b: server:eth0, a_addr: 10.0.0.1/24, b_addr: 10.0.0.2/24, mode: wire}
)") + kSysctls)
                  .ok());
  nslab::v1::Impairment loss;
  loss.set_loss(20);
  nslab::v1::SetImpairmentResponse set;
  auto status = SetFlow("client:eth0", "udp dport 9000", &loss, &set);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(set.links_size(), 1);
  ASSERT_EQ(set.links(0).a_to_b_flows_size(), 1);
  EXPECT_EQ(set.links(0).a_to_b_flows(0).match_text(), "udp dport 9000");
  EXPECT_EQ(set.links(0).b_to_a_flows_size(), 0);

  // 2,000 datagrams to each of two ports, paced so that the TAP's queue never overflows; the
  // ping after them crosses the wire behind the last one, so the counters then hold them all.
  constexpr int kEach = 2000;
  auto sent = daemon_->Exec(name_, "client",
                            {"python3", "-c",
                             "import socket, time\n"
                             "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
                             "for i in range(2000):\n"
                             "    s.sendto(b'x' * 32, ('10.0.0.2', 9000))\n"
                             "    s.sendto(b'y' * 32, ('10.0.0.2', 9001))\n"
                             "    if i % 50 == 49: time.sleep(0.002)\n"});
  ASSERT_EQ(sent.code, 0) << sent.err;
  auto ping = daemon_->Exec(name_, "client", {"ping", "-n", "-q", "-c", "1", "10.0.0.2"});
  ASSERT_EQ(ping.code, 0) << ping.out;

  const nslab::v1::LinkImpairment listed = Listed();
  ASSERT_EQ(listed.a_to_b_flows_size(), 1);
  const nslab::v1::WireCounters& flow = listed.a_to_b_flows(0).counters();
  std::printf("udp dport 9000: %llu offered, %llu lost; direction: %llu offered, %llu lost\n",
              static_cast<unsigned long long>(flow.offered()),
              static_cast<unsigned long long>(flow.dropped_loss()),
              static_cast<unsigned long long>(listed.a_to_b_counters().offered()),
              static_cast<unsigned long long>(listed.a_to_b_counters().dropped_loss()));
  EXPECT_EQ(flow.offered(), static_cast<uint64_t>(kEach));
  // Binomial(2000, 0.2): mean 400, standard deviation 17.9; six of them either side.
  EXPECT_GT(flow.dropped_loss(), 292u);
  EXPECT_LT(flow.dropped_loss(), 508u);
  // Nothing else in that direction lost a frame: not port 9001, not ARP, not the ping.
  EXPECT_EQ(listed.a_to_b_counters().dropped_loss(), flow.dropped_loss());
  EXPECT_GE(listed.a_to_b_counters().offered(), 2u * kEach + 1);
  EXPECT_EQ(listed.b_to_a_counters().dropped_loss(), 0u);

  // Without an impairment the flow is removed.
  status = SetFlow("client:eth0", "udp dport 9000", nullptr, &set);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(set.links_size(), 1);
  EXPECT_EQ(set.links(0).a_to_b_flows_size(), 0);
}

TEST_F(FlowImpairmentTest, BadFlowsAreRefusedBeforeAnythingIsBuilt) {
  const std::string lab_prefix = "/run/netns/";
  auto status = Up(R"(
nodes: {client: {}, server: {}}
links:
  - a: client:eth0
    b: server:eth0
    flows: [{match: "tcp dprt 80", impair: {delay: 10ms}}]
)");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("links[0].flows[0].match"));
  EXPECT_THAT(status.error_message(), HasSubstr("dprt"));
  EXPECT_FALSE(std::filesystem::exists(lab_prefix + name_ + "-client"));

  status = Up(R"(
nodes: {client: {}, server: {}}
links:
  - a: client:eth0
    b: server:eth0
    flows: [{match: "udp", impair: {delay: 1ms}}, {match: "udp", impair: {delay: 2ms}}]
)");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("links[0].flows[1].match"));
}

}  // namespace
}  // namespace nslab::testing
