// Every state of RFC 9293's connection table, reached on both ends of a connection between the
// ustack and the Linux kernel in the peer namespace, and seen in both the ustack's own socket
// table and `ss -tan` in the peer. The ustack's built-in clients (source, sink, hold) and
// services make its side act; the test drives the kernel's socket itself; nftables rules in the
// peer drop chosen segments to hold a connection in a state that would otherwise pass in one
// round trip (SYN-SENT, SYN-RECV, FIN-WAIT-1, LAST-ACK, CLOSING).
//
//   state        ustack side seen in                kernel side seen in
//   LISTEN       ListenAndEstablished...            ListenAndEstablished...
//   SYN-SENT     UstackConnectsWhileSynAcksDrop     KernelConnectsWhileSynAcksDrop
//   SYN-RECV     KernelConnectsWhileSynAcksDrop     UstackConnectsWhileSynAcksDrop
//   ESTAB        ListenAndEstablished...            ListenAndEstablished...
//   FIN-WAIT-1   UstackClosing...                   ...KernelClosesFirst
//   FIN-WAIT-2   UstackClosesFirst                  HoldKeepsCloseWait, UstackClosing...
//   CLOSE-WAIT   HoldKeepsCloseWait                 UstackClosesFirst
//   CLOSING      UstackClosingInASimultaneousClose  KernelClosingInASimultaneousClose
//   LAST-ACK     ...KernelClosesFirst               UstackClosesFirst
//   TIME-WAIT    UstackClosesFirst, UstackClosing   ...KernelClosesFirst, UstackClosing...
//
// CLOSING on the kernel: rules hold back both sides' FINs, then let the ustack's through while
// the kernel's is still held. (Holding the kernel's FIN while data still flows to it does not
// work: the rule then drops its acknowledgements too, and the transfer stalls.)

#include <gtest/gtest.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "tests/integration/ustack/tcp_observe.h"
#include "tests/integration/ustack/ustack_lab.h"

namespace nslab::ustack::testing {
namespace {

constexpr std::uint16_t kServerPort = 5001;
constexpr std::uint16_t kUstackEchoPort = 7;

// Rules for the peer's nftables table: each drops one kind of segment between B and the ustack.
const std::string kDropSynAcksToUstack =
    absl::StrCat("chain out { type filter hook output priority 0; ip daddr ", kUstackIp,
                 " tcp flags & (syn | ack) == syn | ack drop; }");
const std::string kDropSynAcksFromUstack =
    absl::StrCat("chain in { type filter hook input priority 0; ip saddr ", kUstackIp,
                 " tcp flags & (syn | ack) == syn | ack drop; }");
const std::string kDropAllFromUstack =
    absl::StrCat("chain in { type filter hook input priority 0; ip saddr ", kUstackIp,
                 " ip protocol tcp drop; }");
const std::string kDropFinsToUstack =
    absl::StrCat("chain out { type filter hook output priority 0; ip daddr ", kUstackIp,
                 " tcp flags & fin == fin drop; }");
const std::string kDropFinsFromUstack =
    absl::StrCat("chain in { type filter hook input priority 0; ip saddr ", kUstackIp,
                 " tcp flags & fin == fin drop; }");

// Unacknowledged bytes in a kernel socket's send queue.
int Unacknowledged(int fd) {
  int pending = -1;
  ::ioctl(fd, SIOCOUTQ, &pending);
  return pending;
}

class UstackTcpStatesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) {
      GTEST_SKIP() << "needs root (namespaces, TAP, nftables)";
    }
  }
  void TearDown() override {
    if (HasFailure() && lab_) {
      std::printf("--- nslab-ustack log ---\n%s\n", ReadFile(lab_->ustack_log()).c_str());
    }
    connection_.reset();
    listener_.reset();
    lab_.reset();
  }

  // A lab whose ustack runs `services`; the kernel listens on kServerPort first (with
  // `receive_buffer`), and `nft` rules are in place before the ustack starts.
  void StartLab(const std::vector<std::string>& services, const std::string& nft = "",
                int receive_buffer = 0) {
    std::vector<std::string> args;
    for (const std::string& service : services) {
      args.insert(args.end(), {"--service", service});
    }
    absl::StatusOr<std::unique_ptr<UstackLab>> lab =
        UstackLab::Create(NSLAB_USTACK_BINARY, args, [&](UstackLab& lab) -> absl::Status {
          absl::StatusOr<int> listener = PeerListen(lab, kServerPort, receive_buffer);
          if (!listener.ok()) {
            return listener.status();
          }
          listener_ = Fd(*listener);
          return nft.empty() ? absl::OkStatus() : PeerNft(lab, nft);
        });
    ASSERT_TRUE(lab.ok()) << lab.status();
    lab_ = *std::move(lab);
  }

  // Accepts the ustack client's connection; sets the two ends' names.
  void AcceptClient() {
    connection_ = Fd(AcceptWithin(listener_.get(), 5000));
    ASSERT_GE(connection_.get(), 0) << "the ustack's client did not connect";
    kernel_end_ = LocalEndpoint(connection_.get());
    absl::StatusOr<v1::UstackClient> client =
        WaitForClient(*lab_, [](const v1::UstackClient& c) { return !c.local().empty(); });
    ASSERT_TRUE(client.ok()) << client.status();
    ustack_end_ = client->local();
  }

  // Retransmissions after a rule is deleted may be backed off to a few seconds: 10 s default.
  void Expect(const std::string& ustack_state, const std::string& kernel_state,
              int timeout_ms = 10000) {
    const absl::Status seen =
        ExpectStates(*lab_, ustack_end_, kernel_end_, ustack_state, kernel_state, timeout_ms);
    EXPECT_TRUE(seen.ok()) << seen;
  }

  v1::UstackClient Client() {
    absl::StatusOr<v1::UstackStats> stats = lab_->Stats();
    EXPECT_TRUE(stats.ok() && stats->clients_size() == 1);
    return stats.ok() && stats->clients_size() == 1 ? stats->clients(0) : v1::UstackClient();
  }

  std::unique_ptr<UstackLab> lab_;
  Fd listener_;
  Fd connection_;
  std::string ustack_end_;
  std::string kernel_end_;
};

TEST_F(UstackTcpStatesTest, ListenAndEstablishedThenKernelClosesFirst) {
  ASSERT_NO_FATAL_FAILURE(StartLab({absl::StrCat("tcp:", kUstackEchoPort, ":echo"),
                                    absl::StrCat("tcp:", kPeerIp, ":", kServerPort, ":sink")}));
  // LISTEN: the kernel's listener in ss, the ustack's echo service in its table.
  EXPECT_EQ(KernelState(*lab_, absl::StrCat(kPeerIp, ":", kServerPort), "0.0.0.0:*"), "LISTEN");
  absl::StatusOr<v1::UstackStats> stats = lab_->Stats();
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(UstackState(*stats, absl::StrCat("0.0.0.0:", kUstackEchoPort), "0.0.0.0:0"), "LISTEN");

  ASSERT_NO_FATAL_FAILURE(AcceptClient());
  Expect("ESTAB", "ESTAB");
  // The kernel sends, and waits until every byte is acknowledged.
  std::string data(300'000, '\0');
  std::mt19937 random(7);
  for (char& byte : data) {
    byte = static_cast<char>(random());
  }
  ASSERT_EQ(::send(connection_.get(), data.data(), data.size(), 0),
            static_cast<ssize_t>(data.size()));
  for (int i = 0; i < 250 && Unacknowledged(connection_.get()) != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(Unacknowledged(connection_.get()), 0);
  // With the ustack's segments dropped, the kernel's FIN is never acknowledged (FIN-WAIT-1)
  // while the sink, which closes at the end of the stream, waits for the ACK of its own FIN
  // (LAST-ACK).
  ASSERT_TRUE(PeerNft(*lab_, kDropAllFromUstack).ok());
  connection_.reset();
  Expect("LAST-ACK", "FIN-WAIT-1");
  // Its FIN retransmitted and let through: the kernel, which closed first, waits in TIME-WAIT.
  ASSERT_TRUE(PeerNftDelete(*lab_).ok());
  Expect("", "TIME-WAIT");
  const v1::UstackClient client = Client();
  EXPECT_EQ(client.state(), "done") << client.DebugString();
  EXPECT_EQ(client.bytes_received(), data.size());
  EXPECT_EQ(client.received_fnv1a64(), Fnv1a64(data));
  EXPECT_FALSE(client.received_pattern_ok());
}

TEST_F(UstackTcpStatesTest, UstackClosesFirst) {
  constexpr std::size_t kBytes = 100'000;
  ASSERT_NO_FATAL_FAILURE(
      StartLab({absl::StrCat("tcp:", kPeerIp, ":", kServerPort, ":source:", kBytes)}));
  ASSERT_NO_FATAL_FAILURE(AcceptClient());
  std::string received;
  ASSERT_TRUE(ReadToEnd(connection_.get(), received, 5000));
  EXPECT_TRUE(received == GeneratedBytes(kBytes)) << received.size();
  // The source sent its FIN; the kernel's application has not closed.
  Expect("FIN-WAIT-2", "CLOSE-WAIT");
  // The ACK of the kernel's FIN dropped: LAST-ACK on the kernel, TIME-WAIT on the ustack.
  ASSERT_TRUE(PeerNft(*lab_, kDropAllFromUstack).ok());
  connection_.reset();
  Expect("TIME-WAIT", "LAST-ACK");
  ASSERT_TRUE(PeerNftDelete(*lab_).ok());
  Expect("TIME-WAIT", "");
  const v1::UstackClient client = Client();
  EXPECT_EQ(client.state(), "done") << client.DebugString();
  EXPECT_EQ(client.bytes_sent(), kBytes);
  EXPECT_EQ(client.connect_attempts(), 1u);
}

TEST_F(UstackTcpStatesTest, HoldKeepsCloseWait) {
  ASSERT_NO_FATAL_FAILURE(StartLab({absl::StrCat("tcp:", kPeerIp, ":", kServerPort, ":hold")}));
  ASSERT_NO_FATAL_FAILURE(AcceptClient());
  Expect("ESTAB", "ESTAB");
  ASSERT_EQ(::shutdown(connection_.get(), SHUT_WR), 0);
  Expect("CLOSE-WAIT", "FIN-WAIT-2");
  // It stays there: the ustack's application has not closed.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  Expect("CLOSE-WAIT", "FIN-WAIT-2", 0);
  EXPECT_EQ(Client().state(), "transferring");
}

TEST_F(UstackTcpStatesTest, KernelConnectsWhileSynAcksDrop) {
  ASSERT_NO_FATAL_FAILURE(
      StartLab({absl::StrCat("tcp:", kUstackEchoPort, ":echo")}, kDropSynAcksFromUstack));
  absl::StatusOr<int> fd = lab_->PeerSocket(SOCK_STREAM | SOCK_NONBLOCK);
  ASSERT_TRUE(fd.ok()) << fd.status();
  connection_ = Fd(*fd);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(kUstackEchoPort);
  ::inet_pton(AF_INET, kUstackIp, &to.sin_addr);
  ASSERT_NE(::connect(connection_.get(), reinterpret_cast<const sockaddr*>(&to), sizeof(to)), 0);
  ASSERT_EQ(errno, EINPROGRESS);
  kernel_end_ = LocalEndpoint(connection_.get());
  ustack_end_ = absl::StrCat(kUstackIp, ":", kUstackEchoPort);
  Expect("SYN-RECV", "SYN-SENT");
  ASSERT_TRUE(PeerNftDelete(*lab_).ok());
  // A retransmitted SYN or SYN-ACK completes the handshake.
  Expect("ESTAB", "ESTAB");
}

TEST_F(UstackTcpStatesTest, UstackConnectsWhileSynAcksDrop) {
  ASSERT_NO_FATAL_FAILURE(
      StartLab({absl::StrCat("tcp:", kPeerIp, ":", kServerPort, ":sink")}, kDropSynAcksToUstack));
  absl::StatusOr<v1::UstackClient> client =
      WaitForClient(*lab_, [](const v1::UstackClient& c) { return !c.local().empty(); });
  ASSERT_TRUE(client.ok()) << client.status();
  ustack_end_ = client->local();
  kernel_end_ = absl::StrCat(kPeerIp, ":", kServerPort);
  Expect("SYN-SENT", "SYN-RECV");
  EXPECT_EQ(Client().state(), "connecting");
  ASSERT_TRUE(PeerNftDelete(*lab_).ok());
  Expect("ESTAB", "ESTAB");
  EXPECT_EQ(Client().state(), "transferring");
  EXPECT_EQ(Client().connect_attempts(), 1u);
  connection_ = Fd(AcceptWithin(listener_.get(), 1000));
  EXPECT_GE(connection_.get(), 0);
}

TEST_F(UstackTcpStatesTest, UstackClosingInASimultaneousClose) {
  ASSERT_NO_FATAL_FAILURE(StartLab(
      {absl::StrCat("tcp:", kPeerIp, ":", kServerPort, ":source:1000")}, kDropFinsFromUstack));
  ASSERT_NO_FATAL_FAILURE(AcceptClient());
  // The source's data arrives, its FIN does not.
  std::string received;
  EXPECT_FALSE(ReadToEnd(connection_.get(), received, 500));
  EXPECT_EQ(received, GeneratedBytes(1000));
  Expect("FIN-WAIT-1", "ESTAB");
  // The kernel closes too: the ustack gets a FIN that does not acknowledge its own.
  ASSERT_EQ(::shutdown(connection_.get(), SHUT_WR), 0);
  Expect("CLOSING", "FIN-WAIT-2");
  ASSERT_TRUE(PeerNftDelete(*lab_).ok());
  // Both closed first, so both wait in TIME-WAIT.
  Expect("TIME-WAIT", "TIME-WAIT");
  EXPECT_TRUE(ReadToEnd(connection_.get(), received, 1000));
  EXPECT_EQ(Client().state(), "done");
}

TEST_F(UstackTcpStatesTest, KernelClosingInASimultaneousClose) {
  // Both sides' FINs are held back: neither can see the other's close.
  ASSERT_NO_FATAL_FAILURE(
      StartLab({absl::StrCat("tcp:", kPeerIp, ":", kServerPort, ":source:1000")},
               kDropFinsFromUstack + "\n" + kDropFinsToUstack));
  ASSERT_NO_FATAL_FAILURE(AcceptClient());
  Expect("FIN-WAIT-1", "ESTAB");
  ASSERT_EQ(::shutdown(connection_.get(), SHUT_WR), 0);
  Expect("FIN-WAIT-1", "FIN-WAIT-1");
  // The ustack's FIN let through: it does not acknowledge the kernel's, which is still held;
  // the kernel acknowledges it (FIN-WAIT-2) and waits for the ACK of its own (CLOSING).
  ASSERT_TRUE(lab_->InPeer(absl::StrCat("nft delete chain inet ", kNftTable, " in")).ok());
  Expect("FIN-WAIT-2", "CLOSING");
  // And the kernel's: both closed first, so both wait in TIME-WAIT.
  ASSERT_TRUE(PeerNftDelete(*lab_).ok());
  Expect("TIME-WAIT", "TIME-WAIT");
  std::string received;
  EXPECT_TRUE(ReadToEnd(connection_.get(), received, 1000));
  EXPECT_EQ(received, GeneratedBytes(1000));
  EXPECT_EQ(Client().state(), "done");
}

}  // namespace
}  // namespace nslab::ustack::testing
