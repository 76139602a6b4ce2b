// ApplyLab on real namespaces: a running lab gains and loses nodes and links while a TCP
// connection between two nodes it does not touch keeps flowing; a dry run, a wrong file and a
// step the kernel refuses change nothing.
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "daemon/netns/netns.h"
#include "daemon/topology/names.h"
#include "tests/integration/support/daemon_suite.h"
#include "tests/integration/support/host_snapshot.h"
#include "tests/integration/support/lab_leftovers.h"
#include "tests/integration/support/test_daemon.h"

namespace nslab::testing {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

class LabApplyTest : public DaemonSuite<> {
 protected:
  nslab::v1::ApplyLabResponse Apply(const std::string& lab, const std::string& yaml,
                                    grpc::Status* status, bool dry_run = false) {
    nslab::v1::ApplyLabRequest request;
    request.set_name(lab);
    request.set_topology_yaml(yaml);
    request.set_dry_run(dry_run);
    request.set_view(nslab::v1::LAB_VIEW_BASIC);
    nslab::v1::ApplyLabResponse response;
    grpc::ClientContext context;
    *status = daemon_->labs().ApplyLab(&context, request, &response);
    return response;
  }

  std::vector<std::string> Lines(const nslab::v1::ApplyLabResponse& response) {
    std::vector<std::string> lines;
    for (const auto& change : response.changes()) {
      lines.push_back(change.text());
    }
    return lines;
  }

  nslab::v1::Topology TopologyOf(const std::string& lab) {
    nslab::v1::GetLabRequest request;
    request.set_name(lab);
    request.set_view(nslab::v1::LAB_VIEW_BASIC);
    nslab::v1::GetLabResponse response;
    grpc::ClientContext context;
    EXPECT_TRUE(daemon_->labs().GetLab(&context, request, &response).ok());
    return response.lab().topology();
  }

  // The pid of the node's only supervised process, or 0.
  int PidOf(const std::string& lab, const std::string& node) {
    nslab::v1::GetLogsRequest request;
    request.set_lab(lab);
    request.set_node(node);
    nslab::v1::GetLogsResponse response;
    grpc::ClientContext context;
    if (!daemon_->labs().GetLogs(&context, request, &response).ok() ||
        response.processes_size() != 1 || !response.processes(0).running()) {
      return 0;
    }
    return response.processes(0).pid();
  }

  bool Pings(const std::string& lab, const std::string& node, const std::string& address) {
    return daemon_->Exec(lab, node, {"ping", "-c1", "-W2", address}).code == 0;
  }
};

constexpr char kBefore[] = R"(
nodes: {a: {}, b: {}, c: {}}
links:
  - {a: a:eth0, b: b:eth0, a_addr: 10.0.0.1/24, b_addr: 10.0.0.2/24}
  - {a: a:eth1, b: c:eth0, a_addr: 10.0.1.1/24, b_addr: 10.0.1.2/24}
run:
  b: ["exec sleep 600"]
  c: ["exec sleep 600"]
)";

// c and its link go, d comes on a new link from b, and a gets a route and a ruleset.
constexpr char kAfter[] = R"(
nodes:
  a:
    nftables: |
      table inet nslab_apply_test {
        chain c { type filter hook input priority 0; }
      }
  b: {}
  d: {}
routes:
  a: [{to: 10.0.2.0/24, via: 10.0.0.2}]
  d: [{to: 10.0.0.0/24, via: 10.0.2.1}]
sysctls:
  b: {net.ipv4.ip_forward: 1}
links:
  - {a: a:eth0, b: b:eth0, a_addr: 10.0.0.1/24, b_addr: 10.0.0.2/24}
  - {a: b:eth1, b: d:eth0, a_addr: 10.0.2.1/24, b_addr: 10.0.2.2/24}
run:
  b: ["exec sleep 600"]
  d: ["exec sleep 600"]
)";

// A TCP stream from a to b through the lab, fed in 4 KiB writes every millisecond until
// Finish: every byte must arrive, in order, without a reset.
class Stream {
 public:
  Stream(const std::string& ns_a, const std::string& ns_b) {
    int listener = -1;
    EXPECT_TRUE(netns::RunIn(ns_b, [&] {
                  listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
                  sockaddr_in address{};
                  address.sin_family = AF_INET;
                  address.sin_port = htons(7000);
                  ::inet_pton(AF_INET, "10.0.0.2", &address.sin_addr);
                  if (::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address) !=
                          0 ||
                      ::listen(listener, 1) != 0) {
                    return absl::InternalError(std::strerror(errno));
                  }
                  return absl::OkStatus();
                }).ok());
    EXPECT_TRUE(netns::RunIn(ns_a, [&] {
                  client_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
                  sockaddr_in address{};
                  address.sin_family = AF_INET;
                  address.sin_port = htons(7000);
                  ::inet_pton(AF_INET, "10.0.0.2", &address.sin_addr);
                  if (::connect(client_, reinterpret_cast<sockaddr*>(&address), sizeof address) !=
                      0) {
                    return absl::InternalError(std::strerror(errno));
                  }
                  return absl::OkStatus();
                }).ok());
    server_ = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    ::close(listener);
    writer_ = std::thread([this] { Write(); });
    reader_ = std::thread([this] { Read(); });
  }
  ~Stream() {
    if (writer_.joinable()) {
      Finish();
    }
  }

  // Stops writing, closes the sending side and waits for the reader to see the end.
  void Finish() {
    stop_ = true;
    writer_.join();
    ::shutdown(client_, SHUT_WR);
    reader_.join();
    ::close(client_);
    ::close(server_);
  }

  uint64_t written() const { return written_; }
  uint64_t read() const { return read_; }
  const std::string& error() const { return error_; }

 private:
  void Write() {
    char chunk[4096];
    while (!stop_) {
      for (char& byte : chunk) {
        byte = static_cast<char>(written_++ % 251);
      }
      if (::send(client_, chunk, sizeof chunk, MSG_NOSIGNAL) != sizeof chunk) {
        error_ = std::string("send: ") + std::strerror(errno);
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  void Read() {
    char buffer[65536];
    while (true) {
      const ssize_t got = ::recv(server_, buffer, sizeof buffer, 0);
      if (got == 0) {
        return;
      }
      if (got < 0) {
        error_ = std::string("recv: ") + std::strerror(errno);
        return;
      }
      for (ssize_t i = 0; i < got; ++i) {
        if (buffer[i] != static_cast<char>(read_++ % 251)) {
          error_ = "a byte out of order at " + std::to_string(read_ - 1);
          return;
        }
      }
    }
  }

  int client_ = -1;
  int server_ = -1;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> written_{0};
  std::atomic<uint64_t> read_{0};
  std::string error_;
  std::thread writer_;
  std::thread reader_;
};

TEST_F(LabApplyTest, AddsAndRemovesNodesWhileAConnectionBetweenUntouchedNodesFlows) {
  const std::string name = UniqueLabName("apply");
  LabGuard guard(daemon_, name);
  ASSERT_TRUE(daemon_->CreateFromYaml(kBefore, name).ok());
  const int b_pid = PidOf(name, "b");
  ASSERT_NE(b_pid, 0);
  const int c_pid = PidOf(name, "c");
  ASSERT_NE(c_pid, 0);
  Stream stream(topology::NamespaceOf(name, "a"), topology::NamespaceOf(name, "b"));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));

  grpc::Status status;
  const auto response = Apply(name, kAfter, &status);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_THAT(Lines(response), Contains("- node c"));
  EXPECT_THAT(Lines(response), Contains("+ node d"));
  EXPECT_THAT(Lines(response), Contains("- link a:eth1 <-> c:eth0"));
  EXPECT_THAT(Lines(response), Contains("+ link b:eth1 <-> d:eth0"));
  EXPECT_THAT(Lines(response), Contains("~ node a: route 10.0.2.0/24 via 10.0.0.2 added"));
  EXPECT_THAT(Lines(response), Contains("~ node b: sysctl net.ipv4.ip_forward = 1"));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  stream.Finish();
  EXPECT_EQ(stream.error(), "");
  EXPECT_GT(stream.written(), 0u);
  EXPECT_EQ(stream.read(), stream.written()) << "bytes lost across the apply";

  // The untouched node kept its process; the new one runs its own; c left nothing.
  EXPECT_EQ(PidOf(name, "b"), b_pid);
  EXPECT_NE(PidOf(name, "d"), 0);
  EXPECT_FALSE(netns::Exists(topology::NamespaceOf(name, "c")));
  EXPECT_NE(::kill(c_pid, 0), 0) << "c's process outlived its node";
  EXPECT_NE(daemon_->Exec(name, "a", {"ip", "link", "show", "eth1"}).code, 0);
  // The new part is wired and routed: a reaches d through b.
  EXPECT_TRUE(Pings(name, "a", "10.0.2.2"));
  EXPECT_THAT(daemon_->Exec(name, "a", {"nft", "list", "tables"}).out,
              HasSubstr("nslab_apply_test"));
  EXPECT_EQ(TopologyOf(name).nodes_size(), 3);

  // Applying the same file again changes nothing.
  const auto again = Apply(name, kAfter, &status);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(again.changes_size(), 0);
}

TEST_F(LabApplyTest, ADryRunAndAWrongFileChangeNothing) {
  const std::string name = UniqueLabName("applydry");
  LabGuard guard(daemon_, name);
  ASSERT_TRUE(daemon_->CreateFromYaml(kBefore, name).ok());
  const HostSnapshot before = HostSnapshot::Take(name);
  const auto topology = TopologyOf(name).SerializeAsString();
  const int c_pid = PidOf(name, "c");

  grpc::Status status;
  const auto plan = Apply(name, kAfter, &status, /*dry_run=*/true);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_THAT(Lines(plan), Contains("+ node d"));
  EXPECT_FALSE(plan.has_lab());

  Apply(name, R"(
nodes: {a: {}, b: {}}
links:
  - {a: a:eth0, b: nowhere:eth0, a_addr: 10.0.0.1/24}
)",
        &status);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("nowhere"));

  EXPECT_EQ(HostSnapshot::Take(name).DiffFrom(before), "");
  EXPECT_EQ(TopologyOf(name).SerializeAsString(), topology);
  EXPECT_EQ(PidOf(name, "c"), c_pid);
  EXPECT_TRUE(Pings(name, "a", "10.0.1.2"));
}

TEST_F(LabApplyTest, AStepTheKernelRefusesPutsTheLabBack) {
  const std::string name = UniqueLabName("applyback");
  LabGuard guard(daemon_, name);
  ASSERT_TRUE(daemon_->CreateFromYaml(kBefore, name).ok());
  const auto topology = TopologyOf(name).SerializeAsString();
  const int b_pid = PidOf(name, "b");

  // Valid to the validator; the kernel has no such sysctl, and b's edit comes after c was
  // removed and d built.
  std::string refused = kAfter;
  refused.replace(refused.find("net.ipv4.ip_forward: 1"), 22, "net.ipv4.nslab_no_such_knob: 1");
  grpc::Status status;
  Apply(name, refused, &status);
  ASSERT_FALSE(status.ok());
  EXPECT_THAT(status.error_message(), HasSubstr("sysctls.b.net.ipv4.nslab_no_such_knob"));
  EXPECT_THAT(status.error_message(), HasSubstr("put back as it was before the apply"));

  EXPECT_EQ(TopologyOf(name).SerializeAsString(), topology);
  EXPECT_FALSE(netns::Exists(topology::NamespaceOf(name, "d")));
  EXPECT_TRUE(netns::Exists(topology::NamespaceOf(name, "c")));
  EXPECT_NE(PidOf(name, "c"), 0) << "c's process is back";
  EXPECT_EQ(PidOf(name, "b"), b_pid);
  EXPECT_TRUE(Pings(name, "a", "10.0.1.2"));
  EXPECT_NE(daemon_->Exec(name, "a", {"ip", "route", "get", "10.0.2.2"}).code, 0)
      << "the route to d's subnet stayed";
  // Deleting it now leaves nothing: the namespaces the rollback made are the lab's.
  ASSERT_TRUE(daemon_->Delete(name).ok());
  EXPECT_THAT(ProcessesOfLab(name), ::testing::IsEmpty());
  EXPECT_FALSE(netns::Exists(topology::NamespaceOf(name, "c")));
}

}  // namespace
}  // namespace nslab::testing

namespace nslab::testing {
namespace {

TEST_F(LabApplyTest, ChangesAVethLinksImpairmentAndFlowsInPlace) {
  const std::string name = UniqueLabName("applyflows");
  LabGuard guard(daemon_, name);
  ASSERT_TRUE(daemon_->CreateFromYaml(kBefore, name).ok());
  const int b_pid = PidOf(name, "b");
  std::string flows = kBefore;
  flows.replace(flows.find("b_addr: 10.0.0.2/24}"), 20,
                "b_addr: 10.0.0.2/24, mode: veth, impair: {rate: 100mbit}, flows: "
                "[{match: \"tcp dport 5001\", impair: {rate: 8mbit}}]}");
  grpc::Status status;
  const auto response = Apply(name, flows, &status);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_THAT(Lines(response), Contains("~ link a:eth0 <-> b:eth0: impairment a->b"));
  EXPECT_THAT(Lines(response), Contains("~ link a:eth0 <-> b:eth0: flows a->b"));
  ASSERT_EQ(response.lab().links_size(), 2);
  const auto& link = response.lab().links(0);
  EXPECT_EQ(link.mode(), nslab::v1::LINK_MODE_VETH);
  ASSERT_EQ(link.a_to_b_flows_size(), 1);
  EXPECT_EQ(link.a_to_b_flows(0).match_text(), "tcp dport 5001");
  EXPECT_EQ(link.a_to_b().rate_bps(), 100'000'000u);
  // The kernel has the tree: the link's rate and the flow's class.
  const auto qdiscs = daemon_->Exec(name, "a", {"tc", "qdisc", "show", "dev", "eth0"}).out;
  EXPECT_THAT(qdiscs, HasSubstr("htb"));
  EXPECT_THAT(qdiscs, HasSubstr("tbf"));
  EXPECT_EQ(PidOf(name, "b"), b_pid);
  EXPECT_TRUE(Pings(name, "a", "10.0.0.2"));

  // Back to the file without them: nothing of nslab's is left on the link.
  Apply(name, kBefore, &status);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_THAT(daemon_->Exec(name, "a", {"tc", "qdisc", "show", "dev", "eth0"}).out,
              ::testing::Not(HasSubstr("htb")));
}

}  // namespace
}  // namespace nslab::testing

namespace nslab::testing {
namespace {

// A node removed and added again gets new MACs: its neighbours across a switch, which cached
// the old ones, reach it at once (the apply announces its addresses), not 5 to 8 s later when
// their entries go stale.
constexpr char kSwitched[] = R"(
nodes: {a: {}, c: {}, s: {kind: switch}}
links:
  - {a: a:eth0, b: s:p1, a_addr: 10.0.5.1/24}
  - {a: c:eth0, b: s:p2, a_addr: 10.0.5.3/24}
)";

TEST_F(LabApplyTest, ANodeAddedBackIsReachableAtOnce) {
  const std::string name = UniqueLabName("applyarp");
  LabGuard guard(daemon_, name);
  ASSERT_TRUE(daemon_->CreateFromYaml(kSwitched, name).ok());
  ASSERT_TRUE(Pings(name, "a", "10.0.5.3"));  // a caches c's MAC
  grpc::Status status;
  Apply(name, R"(
nodes: {a: {}, s: {kind: switch}}
links:
  - {a: a:eth0, b: s:p1, a_addr: 10.0.5.1/24}
)",
        &status);
  ASSERT_TRUE(status.ok()) << status.error_message();
  Apply(name, kSwitched, &status);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(Pings(name, "a", "10.0.5.3"));
}

}  // namespace
}  // namespace nslab::testing
