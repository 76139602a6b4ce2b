// Each participant-node fault (apps/fault.h) set on a built-in server on B and met by a peer on
// A, both the stack's own TCP over the in-memory pipe with its virtual clock: the peer ends up
// where the article's state table says a kernel peer would, and clearing the fault brings normal
// service back.

#include <gtest/gtest.h>

#include <algorithm>

#include "daemon/ustack/apps/fault.h"
#include "daemon/ustack/apps/read_pacer.h"
#include "daemon/ustack/apps/tcp_chargen.h"
#include "daemon/ustack/apps/tcp_client.h"
#include "daemon/ustack/apps/tcp_discard.h"
#include "daemon/ustack/apps/tcp_echo.h"
#include "tests/unit/ustack/tcp/segment_pipe.h"
#include "tests/unit/ustack/tcp/stream_apps.h"

namespace nslab::ustack::apps {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using tcp::TcpState;
using tcp::testing::SegmentPipe;
using tcp::testing::Side;
using tcp::testing::StreamSink;
using tcp::testing::StreamSource;
namespace flag = packet::tcp_flag;

tcp::SocketId connect_to(SegmentPipe& pipe, std::uint16_t port) {
  const auto client = pipe.a().connect(tcp::Endpoint{tcp::testing::kAddressB, port}, 0, pipe.now());
  EXPECT_TRUE(client.ok()) << client.status();
  return client.value_or(0);
}

void set(RunningService& service, absl::string_view fault) {
  const absl::StatusOr<FaultSpec> spec = parse_fault(fault);
  ASSERT_TRUE(spec.ok()) << spec.status();
  ASSERT_TRUE(service.set_fault(*spec).ok());
  EXPECT_EQ(to_string(service.fault()), to_string(*spec));
}

TcpState state_of(SegmentPipe& pipe, Side side, tcp::SocketId socket) {
  return pipe.tcp(side).state(socket).value_or(TcpState::kClosed);
}

// B's one connection (not the listener), as `ss` would list it.
std::optional<tcp::TcpSocketInfo> server_connection(SegmentPipe& pipe) {
  for (const tcp::TcpSocketInfo& info : pipe.b().sockets()) {
    if (info.state != TcpState::kListen) {
      return info;
    }
  }
  return std::nullopt;
}

// What the node's loop does besides the stack: wakes the service at its deadlines.
void run_with(SegmentPipe& pipe, RunningService& service, tcp::Duration duration) {
  const tcp::Instant end = pipe.now() + duration;
  while (pipe.now() < end) {
    const std::optional<tcp::Instant> due = service.next_deadline();
    const tcp::Instant stop = due && *due < end ? std::max(*due, pipe.now()) : end;
    pipe.run_until([] { return false; }, stop - pipe.now());
    if (due && *due <= pipe.now()) {
      service.poll(pipe.now());
    }
  }
}

TEST(FaultTest, RefuseAnswersEverySynWithAResetAndClearServesAgain) {
  SegmentPipe pipe;
  auto echo = TcpEcho::start(pipe.b(), 7);
  ASSERT_TRUE(echo.ok());
  set(**echo, "refuse");
  const tcp::SocketId client = connect_to(pipe, 7);
  // At once: one round trip, no retransmission.
  ASSERT_TRUE(pipe.run_until([&] { return state_of(pipe, Side::kA, client) == TcpState::kClosed; },
                             milliseconds(50)));
  std::byte byte[1];
  const auto read = pipe.a().read(client, byte, pipe.now());
  EXPECT_EQ(read.status().message(), "connection refused");
  EXPECT_EQ(pipe.b().counters().out_rsts, 1u);
  EXPECT_EQ(pipe.b().counters().passive_opens, 0u);
  EXPECT_EQ(pipe.a().counters().attempt_fails, 1u);

  set(**echo, "clear");
  const tcp::SocketId again = connect_to(pipe, 7);
  EXPECT_TRUE(pipe.run_until(
      [&] { return state_of(pipe, Side::kA, again) == TcpState::kEstablished; }, seconds(1)));
}

TEST(FaultTest, BlackholeSynLeavesThePeerRetransmittingItsSynUntilItTimesOut) {
  SegmentPipe pipe;
  auto echo = TcpEcho::start(pipe.b(), 7);
  ASSERT_TRUE(echo.ok());
  set(**echo, "blackhole-syn");
  const tcp::SocketId client = connect_to(pipe, 7);
  pipe.run_for(seconds(10));
  EXPECT_EQ(state_of(pipe, Side::kA, client), TcpState::kSynSent);
  const auto syns = pipe.sent_by(Side::kA);
  EXPECT_GE(syns.size(), 3u);  // 0 s, 1 s, 3 s, 7 s
  EXPECT_TRUE(
      std::all_of(syns.begin(), syns.end(), [](const auto& s) { return s.has(flag::kSyn); }));
  EXPECT_TRUE(pipe.sent_by(Side::kB).empty());
  ASSERT_TRUE(pipe.run_until([&] { return state_of(pipe, Side::kA, client) == TcpState::kClosed; },
                             seconds(300)));
  std::byte byte[1];
  EXPECT_EQ(pipe.a().read(client, byte, pipe.now()).status().code(),
            absl::StatusCode::kDeadlineExceeded);
  EXPECT_TRUE(pipe.sent_by(Side::kB).empty());

  set(**echo, "none");
  const tcp::SocketId again = connect_to(pipe, 7);
  EXPECT_TRUE(pipe.run_until(
      [&] { return state_of(pipe, Side::kA, again) == TcpState::kEstablished; }, seconds(1)));
}

TEST(FaultTest, NeverAcceptFillsTheAcceptQueueThenDropsAndCountsLaterSyns) {
  SegmentPipe pipe;
  auto discard = TcpDiscard::start(pipe.b(), 9);
  ASSERT_TRUE(discard.ok());
  set(**discard, "never-accept");
  // As Linux's, the accept queue takes one connection more than the backlog.
  constexpr std::size_t kQueued = TcpServer::kListenOptions.backlog + 1;
  std::vector<tcp::SocketId> clients;
  for (std::size_t i = 0; i < kQueued; ++i) {
    clients.push_back(connect_to(pipe, 9));
  }
  ASSERT_TRUE(pipe.run_until(
      [&] {
        return std::all_of(clients.begin(), clients.end(), [&](tcp::SocketId c) {
          return state_of(pipe, Side::kA, c) == TcpState::kEstablished;
        });
      },
      seconds(5)));
  pipe.run_for(seconds(1));  // the handshakes' last ACKs reach B
  const auto listening = pipe.b().sockets();
  const auto listener = std::find_if(listening.begin(), listening.end(), [](const auto& info) {
    return info.state == TcpState::kListen;
  });
  ASSERT_NE(listener, listening.end());
  EXPECT_EQ(listener->recv_q, kQueued);  // the accept queue, full

  const tcp::SocketId late = connect_to(pipe, 9);
  pipe.run_for(seconds(5));
  EXPECT_EQ(state_of(pipe, Side::kA, late), TcpState::kSynSent);
  EXPECT_GE(pipe.b().counters().listen_overflows, 2u);  // the SYN and its retransmissions
  // ListenDrops counts both queues' drops: the burst of connects above may have filled the SYN
  // queue (as long as the accept queue's backlog) for a moment too.
  EXPECT_EQ(pipe.b().counters().listen_drops,
            pipe.b().counters().listen_overflows + pipe.b().counters().syn_queue_overflows);

  set(**discard, "clear");  // accepts what queued up; the late SYN's next copy gets in
  EXPECT_TRUE(pipe.run_until(
      [&] { return state_of(pipe, Side::kA, late) == TcpState::kEstablished; }, seconds(30)));
}

TEST(FaultTest, CloseWaitLeavesTheServerInCloseWaitAndThePeerInFinWait2) {
  SegmentPipe pipe;
  auto echo = TcpEcho::start(pipe.b(), 7);
  ASSERT_TRUE(echo.ok());
  set(**echo, "close-wait");
  const tcp::SocketId client = connect_to(pipe, 7);
  const auto data = tcp::testing::pattern(100'000, 3);
  StreamSource source(pipe.a(), client, data, pipe.now());  // then shuts down: FIN
  StreamSink sink(pipe.a(), client, pipe.now(), &source);
  pipe.run_for(seconds(120));
  // What came before the FIN was echoed in full; the server never closed.
  EXPECT_TRUE(sink.received() == data);
  EXPECT_FALSE(sink.end_of_stream());
  EXPECT_EQ(state_of(pipe, Side::kA, client), TcpState::kFinWait2);
  ASSERT_TRUE(server_connection(pipe).has_value());
  EXPECT_EQ(server_connection(pipe)->state, TcpState::kCloseWait);

  set(**echo, "clear");  // the held connection closes now
  ASSERT_TRUE(pipe.run_until([&] { return sink.end_of_stream(); }, seconds(5)));
  EXPECT_EQ(state_of(pipe, Side::kA, client), TcpState::kTimeWait);
}

TEST(FaultTest, IgnoreFinLeavesThePeerInFinWait1RetransmittingItsFin) {
  SegmentPipe pipe;
  auto echo = TcpEcho::start(pipe.b(), 7);
  ASSERT_TRUE(echo.ok());
  set(**echo, "ignore-fin");
  const tcp::SocketId client = connect_to(pipe, 7);
  const auto data = tcp::testing::pattern(50'000, 4);
  StreamSource source(pipe.a(), client, data, pipe.now());
  StreamSink sink(pipe.a(), client, pipe.now(), &source);
  pipe.run_for(seconds(30));
  EXPECT_TRUE(sink.received() == data);  // the data before the FIN, handled as usual
  EXPECT_EQ(state_of(pipe, Side::kA, client), TcpState::kFinWait1);
  const auto sent = pipe.sent_by(Side::kA);
  EXPECT_GE(
      std::count_if(sent.begin(), sent.end(), [](const auto& s) { return s.has(flag::kFin); }), 3);
  EXPECT_GE(pipe.a().counters().timeouts, 2u);
  EXPECT_EQ(server_connection(pipe)->state, TcpState::kEstablished);

  set(**echo, "clear");  // the next copy of the FIN is taken; the echo closes
  ASSERT_TRUE(pipe.run_until([&] { return sink.end_of_stream(); }, seconds(60)));
  EXPECT_EQ(state_of(pipe, Side::kA, client), TcpState::kTimeWait);
}

TEST(FaultTest, ZeroWindowAnswersThePeersProbesWithWindowZero) {
  SegmentPipe pipe;
  auto discard = TcpDiscard::start(pipe.b(), 9);
  ASSERT_TRUE(discard.ok());
  set(**discard, "zero-window");
  const tcp::SocketId client = connect_to(pipe, 9);
  StreamSource source(pipe.a(), client, tcp::testing::pattern(100'000, 5), pipe.now());
  pipe.run_for(seconds(60));
  EXPECT_EQ(source.written(), 100'000u);  // into the send buffer: Send-Q stays full
  EXPECT_EQ(pipe.a().info(client)->send_q, 100'000u);
  EXPECT_EQ(pipe.a().info(client)->send_window, 0u);
  EXPECT_GE(pipe.a().counters().window_probes, 3u);
  const auto answers = pipe.sent_by(Side::kB);
  EXPECT_GE(answers.size(), 4u);  // SYN-ACK and an answer per probe
  EXPECT_TRUE(
      std::all_of(answers.begin(), answers.end(), [](const auto& s) { return s.window == 0; }));

  set(**discard, "clear");  // a window update at once
  ASSERT_TRUE(pipe.run_until([&] { return pipe.a().info(client)->send_q == 0; }, seconds(5)));
}

TEST(FaultTest, SlowReadReadsAtTheRateAndThePeersThroughputFollows) {
  SegmentPipe pipe;
  auto discard = TcpDiscard::start(pipe.b(), 9);
  ASSERT_TRUE(discard.ok());
  constexpr std::uint64_t kRate = 20'000;
  set(**discard, "slow-read:20000");
  const tcp::SocketId client = connect_to(pipe, 9);
  StreamSource source(pipe.a(), client, tcp::testing::pattern(4'000'000, 6), pipe.now());
  const auto acked = [&] { return source.written() - pipe.a().info(client)->send_q; };
  run_with(pipe, **discard, seconds(20));  // the receive buffer fills
  EXPECT_LT(server_connection(pipe)->recv_q + 0, 256u * 1024 + 1);
  const std::size_t before = acked();
  run_with(pipe, **discard, seconds(30));
  const double per_second = static_cast<double>(acked() - before) / 30;
  EXPECT_NEAR(per_second, kRate, kRate * 0.05);

  set(**discard, "clear");
  run_with(pipe, **discard, seconds(5));
  EXPECT_TRUE(source.finished());
  EXPECT_TRUE(pipe.run_until([&] { return pipe.a().info(client)->send_q == 0; }, seconds(5)));
}

TEST(FaultTest, SlowReadAppliesToEchoWhichAnswersWhatItRead) {
  SegmentPipe pipe;
  auto echo = TcpEcho::start(pipe.b(), 7);
  ASSERT_TRUE(echo.ok());
  set(**echo, "slow-read:1000");
  const tcp::SocketId client = connect_to(pipe, 7);
  const auto data = tcp::testing::pattern(10'000, 7);
  StreamSource source(pipe.a(), client, data, pipe.now());
  StreamSink sink(pipe.a(), client, pipe.now(), &source);
  run_with(pipe, **echo, seconds(5));
  EXPECT_GT(sink.received().size(), 3'000u);
  EXPECT_LT(sink.received().size(), 7'000u);
  run_with(pipe, **echo, seconds(10));
  EXPECT_TRUE(sink.received() == data);
  EXPECT_TRUE(sink.end_of_stream());
}

TEST(FaultTest, ResetAfterSendsARstOnceTheBytesMoved) {
  SegmentPipe pipe;
  auto chargen = TcpChargen::start(pipe.b(), 19);
  ASSERT_TRUE(chargen.ok());
  set(**chargen, "reset-after:5000");
  const tcp::SocketId client = connect_to(pipe, 19);
  StreamSink sink(pipe.a(), client, pipe.now());
  ASSERT_TRUE(pipe.run_until([&] { return state_of(pipe, Side::kA, client) == TcpState::kClosed; },
                             seconds(5)));
  EXPECT_EQ(sink.received().size(), 5000u);  // exactly the budget, then the reset
  std::byte byte[1];
  EXPECT_EQ(pipe.a().read(client, byte, pipe.now()).status().message(), "connection reset by peer");
  EXPECT_GE(pipe.b().counters().out_rsts, 1u);
  EXPECT_EQ(pipe.a().counters().estab_resets, 1u);
}

TEST(FaultTest, ResetAfterCountsBothDirections) {
  SegmentPipe pipe;
  auto echo = TcpEcho::start(pipe.b(), 7);
  ASSERT_TRUE(echo.ok());
  const tcp::SocketId client = connect_to(pipe, 7);
  pipe.run_for(milliseconds(100));
  set(**echo, "reset-after:3000");  // reaches the connection already open
  StreamSource source(pipe.a(), client, tcp::testing::pattern(10'000, 8), pipe.now());
  StreamSink sink(pipe.a(), client, pipe.now(), &source);
  ASSERT_TRUE(pipe.run_until([&] { return state_of(pipe, Side::kA, client) == TcpState::kClosed; },
                             seconds(5)));
  // B took some in and echoed some back: 3000 in all, and the reset right after.
  EXPECT_GT(sink.received().size(), 0u);
  EXPECT_LT(sink.received().size(), 3000u);
  EXPECT_GE(pipe.b().counters().out_rsts, 1u);  // and more for A's segments after it
  std::byte byte[1];
  EXPECT_EQ(pipe.a().read(client, byte, pipe.now()).status().message(), "connection reset by peer");
}

TEST(FaultTest, ClientsRefuseAListenersFault) {
  SegmentPipe pipe;
  TcpClient client(pipe.a(), TcpClient::Kind::kSink, tcp::Endpoint{tcp::testing::kAddressB, 9},
                   std::nullopt, "tcp:10.0.0.2:9:sink");
  const absl::Status status = client.set_fault(*parse_fault("refuse"));
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(status.message().find("close-wait"), absl::string_view::npos) << status;
  EXPECT_TRUE(client.set_fault(*parse_fault("zero-window")).ok());
}

TEST(FaultTest, ParseFaultReadsEveryModeAndToStringWritesItBack) {
  for (const char* text : {"none", "refuse", "blackhole-syn", "never-accept", "close-wait",
                           "ignore-fin", "zero-window", "slow-read:4096", "reset-after:1000"}) {
    const absl::StatusOr<FaultSpec> spec = parse_fault(text);
    ASSERT_TRUE(spec.ok()) << text << ": " << spec.status();
    EXPECT_EQ(to_string(*spec), text);
  }
  EXPECT_EQ(parse_fault("clear")->mode, FaultMode::kNone);
  EXPECT_EQ(parse_fault("slow-read:4096")->rate, 4096u);
  EXPECT_EQ(parse_fault("reset-after:1000")->bytes, 1000u);
  EXPECT_EQ(mode_name(FaultMode::kCloseWait), "close-wait");
}

TEST(FaultTest, ParseFaultSaysWhatIsWrong) {
  const auto unknown = parse_fault("drop-everything");
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(unknown.status().message().find("drop-everything"), absl::string_view::npos);
  EXPECT_NE(unknown.status().message().find("close-wait"), absl::string_view::npos);
  for (const char* text : {"slow-read", "slow-read:0", "reset-after:", "reset-after:x",
                           "reset-after:-5", "refuse:3", ""}) {
    EXPECT_EQ(parse_fault(text).status().code(), absl::StatusCode::kInvalidArgument) << text;
  }
  EXPECT_NE(parse_fault("slow-read").status().message().find("needs a number"),
            absl::string_view::npos);
}

TEST(ReadPacerTest, AllowsTheRateOverTimeAndNoMoreThanABurst) {
  const tcp::Instant start{};
  ReadPacer pacer(1000, start);
  std::size_t read = pacer.allowance(start);
  pacer.consume(read);
  for (int ms = 1; ms <= 10'000; ++ms) {
    const std::size_t allowed = pacer.allowance(start + milliseconds(ms));
    pacer.consume(allowed);
    read += allowed;
  }
  EXPECT_NEAR(static_cast<double>(read), 10'000 + 20, 2);
  // Idle for a minute: only a burst (a tenth of a second's worth) accrued.
  EXPECT_EQ(pacer.allowance(start + seconds(70)), 100u);
  pacer.consume(100);
  EXPECT_EQ(pacer.ready_at(), start + seconds(70) + milliseconds(20));
}

}  // namespace
}  // namespace nslab::ustack::apps
