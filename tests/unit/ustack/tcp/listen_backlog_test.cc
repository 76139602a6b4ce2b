// The listen backlog with Linux's semantics (listener.h): the accept queue takes backlog + 1
// connections; a SYN beyond that is dropped without an answer and counted as ListenOverflows
// and ListenDrops; once the application accepts, the peer's next SYN retransmission gets in.
// listen() clamps the backlog to somaxconn. A client's SYN that reuses the four-tuple of a
// connection still in TIME_WAIT here opens a new one at once.

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "daemon/ustack/tcp/tcp.h"
#include "tests/unit/ustack/tcp/segment_pipe.h"

namespace nslab::ustack::tcp {
namespace {

namespace flag = packet::tcp_flag;
using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::SegmentPipe;
using testing::SentSegment;
using testing::Side;

constexpr std::uint16_t kPort = 8080;

SocketId connect_to_b(SegmentPipe& pipe) {
  const absl::StatusOr<SocketId> client =
      pipe.a().connect(Endpoint{testing::kAddressB, kPort}, 0, pipe.now());
  EXPECT_TRUE(client.ok()) << client.status();
  return client.value_or(0);
}

std::size_t syn_acks_sent_by_b(const SegmentPipe& pipe) {
  const std::vector<SentSegment> sent = pipe.sent_by(Side::kB);
  return static_cast<std::size_t>(std::count_if(sent.begin(), sent.end(), [](const auto& s) {
    return s.has(flag::kSyn) && s.has(flag::kAck);
  }));
}

TEST(TcpListenBacklogTest, FullAcceptQueueDropsAndCountsSynsUntilTheApplicationAccepts) {
  SegmentPipe pipe;
  ListenOptions limits;
  limits.backlog = 2;
  const absl::StatusOr<SocketId> listener =
      pipe.b().listen(Endpoint{{}, kPort}, limits, pipe.now());
  ASSERT_TRUE(listener.ok()) << listener.status();

  // backlog + 1 connections fit, as in Linux.
  std::vector<SocketId> queued;
  for (int i = 0; i < 3; ++i) {
    queued.push_back(connect_to_b(pipe));
  }
  ASSERT_TRUE(pipe.run_until(
      [&] {
        return std::all_of(queued.begin(), queued.end(), [&](SocketId c) {
          return *pipe.a().state(c) == TcpState::kEstablished;
        });
      },
      seconds(1)));
  pipe.run_for(milliseconds(50));  // the handshakes' last ACKs reach B
  EXPECT_EQ(pipe.b().info(*listener)->recv_q, 3u);
  EXPECT_EQ(pipe.b().info(*listener)->send_q, 2u);  // ss shows the backlog as Send-Q
  EXPECT_EQ(pipe.b().counters().listen_overflows, 0u);

  // The next SYN is dropped: no SYN-ACK, no RST, only counters.
  pipe.clear_sent();
  const SocketId late = connect_to_b(pipe);
  pipe.run_for(milliseconds(500));
  EXPECT_EQ(*pipe.a().state(late), TcpState::kSynSent);
  EXPECT_TRUE(pipe.sent_by(Side::kB).empty());
  EXPECT_EQ(pipe.b().counters().listen_overflows, 1u);
  EXPECT_EQ(pipe.b().counters().listen_drops, 1u);
  EXPECT_EQ(pipe.b().counters().syn_queue_overflows, 0u);
  EXPECT_EQ(pipe.b().counters().passive_opens, 3u);  // no connection was made for it

  // Each retransmission of the SYN is dropped and counted again while the queue stays full.
  pipe.run_for(milliseconds(1'200));  // A's SYN goes again after its 1 s RTO
  EXPECT_EQ(*pipe.a().state(late), TcpState::kSynSent);
  EXPECT_EQ(pipe.b().counters().listen_overflows, 2u);
  EXPECT_EQ(pipe.b().counters().listen_drops, 2u);
  EXPECT_EQ(syn_acks_sent_by_b(pipe), 0u);

  // The application accepts one: the SYN's next copy (3 s after the first) finds room.
  ASSERT_TRUE(pipe.b().accept(*listener).ok());
  ASSERT_TRUE(
      pipe.run_until([&] { return *pipe.a().state(late) == TcpState::kEstablished; }, seconds(5)));
  EXPECT_EQ(syn_acks_sent_by_b(pipe), 1u);
  pipe.run_for(milliseconds(50));
  EXPECT_EQ(pipe.b().info(*listener)->recv_q, 3u);
  EXPECT_EQ(pipe.b().counters().listen_overflows, 2u);
  int accepted = 1;
  while (pipe.b().accept(*listener).ok()) {
    ++accepted;
  }
  EXPECT_EQ(accepted, 4);
}

TEST(TcpListenBacklogTest, HandshakeCompletingIntoAFullQueueWaitsForTheRetransmittedSynAck) {
  SegmentPipe pipe;
  ListenOptions limits;
  limits.backlog = 0;  // one connection
  const absl::StatusOr<SocketId> listener =
      pipe.b().listen(Endpoint{{}, kPort}, limits, pipe.now());
  ASSERT_TRUE(listener.ok());
  // Two SYNs at once both find the accept queue empty and get SYN-ACKs; the second handshake's
  // last ACK then finds the queue full and is dropped (Linux, tcp_abort_on_overflow = 0).
  const SocketId first = connect_to_b(pipe);
  const SocketId second = connect_to_b(pipe);
  pipe.run_for(milliseconds(100));
  EXPECT_EQ(*pipe.a().state(first), TcpState::kEstablished);
  EXPECT_EQ(*pipe.a().state(second), TcpState::kEstablished);  // A cannot tell
  EXPECT_EQ(pipe.b().info(*listener)->recv_q, 1u);
  EXPECT_EQ(pipe.b().counters().listen_overflows, 1u);
  EXPECT_EQ(pipe.b().counters().listen_drops, 1u);
  std::size_t half_open = 0;
  for (const TcpSocketInfo& info : pipe.b().sockets()) {
    half_open += info.state == TcpState::kSynReceived;
  }
  EXPECT_EQ(half_open, 1u);

  // Once there is room, B's retransmitted SYN-ACK draws the ACK again and the handshake ends.
  ASSERT_TRUE(pipe.b().accept(*listener).ok());
  ASSERT_TRUE(pipe.run_until([&] { return pipe.b().info(*listener)->recv_q == 1u; }, seconds(5)));
  EXPECT_TRUE(pipe.b().accept(*listener).ok());
}

TEST(TcpListenBacklogTest, BacklogIsClampedToSomaxconn) {
  TcpConfig config;
  config.max_listen_backlog = 16;
  SegmentPipe pipe(TcpConfig{}, config);
  ListenOptions limits;
  limits.backlog = 100'000;
  const absl::StatusOr<SocketId> listener =
      pipe.b().listen(Endpoint{{}, kPort}, limits, pipe.now());
  ASSERT_TRUE(listener.ok());
  EXPECT_EQ(pipe.b().info(*listener)->send_q, 16u);
  EXPECT_EQ(TcpConfig().max_listen_backlog, 4096u);  // Linux's default somaxconn
}

TEST(TcpListenBacklogTest, SynReusingATimeWaitFourTupleOpensANewConnectionAtOnce) {
  TcpConfig client;
  client.timestamps = false;  // the sequence number decides (with timestamps, the newer one)
  SegmentPipe pipe(client, TcpConfig{});
  const absl::StatusOr<SocketId> listener =
      pipe.b().listen(Endpoint{{}, kPort}, ListenOptions{}, pipe.now());
  ASSERT_TRUE(listener.ok());
  constexpr std::uint16_t kClientPort = 40000;
  const Endpoint server{testing::kAddressB, kPort};

  // The server closes first, so that its end waits in TIME_WAIT.
  const absl::StatusOr<SocketId> first = pipe.a().connect(server, kClientPort, pipe.now());
  ASSERT_TRUE(first.ok());
  pipe.run_for(milliseconds(50));
  const absl::StatusOr<SocketId> old = pipe.b().accept(*listener);
  ASSERT_TRUE(old.ok());
  ASSERT_TRUE(pipe.b().close(*old, pipe.now()).ok());
  pipe.run_for(milliseconds(50));
  ASSERT_TRUE(pipe.a().close(*first, pipe.now()).ok());
  pipe.run_for(milliseconds(50));
  ASSERT_EQ(*pipe.b().state(*old), TcpState::kTimeWait);

  // The same client port again, long before TIME_WAIT (60 s) ends.
  const absl::StatusOr<SocketId> again = pipe.a().connect(server, kClientPort, pipe.now());
  ASSERT_TRUE(again.ok()) << again.status();
  pipe.run_for(milliseconds(50));
  EXPECT_EQ(*pipe.a().state(*again), TcpState::kEstablished);  // no retransmitted SYN needed
  EXPECT_EQ(pipe.a().counters().retrans_segs, 0u);
  EXPECT_TRUE(pipe.b().accept(*listener).ok());
  EXPECT_FALSE(pipe.b().state(*old).ok());  // the old incarnation is gone
  EXPECT_EQ(pipe.b().counters().time_wait_expired, 0u);
}

TEST(TcpListenBacklogTest, ZeroSynBacklogIsRefused) {
  SegmentPipe pipe;
  ListenOptions limits;
  limits.syn_backlog = 0;
  EXPECT_EQ(pipe.b().listen(Endpoint{{}, kPort}, limits, pipe.now()).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace nslab::ustack::tcp
