// The built-in TCP apps served by one TCP instance and used by another, over the in-memory pipe.

#include <gtest/gtest.h>

#include <span>

#include "daemon/ustack/apps/tcp_chargen.h"
#include "daemon/ustack/apps/tcp_discard.h"
#include "daemon/ustack/apps/tcp_echo.h"
#include "tests/unit/ustack/tcp/segment_pipe.h"
#include "tests/unit/ustack/tcp/stream_apps.h"

namespace nslab::ustack::apps {
namespace {

using std::chrono::seconds;
using tcp::testing::SegmentPipe;
using tcp::testing::Side;
using tcp::testing::StreamSink;
using tcp::testing::StreamSource;

tcp::SocketId connect_to(SegmentPipe& pipe, std::uint16_t port) {
  const auto client = pipe.a().connect(tcp::Endpoint{tcp::testing::kAddressB, port}, 0, pipe.now());
  EXPECT_TRUE(client.ok()) << client.status();
  return *client;
}

// Only the listener is left on the server: every connection was closed and forgotten.
bool server_idle(SegmentPipe& pipe) { return pipe.b().sockets().size() == 1; }

TEST(TcpAppsTest, EchoSendsEveryByteBackAndClosesAfterTheClient) {
  SegmentPipe pipe;
  pipe.set_faults(tcp::testing::random_faults(5, 2, 1, 3));
  auto echo = TcpEcho::start(pipe.b(), 7);
  ASSERT_TRUE(echo.ok()) << echo.status();
  const tcp::SocketId client = connect_to(pipe, 7);
  const auto data = tcp::testing::pattern(2 * 1024 * 1024, 77);
  StreamSource source(pipe.a(), client, data, pipe.now());
  StreamSink sink(pipe.a(), client, pipe.now(), &source);
  ASSERT_TRUE(pipe.run_until([&] { return sink.end_of_stream(); }, seconds(300)))
      << sink.received().size();
  EXPECT_TRUE(sink.received() == data);
  ASSERT_TRUE(pipe.run_until([&] { return server_idle(pipe); }, seconds(300)));
  EXPECT_EQ(TcpEcho::start(pipe.b(), 7).status().code(), absl::StatusCode::kAlreadyExists);
}

TEST(TcpAppsTest, EchoToAClientThatDoesNotReadStopsReading) {
  SegmentPipe pipe;
  auto echo = TcpEcho::start(pipe.b(), 7);
  ASSERT_TRUE(echo.ok());
  const tcp::SocketId client = connect_to(pipe, 7);
  StreamSource source(pipe.a(), client, tcp::testing::pattern(4 * 1024 * 1024, 1), pipe.now(),
                      /*shut_down_at_end=*/false);
  pipe.run_for(seconds(30));
  // Both directions' buffers are full and the windows closed; nothing was lost.
  EXPECT_FALSE(source.finished());
  EXPECT_EQ(pipe.a().info(client)->send_window, 0u);
  StreamSink sink(pipe.a(), client, pipe.now(), &source);
  ASSERT_TRUE(pipe.run_until([&] { return source.finished(); }, seconds(60)));
  ASSERT_TRUE(pipe.a().shutdown(client, pipe.now()).ok());
  ASSERT_TRUE(pipe.run_until([&] { return sink.end_of_stream(); }, seconds(60)));
  EXPECT_TRUE(sink.received() == tcp::testing::pattern(4 * 1024 * 1024, 1));
}

TEST(TcpAppsTest, DiscardTakesEverythingAndClosesWithTheClient) {
  SegmentPipe pipe;
  auto discard = TcpDiscard::start(pipe.b(), 9);
  ASSERT_TRUE(discard.ok());
  const tcp::SocketId client = connect_to(pipe, 9);
  StreamSource source(pipe.a(), client, tcp::testing::pattern(1024 * 1024, 3), pipe.now());
  StreamSink sink(pipe.a(), client, pipe.now(), &source);
  ASSERT_TRUE(pipe.run_until([&] { return sink.end_of_stream(); }, seconds(60)));
  EXPECT_TRUE(sink.received().empty());
  EXPECT_TRUE(source.finished());
  EXPECT_EQ(pipe.a().info(client)->send_q, 0u);  // all of it acknowledged
  ASSERT_TRUE(pipe.run_until([&] { return server_idle(pipe); }, seconds(10)));
}

TEST(TcpAppsTest, ChargenStreamsTheRfc864Pattern) {
  SegmentPipe pipe;
  auto chargen = TcpChargen::start(pipe.b(), 19);
  ASSERT_TRUE(chargen.ok());
  const tcp::SocketId client = connect_to(pipe, 19);
  StreamSink sink(pipe.a(), client, pipe.now());
  ASSERT_TRUE(pipe.run_until([&] { return sink.received().size() > 100'000; }, seconds(10)));
  const std::vector<std::byte>& cycle = chargen_cycle();
  ASSERT_EQ(cycle.size(), 95u * 74u);
  for (std::size_t i = 0; i < sink.received().size(); ++i) {
    ASSERT_EQ(sink.received()[i], cycle[i % cycle.size()]) << i;
  }
  const std::string first_line(reinterpret_cast<const char*>(cycle.data()), 74);
  EXPECT_EQ(first_line.substr(0, 5), " !\"#$");
  EXPECT_EQ(first_line.substr(72), "\r\n");
  // The client goes away; the server lets go of the connection.
  ASSERT_TRUE(pipe.a().close(client, pipe.now()).ok());
  ASSERT_TRUE(pipe.run_until([&] { return server_idle(pipe); }, seconds(10)));
}

}  // namespace
}  // namespace nslab::ustack::apps
