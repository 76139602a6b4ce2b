// The built-in TCP clients (source, sink, hold) against servers on another TCP instance, over
// the in-memory pipe with its virtual clock: the data they move, how they close, and how they
// retry a refused connect.

#include "daemon/ustack/apps/tcp_client.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <optional>

#include "daemon/ustack/apps/byte_pattern.h"
#include "daemon/ustack/apps/tcp_echo.h"
#include "tests/unit/ustack/tcp/segment_pipe.h"
#include "tests/unit/ustack/tcp/stream_apps.h"

namespace nslab::ustack::apps {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using tcp::testing::SegmentPipe;
using tcp::testing::StreamSink;
using tcp::testing::StreamSource;
using Phase = ClientReport::Phase;

constexpr std::uint16_t kPort = 5001;

std::unique_ptr<TcpClient> make_client(SegmentPipe& pipe, TcpClient::Kind kind,
                                       std::optional<std::uint64_t> bytes = std::nullopt) {
  return std::make_unique<TcpClient>(pipe.a(), kind, tcp::Endpoint{tcp::testing::kAddressB, kPort},
                                     bytes, "test client");
}

// Runs the pipe, and the client's own timer (its connects), until `done` or `limit` of pipe time.
bool run_client(SegmentPipe& pipe, TcpClient& client, const std::function<bool()>& done,
                tcp::Duration limit) {
  const tcp::Instant end = pipe.now() + limit;
  const auto due = [&] {
    const auto deadline = client.next_deadline();
    return deadline && *deadline <= pipe.now();
  };
  while (!done()) {
    if (pipe.now() >= end) {
      return false;
    }
    if (due()) {
      client.poll(pipe.now());
      continue;
    }
    pipe.run_until([&] { return done() || due(); },
                   std::min<tcp::Duration>(milliseconds(10), end - pipe.now()));
  }
  return true;
}

Phase phase(const TcpClient& client) { return client.client_report()->phase; }

// A server on B that accepts one connection on kPort.
class OneConnectionServer {
 public:
  explicit OneConnectionServer(SegmentPipe& pipe) : pipe_(pipe) {
    listener_ = *pipe.b().listen(tcp::Endpoint{{}, kPort}, {}, pipe.now());
  }
  // The connection, once it is there.
  std::optional<tcp::SocketId> accepted() {
    if (!connection_) {
      if (const auto accepted = pipe_.b().accept(listener_); accepted.ok()) {
        connection_ = *accepted;
      }
    }
    return connection_;
  }
  // A sink reading the accepted connection, made once there is one.
  StreamSink* sink() {
    if (!sink_ && accepted()) {
      sink_ = std::make_unique<StreamSink>(pipe_.b(), *connection_, pipe_.now());
    }
    return sink_.get();
  }

 private:
  SegmentPipe& pipe_;
  tcp::SocketId listener_ = 0;
  std::optional<tcp::SocketId> connection_;
  std::unique_ptr<StreamSink> sink_;
};

std::vector<std::byte> generated(std::size_t size) {
  std::vector<std::byte> bytes(size);
  for (std::size_t i = 0; i < size; ++i) {
    bytes[i] = generated_byte(i);
  }
  return bytes;
}

std::uint64_t fnv1a64(const std::vector<std::byte>& bytes) {
  Fnv1a64 digest;
  digest.update(bytes);
  return digest.digest();
}

std::optional<tcp::TcpState> only_socket_state(tcp::Tcp& tcp) {
  const auto sockets = tcp.sockets();
  if (sockets.size() != 1) {
    return std::nullopt;
  }
  return sockets[0].state;
}

TEST(TcpClientTest, SourceSendsThePatternShutsDownAndEndsInTimeWait) {
  SegmentPipe pipe;
  pipe.set_faults(tcp::testing::random_faults(11, 2, 1, 3));
  OneConnectionServer server(pipe);
  constexpr std::uint64_t kBytes = 300'000;
  auto client = make_client(pipe, TcpClient::Kind::kSource, kBytes);
  EXPECT_EQ(phase(*client), Phase::kConnecting);
  ASSERT_TRUE(run_client(
      pipe, *client, [&] { return server.sink() && server.sink()->end_of_stream(); },
      seconds(120)));
  EXPECT_TRUE(server.sink()->received() == generated(kBytes));
  // The source waits for the server's end of the stream before it is done.
  EXPECT_EQ(phase(*client), Phase::kTransferring);
  ASSERT_TRUE(pipe.b().close(*server.accepted(), pipe.now()).ok());
  ASSERT_TRUE(run_client(
      pipe, *client, [&] { return phase(*client) == Phase::kDone; }, seconds(60)));
  const ClientReport report = *client->client_report();
  EXPECT_EQ(report.bytes_sent, kBytes);
  EXPECT_EQ(report.bytes_received, 0u);
  EXPECT_EQ(report.connect_attempts, 1u);
  EXPECT_EQ(report.error, "");
  EXPECT_EQ(report.local.rfind("10.0.0.1:", 0), 0u) << report.local;
  // It closed first, so its side waits in TIME-WAIT.
  EXPECT_EQ(only_socket_state(pipe.a()), tcp::TcpState::kTimeWait);
}

TEST(TcpClientTest, SourceAgainstAnEchoServerChecksBothDirections) {
  SegmentPipe pipe;
  pipe.set_faults(tcp::testing::random_faults(12, 2, 1, 3));
  auto echo = TcpEcho::start(pipe.b(), kPort);
  ASSERT_TRUE(echo.ok()) << echo.status();
  constexpr std::uint64_t kBytes = 1'000'000;
  auto client = make_client(pipe, TcpClient::Kind::kSource, kBytes);
  ASSERT_TRUE(run_client(
      pipe, *client, [&] { return phase(*client) == Phase::kDone; }, seconds(300)));
  const ClientReport report = *client->client_report();
  EXPECT_EQ(report.bytes_sent, kBytes);
  EXPECT_EQ(report.bytes_received, kBytes);
  EXPECT_TRUE(report.received_pattern_ok);
  EXPECT_EQ(report.received_fnv1a64, fnv1a64(generated(kBytes)));
}

TEST(TcpClientTest, SinkDigestsWhatThePeerSendsAndClosesAfterIt) {
  SegmentPipe pipe;
  pipe.set_faults(tcp::testing::random_faults(13, 2, 1, 3));
  OneConnectionServer server(pipe);
  const std::vector<std::byte> data = tcp::testing::pattern(500'000, 13);
  auto client = make_client(pipe, TcpClient::Kind::kSink);
  std::unique_ptr<StreamSource> source;
  ASSERT_TRUE(run_client(
      pipe, *client,
      [&] {
        if (!source && server.accepted()) {
          source = std::make_unique<StreamSource>(pipe.b(), *server.accepted(), data, pipe.now());
        }
        return phase(*client) == Phase::kDone;
      },
      seconds(120)));
  const ClientReport report = *client->client_report();
  EXPECT_EQ(report.bytes_received, data.size());
  EXPECT_EQ(report.received_fnv1a64, fnv1a64(data));
  EXPECT_FALSE(report.received_pattern_ok);
  EXPECT_EQ(report.bytes_sent, 0u);
  // The server closed first: TIME-WAIT is on its side, and the sink's side is gone.
  ASSERT_TRUE(pipe.run_until([&] { return pipe.a().sockets().empty(); }, seconds(10)));
  const auto server_state = pipe.b().state(*server.accepted());
  ASSERT_TRUE(server_state.ok());
  EXPECT_EQ(*server_state, tcp::TcpState::kTimeWait);
}

TEST(TcpClientTest, SinkSeesThePatternAsThePattern) {
  SegmentPipe pipe;
  OneConnectionServer server(pipe);
  auto client = make_client(pipe, TcpClient::Kind::kSink);
  std::unique_ptr<StreamSource> source;
  ASSERT_TRUE(run_client(
      pipe, *client,
      [&] {
        if (!source && server.accepted()) {
          source = std::make_unique<StreamSource>(pipe.b(), *server.accepted(), generated(100'000),
                                                  pipe.now());
        }
        return phase(*client) == Phase::kDone;
      },
      seconds(60)));
  EXPECT_TRUE(client->client_report()->received_pattern_ok);
  EXPECT_EQ(client->client_report()->bytes_received, 100'000u);
}

TEST(TcpClientTest, EndlessSourceStopsWhenThePeerShutsDown) {
  SegmentPipe pipe;
  OneConnectionServer server(pipe);
  auto client = make_client(pipe, TcpClient::Kind::kSource);
  ASSERT_TRUE(run_client(
      pipe, *client, [&] { return server.sink() && server.sink()->received().size() >= 2'000'000; },
      seconds(60)));
  ASSERT_TRUE(pipe.b().shutdown(*server.accepted(), pipe.now()).ok());
  ASSERT_TRUE(run_client(
      pipe, *client, [&] { return server.sink()->end_of_stream(); }, seconds(60)));
  ASSERT_TRUE(run_client(
      pipe, *client, [&] { return phase(*client) == Phase::kDone; }, seconds(5)));
  EXPECT_EQ(client->client_report()->bytes_sent, server.sink()->received().size());
  EXPECT_TRUE(server.sink()->received() == generated(server.sink()->received().size()));
}

TEST(TcpClientTest, HoldStaysInCloseWaitAfterThePeerShutsDown) {
  SegmentPipe pipe;
  OneConnectionServer server(pipe);
  auto client = make_client(pipe, TcpClient::Kind::kHold);
  ASSERT_TRUE(run_client(
      pipe, *client, [&] { return server.accepted().has_value(); }, seconds(5)));
  ASSERT_TRUE(pipe.b().shutdown(*server.accepted(), pipe.now()).ok());
  run_client(
      pipe, *client, [] { return false; }, seconds(30));
  EXPECT_EQ(only_socket_state(pipe.a()), tcp::TcpState::kCloseWait);
  EXPECT_EQ(*pipe.b().state(*server.accepted()), tcp::TcpState::kFinWait2);
  EXPECT_EQ(phase(*client), Phase::kTransferring);
  // Destroying the client closes its side at last.
  client.reset();
  ASSERT_TRUE(pipe.run_until([&] { return pipe.a().sockets().empty(); }, seconds(10)));
  EXPECT_EQ(*pipe.b().state(*server.accepted()), tcp::TcpState::kTimeWait);
}

TEST(TcpClientTest, RetriesARefusedConnectWithBackoff) {
  SegmentPipe pipe;
  auto client = make_client(pipe, TcpClient::Kind::kSource, 1000);
  // 100 ms, then 200 ms: three attempts within 350 ms, all refused.
  run_client(
      pipe, *client, [] { return false; }, milliseconds(350));
  ClientReport report = *client->client_report();
  EXPECT_EQ(report.phase, Phase::kConnecting);
  EXPECT_EQ(report.connect_attempts, 3u);
  EXPECT_EQ(report.error, "connection refused");
  ASSERT_TRUE(client->next_deadline().has_value());
  // The server comes up; the next attempt (400 ms later) gets through.
  OneConnectionServer server(pipe);
  ASSERT_TRUE(run_client(
      pipe, *client, [&] { return server.sink() && server.sink()->end_of_stream(); }, seconds(5)));
  report = *client->client_report();
  EXPECT_EQ(report.connect_attempts, 4u);
  EXPECT_EQ(report.phase, Phase::kTransferring);
  EXPECT_EQ(report.error, "");
  EXPECT_EQ(server.sink()->received().size(), 1000u);
}

TEST(TcpClientTest, GivesUpAfterTheLastAttempt) {
  SegmentPipe pipe;
  auto client = make_client(pipe, TcpClient::Kind::kSink);
  ASSERT_TRUE(run_client(
      pipe, *client, [&] { return phase(*client) == Phase::kFailed; }, seconds(60)));
  const ClientReport report = *client->client_report();
  EXPECT_EQ(report.connect_attempts, TcpClient::kMaxConnectAttempts);
  EXPECT_NE(report.error.find("gave up after 10 connect attempts"), std::string::npos)
      << report.error;
  EXPECT_NE(report.error.find("refused"), std::string::npos) << report.error;
  EXPECT_FALSE(client->next_deadline().has_value());
  EXPECT_TRUE(pipe.a().sockets().empty());
}

TEST(TcpClientTest, AResetAfterTheHandshakeIsFinal) {
  SegmentPipe pipe;
  OneConnectionServer server(pipe);
  auto client = make_client(pipe, TcpClient::Kind::kSource, 10);
  ASSERT_TRUE(run_client(
      pipe, *client,
      [&] {
        return pipe.b().info(server.accepted().value_or(0)).ok() &&
               pipe.b().info(*server.accepted())->recv_q == 10;
      },
      seconds(5)));
  // Closing with the 10 bytes unread resets the connection.
  ASSERT_TRUE(pipe.b().close(*server.accepted(), pipe.now()).ok());
  ASSERT_TRUE(run_client(
      pipe, *client, [&] { return phase(*client) == Phase::kFailed; }, seconds(5)));
  EXPECT_EQ(client->client_report()->error, "connection reset by peer");
  EXPECT_EQ(client->client_report()->connect_attempts, 1u);
  EXPECT_FALSE(client->next_deadline().has_value());
  EXPECT_TRUE(pipe.a().sockets().empty());
}

}  // namespace
}  // namespace nslab::ustack::apps
