// The participant node's stack against the Linux kernel in a neighbouring namespace (root):
// ping, ARP, UDP echo, port unreachable, clean decoding by tshark, and rx_missed_errors on a
// tiny ring. See ustack_lab.h for the topology.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "tests/integration/ustack/ustack_lab.h"

namespace nslab::ustack::testing {
namespace {

sockaddr_in Address(const char* ip, std::uint16_t port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  ::inet_pton(AF_INET, ip, &address.sin_addr);
  return address;
}

void SetReceiveTimeout(int fd, int ms) {
  timeval timeout{ms / 1000, (ms % 1000) * 1000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
}

class UstackNodeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (::geteuid() != 0) {
      return;
    }
    absl::StatusOr<std::unique_ptr<UstackLab>> lab = UstackLab::Create(
        NSLAB_USTACK_BINARY, {"--service", "udp:7:echo", "--service", "udp:9:discard"});
    ASSERT_TRUE(lab.ok()) << lab.status();
    lab_ = lab->release();
  }
  static void TearDownTestSuite() {
    delete lab_;
    lab_ = nullptr;
  }
  void SetUp() override {
    if (::geteuid() != 0) {
      GTEST_SKIP() << "needs root (namespaces, TAP)";
    }
    ASSERT_NE(lab_, nullptr);
  }
  void TearDown() override {
    if (HasFailure() && lab_ != nullptr) {
      std::printf("--- nslab-ustack log ---\n%s\n", ReadFile(lab_->ustack_log()).c_str());
    }
  }

  // Sends `payload` from a fresh UDP socket in B to the ustack's `port`; the answer, if any.
  std::optional<std::string> UdpRoundTrip(std::uint16_t port, const std::string& payload) {
    absl::StatusOr<int> fd = lab_->PeerSocket(SOCK_DGRAM);
    EXPECT_TRUE(fd.ok()) << fd.status();
    if (!fd.ok()) {
      return std::nullopt;
    }
    Fd socket(*fd);
    SetReceiveTimeout(socket.get(), 2000);
    const sockaddr_in to = Address(kUstackIp, port);
    ::sendto(socket.get(), payload.data(), payload.size(), 0,
             reinterpret_cast<const sockaddr*>(&to), sizeof(to));
    char buffer[2048];
    sockaddr_in from{};
    socklen_t from_len = sizeof(from);
    const ssize_t n = ::recvfrom(socket.get(), buffer, sizeof(buffer), 0,
                                 reinterpret_cast<sockaddr*>(&from), &from_len);
    if (n < 0) {
      return std::nullopt;
    }
    EXPECT_EQ(ntohs(from.sin_port), port);
    return std::string(buffer, static_cast<std::size_t>(n));
  }

  // `count` datagrams to the discard port as fast as B's socket sends them.
  void Burst(int count) {
    absl::StatusOr<int> fd = lab_->PeerSocket(SOCK_DGRAM);
    ASSERT_TRUE(fd.ok()) << fd.status();
    Fd socket(*fd);
    const sockaddr_in to = Address(kUstackIp, 9);
    const std::string payload(64, 'b');
    for (int i = 0; i < count; ++i) {
      ::sendto(socket.get(), payload.data(), payload.size(), 0,
               reinterpret_cast<const sockaddr*>(&to), sizeof(to));
    }
  }

  std::uint64_t MissedAfterBurst(std::uint32_t rx_ring, int burst) {
    v1::UstackControlServiceSetNicRequest request;
    request.set_rx_ring(rx_ring);
    absl::StatusOr<v1::UstackNicSettings> settings = lab_->SetNic(request);
    EXPECT_TRUE(settings.ok()) << settings.status();
    EXPECT_EQ(settings->rx_ring(), rx_ring);
    // The ring reset must not cost the neighbour entry: warm up with one echo.
    EXPECT_TRUE(UdpRoundTrip(7, "warm"));
    const std::uint64_t before = lab_->Stats()->nic().rx_missed_errors();
    Burst(burst);
    ::usleep(200'000);
    return lab_->Stats()->nic().rx_missed_errors() - before;
  }

  static UstackLab* lab_;
};

UstackLab* UstackNodeTest::lab_ = nullptr;

TEST_F(UstackNodeTest, ThousandPingsWithoutLossAndArpResolves) {
  absl::StatusOr<std::string> ping =
      lab_->InPeer(absl::StrCat("ping -i 0.002 -c 1000 -q -W 1 ", kUstackIp));
  ASSERT_TRUE(ping.ok()) << ping.status();
  EXPECT_TRUE(absl::StrContains(*ping, "1000 received, 0% packet loss")) << *ping;

  absl::StatusOr<std::string> neigh = lab_->InPeer(absl::StrCat("ip neigh show ", kUstackIp));
  ASSERT_TRUE(neigh.ok()) << neigh.status();
  EXPECT_TRUE(absl::StrContains(*neigh, kUstackMac)) << *neigh;

  absl::StatusOr<v1::UstackStats> stats = lab_->Stats();
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_GE(stats->icmp().out_echo_reps(), 1000u);
  EXPECT_GE(stats->arp().gratuitous_sent(), 1u);
  bool knows_peer = false;
  for (const v1::UstackArpEntry& entry : stats->arp().entries()) {
    knows_peer |= entry.ip() == kPeerIp && !entry.mac().empty();
  }
  EXPECT_TRUE(knows_peer) << stats->arp().DebugString();
}

TEST_F(UstackNodeTest, UdpEchoReturnsThePayload) {
  EXPECT_EQ(UdpRoundTrip(7, "hello, participant node"), "hello, participant node");
  const std::string large(1400, 'x');
  EXPECT_EQ(UdpRoundTrip(7, large), large);
}

TEST_F(UstackNodeTest, ClosedPortIsRefused) {
  absl::StatusOr<int> fd = lab_->PeerSocket(SOCK_DGRAM);
  ASSERT_TRUE(fd.ok()) << fd.status();
  Fd socket(*fd);
  SetReceiveTimeout(socket.get(), 2000);
  const sockaddr_in to = Address(kUstackIp, 4444);
  ASSERT_EQ(::connect(socket.get(), reinterpret_cast<const sockaddr*>(&to), sizeof(to)), 0);
  ASSERT_EQ(::send(socket.get(), "?", 1, 0), 1);
  char buffer[16];
  EXPECT_EQ(::recv(socket.get(), buffer, sizeof(buffer), 0), -1);
  EXPECT_EQ(errno, ECONNREFUSED) << std::strerror(errno);
  EXPECT_GE(lab_->Stats()->udp().no_ports(), 1u);
}

TEST_F(UstackNodeTest, TsharkDecodesEveryFrameCleanly) {
  const std::string pcap = lab_->dir() + "/capture.pcap";
  absl::StatusOr<std::unique_ptr<ChildProcess>> tcpdump = ChildProcess::Start(
      lab_->peer_ns(), {"/usr/bin/tcpdump", "-i", "vB", "-n", "--immediate-mode", "-U", "-w", pcap},
      lab_->dir() + "/tcpdump.log");
  ASSERT_TRUE(tcpdump.ok()) << tcpdump.status();
  // tcpdump says "listening on" once its socket is open.
  for (int i = 0;
       i < 100 && !absl::StrContains(ReadFile(lab_->dir() + "/tcpdump.log"), "listening"); ++i) {
    ::usleep(20'000);
  }
  ASSERT_TRUE(lab_->InPeer(absl::StrCat("ping -i 0.01 -c 20 -q ", kUstackIp)).ok());
  EXPECT_TRUE(UdpRoundTrip(7, "decode me"));
  UdpRoundTrip(4445, "refused");  // the answer is an ICMP error
  // Forget the ustack's MAC so that the next ping asks for it again.
  ASSERT_TRUE(lab_->InPeer(absl::StrCat("ip neigh del ", kUstackIp, " dev vB")).ok());
  ASSERT_TRUE(lab_->InPeer(absl::StrCat("ping -c 1 -q ", kUstackIp)).ok());  // ARP again
  ::usleep(200'000);
  (*tcpdump)->Stop();

  const std::string filter = absl::StrCat("eth.src == ", kUstackMac);
  absl::StatusOr<std::string> summary = Shell(
      absl::StrCat("tshark -n -r ", pcap, " -Y '", filter, "' -T fields -e _ws.col.Protocol"));
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_TRUE(absl::StrContains(*summary, "ICMP")) << *summary;
  EXPECT_TRUE(absl::StrContains(*summary, "UDP") || absl::StrContains(*summary, "ECHO"))
      << *summary;
  EXPECT_TRUE(absl::StrContains(*summary, "ARP")) << *summary;

  absl::StatusOr<std::string> detail = Shell(
      absl::StrCat("tshark -n -r ", pcap,
                   " -o ip.check_checksum:TRUE -o udp.check_checksum:TRUE -V -Y '", filter, "'"));
  ASSERT_TRUE(detail.ok()) << detail.status();
  for (const char* warning : {"Malformed", "[Checksum Status: Bad]", "incorrect", "Bad checksum"}) {
    EXPECT_FALSE(absl::StrContains(*detail, warning)) << warning << " in:\n" << *detail;
  }
  EXPECT_TRUE(absl::StrContains(*detail, "[Checksum Status: Good]")) << *detail;
}

TEST_F(UstackNodeTest, ChecksumOffloadKeepsTrafficWorking) {
  v1::UstackControlServiceSetNicRequest on;
  on.set_csum_offload(true);
  absl::StatusOr<v1::UstackNicSettings> settings = lab_->SetNic(on);
  ASSERT_TRUE(settings.ok()) << settings.status();
  EXPECT_TRUE(settings->csum_offload());
  EXPECT_EQ(UdpRoundTrip(7, "offloaded"), "offloaded");
  absl::StatusOr<std::string> ping = lab_->InPeer(absl::StrCat("ping -c 3 -i 0.05 -q ", kUstackIp));
  EXPECT_TRUE(ping.ok()) << ping.status();
  v1::UstackControlServiceSetNicRequest off;
  off.set_csum_offload(false);
  ASSERT_TRUE(lab_->SetNic(off).ok());
  EXPECT_EQ(lab_->Stats()->nic().rx_csum_errors(), 0u);
}

TEST_F(UstackNodeTest, TinyRxRingMissesFramesALargeOneDoesNot) {
  constexpr int kBurst = 500;
  const std::uint64_t tiny = MissedAfterBurst(4, kBurst);
  const std::uint64_t large = MissedAfterBurst(1024, kBurst);
  EXPECT_GT(tiny, 0u);
  EXPECT_EQ(large, 0u);
  std::printf("rx_missed_errors after %d frames: ring 4 -> %llu, ring 1024 -> %llu\n", kBurst,
              static_cast<unsigned long long>(tiny), static_cast<unsigned long long>(large));
}

TEST_F(UstackNodeTest, BadNicSettingsAreRefusedWithTheReason) {
  v1::UstackControlServiceSetNicRequest request;
  request.set_rx_ring(100);
  absl::StatusOr<v1::UstackNicSettings> settings = lab_->SetNic(request);
  ASSERT_FALSE(settings.ok());
  EXPECT_EQ(settings.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(settings.status().message(), "power of two")) << settings.status();
}

TEST_F(UstackNodeTest, ExitsCleanlyOnSigterm) {
  EXPECT_EQ(lab_->ustack().Stop(), 0);
  // The control socket goes with the process.
  EXPECT_FALSE(std::filesystem::exists(lab_->dir() + "/control.sock"));
}

}  // namespace
}  // namespace nslab::ustack::testing
