// `nslab trace` through NAT, on the NAT example (topologies/nat-gateway.yaml): the probe is
// followed through the gateway's port forward (DNAT) to the web server, blamed correctly when
// the forward chain drops it after the DNAT, and shown masqueraded on its way out.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "nslab/v1/diag.grpc.pb.h"
#include "tests/integration/support/daemon_suite.h"
#include "tests/integration/support/test_daemon.h"

namespace nslab::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class TraceNatTest : public DaemonSuite<> {
 protected:
  static void SetUpTestSuite() {
    DaemonSuite::SetUpTestSuite();
    lab_ = new std::string(UniqueLabName("tracenat"));
    auto status = daemon_->CreateFromYaml(ReadSourceFile("topologies/nat-gateway.yaml"), *lab_);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }
  static void TearDownTestSuite() {
    EXPECT_TRUE(daemon_->Delete(*lab_).ok());
    delete lab_;
    DaemonSuite::TearDownTestSuite();
  }

  nslab::v1::TraceResponse Trace(const std::string& source, const std::string& destination,
                                 uint32_t port, const std::string& protocol) {
    auto diag = nslab::v1::DiagnosticsService::NewStub(daemon_->channel());
    nslab::v1::TraceRequest request;
    request.set_lab(*lab_);
    request.set_source_node(source);
    request.set_destination(destination);
    request.set_port(port);
    request.set_protocol(protocol);
    request.set_timeout_ms(1000);
    nslab::v1::TraceResponse report;
    grpc::ClientContext context;
    auto status = diag->Trace(&context, request, &report);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return report;
  }

  static const nslab::v1::TraceHop* HopAt(const nslab::v1::TraceResponse& report,
                                          const std::string& node) {
    for (const auto& hop : report.hops()) {
      if (hop.node() == node) {
        return &hop;
      }
    }
    return nullptr;
  }

  static bool Contains(const google::protobuf::RepeatedPtrField<std::string>& list,
                       const std::string& value) {
    return std::find(list.begin(), list.end(), value) != list.end();
  }

  static inline std::string* lab_ = nullptr;
};

TEST_F(TraceNatTest, PortForwardIsFollowedToTheServer) {
  auto report = Trace("outside", "198.51.100.1", 80, "tcp");
  EXPECT_EQ(report.verdict(), "delivered") << report.explanation();
  ASSERT_GT(report.hops_size(), 0);
  EXPECT_EQ(report.hops(report.hops_size() - 1).node(), "web") << report.DebugString();
  const auto* gw = HopAt(report, "gw");
  ASSERT_NE(gw, nullptr);
  ASSERT_EQ(gw->translations_size(), 1) << gw->DebugString();
  EXPECT_EQ(gw->translations(0).kind(), "dnat");
  EXPECT_EQ(gw->translations(0).from(), "198.51.100.1:80");
  EXPECT_EQ(gw->translations(0).to(), "10.0.0.10:8080");
  EXPECT_THAT(gw->translations(0).rule(), HasSubstr("in ip nat prerouting"));
  EXPECT_EQ(gw->output_interface(), "lan0") << "the walk must go on with the translated address";
  EXPECT_TRUE(Contains(gw->seen_probe_on(), "wan0")) << gw->DebugString();
  EXPECT_THAT(report.explanation(), HasSubstr("10.0.0.10:8080 answered"));
  EXPECT_THAT(report.explanation(), HasSubstr("after dnat at gw"));
}

TEST_F(TraceNatTest, BlockedSourceIsBlamedOnTheForwardRuleForItsProbe) {
  auto report = Trace("blocked", "198.51.100.1", 80, "tcp");
  EXPECT_EQ(report.verdict(), "dropped") << report.explanation();
  EXPECT_THAT(report.explanation(), HasSubstr("dropped at gw by rule"));
  EXPECT_THAT(report.explanation(), HasSubstr("inet filter forward"));
  EXPECT_THAT(report.explanation(), Not(HasSubstr("the answer, on its way back")));
  const auto* gw = HopAt(report, "gw");
  ASSERT_NE(gw, nullptr);
  ASSERT_EQ(gw->translations_size(), 1) << gw->DebugString();
  EXPECT_EQ(gw->translations(0).to(), "10.0.0.10:8080");
  bool probe_dropped = false;
  for (const auto& event : gw->firewall()) {
    if (event.verdict() == "drop") {
      EXPECT_EQ(event.direction(), "probe") << event.DebugString();
      probe_dropped = true;
    }
  }
  EXPECT_TRUE(probe_dropped) << gw->DebugString();
}

TEST_F(TraceNatTest, MasqueradedClientShowsTheSourceRewrite) {
  // ICMP keeps its connection; TCP to a closed port is refused, and conntrack forgets a
  // connection refused with RST at once: its translation is read from headers instead.
  for (const char* protocol : {"icmp", "tcp"}) {
    auto report = Trace("client", "198.51.100.20", 80, protocol);
    EXPECT_EQ(report.verdict(), "delivered") << protocol << ": " << report.explanation();
    const auto* gw = HopAt(report, "gw");
    ASSERT_NE(gw, nullptr);
    ASSERT_EQ(gw->translations_size(), 1) << protocol << ": " << gw->DebugString();
    EXPECT_EQ(gw->translations(0).kind(), "snat");
    EXPECT_THAT(gw->translations(0).from(), HasSubstr("10.0.0.20"));
    EXPECT_THAT(gw->translations(0).to(), HasSubstr("198.51.100.1"));
    EXPECT_THAT(gw->translations(0).rule(), HasSubstr("masquerade"));
    const auto* outside = HopAt(report, "outside");
    ASSERT_NE(outside, nullptr);
    EXPECT_TRUE(Contains(outside->seen_probe_on(), "eth0"))
        << protocol << ": the masqueraded probe must be recognised: " << outside->DebugString();
  }
}

}  // namespace
}  // namespace nslab::testing
