// What a connection costs: its buffers grow with the data it holds (SO_SNDBUF and SO_RCVBUF
// are limits), an idle connection holds none, and TIME_WAIT gives them back. Thousands of
// connections at once, over the in-memory pipe, with their timers still firing on time.

#include <gtest/gtest.h>

#include <vector>

#include "daemon/ustack/tcp/receive_buffer.h"
#include "daemon/ustack/tcp/send_buffer.h"
#include "daemon/ustack/tcp/tcp.h"
#include "tests/unit/ustack/tcp/segment_pipe.h"

namespace nslab::ustack::tcp {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::connect_pair;
using testing::Connected;
using testing::SegmentPipe;

constexpr std::uint16_t kPort = 8080;

std::uint64_t buffer_bytes(const Tcp& tcp) {
  std::uint64_t total = 0;
  for (const TcpSocketInfo& info : tcp.sockets()) {
    total += info.buffer_bytes;
  }
  return total;
}

std::uint64_t buffer_bytes_of(const Tcp& tcp, SocketId socket) {
  return tcp.info(socket)->buffer_bytes;
}

TEST(ConnectionMemoryTest, BuffersGrowWithTheDataAndTimeWaitHoldsNone) {
  SegmentPipe pipe;
  const Connected pair = connect_pair(pipe, kPort);
  // Established and idle: the full window is offered, nothing is allocated.
  EXPECT_EQ(buffer_bytes_of(pipe.a(), pair.a), 0u);
  EXPECT_EQ(buffer_bytes_of(pipe.b(), pair.b), 0u);

  const std::vector<std::byte> request(300, std::byte{'q'});
  ASSERT_EQ(*pipe.a().write(pair.a, request, pipe.now()), request.size());
  pipe.run_for(milliseconds(50));
  EXPECT_EQ(buffer_bytes_of(pipe.a(), pair.a), SendBuffer::kInitialStorage);
  EXPECT_EQ(buffer_bytes_of(pipe.b(), pair.b), ReceiveBuffer::kInitialStorage);
  std::vector<std::byte> read(1000);
  ASSERT_EQ(*pipe.b().read(pair.b, read, pipe.now()), request.size());

  // B closes first and ends in TIME_WAIT; A reads the end of the stream and closes too.
  ASSERT_TRUE(pipe.b().shutdown(pair.b, pipe.now()).ok());
  pipe.run_for(milliseconds(50));
  ASSERT_EQ(*pipe.a().read(pair.a, read, pipe.now()), 0u);
  ASSERT_TRUE(pipe.a().close(pair.a, pipe.now()).ok());
  pipe.run_for(milliseconds(50));
  ASSERT_EQ(*pipe.b().state(pair.b), TcpState::kTimeWait);
  EXPECT_EQ(buffer_bytes_of(pipe.b(), pair.b), 0u);
  EXPECT_EQ(buffer_bytes(pipe.a()), 0u);
}

TEST(ConnectionMemoryTest, ThousandsOfIdleConnectionsHoldNoBuffersAndKeepTheirTimers) {
  constexpr int kConnections = 3000;
  SegmentPipe pipe;
  ListenOptions limits;
  limits.backlog = kConnections;
  limits.syn_backlog = kConnections;
  const absl::StatusOr<SocketId> listener =
      pipe.b().listen(Endpoint{{}, kPort}, limits, pipe.now());
  ASSERT_TRUE(listener.ok());
  SocketOptions keep_alive = TcpConfig().socket_defaults;
  keep_alive.keep_alive = true;
  keep_alive.keep_alive_idle = seconds(30);
  std::vector<SocketId> clients;
  for (int i = 0; i < kConnections; ++i) {
    const absl::StatusOr<SocketId> client =
        pipe.a().connect(Endpoint{testing::kAddressB, kPort}, 0, pipe.now());
    ASSERT_TRUE(client.ok()) << client.status();
    clients.push_back(*client);
  }
  int accepted = 0;
  ASSERT_TRUE(pipe.run_until(
      [&] {
        while (pipe.b().accept(*listener).ok()) {
          ++accepted;
        }
        return accepted == kConnections;
      },
      seconds(5)));
  EXPECT_EQ(pipe.b().current_established(), static_cast<std::uint64_t>(kConnections));
  EXPECT_EQ(pipe.b().counters().listen_drops, 0u);
  EXPECT_EQ(buffer_bytes(pipe.a()) + buffer_bytes(pipe.b()), 0u);

  // Every client's keep-alive timer, filed among thousands, fires when due and is answered.
  for (const SocketId client : clients) {
    ASSERT_TRUE(pipe.a().set_options(client, keep_alive, pipe.now()).ok());
  }
  pipe.run_for(seconds(31));
  EXPECT_EQ(pipe.a().counters().keep_alive_probes, static_cast<std::uint64_t>(kConnections));
  EXPECT_EQ(pipe.a().current_established(), static_cast<std::uint64_t>(kConnections));
}

}  // namespace
}  // namespace nslab::ustack::tcp
