// A lab with a ustack node: the kernel next to it pings it, resolves its MAC, gets UDP
// echoes and port-unreachable errors from it, talks TCP to its echo service, and the stack's
// counters, socket table and NIC controls are reachable through the API; a restarted daemon
// restarts the stack.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include "nslab/v1/diag.grpc.pb.h"
#include "nslab/v1/participants.grpc.pb.h"
#include "tests/integration/support/daemon_suite.h"
#include "tests/integration/support/test_daemon.h"

namespace nslab::testing {
namespace {

using ::testing::HasSubstr;

constexpr char kKernelAndStack[] = R"(
nodes:
  kernel: {kind: host}
  stack:
    kind: ustack
    services: [{udp: 7, app: echo}, {udp: 9, app: discard}, {tcp: 7, app: echo}]
links:
  - {a: kernel:eth0, b: stack:eth0, a_addr: 10.9.0.1/24, b_addr: 10.9.0.2/24}
)";

// Sends `payload` to 10.9.0.2:PORT from a connected UDP socket and prints the answer,
// "refused" (ICMP port unreachable) or "timeout".
std::vector<std::string> UdpProbe(int port, const std::string& payload) {
  return {"python3", "-c",
          "import socket\ns=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(2)\n"
          "s.connect(('10.9.0.2', " +
              std::to_string(port) +
              "))\n"
              "try:\n  s.send(b'" +
              payload +
              "'); print(s.recv(2048).decode())\n"
              "except ConnectionRefusedError: print('refused')\n"
              "except socket.timeout: print('timeout')"};
}

class UstackNodeTest : public DaemonSuite<> {
 protected:
  void SetUp() override {
    name_ = UniqueLabName("ustack");
    guard_ = std::make_unique<LabGuard>(daemon_, name_);
    auto status = daemon_->CreateFromYaml(Topology(), name_);
    ASSERT_TRUE(status.ok()) << status.error_message();
    participants_ = nslab::v1::ParticipantsService::NewStub(daemon_->channel());
    // Ready means every part answers: the stack's control socket, once, right after `up`.
    auto stats = Stats();
    ASSERT_TRUE(stats.ok()) << "the stack does not answer right after CreateLab: "
                            << stats.error_message();
  }

  virtual const char* Topology() const { return kKernelAndStack; }

  grpc::Status Stats(nslab::v1::UstackStats* stats = nullptr) {
    return daemon_->UstackStats(name_, "stack", stats);
  }

  std::string name_;
  std::unique_ptr<LabGuard> guard_;
  std::unique_ptr<nslab::v1::ParticipantsService::Stub> participants_;
};

TEST_F(UstackNodeTest, TheKernelPingsTheStackAThousandTimesWithoutLoss) {
  auto ping = daemon_->Exec(
      name_, "kernel", {"ping", "-n", "-q", "-c", "1000", "-i", "0.002", "-W", "1", "10.9.0.2"});
  EXPECT_THAT(ping.out, HasSubstr("1000 packets transmitted, 1000 received, 0% packet loss"))
      << ping.out << ping.err;
  auto neigh = daemon_->Exec(name_, "kernel", {"ip", "neigh", "show", "10.9.0.2"});
  EXPECT_THAT(neigh.out, HasSubstr("lladdr")) << neigh.out;
  nslab::v1::UstackStats stats;
  ASSERT_TRUE(Stats(&stats).ok());
  EXPECT_GE(stats.icmp().in_echos(), 1000u);
  EXPECT_GE(stats.icmp().out_echo_reps(), 1000u);
  EXPECT_GE(stats.nic().rx_packets(), 1000u);
  EXPECT_EQ(stats.nic().rx_missed_errors(), 0u);
  bool knows_kernel = false;
  for (const auto& entry : stats.arp().entries()) {
    knows_kernel = knows_kernel || (entry.ip() == "10.9.0.1" && !entry.mac().empty());
  }
  EXPECT_TRUE(knows_kernel);
}

TEST_F(UstackNodeTest, UdpEchoAnswersAndAClosedPortIsRefused) {
  EXPECT_EQ(daemon_->Exec(name_, "kernel", UdpProbe(7, "hello stack")).out, "hello stack\n");
  EXPECT_EQ(daemon_->Exec(name_, "kernel", UdpProbe(4242, "anyone?")).out, "refused\n");
  nslab::v1::UstackStats stats;
  ASSERT_TRUE(Stats(&stats).ok());
  EXPECT_GE(stats.udp().no_ports(), 1u);
  EXPECT_GE(stats.icmp().out_dest_unreachs(), 1u);
}

TEST_F(UstackNodeTest, TcpEchoReturnsAMegabyteAndTheSocketTableShowsTheListener) {
  // A kernel TCP client: sends 1 MiB in one thread while reading the echo in another, then
  // prints how many bytes came back and whether they matched.
  const std::vector<std::string> client = {
      "python3", "-c",
      "import socket, threading\n"
      "data = bytes(range(256)) * 4096\n"
      "s = socket.create_connection(('10.9.0.2', 7), timeout=10)\n"
      "def send():\n  s.sendall(data); s.shutdown(socket.SHUT_WR)\n"
      "t = threading.Thread(target=send); t.start()\n"
      "got = bytearray()\n"
      "while True:\n  chunk = s.recv(65536)\n  if not chunk: break\n  got += chunk\n"
      "t.join(); print(len(got), got == data)"};
  auto echo = daemon_->Exec(name_, "kernel", client);
  EXPECT_EQ(echo.out, "1048576 True\n") << echo.out << echo.err;
  nslab::v1::UstackStats stats;
  ASSERT_TRUE(Stats(&stats).ok());
  EXPECT_GE(stats.tcp().passive_opens(), 1u);
  EXPECT_GE(stats.tcp().in_segs(), 1048576u / 1500);
  bool listening = false;
  for (const auto& socket : stats.tcp_sockets()) {
    listening |= socket.state() == "LISTEN" && socket.local() == "0.0.0.0:7";
  }
  EXPECT_TRUE(listening);
}

TEST_F(UstackNodeTest, ATinyRxRingMissesFramesInABurst) {
  nslab::v1::SetUstackNicRequest request;
  request.set_lab(name_);
  request.set_node("stack");
  request.mutable_nic()->set_rx_ring(2);
  nslab::v1::SetUstackNicResponse response;
  {
    grpc::ClientContext context;
    auto status = participants_->SetUstackNic(&context, request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }
  const nslab::v1::UstackNicSettings& settings = response.nic();
  EXPECT_EQ(settings.rx_ring(), 2u);
  // 20,000 datagrams to the discard port as fast as the kernel sends them.
  auto burst = daemon_->Exec(name_, "kernel",
                             {"python3", "-c",
                              "import socket\ns=socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
                              "for _ in range(20000): s.sendto(b'x' * 64, ('10.9.0.2', 9))"});
  ASSERT_EQ(burst.code, 0) << burst.err;
  nslab::v1::UstackStats stats;
  ASSERT_TRUE(Stats(&stats).ok());
  EXPECT_GT(stats.nic().rx_missed_errors(), 0u);
}

TEST_F(UstackNodeTest, DiagLinksShowTheStacksRingsAndCounters) {
  ASSERT_EQ(daemon_->Exec(name_, "kernel", {"ping", "-c", "2", "-i", "0.1", "10.9.0.2"}).code, 0);
  auto diag = nslab::v1::DiagnosticsService::NewStub(daemon_->channel());
  nslab::v1::LinksRequest request;
  request.set_lab(name_);
  request.set_node("stack");
  nslab::v1::LinksResponse links;
  grpc::ClientContext context;
  auto status = diag->Links(&context, request, &links);
  ASSERT_TRUE(status.ok()) << status.error_message();
  bool found = false;
  for (const auto& link : links.links()) {
    if (link.name() != "nsl-tap0") {
      continue;
    }
    found = true;
    EXPECT_EQ(link.ring().rx(), 1024u);  // the default
    uint64_t rx_packets = 0;
    for (const auto& counter : link.driver_counters()) {
      if (counter.name() == "ustack_rx_packets") {
        rx_packets = counter.value();
      }
    }
    EXPECT_GE(rx_packets, 2u);
  }
  EXPECT_TRUE(found);
}

TEST_F(UstackNodeTest, ErrorsNameTheProblem) {
  nslab::v1::GetUstackStatsRequest request;
  request.set_lab(name_);
  request.set_node("kernel");
  nslab::v1::GetUstackStatsResponse response;
  grpc::ClientContext context;
  auto status = participants_->GetUstackStats(&context, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(status.error_message(), HasSubstr("not of kind ustack"));
}

TEST_F(UstackNodeTest, ARestartedDaemonRestartsTheStack) {
  daemon_->Stop(SIGKILL);
  daemon_->Restart();
  participants_ = nslab::v1::ParticipantsService::NewStub(daemon_->channel());
  // The new daemon serves only after it restarted the stack and heard it was ready.
  auto stats = Stats();
  ASSERT_TRUE(stats.ok()) << "the restarted stack does not answer: " << stats.error_message();
  auto ping = daemon_->Exec(name_, "kernel",
                            {"ping", "-n", "-q", "-c", "3", "-i", "0.1", "-W", "2", "10.9.0.2"});
  EXPECT_THAT(ping.out, HasSubstr("3 received")) << ping.out;
  EXPECT_TRUE(Stats().ok());
}

// A stack whose topology turns its NIC's offloads on and has it connect out: the source sends
// 4 MB of the pattern to a kernel server that starts after the stack (the client retries), in
// segments the TAP cuts; then `nslab ustack set --tso off` turns segmentation off at run time.
constexpr char kOffloadedClient[] = R"(
nodes:
  kernel: {kind: host}
  stack:
    kind: ustack
    offloads: {csum: true, tso: true}
    services: [{tcp: 5001, connect: 10.9.0.1, app: source, bytes: 4000000}, {tcp: 7, app: echo}]
links:
  - {a: kernel:eth0, b: stack:eth0, a_addr: 10.9.0.1/24, b_addr: 10.9.0.2/24}
)";

class UstackClientNodeTest : public UstackNodeTest {
 protected:
  const char* Topology() const override { return kOffloadedClient; }
};

TEST_F(UstackClientNodeTest, ASourceClientSendsThroughTheOffloadedNicToAKernelServer) {
  // Reads until the stack closes; prints the byte count and whether every byte i was i % 251.
  auto server = daemon_->Exec(
      name_, "kernel",
      {"python3", "-c",
       "import socket\n"
       "l = socket.create_server(('10.9.0.1', 5001)); l.settimeout(20)\n"
       "c, _ = l.accept(); c.settimeout(20)\n"
       "pattern = bytes(i % 251 for i in range(251 * 256)); got = bytearray()\n"
       "while True:\n  chunk = c.recv(1 << 20)\n  if not chunk: break\n  got += chunk\n"
       "ok = all(got[i:i + len(pattern)] == pattern[:len(got) - i]\n"
       "         for i in range(0, len(got), len(pattern)))\n"
       "print(len(got), ok)"});
  EXPECT_EQ(server.out, "4000000 True\n") << server.out << server.err;
  nslab::v1::UstackStats stats;
  ASSERT_TRUE(Stats(&stats).ok());
  ASSERT_EQ(stats.clients_size(), 1);
  EXPECT_EQ(stats.clients(0).spec(), "tcp:10.9.0.1:5001:source:4000000");
  EXPECT_EQ(stats.clients(0).bytes_sent(), 4000000u);
  EXPECT_TRUE(stats.nic_settings().csum_offload());
  EXPECT_TRUE(stats.nic_settings().tso());
  EXPECT_GT(stats.nic().tx_tso_frames(), 0u);

  nslab::v1::SetUstackNicRequest request;
  request.set_lab(name_);
  request.set_node("stack");
  request.mutable_nic()->set_tso(false);
  nslab::v1::SetUstackNicResponse response;
  grpc::ClientContext context;
  auto status = participants_->SetUstackNic(&context, request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  const nslab::v1::UstackNicSettings& settings = response.nic();
  EXPECT_FALSE(settings.tso());
  EXPECT_TRUE(settings.csum_offload());
  // The rebuilt NIC still carries TCP, now cut by the stack itself.
  auto echo = daemon_->Exec(
      name_, "kernel",
      {"python3", "-c",
       "import socket\ns = socket.create_connection(('10.9.0.2', 7), timeout=10)\n"
       "data = bytes(range(256)) * 1024; s.sendall(data); s.shutdown(socket.SHUT_WR)\n"
       "got = bytearray()\n"
       "while True:\n  chunk = s.recv(65536)\n  if not chunk: break\n  got += chunk\n"
       "print(got == data)"});
  EXPECT_EQ(echo.out, "True\n") << echo.out << echo.err;
  nslab::v1::UstackStats after;
  ASSERT_TRUE(Stats(&after).ok());
  // No segment went out for the TAP to cut since (the counters outlive the rebuild).
  EXPECT_EQ(after.nic().tx_tso_frames(), stats.nic().tx_tso_frames());
}

}  // namespace
}  // namespace nslab::testing
