// Diagnostics.Routes, Conntrack and Neighbours read the kernel's tables of a node: each must
// show what the topology set up or what the test's own traffic created.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

#include "nslab/v1/diag.grpc.pb.h"
#include "tests/integration/support/daemon_suite.h"
#include "tests/integration/support/test_daemon.h"

namespace nslab::testing {
namespace {

using ::testing::Contains;

// client -- gw -- server, with a policy rule and a route in table 100 on gw, conntrack on gw
// (a stateful rule), and a side link client -- peer that only the neighbour test uses.
constexpr char kLab[] = R"(
nodes:
  client: {kind: host}
  gw:
    kind: router
    nftables: |
      table inet filter {
        chain forward {
          type filter hook forward priority 0; policy accept;
          ct state established,related accept
        }
      }
  server: {kind: host}
  peer: {kind: host}
links:
  - {a: client:eth0, b: gw:lan0, a_addr: 10.31.1.2/24, b_addr: 10.31.1.1/24}
  - {a: gw:wan0, b: server:eth0, a_addr: 10.31.2.1/24, b_addr: 10.31.2.2/24}
  - {a: client:eth1, b: peer:eth0, a_addr: 10.31.3.1/24, b_addr: 10.31.3.2/24,
     b_mac: "02:00:00:31:03:02"}
routes:
  client: [{to: 10.31.2.0/24, via: 10.31.1.1}]
  server: [{to: 10.31.1.0/24, via: 10.31.2.1}]
  gw: [{to: 10.31.9.0/24, via: 10.31.2.2, table: 100}]
rules:
  gw: [{from: 10.31.1.0/24, to: 10.31.9.0/24, table: 100, priority: 1000}]
run:
  server: ["exec python3 -m http.server 8080 --bind 10.31.2.2"]
)";

class DiagTablesTest : public DaemonSuite<> {
 protected:
  static void SetUpTestSuite() {
    DaemonSuite<>::SetUpTestSuite();
    lab_ = new std::string(UniqueLabName("diagtab"));
    nslab::v1::CreateLabRequest request;
    request.set_topology_yaml(kLab);
    request.set_name(*lab_);
    auto* wait = request.add_wait_for();
    wait->set_node("server");
    wait->set_protocol("tcp");
    wait->set_port(8080);
    nslab::v1::CreateLabResponse lab;
    grpc::ClientContext context;
    auto status = daemon_->labs().CreateLab(&context, request, &lab);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }
  static void TearDownTestSuite() {
    (void)daemon_->Delete(*lab_);
    delete lab_;
    DaemonSuite<>::TearDownTestSuite();
  }
  void SetUp() override { diag_ = nslab::v1::DiagnosticsService::NewStub(daemon_->channel()); }

  template <typename Request>
  static Request Node(const std::string& node) {
    Request request;
    request.set_lab(*lab_);
    request.set_node(node);
    return request;
  }
  nslab::v1::RoutesResponse Routes(const std::string& node) {
    nslab::v1::RoutesResponse tables;
    grpc::ClientContext context;
    auto status = diag_->Routes(&context, Node<nslab::v1::RoutesRequest>(node), &tables);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return tables;
  }
  nslab::v1::ConntrackResponse Conntrack(const std::string& node) {
    nslab::v1::ConntrackResponse table;
    grpc::ClientContext context;
    auto status = diag_->Conntrack(&context, Node<nslab::v1::ConntrackRequest>(node), &table);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return table;
  }
  nslab::v1::NeighboursResponse Neighbours(const std::string& node) {
    nslab::v1::NeighboursResponse list;
    grpc::ClientContext context;
    auto status = diag_->Neighbours(&context, Node<nslab::v1::NeighboursRequest>(node), &list);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return list;
  }

  static inline std::string* lab_ = nullptr;
  std::unique_ptr<nslab::v1::DiagnosticsService::Stub> diag_;
};

TEST_F(DiagTablesTest, RoutesShowTheTopologysRoutesRulesAndTables) {
  const auto client = Routes("client");
  const nslab::v1::RouteEntry* route = nullptr;
  for (const auto& entry : client.routes()) {
    route = entry.destination() == "10.31.2.0/24" ? &entry : route;
  }
  ASSERT_NE(route, nullptr) << client.DebugString();
  EXPECT_EQ(route->family(), "inet");
  EXPECT_EQ(route->type(), "unicast");
  EXPECT_EQ(route->gateway(), "10.31.1.1");
  EXPECT_EQ(route->output_interface(), "eth0");
  EXPECT_EQ(route->table(), 254u);  // main
  // `text` is the line `ip route show table all` prints in the node.
  const auto ip = daemon_->Exec(*lab_, "client", {"ip", "-4", "route", "show", "table", "all"});
  ASSERT_EQ(ip.code, 0) << ip.err;
  const std::vector<std::string> lines = absl::StrSplit(ip.out, '\n');
  EXPECT_THAT(lines, Contains(absl::StrCat(route->text(), " "))) << "ip route prints:\n" << ip.out;
  // The kernel's own connected route for the side link is there too.
  bool connected = false;
  for (const auto& entry : client.routes()) {
    connected =
        connected || (entry.destination() == "10.31.3.0/24" && entry.output_interface() == "eth1" &&
                      entry.scope() == "link" && entry.preferred_source() == "10.31.3.1");
  }
  EXPECT_TRUE(connected) << client.DebugString();

  // gw: the policy rule, and the route of its table 100, which the main table does not have.
  const auto gw = Routes("gw");
  const nslab::v1::RoutingRule* rule = nullptr;
  for (const auto& entry : gw.rules()) {
    rule = entry.priority() == 1000 ? &entry : rule;
  }
  ASSERT_NE(rule, nullptr) << gw.DebugString();
  EXPECT_EQ(rule->family(), "inet");
  EXPECT_EQ(rule->from(), "10.31.1.0/24");
  EXPECT_EQ(rule->to(), "10.31.9.0/24");
  EXPECT_EQ(rule->table(), 100u);
  EXPECT_EQ(rule->action(), "lookup");
  int in_table_100 = 0;
  for (const auto& entry : gw.routes()) {
    if (entry.destination() == "10.31.9.0/24") {
      EXPECT_EQ(entry.table(), 100u) << entry.text();
      EXPECT_EQ(entry.gateway(), "10.31.2.2") << entry.text();
      EXPECT_EQ(entry.output_interface(), "wan0") << entry.text();
      ++in_table_100;
    }
  }
  EXPECT_EQ(in_table_100, 1) << gw.DebugString();
}

TEST_F(DiagTablesTest, ConntrackShowsTheFlowTheTestMadeThroughTheRouter) {
  // A fixed source port names this flow and no other.
  const auto is_flow = [](const nslab::v1::ConntrackEntry& entry) {
    return entry.protocol() == "tcp" && entry.original().source() == "10.31.1.2" &&
           entry.original().source_port() == 41234;
  };
  const auto before = Conntrack("gw");
  for (const auto& entry : before.entries()) {
    ASSERT_FALSE(is_flow(entry)) << "before any traffic: " << entry.text();
  }
  auto fetch =
      daemon_->Exec(*lab_, "client",
                    {"python3", "-c",
                     "import socket\n"
                     "s = socket.socket(); s.settimeout(5); s.bind(('10.31.1.2', 41234))\n"
                     "s.connect(('10.31.2.2', 8080)); s.sendall(b'GET / HTTP/1.0\\r\\n\\r\\n')\n"
                     "reply = b''\n"
                     "while chunk := s.recv(65536): reply += chunk\n"
                     "print(reply.split(b'\\r\\n')[0].decode())"});
  ASSERT_EQ(fetch.code, 0) << fetch.err;
  ASSERT_EQ(fetch.out, "HTTP/1.0 200 OK\n");

  const auto table = Conntrack("gw");
  EXPECT_EQ(table.note(), "");
  const nslab::v1::ConntrackEntry* flow = nullptr;
  for (const auto& entry : table.entries()) {
    flow = is_flow(entry) ? &entry : flow;
  }
  ASSERT_NE(flow, nullptr) << table.DebugString();
  EXPECT_EQ(flow->family(), "inet");
  EXPECT_EQ(flow->original().destination(), "10.31.2.2");
  EXPECT_EQ(flow->original().destination_port(), 8080u);
  // No NAT: the reply tuple is the original one reversed.
  EXPECT_EQ(flow->reply().source(), "10.31.2.2");
  EXPECT_EQ(flow->reply().source_port(), 8080u);
  EXPECT_EQ(flow->reply().destination(), "10.31.1.2");
  EXPECT_EQ(flow->reply().destination_port(), 41234u);
  EXPECT_THAT(flow->status(), Contains("SEEN_REPLY")) << flow->text();
  EXPECT_THAT(flow->status(), Contains("ASSURED")) << flow->text();
  EXPECT_FALSE(flow->tcp_state().empty()) << flow->text();
  EXPECT_GT(flow->timeout(), 0u);
}

TEST_F(DiagTablesTest, NeighboursShowThePeerResolvedByAPing) {
  // Nothing else talks on the side link: the entry is the ping's doing.
  const auto is_peer = [](const nslab::v1::Neighbour& n) { return n.address() == "10.31.3.2"; };
  const auto before = Neighbours("client");
  for (const auto& neighbour : before.neighbours()) {
    ASSERT_FALSE(is_peer(neighbour)) << "before the ping: " << neighbour.DebugString();
  }
  auto ping = daemon_->Exec(*lab_, "client", {"ping", "-c1", "-W2", "10.31.3.2"});
  ASSERT_EQ(ping.code, 0) << ping.out << ping.err;
  const auto list = Neighbours("client");
  const nslab::v1::Neighbour* peer = nullptr;
  for (const auto& neighbour : list.neighbours()) {
    peer = is_peer(neighbour) ? &neighbour : peer;
  }
  ASSERT_NE(peer, nullptr) << list.DebugString();
  EXPECT_EQ(peer->interface(), "eth1");
  EXPECT_EQ(peer->lladdr(), "02:00:00:31:03:02");  // peer:eth0's MAC, from the topology
  // Confirmed by the echo reply moments ago; STALE only after tens of seconds.
  EXPECT_THAT(peer->state(), ::testing::AnyOf("REACHABLE", "DELAY")) << list.DebugString();
  EXPECT_FALSE(peer->router());
}

}  // namespace
}  // namespace nslab::testing
