// Diagnostics against real labs with known faults: each layer must report the fault.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <fstream>

#include "nslab/v1/chaos.grpc.pb.h"
#include "nslab/v1/diag.grpc.pb.h"
#include "tests/integration/support/daemon_suite.h"
#include "tests/integration/support/shell_process.h"
#include "tests/integration/support/test_daemon.h"

namespace nslab::testing {
namespace {

using ::testing::HasSubstr;

// left -- r1 -- right, routes written by the daemon; a web server on right:8080.
constexpr char kChain[] = R"(
routing: auto
nodes: {left: {kind: host}, r1: {kind: router}, right: {kind: host}}
links:
  - {a: left:eth0, b: r1:eth0, a_addr: 10.0.1.2/24, b_addr: 10.0.1.1/24}
  - {a: r1:eth1, b: right:eth0, a_addr: 10.0.2.1/24, b_addr: 10.0.2.2/24}
routes:
  left: [{to: 10.9.0.0/16, type: blackhole}]
run:
  right: ["exec python3 -m http.server 8080 --bind 10.0.2.2"]
)";

// A server that accepts and never closes: every client that leaves stays in CLOSE-WAIT.
constexpr char kLeaky[] = R"(
nodes: {client: {}, server: {}}
links:
  - {a: client:eth0, b: server:eth0, a_addr: 10.0.0.1/24, b_addr: 10.0.0.2/24, a_to_b: {rate: 1mbit}}
run:
  server:
    - argv:
        - python3
        - -c
        - |
          import socket
          s = socket.socket()
          s.bind(('10.0.0.2', 9000))
          s.listen(16)
          held = []
          while True:
              c = s.accept()[0]
              held.append(c)
              # The client's FIN read: this end is in CLOSE-WAIT. Saying so lets the client
              # know the leak is in place without guessing how long it takes.
              while c.recv(4096):
                  pass
              c.send(b'w')
)";

class DiagTest : public DaemonSuite<> {
 protected:
  static void SetUpTestSuite() {
    DaemonSuite<>::SetUpTestSuite();
    chain_ = new std::string(UniqueLabName("diag"));
    leaky_ = new std::string(UniqueLabName("diagleak"));
    ASSERT_TRUE(Create(kChain, *chain_, "right", 8080).ok());
    ASSERT_TRUE(Create(kLeaky, *leaky_, "server", 9000).ok());
  }
  static void TearDownTestSuite() {
    (void)daemon_->Delete(*chain_);
    (void)daemon_->Delete(*leaky_);
    delete chain_;
    delete leaky_;
    DaemonSuite<>::TearDownTestSuite();
  }
  static grpc::Status Create(const std::string& yaml, const std::string& name,
                             const std::string& node, uint32_t port) {
    nslab::v1::CreateLabRequest request;
    request.set_topology_yaml(yaml);
    request.set_name(name);
    auto* wait = request.add_wait_for();
    wait->set_node(node);
    wait->set_protocol("tcp");
    wait->set_port(port);
    nslab::v1::CreateLabResponse lab;
    grpc::ClientContext context;
    auto status = daemon_->labs().CreateLab(&context, request, &lab);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return status;
  }
  void SetUp() override {
    diag_ = nslab::v1::DiagnosticsService::NewStub(daemon_->channel());
    chaos_ = nslab::v1::ChaosService::NewStub(daemon_->channel());
  }
  void SetFirewall(const std::string& lab, const std::string& node, const std::string& ruleset) {
    nslab::v1::SetFirewallRequest request;
    request.set_lab(lab);
    request.set_node(node);
    request.set_ruleset(ruleset);
    nslab::v1::SetFirewallResponse out;
    grpc::ClientContext context;
    auto status = chaos_->SetFirewall(&context, request, &out);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }
  void FlushFirewall(const std::string& lab, const std::string& node) {
    nslab::v1::FlushFirewallRequest request;
    request.set_lab(lab);
    request.set_node(node);
    nslab::v1::FlushFirewallResponse out;
    grpc::ClientContext context;
    ASSERT_TRUE(chaos_->FlushFirewall(&context, request, &out).ok());
  }
  nslab::v1::TraceResponse Trace(const std::string& destination, uint32_t port,
                                 const std::string& protocol = "tcp") {
    nslab::v1::TraceRequest request;
    request.set_lab(*chain_);
    request.set_source_node("left");
    request.set_destination(destination);
    request.set_port(port);
    request.set_protocol(protocol);
    request.set_timeout_ms(1000);
    nslab::v1::TraceResponse report;
    grpc::ClientContext context;
    auto status = diag_->Trace(&context, request, &report);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return report;
  }
  // nft tables of a node, as the real tool lists them.
  std::string Tables(const std::string& node) {
    return daemon_->Exec(*chain_, node, {"nft", "list", "tables"}).out;
  }

  static inline std::string* chain_ = nullptr;
  static inline std::string* leaky_ = nullptr;
  std::unique_ptr<nslab::v1::DiagnosticsService::Stub> diag_;
  std::unique_ptr<nslab::v1::ChaosService::Stub> chaos_;
};

TEST_F(DiagTest, CloseWaitLeakShowsInTheSocketsSummaryWithItsOwner) {
  // Three clients connect and leave; the server never closes its ends. Each client returns
  // once the server has read its FIN, so all three are in CLOSE-WAIT when it exits.
  auto client = daemon_->Exec(*leaky_, "client",
                              {"python3", "-c",
                               "import socket\nfor _ in range(3):\n"
                               "    s = socket.create_connection(('10.0.0.2', 9000), timeout=10)\n"
                               "    s.shutdown(socket.SHUT_WR)\n"
                               "    assert s.recv(1) == b'w', 'the server did not see the FIN'\n"
                               "    s.close()"});
  ASSERT_EQ(client.code, 0) << client.err;
  nslab::v1::SocketsRequest request;
  request.set_lab(*leaky_);
  request.set_node("server");
  request.set_state("CLOSE_WAIT");
  nslab::v1::SocketsResponse list;
  grpc::ClientContext context;
  ASSERT_TRUE(diag_->Sockets(&context, request, &list).ok());
  ASSERT_EQ(list.sockets_size(), 3);
  ASSERT_EQ(list.summary_size(), 1);
  EXPECT_EQ(list.summary(0).state(), "CLOSE-WAIT");
  EXPECT_EQ(list.summary(0).count(), 3u);
  for (const auto& socket : list.sockets()) {
    EXPECT_EQ(socket.local_port(), 9000u);
    ASSERT_EQ(socket.owners_size(), 1);
    EXPECT_EQ(socket.owners(0).comm(), "python3");
    EXPECT_GT(socket.tcp().rtt_us(), 0u);
    EXPECT_GT(socket.tcp().snd_cwnd(), 0u);
    EXPECT_GT(socket.memory().rcvbuf(), 0u);
  }
  // Unfiltered, the summary counts the listener too.
  nslab::v1::SocketsRequest all;
  all.set_lab(*leaky_);
  all.set_node("server");
  all.set_port(9000);
  grpc::ClientContext context2;
  ASSERT_TRUE(diag_->Sockets(&context2, all, &list).ok());
  bool listen = false;
  for (const auto& count : list.summary()) {
    listen = listen || (count.state() == "LISTEN" && count.count() == 1);
  }
  EXPECT_TRUE(listen);
}

TEST_F(DiagTest, BadStateAndUnknownNodeAreClearErrors) {
  nslab::v1::SocketsRequest request;
  request.set_lab(*leaky_);
  request.set_node("server");
  request.set_state("half-open");
  nslab::v1::SocketsResponse list;
  grpc::ClientContext context;
  auto status = diag_->Sockets(&context, request, &list);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("close-wait"));
  request.set_state("");
  request.set_node("nope");
  grpc::ClientContext context2;
  EXPECT_EQ(diag_->Sockets(&context2, request, &list).error_code(), grpc::StatusCode::NOT_FOUND);
  nslab::v1::QdiscsRequest qdiscs;
  qdiscs.set_lab(*leaky_);
  qdiscs.set_node("server");
  qdiscs.set_interface("eth9");
  nslab::v1::QdiscsResponse qlist;
  grpc::ClientContext context3;
  EXPECT_EQ(diag_->Qdiscs(&context3, qdiscs, &qlist).error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(DiagTest, DropRuleCounterRises) {
  SetFirewall(*leaky_, "server", R"(table inet filter {
  chain input {
    type filter hook input priority 0; policy accept;
    tcp dport 9001 counter drop
  }
})");
  auto read = [&] {
    nslab::v1::GetFirewallRequest request;
    request.set_lab(*leaky_);
    request.set_node("server");
    nslab::v1::GetFirewallResponse response;
    grpc::ClientContext context;
    EXPECT_TRUE(chaos_->GetFirewall(&context, request, &response).ok());
    return response.firewall();
  };
  auto before = read();
  ASSERT_EQ(before.rules_size(), 1);
  EXPECT_EQ(before.rules(0).packets(), 0u);
  daemon_->Exec(*leaky_, "client",
                {"python3", "-c",
                 "import socket\ns = socket.socket(); s.settimeout(1.2)\n"
                 "try: s.connect(('10.0.0.2', 9001))\nexcept OSError: pass"});
  auto after = read();
  ASSERT_EQ(after.rules_size(), 1);
  EXPECT_GE(after.rules(0).packets(), 1u);
  EXPECT_EQ(after.rules(0).text(), "tcp dport 9001 drop");
  FlushFirewall(*leaky_, "server");
}

TEST_F(DiagTest, TbfDropsShowInQdiscStats) {
  // 1 Mbit/s out of the client, flooded with 3 MB of UDP from a non-blocking socket.
  auto flood = daemon_->Exec(*leaky_, "client",
                             {"python3", "-c",
                              "import socket\ns = socket.socket(socket.AF_INET, "
                              "socket.SOCK_DGRAM)\ns.setblocking(False)\n"
                              "for _ in range(2000):\n"
                              "    try: s.sendto(b'x' * 1400, ('10.0.0.2', 9999))\n"
                              "    except OSError: pass"});
  ASSERT_EQ(flood.code, 0) << flood.err;
  nslab::v1::QdiscsRequest request;
  request.set_lab(*leaky_);
  request.set_node("client");
  request.set_interface("eth0");
  nslab::v1::QdiscsResponse list;
  grpc::ClientContext context;
  ASSERT_TRUE(diag_->Qdiscs(&context, request, &list).ok());
  const nslab::v1::Qdisc* tbf = nullptr;
  for (const auto& qdisc : list.qdiscs()) {
    if (qdisc.kind() == "tbf") {
      tbf = &qdisc;
    }
  }
  ASSERT_NE(tbf, nullptr);
  EXPECT_EQ(tbf->interface(), "eth0");
  EXPECT_GT(tbf->dropped(), 0u);
  EXPECT_GT(tbf->sent_packets(), 0u);
  EXPECT_THAT(tbf->parameters(), HasSubstr("rate 1Mbit"));

  // The link counters agree that packets left.
  nslab::v1::LinksRequest node;
  node.set_lab(*leaky_);
  node.set_node("client");
  nslab::v1::LinksResponse links;
  grpc::ClientContext context2;
  ASSERT_TRUE(diag_->Links(&context2, node, &links).ok());
  bool found = false;
  for (const auto& link : links.links()) {
    if (link.name() == "eth0") {
      found = true;
      EXPECT_EQ(link.oper_state(), "up");
      EXPECT_EQ(link.mtu(), 1500u);
      EXPECT_GE(link.counters().tx_packets(), tbf->sent_packets());
    }
  }
  EXPECT_TRUE(found);
}

TEST_F(DiagTest, BlackholeRouteShowsInRouteGet) {
  nslab::v1::RouteGetRequest request;
  request.set_lab(*chain_);
  request.set_node("left");
  request.set_destination("10.9.1.1");
  nslab::v1::RouteGetResponse decision;
  grpc::ClientContext context;
  ASSERT_TRUE(diag_->RouteGet(&context, request, &decision).ok());
  EXPECT_EQ(decision.type(), "blackhole");
  EXPECT_THAT(decision.matched_route(), HasSubstr("blackhole 10.9.0.0/16"));

  request.set_destination("10.0.2.2");
  grpc::ClientContext context2;
  ASSERT_TRUE(diag_->RouteGet(&context2, request, &decision).ok());
  EXPECT_EQ(decision.type(), "unicast");
  EXPECT_EQ(decision.gateway(), "10.0.1.1");
  EXPECT_EQ(decision.output_interface(), "eth0");
  EXPECT_EQ(decision.preferred_source(), "10.0.1.2");

  // The forwarding decision at the router, for a packet from left.
  request.set_node("r1");
  request.set_source("10.0.1.2");
  request.set_input_interface("eth0");
  grpc::ClientContext context3;
  ASSERT_TRUE(diag_->RouteGet(&context3, request, &decision).ok());
  EXPECT_EQ(decision.output_interface(), "eth1");
  EXPECT_TRUE(decision.error().empty()) << decision.error();

  request.set_destination("not-an-address");
  grpc::ClientContext context4;
  EXPECT_EQ(diag_->RouteGet(&context4, request, &decision).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(DiagTest, CaptureOfTenPingsOpensInTshark) {
  const std::string dir = ::testing::TempDir();
  const std::string pcap = dir + "/diag-ping.pcap";
  const std::string out = dir + "/diag-tshark.txt";
  // The real client, writing to stdout, read by tshark from stdin; its stderr says when the
  // capture is armed. --duration bounds the capture should packets go missing.
  ShellProcess capture(std::string(NSLAB_CLIENT_PATH) + " --socket " + daemon_->socket() +
                       " capture " + *chain_ +
                       " right eth0 -f icmp -c 20 --duration 30s -w - 2>&3 | tee " + pcap +
                       " | tshark -r - > " + out + " 2>&1");
  ASSERT_TRUE(capture.WaitForReport("capturing on", std::chrono::seconds(10)))
      << "the capture did not say it was armed within 10 s; its stderr: " << capture.report();
  auto ping = daemon_->Exec(*chain_, "left", {"ping", "-c", "10", "-i", "0.05", "10.0.2.2"});
  EXPECT_EQ(ping.code, 0) << ping.out << ping.err;
  const auto status = capture.Wait(std::chrono::seconds(60));
  ASSERT_TRUE(status.has_value()) << "the capture did not end; its stderr: " << capture.report();
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << capture.report();
  EXPECT_THAT(capture.report(), HasSubstr("nslab: 20 packets captured")) << "ended early";
  std::ifstream in(out);
  std::string line;
  int packets = 0, requests = 0;
  while (std::getline(in, line)) {
    if (line.find("ICMP") == std::string::npos) {
      continue;  // tshark's own notes (running as root, ...)
    }
    ++packets;
    requests += line.find("Echo (ping) request") != std::string::npos ? 1 : 0;
  }
  EXPECT_EQ(packets, 20);
  EXPECT_EQ(requests, 10);
  struct stat st {};
  ASSERT_EQ(::stat(pcap.c_str(), &st), 0);
  EXPECT_GT(st.st_size, 24 + 20 * (16 + 98) - 1);
  for (const auto* file : {&pcap, &out}) {
    std::remove(file->c_str());
  }
}

TEST_F(DiagTest, CaptureRejectsABadFilterWithLibpcapsMessage) {
  nslab::v1::CaptureRequest request;
  request.set_lab(*chain_);
  request.set_node("right");
  request.set_interface("eth0");
  request.set_filter("tcp port banana");
  grpc::ClientContext context;
  auto reader = diag_->Capture(&context, request);
  nslab::v1::CaptureResponse message;
  EXPECT_FALSE(reader->Read(&message));
  auto status = reader->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("banana"));

  request.set_filter("");
  request.set_interface("eth7");
  grpc::ClientContext context2;
  auto reader2 = diag_->Capture(&context2, request);
  EXPECT_FALSE(reader2->Read(&message));
  EXPECT_EQ(reader2->Finish().error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(DiagTest, TraceSaysDeliveredInAHealthyLab) {
  auto report = Trace("right", 8080);
  EXPECT_EQ(report.verdict(), "delivered") << report.explanation();
  EXPECT_EQ(report.answer(), "reply");
  EXPECT_EQ(report.connect_result(), "connected");
  ASSERT_EQ(report.hops_size(), 3);
  EXPECT_EQ(report.hops(0).node(), "left");
  EXPECT_EQ(report.hops(1).node(), "r1");
  EXPECT_EQ(report.hops(1).input_interface(), "eth0");
  EXPECT_EQ(report.hops(1).output_interface(), "eth1");
  EXPECT_EQ(report.hops(2).node(), "right");
  EXPECT_EQ(report.hops(2).route().type(), "local");
  EXPECT_THAT(report.hops(1).seen_probe_on(), ::testing::ElementsAre("eth0", "eth1"));
  EXPECT_THAT(report.hops(2).seen_answer_on(), ::testing::ElementsAre("eth0"));

  auto icmp = Trace("10.0.2.2", 0, "icmp");
  EXPECT_EQ(icmp.verdict(), "delivered") << icmp.explanation();
}

TEST_F(DiagTest, TraceTellsRefusedFromTimedOut) {
  auto refused = Trace("10.0.2.2", 8081);
  EXPECT_EQ(refused.connect_result(), "refused");
  EXPECT_EQ(refused.answer(), "rst");
  EXPECT_THAT(refused.explanation(), HasSubstr("connection refused"));
}

TEST_F(DiagTest, TraceNamesTheDroppingForwardRule) {
  SetFirewall(*chain_, "r1", R"(table inet filter {
  chain forward {
    type filter hook forward priority 0; policy accept;
    ip daddr 10.0.2.2 tcp dport 8080 counter drop
  }
})");
  auto report = Trace("10.0.2.2", 8080);
  FlushFirewall(*chain_, "r1");
  EXPECT_EQ(report.verdict(), "dropped");
  EXPECT_EQ(report.connect_result(), "timed out");
  EXPECT_THAT(report.explanation(), HasSubstr("dropped at r1 by rule"));
  EXPECT_THAT(report.explanation(), HasSubstr("inet filter forward"));
  EXPECT_THAT(report.explanation(), HasSubstr("ip daddr 10.0.2.2 tcp dport 8080 drop"));
  EXPECT_THAT(report.hops(1).seen_probe_on(), ::testing::ElementsAre("eth0"));
  // The temporary trace tables are gone from every node of the path.
  for (const char* node : {"left", "r1", "right"}) {
    EXPECT_THAT(Tables(node), ::testing::Not(HasSubstr("nslab_trace_"))) << node;
  }
}

TEST_F(DiagTest, TraceNamesARejectRuleAsTheCauseOfRefused) {
  SetFirewall(*chain_, "right", R"(table inet filter {
  chain input {
    type filter hook input priority 0; policy accept;
    tcp dport 8080 reject with tcp reset
  }
})");
  auto report = Trace("10.0.2.2", 8080);
  FlushFirewall(*chain_, "right");
  EXPECT_EQ(report.verdict(), "dropped");
  EXPECT_EQ(report.connect_result(), "refused");
  EXPECT_THAT(report.explanation(), HasSubstr("rejected at right"));
  EXPECT_THAT(report.explanation(), HasSubstr("reject with tcp reset"));
}

TEST_F(DiagTest, TraceNamesTheBlackholeRoute) {
  // At the source: the blackhole route of the topology.
  auto local = Trace("10.9.1.1", 80);
  EXPECT_EQ(local.verdict(), "dropped");
  EXPECT_THAT(local.explanation(), HasSubstr("no route at left"));
  EXPECT_THAT(local.explanation(), HasSubstr("blackhole 10.9.0.0/16"));

  // At the router: a blackhole for right's address.
  ASSERT_EQ(daemon_->Exec(*chain_, "r1", {"ip", "route", "add", "blackhole", "10.0.2.2/32"}).code,
            0);
  auto report = Trace("10.0.2.2", 8080);
  daemon_->Exec(*chain_, "r1", {"ip", "route", "del", "blackhole", "10.0.2.2/32"});
  EXPECT_EQ(report.verdict(), "dropped");
  EXPECT_THAT(report.explanation(), HasSubstr("no route at r1"));
  EXPECT_THAT(report.explanation(), HasSubstr("blackhole 10.0.2.2"));
  ASSERT_EQ(report.hops_size(), 2);
}

TEST_F(DiagTest, TraceNamesThePartitionRule) {
  nslab::v1::PartitionRequest request;
  request.set_lab(*chain_);
  request.add_groups()->add_nodes("left");
  request.add_groups()->add_nodes("right");
  nslab::v1::PartitionResponse response;
  grpc::ClientContext context;
  ASSERT_TRUE(chaos_->Partition(&context, request, &response).ok());
  auto report = Trace("10.0.2.2", 8080);
  nslab::v1::HealRequest heal;
  heal.set_lab(*chain_);
  grpc::ClientContext context2;
  nslab::v1::HealResponse healed;
  ASSERT_TRUE(chaos_->Heal(&context2, heal, &healed).ok());
  EXPECT_EQ(report.verdict(), "dropped");
  EXPECT_THAT(report.explanation(), HasSubstr("nslab_partition"));
}

TEST_F(DiagTest, SnapshotCoversEveryNodeAndLayer) {
  nslab::v1::SnapshotRequest request;
  request.set_lab(*chain_);
  nslab::v1::SnapshotResponse snapshot;
  grpc::ClientContext context;
  ASSERT_TRUE(diag_->Snapshot(&context, request, &snapshot).ok());
  ASSERT_EQ(snapshot.nodes_size(), 3);
  for (const auto& node : snapshot.nodes()) {
    EXPECT_TRUE(node.errors().empty()) << node.node() << ": " << node.errors(0);
    EXPECT_GE(node.links().links_size(), 2) << node.node();
    EXPECT_GE(node.qdiscs().qdiscs_size(), 1) << node.node();
    EXPECT_GE(node.routes().routes_size(), 2) << node.node();
  }
  bool listener = false;
  for (const auto& socket : snapshot.nodes(2).sockets().sockets()) {
    listener = listener || (socket.state() == "LISTEN" && socket.local_port() == 8080);
  }
  EXPECT_TRUE(listener);
}

}  // namespace
}  // namespace nslab::testing
