// Flow-scoped impairments on veth links (the kernel backend), through a real nslabd: a rate on
// one TCP port slows that port's bulk transfer and not another's over the same veth; a loss set
// at runtime on one UDP port drops about its share of that port's datagrams and none of the
// rest, nor of ping; what this kernel cannot do is refused naming the flow and changes nothing;
// removing the flows removes nslab's qdiscs and tables.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "nslab/v1/chaos.grpc.pb.h"
#include "tests/integration/support/daemon_suite.h"
#include "tests/integration/support/test_daemon.h"

namespace nslab::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// On the server: TCP sinks on 5001 and 5002 that answer "done" once the sender is through,
// and UDP counters on 9000 and 9001 whose counts go to the file named by argv[1] every 100 ms.
constexpr char kServer[] = R"(
import os, socket, sys, threading, time
path = sys.argv[1]
counts = {9000: 0, 9001: 0}
def drain(c):
    while c.recv(1 << 16):
        pass
    c.sendall(b"done")
    c.close()
def tcp(port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("10.0.0.2", port))
    s.listen(8)
    while True:
        c, _ = s.accept()
        threading.Thread(target=drain, args=(c,), daemon=True).start()
def udp(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    s.bind(("10.0.0.2", port))
    while True:
        s.recv(2048)
        counts[port] += 1
for port in (9000, 9001):
    threading.Thread(target=udp, args=(port,), daemon=True).start()
for port in (5001, 5002):
    threading.Thread(target=tcp, args=(port,), daemon=True).start()
while True:
    time.sleep(0.1)
    with open(path + ".tmp", "w") as f:
        f.write("%d %d\n" % (counts[9000], counts[9001]))
    os.replace(path + ".tmp", path)
)";

// On the client: for each (port, bytes), the goodput in Mbit/s of sending that many bytes,
// timed until the server has read them all (its "done"), not until the socket took them.
constexpr char kBulk[] = R"(
import socket, sys, time
def transfer(port, size):
    s = socket.create_connection(("10.0.0.2", port), timeout=20)
    start = time.monotonic()
    s.sendall(b"x" * size)
    s.shutdown(socket.SHUT_WR)
    if s.recv(16) != b"done":
        sys.exit("port %d: no answer" % port)
    return size * 8 / (time.monotonic() - start) / 1e6
args = sys.argv[1:]
print(" ".join("%.2f" % transfer(int(p), int(n)) for p, n in zip(args[::2], args[1::2])))
)";

// A YAML double-quoted scalar of `text`.
std::string Quoted(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out + "\"";
}

class FlowImpairmentVethTest : public DaemonSuite<> {
 protected:
  void SetUp() override { chaos_ = nslab::v1::ChaosService::NewStub(daemon_->channel()); }

  void TearDown() override { std::filesystem::remove(counts_path_); }

  bool KernelHas(const char* name) {
    nslab::v1::GetCapabilitiesRequest request;
    nslab::v1::GetCapabilitiesResponse response;
    grpc::ClientContext context;
    EXPECT_TRUE(daemon_->system().GetCapabilities(&context, request, &response).ok());
    for (const auto& feature : response.capabilities().features()) {
      if (feature.name() == name) {
        return feature.available();
      }
    }
    return false;
  }

  // A two-node lab over one veth (client 10.0.0.1, server 10.0.0.2) with `link_extra` in the
  // link's YAML, IPv6 off so the link carries only what the tests send (and ARP).
  grpc::Status Up(const std::string& link_extra, nslab::v1::Lab* lab) {
    name_ = UniqueLabName("vflows");
    guard_ = std::make_unique<LabGuard>(daemon_, name_);
    counts_path_ = "/tmp/" + name_ + "-udp-counts";
    const std::string yaml = std::string(R"(
seed: 5
nodes: {client: {}, server: {}}
links:
  - {a: client:eth0, b: server:eth0, a_addr: 10.0.0.1/24, b_addr: 10.0.0.2/24, mode: veth)") +
                             link_extra + R"(}
sysctls:
  client: {net.ipv6.conf.all.disable_ipv6: "1", net.ipv6.conf.default.disable_ipv6: "1"}
  server: {net.ipv6.conf.all.disable_ipv6: "1", net.ipv6.conf.default.disable_ipv6: "1"}
run:
  server: [{argv: [python3, -c, )" +
                             Quoted(kServer) + ", " + counts_path_ + R"(], ready: {tcp: 5002}}]
)";
    return daemon_->CreateFromYaml(yaml, name_, lab);
  }

  grpc::Status SetFlow(const nslab::v1::FlowMatch& match, const nslab::v1::Impairment* impairment,
                       nslab::v1::SetImpairmentResponse* response) {
    nslab::v1::SetImpairmentRequest request;
    request.set_lab(name_);
    request.set_link("client:eth0");
    request.set_direction(nslab::v1::DIRECTION_A_TO_B);
    *request.mutable_match() = match;
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

  // The server's UDP counts once they have stopped changing.
  std::pair<int, int> UdpCounts() {
    std::string last;
    for (int i = 0; i < 50; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      std::ifstream in(counts_path_);
      std::stringstream text;
      text << in.rdbuf();
      if (!text.str().empty() && text.str() == last) {
        break;
      }
      last = text.str();
    }
    std::istringstream in(last);
    std::pair<int, int> counts{-1, -1};
    in >> counts.first >> counts.second;
    return counts;
  }

  std::string name_;
  std::string counts_path_;
  std::unique_ptr<LabGuard> guard_;
  std::unique_ptr<nslab::v1::ChaosService::Stub> chaos_;
};

TEST_F(FlowImpairmentVethTest, ARateOnOnePortSlowsItsBulkTransferAndNotAnothers) {
  if (!KernelHas("htb") || !KernelHas("nftables_egress")) {
    GTEST_SKIP() << "this kernel has no sch_htb or no nftables egress hook";
  }
  nslab::v1::Lab lab;
  auto status = Up(R"(,
      flows: [{match: "tcp dport 5001", a_to_b: {rate: 8mbit}}])",
                   &lab);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(lab.links_size(), 1);
  EXPECT_EQ(lab.links(0).mode(), nslab::v1::LINK_MODE_VETH);
  ASSERT_EQ(lab.links(0).a_to_b_flows_size(), 1);
  EXPECT_EQ(lab.links(0).b_to_a_flows_size(), 0);

  // 2 MB to the limited port take about 2 s at 8 Mbit/s; 40 MB to the other go at the veth's
  // speed. Each port twice, interleaved.
  const auto bulk = daemon_->Exec(name_, "client",
                                  {"python3", "-c", kBulk, "5002", "40000000", "5001", "2000000",
                                   "5002", "40000000", "5001", "2000000"},
                                  "", 60000);
  ASSERT_EQ(bulk.code, 0) << bulk.err;
  std::istringstream in(bulk.out);
  std::vector<double> mbits;
  for (double value = 0; in >> value;) {
    mbits.push_back(value);
  }
  ASSERT_EQ(mbits.size(), 4u) << bulk.out;
  std::printf("goodput: tcp 5001 (8 mbit flow) %.2f / %.2f Mbit/s, tcp 5002 %.0f / %.0f Mbit/s\n",
              mbits[1], mbits[3], mbits[0], mbits[2]);
  for (double limited : {mbits[1], mbits[3]}) {
    EXPECT_GT(limited, 5.0);
    EXPECT_LT(limited, 9.0);
  }
  // Wide margins: the other port is not held to the flow's rate.
  EXPECT_GT(std::min(mbits[0], mbits[2]), 10 * std::max(mbits[1], mbits[3]));

  const nslab::v1::LinkImpairment listed = Listed();
  ASSERT_EQ(listed.a_to_b_flows_size(), 1);
  const nslab::v1::WireCounters& flow = listed.a_to_b_flows(0).counters();
  std::printf("tcp dport 5001: %llu matched, %llu bytes, %llu queue drops, %llu forwarded\n",
              static_cast<unsigned long long>(flow.offered()),
              static_cast<unsigned long long>(flow.bytes()),
              static_cast<unsigned long long>(flow.dropped_queue_full()),
              static_cast<unsigned long long>(flow.forwarded()));
  EXPECT_GE(flow.bytes(), 2u * 2000000);
  // Only the limited port's frames: far from the 80 MB sent to the other. Its 4 MB and their
  // retransmissions, which grow with the queue drops of TCP's first bursts (7.4 MB with 1,812
  // drops on a loaded machine): at most 16 MB.
  EXPECT_LT(flow.bytes(), 4u * 2u * 2000000);
  EXPECT_GT(flow.forwarded(), 0u);

  // Removing the flow removes the tree and the classifier: the default qdisc is back.
  nslab::v1::FlowMatch match;
  match.set_protocol("tcp");
  match.mutable_destination_port()->set_first(5001);
  nslab::v1::SetImpairmentResponse set;
  status = SetFlow(match, nullptr, &set);
  ASSERT_TRUE(status.ok()) << status.error_message();
  const auto tables = daemon_->Exec(name_, "client", {"nft", "list", "tables"});
  EXPECT_THAT(tables.out, Not(HasSubstr("nslab_flows_")));
  const auto qdiscs = daemon_->Exec(name_, "client", {"tc", "qdisc", "show", "dev", "eth0"});
  EXPECT_THAT(qdiscs.out, Not(HasSubstr("htb")));
}

TEST_F(FlowImpairmentVethTest, ALossSetAtRuntimeDropsItsShareOfOnePortAndNothingElse) {
  nslab::v1::Lab lab;
  auto status = Up("", &lab);
  ASSERT_TRUE(status.ok()) << status.error_message();
  nslab::v1::FlowMatch match;
  match.set_protocol("udp");
  match.mutable_destination_port()->set_first(9000);
  nslab::v1::Impairment loss;
  loss.set_loss(20);
  nslab::v1::SetImpairmentResponse set;
  status = SetFlow(match, &loss, &set);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(set.links_size(), 1);
  EXPECT_EQ(set.links(0).backend(), "kernel");
  ASSERT_EQ(set.links(0).a_to_b_flows_size(), 1);
  EXPECT_EQ(set.links(0).a_to_b_flows(0).match_text(), "udp dport 9000");

  // 2,000 datagrams to each port, paced so that no socket buffer on the way overflows.
  constexpr int kEach = 2000;
  auto sent = daemon_->Exec(name_, "client",
                            {"python3", "-c",
                             "import socket, time\n"
                             "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
                             "for i in range(2000):\n"
                             "    s.sendto(b'x' * 32, ('10.0.0.2', 9000))\n"
                             "    s.sendto(b'y' * 32, ('10.0.0.2', 9001))\n"
                             "    if i % 10 == 9: time.sleep(0.002)\n"});
  ASSERT_EQ(sent.code, 0) << sent.err;
  auto ping =
      daemon_->Exec(name_, "client", {"ping", "-n", "-q", "-c", "50", "-i", "0.01", "10.0.0.2"});
  EXPECT_EQ(ping.code, 0) << ping.out << ping.err;
  EXPECT_THAT(ping.out, HasSubstr("50 received"));

  const auto [received_9000, received_9001] = UdpCounts();
  const nslab::v1::LinkImpairment listed = Listed();
  ASSERT_EQ(listed.a_to_b_flows_size(), 1);
  const nslab::v1::WireCounters& flow = listed.a_to_b_flows(0).counters();
  std::printf("udp dport 9000: %d of %d received, %llu matched, %llu lost; udp dport 9001: %d\n",
              received_9000, kEach, static_cast<unsigned long long>(flow.offered()),
              static_cast<unsigned long long>(flow.dropped_loss()), received_9001);
  EXPECT_EQ(flow.offered(), static_cast<uint64_t>(kEach));
  // 15-25%: Binomial(2000, 0.2) has a standard deviation of 17.9 datagrams (0.9%).
  EXPECT_GT(flow.dropped_loss(), 300u);
  EXPECT_LT(flow.dropped_loss(), 500u);
  EXPECT_EQ(received_9000, kEach - static_cast<int>(flow.dropped_loss()));
  EXPECT_EQ(received_9001, kEach);
}

TEST_F(FlowImpairmentVethTest, WhatTheKernelCannotDoIsRefusedNamingTheFlowAndChangesNothing) {
  if (KernelHas("netem")) {
    GTEST_SKIP() << "this kernel has sch_netem: a delay on a veth flow works";
  }
  nslab::v1::Lab lab;
  auto status = Up(R"(,
      flows: [{match: "tcp dport 80", impair: {delay: 10ms}}])",
                   &lab);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(status.error_message(), HasSubstr("links[0].flows[0] (\"tcp dport 80\")"));
  EXPECT_THAT(status.error_message(), HasSubstr("use mode: wire"));
  EXPECT_FALSE(std::filesystem::exists("/run/netns/" + name_ + "-client"));

  status = Up(R"(,
      flows: [{match: "udp dport 9000", a_to_b: {loss: 20%}}])",
              &lab);
  ASSERT_TRUE(status.ok()) << status.error_message();
  nslab::v1::FlowMatch match;
  match.set_protocol("tcp");
  match.mutable_destination_port()->set_first(80);
  nslab::v1::Impairment delay;
  delay.set_delay_us(10000);
  nslab::v1::SetImpairmentResponse set;
  status = SetFlow(match, &delay, &set);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(status.error_message(), HasSubstr("flow \"tcp dport 80\": kernel has no sch_netem"));
  EXPECT_THAT(status.error_message(), HasSubstr("use mode: wire"));
  const nslab::v1::LinkImpairment listed = Listed();
  ASSERT_EQ(listed.a_to_b_flows_size(), 1);
  EXPECT_EQ(listed.a_to_b_flows(0).match_text(), "udp dport 9000");
  const auto tables = daemon_->Exec(name_, "server", {"nft", "list", "tables"});
  EXPECT_THAT(tables.out, HasSubstr("nslab_impair_eth0"));
}

}  // namespace
}  // namespace nslab::testing
