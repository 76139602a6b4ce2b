// RST rules (RFC 9293 3.10.7, RFC 5961), timers (RFC 6298 backoff, persist, delayed ACK,
// keep-alive), fast retransmit, Nagle and the listen backlog, over the in-memory pipe.

#include <gtest/gtest.h>

#include <algorithm>

#include "daemon/ustack/tcp/tcp.h"
#include "tests/unit/ustack/tcp/segment_pipe.h"
#include "tests/unit/ustack/tcp/stream_apps.h"

namespace nslab::ustack::tcp {
namespace {

namespace flag = packet::tcp_flag;
using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::connect_pair;
using testing::Connected;
using testing::Fault;
using testing::SegmentPipe;
using testing::SentSegment;
using testing::Side;
using testing::StreamSink;
using testing::StreamSource;

constexpr std::uint16_t kPort = 8080;

TEST(TcpResetTest, ConnectingToAClosedPortIsRefused) {
  SegmentPipe pipe;
  const auto client = pipe.a().connect(Endpoint{testing::kAddressB, 9}, 0, pipe.now());
  ASSERT_TRUE(client.ok());
  ASSERT_TRUE(
      pipe.run_until([&] { return *pipe.a().state(*client) == TcpState::kClosed; }, seconds(1)));
  std::byte buffer[10];
  const auto read = pipe.a().read(*client, buffer, pipe.now());
  EXPECT_EQ(read.status().code(), absl::StatusCode::kUnavailable) << read.status();
  const auto sent = pipe.sent_by(Side::kB);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].flags, flag::kRst | flag::kAck);
  EXPECT_EQ(sent[0].seq, 0u);
  EXPECT_EQ(sent[0].ack, pipe.sent_by(Side::kA)[0].seq + 1);
  EXPECT_EQ(pipe.b().counters().no_socket, 1u);
  EXPECT_EQ(pipe.b().counters().out_rsts, 1u);
  EXPECT_EQ(pipe.a().counters().attempt_fails, 1u);
}

TEST(TcpResetTest, AckToAListenerIsAnsweredWithAResetAtItsAckNumber) {
  SegmentPipe pipe;
  ASSERT_TRUE(pipe.b().listen(Endpoint{{}, kPort}, {}, pipe.now()).ok());
  packet::TcpRepr stray;
  stray.source_port = 40000;
  stray.destination_port = kPort;
  stray.seq_number = 5;
  stray.ack_number = 123456;
  stray.flags = flag::kAck;
  pipe.inject(Side::kB, stray);
  const auto sent = pipe.sent_by(Side::kB);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].flags, flag::kRst);
  EXPECT_EQ(sent[0].seq, 123456u);
}

TEST(TcpResetTest, InWindowResetDrawsAChallengeAckAndExactResetCloses) {
  SegmentPipe pipe;
  const Connected pair = connect_pair(pipe, kPort);
  // B's next sequence number is what A acknowledged last.
  const std::uint32_t b_next = pipe.sent_by(Side::kA).back().ack;
  const std::uint64_t challenges = pipe.a().counters().challenge_acks;
  const TcpSocketInfo info = *pipe.a().info(pair.a);
  packet::TcpRepr reset;
  reset.source_port = info.remote.port;
  reset.destination_port = info.local.port;
  reset.flags = flag::kRst;
  // Out of the window: ignored without a word.
  reset.seq_number = b_next - 100'000;
  pipe.clear_sent();
  pipe.inject(Side::kA, reset);
  EXPECT_TRUE(pipe.sent_by(Side::kA).empty());
  EXPECT_EQ(*pipe.a().state(pair.a), TcpState::kEstablished);
  reset.seq_number = b_next + 10;  // in the window, not exact
  pipe.clear_sent();
  pipe.inject(Side::kA, reset);
  EXPECT_EQ(pipe.a().counters().challenge_acks, challenges + 1);
  ASSERT_EQ(pipe.sent_by(Side::kA).size(), 1u);
  EXPECT_EQ(pipe.sent_by(Side::kA)[0].flags, flag::kAck);
  EXPECT_EQ(pipe.sent_by(Side::kA)[0].ack, b_next);
  EXPECT_EQ(*pipe.a().state(pair.a), TcpState::kEstablished);
  // A SYN on the established connection: challenged too (RFC 5961 4).
  packet::TcpRepr syn = reset;
  syn.flags = flag::kSyn;
  syn.seq_number = b_next + 5;
  pipe.inject(Side::kA, syn);
  EXPECT_EQ(pipe.a().counters().challenge_acks, challenges + 2);
  EXPECT_EQ(*pipe.a().state(pair.a), TcpState::kEstablished);
  // Exactly RCV.NXT: the connection is reset.
  reset.seq_number = b_next;
  pipe.inject(Side::kA, reset);
  EXPECT_EQ(*pipe.a().state(pair.a), TcpState::kClosed);
  EXPECT_EQ(pipe.a().counters().estab_resets, 1u);
  std::byte buffer[10];
  EXPECT_EQ(pipe.a().read(pair.a, buffer, pipe.now()).status().code(), absl::StatusCode::kAborted);
  EXPECT_EQ(pipe.a().write(pair.a, testing::pattern(10, 1), pipe.now()).status().code(),
            absl::StatusCode::kAborted);
}

TEST(TcpInputTest, PawsDropsASegmentWithAnOldTimestamp) {
  SegmentPipe pipe;
  const Connected pair = connect_pair(pipe, kPort);
  const SentSegment last_from_b = pipe.sent_by(Side::kB).back();
  const std::uint32_t b_next = pipe.sent_by(Side::kA).back().ack;
  ASSERT_TRUE(last_from_b.timestamps);
  const TcpSocketInfo info = *pipe.a().info(pair.a);
  packet::TcpRepr old;
  old.source_port = info.remote.port;
  old.destination_port = info.local.port;
  old.flags = flag::kAck | flag::kPsh;
  old.seq_number = b_next;
  old.ack_number = last_from_b.ack;
  old.window_len = 1000;
  // From an earlier incarnation of the sequence space: in the window, but its timestamp is
  // older than the last one seen (RFC 7323 5).
  old.timestamps = packet::TcpTimestamps{last_from_b.timestamps->value - 1000, 0};
  const auto payload = testing::pattern(100, 4);
  old.payload = payload;
  pipe.clear_sent();
  pipe.inject(Side::kA, old);
  EXPECT_EQ(pipe.a().counters().paws_rejected, 1u);
  EXPECT_EQ(pipe.a().info(pair.a)->recv_q, 0u);
  ASSERT_EQ(pipe.sent_by(Side::kA).size(), 1u);  // the ACK that tells the truth
  EXPECT_EQ(pipe.sent_by(Side::kA)[0].ack, b_next);
  // The same bytes with a current timestamp are taken.
  old.timestamps->value = last_from_b.timestamps->value;
  pipe.inject(Side::kA, old);
  EXPECT_EQ(pipe.a().info(pair.a)->recv_q, 100u);
}

TEST(TcpResetTest, OrphanInFinWait2GivesUpAndLateDataIsReset) {
  TcpConfig config;
  config.fin_wait_2_timeout = seconds(5);
  SegmentPipe pipe(config, config);
  const Connected pair = connect_pair(pipe, kPort);
  ASSERT_TRUE(pipe.a().close(pair.a, pipe.now()).ok());
  pipe.run_for(milliseconds(100));
  ASSERT_EQ(pipe.a().sockets().size(), 1u);
  EXPECT_EQ(pipe.a().sockets()[0].state, TcpState::kFinWait2);
  EXPECT_TRUE(pipe.a().sockets()[0].orphaned);
  EXPECT_EQ(*pipe.b().state(pair.b), TcpState::kCloseWait);
  pipe.run_for(seconds(5));
  EXPECT_TRUE(pipe.a().sockets().empty());
  // B still thinks it may send; A has forgotten the connection and resets it.
  ASSERT_TRUE(pipe.b().write(pair.b, testing::pattern(10, 1), pipe.now()).ok());
  pipe.run_for(milliseconds(100));
  EXPECT_EQ(*pipe.b().state(pair.b), TcpState::kClosed);
  EXPECT_EQ(pipe.a().counters().no_socket, 1u);
}

TEST(TcpResetTest, ClosingWithUnreadDataResetsThePeer) {
  SegmentPipe pipe;
  const Connected pair = connect_pair(pipe, kPort);
  ASSERT_TRUE(pipe.a().write(pair.a, testing::pattern(100, 1), pipe.now()).ok());
  pipe.run_for(milliseconds(50));
  ASSERT_TRUE(pipe.b().close(pair.b, pipe.now()).ok());  // 100 bytes never read
  pipe.run_for(milliseconds(50));
  EXPECT_EQ(*pipe.a().state(pair.a), TcpState::kClosed);
  EXPECT_EQ(pipe.b().counters().aborts_on_close, 1u);
  EXPECT_TRUE(pipe.b().sockets().size() == 1);  // only the listener is left
}

TEST(TcpTimerTest, RetransmissionTimeoutBacksOffExponentially) {
  TcpConfig config;
  config.max_retransmits = 6;
  SegmentPipe pipe(config, config);
  const Connected pair = connect_pair(pipe, kPort);
  const Duration rto = pipe.a().info(pair.a)->rto;
  EXPECT_EQ(rto, milliseconds(200));  // min RTO: srtt 10 ms + 4 * 5 ms is below it
  pipe.set_faults([](Side from, std::uint64_t, const packet::TcpRepr&) {
    return from == Side::kA ? Fault::kDrop : Fault::kDeliver;
  });
  pipe.clear_sent();
  ASSERT_TRUE(pipe.a().write(pair.a, testing::pattern(500, 1), pipe.now()).ok());
  ASSERT_TRUE(
      pipe.run_until([&] { return *pipe.a().state(pair.a) == TcpState::kClosed; }, seconds(120)));
  std::vector<Instant> data_sent;
  for (const SentSegment& segment : pipe.sent_by(Side::kA)) {
    if (segment.payload_len > 0) {
      data_sent.push_back(segment.at);
    }
  }
  ASSERT_EQ(data_sent.size(), 7u);  // the original and 6 retransmissions
  for (std::size_t i = 1; i < data_sent.size(); ++i) {
    EXPECT_EQ(data_sent[i] - data_sent[i - 1], rto * (std::int64_t{1} << (i - 1))) << i;
  }
  EXPECT_EQ(pipe.a().counters().timeouts, 7u);
  EXPECT_EQ(pipe.a().counters().retrans_segs, 6u);
  EXPECT_EQ(pipe.a().counters().aborts_on_timeout, 1u);
  std::byte buffer[10];
  EXPECT_EQ(pipe.a().read(pair.a, buffer, pipe.now()).status().code(),
            absl::StatusCode::kDeadlineExceeded);
}

// Karn's rule: without timestamps the ACK of a retransmitted segment says nothing about the
// RTT; with them, the echoed timestamp names the copy that arrived.
TEST(TcpTimerTest, RetransmittedSegmentsGiveNoRttSampleWithoutTimestamps) {
  for (const bool timestamps : {false, true}) {
    SCOPED_TRACE(timestamps);
    TcpConfig config;
    config.timestamps = timestamps;
    SegmentPipe pipe(config, config);
    const Connected pair = connect_pair(pipe, kPort);
    StreamSink sink(pipe.b(), pair.b, pipe.now());
    // One exchange first, answered at once (B's first read opens its window): a 10 ms sample.
    ASSERT_TRUE(pipe.a().write(pair.a, testing::pattern(100, 1), pipe.now()).ok());
    pipe.run_for(milliseconds(200));
    ASSERT_EQ(*pipe.a().info(pair.a)->rtt, milliseconds(10));
    const std::uint64_t base = pipe.sent_by(Side::kA).size();
    pipe.set_faults([base](Side from, std::uint64_t index, const packet::TcpRepr&) {
      return from == Side::kA && index == base ? Fault::kDrop : Fault::kDeliver;
    });
    ASSERT_TRUE(pipe.a().write(pair.a, testing::pattern(100, 1), pipe.now()).ok());
    ASSERT_TRUE(pipe.run_until([&] { return sink.received().size() == 200; }, seconds(5)));
    pipe.run_for(milliseconds(100));
    EXPECT_EQ(pipe.a().counters().timeouts, 1u);
    // Timed from the first copy the sample would be RTO + 50 ms. Without timestamps there is
    // no sample at all; with them, the retransmission's own: 10 ms plus B's 40 ms delayed ACK,
    // so SRTT = 7/8 * 10 + 1/8 * 50 ms.
    EXPECT_EQ(*pipe.a().info(pair.a)->rtt, timestamps ? milliseconds(15) : milliseconds(10));
  }
}

TEST(TcpTimerTest, UnansweredSynIsRetriedThenTimesOut) {
  TcpConfig config;
  config.syn_retries = 2;
  SegmentPipe pipe(config, config);
  pipe.set_faults([](Side, std::uint64_t, const packet::TcpRepr&) { return Fault::kDrop; });
  const auto client = pipe.a().connect(Endpoint{testing::kAddressB, kPort}, 0, pipe.now());
  ASSERT_TRUE(
      pipe.run_until([&] { return *pipe.a().state(*client) == TcpState::kClosed; }, seconds(60)));
  const auto sent = pipe.sent_by(Side::kA);
  ASSERT_EQ(sent.size(), 3u);
  EXPECT_EQ(sent[1].at - sent[0].at, seconds(1));
  EXPECT_EQ(sent[2].at - sent[1].at, seconds(2));
  EXPECT_EQ(pipe.now() - sent[2].at, seconds(4));
  std::byte buffer[1];
  EXPECT_EQ(pipe.a().read(*client, buffer, pipe.now()).status().code(),
            absl::StatusCode::kDeadlineExceeded);
}

TEST(TcpTimerTest, FastRetransmitOnTheThirdDuplicateAck) {
  SegmentPipe pipe;
  const Connected pair = connect_pair(pipe, kPort);
  // Drop A's fifth segment from now on: the first data segments in flight.
  const std::uint64_t base = pipe.sent_by(Side::kA).size();
  pipe.set_faults([base](Side from, std::uint64_t index, const packet::TcpRepr&) {
    return from == Side::kA && index == base + 1 ? Fault::kDrop : Fault::kDeliver;
  });
  const auto data = testing::pattern(200'000, 5);
  StreamSource source(pipe.a(), pair.a, data, pipe.now());
  StreamSink sink(pipe.b(), pair.b, pipe.now());
  ASSERT_TRUE(pipe.run_until([&] { return sink.end_of_stream(); }, seconds(10)));
  EXPECT_TRUE(sink.received() == data);
  EXPECT_EQ(pipe.a().counters().fast_retransmits, 1u);
  EXPECT_EQ(pipe.a().counters().retrans_segs, 1u);
  EXPECT_EQ(pipe.a().counters().timeouts, 0u);
  // The receiver answered the hole at once, with SACK blocks.
  std::size_t duplicates = 0;
  for (const SentSegment& segment : pipe.sent_by(Side::kB)) {
    duplicates += segment.sack_blocks > 0;
  }
  EXPECT_GE(duplicates, 3u);
  // cwnd was halved for the episode.
  EXPECT_LT(pipe.a().info(pair.a)->ssthresh, 0x7fffffffu);
}

// Linux grows its advertised window on nearly every ACK while it autotunes its buffer, so its
// duplicate ACKs seldom repeat the window; ACKs that SACK new data must count all the same.
TEST(TcpTimerTest, AcksSackingNewDataCountAsDuplicatesThoughTheWindowGrows) {
  const auto data = testing::pattern(3 * 1448, 11);
  // A sends its initial window of three segments, all lost; B's answers are forged here: ACKs of
  // the first byte with a window one larger each time, SACKing new data or not.
  const auto fast_retransmits_after_three_acks = [&](bool sack_new_data) {
    SegmentPipe pipe;
    const Connected pair = connect_pair(pipe, kPort);
    const std::size_t base = pipe.sent_by(Side::kA).size();
    pipe.set_faults([](Side from, std::uint64_t, const packet::TcpRepr&) {
      return from == Side::kA ? Fault::kDrop : Fault::kDeliver;
    });
    EXPECT_EQ(*pipe.a().write(pair.a, data, pipe.now()), data.size());
    const std::vector<SentSegment> sent = pipe.sent_by(Side::kA);
    EXPECT_EQ(sent.size(), base + 3);
    const SentSegment& first = sent[base];
    const SentSegment last_b = pipe.sent_by(Side::kB).back();
    const TcpSocketInfo a = *pipe.a().info(pair.a);
    packet::TcpRepr ack;
    ack.source_port = a.remote.port;
    ack.destination_port = a.local.port;
    ack.seq_number = last_b.seq + (last_b.has(flag::kSyn) ? 1 : 0);
    ack.ack_number = first.seq;
    ack.flags = flag::kAck;
    ack.timestamps = packet::TcpTimestamps{last_b.timestamps->value + 1, first.timestamps->value};
    const std::uint32_t second = first.seq + 1448;
    for (std::uint32_t i = 1; i <= 3; ++i) {
      ack.window_len = static_cast<std::uint16_t>(1000 + i);
      if (sack_new_data) {
        ack.sack_blocks[0] = packet::TcpSackBlock{second, second + i * 900};
        ack.sack_block_count = 1;
      }
      pipe.inject(Side::kA, ack);
    }
    const SentSegment resent = pipe.sent_by(Side::kA).back();
    if (pipe.a().counters().fast_retransmits > 0) {
      EXPECT_EQ(resent.seq, first.seq);
      EXPECT_EQ(resent.payload_len, 1448u);
    }
    return pipe.a().counters().fast_retransmits;
  };
  EXPECT_EQ(fast_retransmits_after_three_acks(true), 1u);
  // Without new SACK data a changed window makes a window update, not a duplicate.
  EXPECT_EQ(fast_retransmits_after_three_acks(false), 0u);
}

// A connection whose accepting side (B) has a receive buffer of `size` bytes.
Connected connect_to_small_receiver(SegmentPipe& pipe, std::size_t size) {
  testing::PairOptions small_server;
  small_server.server_options = TcpConfig().socket_defaults;
  small_server.server_options->receive_buffer_size = size;
  return connect_pair(pipe, kPort, small_server);
}

TEST(TcpTimerTest, ZeroWindowIsProbedUntilTheReaderDrains) {
  SegmentPipe pipe;
  const Connected pair = connect_to_small_receiver(pipe, 8192);
  const auto data = testing::pattern(100'000, 9);
  StreamSource source(pipe.a(), pair.a, data, pipe.now());
  StreamSink sink(pipe.b(), pair.b, pipe.now());
  sink.pause(true);
  pipe.run_for(seconds(30));
  const TcpSocketInfo receiver = *pipe.b().info(pair.b);
  EXPECT_EQ(receiver.recv_q, 8192u);
  EXPECT_EQ(pipe.a().info(pair.a)->send_window, 0u);
  const std::uint64_t probes = pipe.a().counters().window_probes;
  EXPECT_GE(probes, 3u);
  // Probes back off: fewer than one per RTO over 30 s.
  EXPECT_LT(probes, 30u);
  EXPECT_EQ(pipe.a().counters().timeouts, 0u);
  sink.pause(false);
  ASSERT_TRUE(pipe.run_until([&] { return sink.end_of_stream(); }, seconds(60)));
  EXPECT_TRUE(sink.received() == data);
}

TEST(TcpTimerTest, ZeroWindowRecoversEvenWhenTheWindowUpdateIsLost) {
  SegmentPipe pipe;
  const Connected pair = connect_to_small_receiver(pipe, 4096);
  const auto data = testing::pattern(20'000, 11);
  StreamSource source(pipe.a(), pair.a, data, pipe.now());
  StreamSink sink(pipe.b(), pair.b, pipe.now());
  sink.pause(true);
  pipe.run_for(seconds(2));
  // Lose every segment B sends for a moment: its window update goes nowhere.
  pipe.set_faults([](Side from, std::uint64_t, const packet::TcpRepr&) {
    return from == Side::kB ? Fault::kDrop : Fault::kDeliver;
  });
  sink.pause(false);
  pipe.set_faults(nullptr);
  ASSERT_TRUE(pipe.run_until([&] { return sink.end_of_stream(); }, seconds(120)));
  EXPECT_TRUE(sink.received() == data);
  EXPECT_GT(pipe.a().counters().window_probes, 0u);
}

TEST(TcpTimerTest, ReceiverShrinkingItsBufferMidTransferNeverTimesTheSenderOut) {
  TcpConfig config;
  config.max_retransmits = 3;
  SegmentPipe pipe(config, config);
  const Connected pair = connect_pair(pipe, kPort);
  const auto data = testing::pattern(300'000, 13);
  StreamSink sink(pipe.b(), pair.b, pipe.now());
  sink.pause(true);
  SocketOptions small = TcpConfig().socket_defaults;
  small.receive_buffer_size = 4096;  // after 256 KiB were advertised
  ASSERT_TRUE(pipe.b().set_options(pair.b, small, pipe.now()).ok());
  StreamSource source(pipe.a(), pair.a, data, pipe.now());
  pipe.run_for(seconds(600));
  EXPECT_EQ(*pipe.a().state(pair.a), TcpState::kEstablished);
  EXPECT_GT(pipe.a().counters().window_probes, 3u);
  sink.pause(false);
  ASSERT_TRUE(pipe.run_until([&] { return sink.end_of_stream(); }, seconds(600)));
  EXPECT_TRUE(sink.received() == data);
}

TEST(TcpTimerTest, AckForALoneSegmentIsDelayed) {
  SegmentPipe pipe;
  const Connected pair = connect_pair(pipe, kPort);
  StreamSink sink(pipe.b(), pair.b, pipe.now());
  // The first read opens B's window past the SYN-ACK's unscaled 64 KiB: that update goes at
  // once. The next segment is the one whose ACK waits.
  ASSERT_TRUE(pipe.a().write(pair.a, testing::pattern(100, 1), pipe.now()).ok());
  pipe.run_for(milliseconds(200));
  const std::uint64_t delayed = pipe.b().counters().delayed_acks;
  pipe.clear_sent();
  ASSERT_TRUE(pipe.a().write(pair.a, testing::pattern(100, 1), pipe.now()).ok());
  pipe.run_for(milliseconds(200));
  const auto acks = pipe.sent_by(Side::kB);
  ASSERT_EQ(acks.size(), 1u);
  const auto data = pipe.sent_by(Side::kA);
  EXPECT_EQ(acks[0].at - data[0].at, milliseconds(5) + milliseconds(40));
  EXPECT_EQ(pipe.b().counters().delayed_acks, delayed + 1);
}

TEST(TcpTimerTest, KeepAliveProbesAnIdlePeerAndGivesUp) {
  SegmentPipe pipe;
  const Connected pair = connect_pair(pipe, kPort);
  SocketOptions keep_alive = TcpConfig().socket_defaults;
  keep_alive.keep_alive = true;
  keep_alive.keep_alive_idle = seconds(10);
  keep_alive.keep_alive_interval = seconds(2);
  keep_alive.keep_alive_probes = 3;
  ASSERT_TRUE(pipe.a().set_options(pair.a, keep_alive, pipe.now()).ok());
  // A live peer answers: the connection stays.
  pipe.run_for(seconds(25));
  EXPECT_EQ(*pipe.a().state(pair.a), TcpState::kEstablished);
  EXPECT_GE(pipe.a().counters().keep_alive_probes, 2u);
  // A vanished peer: three probes, then the connection is dropped.
  pipe.set_faults([](Side from, std::uint64_t, const packet::TcpRepr&) {
    return from == Side::kB ? Fault::kDrop : Fault::kDeliver;
  });
  ASSERT_TRUE(
      pipe.run_until([&] { return *pipe.a().state(pair.a) == TcpState::kClosed; }, seconds(30)));
  std::byte buffer[1];
  EXPECT_EQ(pipe.a().read(pair.a, buffer, pipe.now()).status().code(),
            absl::StatusCode::kDeadlineExceeded);
}

TEST(TcpSendTest, NagleHoldsSmallSegmentsWhileDataIsInFlightUnlessNoDelay) {
  SegmentPipe pipe;
  const Connected pair = connect_pair(pipe, kPort);
  StreamSink sink(pipe.b(), pair.b, pipe.now());
  pipe.clear_sent();
  const auto small = testing::pattern(10, 1);
  ASSERT_TRUE(pipe.a().write(pair.a, small, pipe.now()).ok());
  ASSERT_TRUE(pipe.a().write(pair.a, small, pipe.now()).ok());
  ASSERT_TRUE(pipe.a().write(pair.a, small, pipe.now()).ok());
  EXPECT_EQ(pipe.sent_by(Side::kA).size(), 1u);  // the rest waits for the ACK
  pipe.run_for(milliseconds(100));
  EXPECT_EQ(pipe.sent_by(Side::kA).size(), 2u);  // then goes as one segment
  EXPECT_EQ(pipe.sent_by(Side::kA)[1].payload_len, 20u);

  SocketOptions no_delay = TcpConfig().socket_defaults;
  no_delay.no_delay = true;
  ASSERT_TRUE(pipe.a().set_options(pair.a, no_delay, pipe.now()).ok());
  pipe.clear_sent();
  ASSERT_TRUE(pipe.a().write(pair.a, small, pipe.now()).ok());
  ASSERT_TRUE(pipe.a().write(pair.a, small, pipe.now()).ok());
  ASSERT_TRUE(pipe.a().write(pair.a, small, pipe.now()).ok());
  EXPECT_EQ(pipe.sent_by(Side::kA).size(), 3u);
  pipe.run_for(milliseconds(100));
  EXPECT_EQ(sink.received().size(), 60u);
}

TEST(TcpListenTest, AcceptQueueOverflowIsCountedAndRecoversAfterAccept) {
  SegmentPipe pipe;
  ListenOptions limits;
  limits.backlog = 0;  // as Linux's, the queue still takes one connection
  const auto listener = pipe.b().listen(Endpoint{{}, kPort}, limits, pipe.now());
  ASSERT_TRUE(listener.ok());
  const auto first = pipe.a().connect(Endpoint{testing::kAddressB, kPort}, 0, pipe.now());
  pipe.run_for(milliseconds(50));
  const auto second = pipe.a().connect(Endpoint{testing::kAddressB, kPort}, 0, pipe.now());
  pipe.run_for(milliseconds(500));
  EXPECT_EQ(*pipe.a().state(*first), TcpState::kEstablished);
  EXPECT_EQ(*pipe.a().state(*second), TcpState::kSynSent);
  EXPECT_GE(pipe.b().counters().listen_overflows, 1u);
  EXPECT_EQ(pipe.b().info(*listener)->recv_q, 1u);
  ASSERT_TRUE(pipe.b().accept(*listener).ok());
  // The second SYN's retransmission finds room.
  ASSERT_TRUE(pipe.run_until([&] { return pipe.b().accept(*listener).ok(); }, seconds(5)));
  EXPECT_EQ(*pipe.a().state(*second), TcpState::kEstablished);
  EXPECT_EQ(pipe.b().accept(*listener).status().code(), absl::StatusCode::kUnavailable);
}

TEST(TcpListenTest, SynQueueOverflowIsCounted) {
  SegmentPipe pipe;
  ListenOptions limits;
  limits.syn_backlog = 2;
  ASSERT_TRUE(pipe.b().listen(Endpoint{{}, kPort}, limits, pipe.now()).ok());
  // B's SYN-ACKs vanish: handshakes stay half-open in the SYN queue.
  pipe.set_faults([](Side from, std::uint64_t, const packet::TcpRepr&) {
    return from == Side::kB ? Fault::kDrop : Fault::kDeliver;
  });
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(pipe.a().connect(Endpoint{testing::kAddressB, kPort}, 0, pipe.now()).ok());
  }
  pipe.run_for(milliseconds(100));
  EXPECT_EQ(pipe.b().counters().syn_queue_overflows, 3u);
  EXPECT_EQ(pipe.b().counters().listen_drops, 3u);
  std::size_t half_open = 0;
  for (const TcpSocketInfo& info : pipe.b().sockets()) {
    half_open += info.state == TcpState::kSynReceived;
  }
  EXPECT_EQ(half_open, 2u);
}

TEST(TcpListenTest, LostSynAckIsRetransmittedAndClosingTheListenerResetsItsQueue) {
  SegmentPipe pipe;
  const auto listener = pipe.b().listen(Endpoint{{}, kPort}, {}, pipe.now());
  pipe.set_faults([](Side from, std::uint64_t index, const packet::TcpRepr&) {
    return from == Side::kB && index == 0 ? Fault::kDrop : Fault::kDeliver;
  });
  const auto client = pipe.a().connect(Endpoint{testing::kAddressB, kPort}, 0, pipe.now());
  ASSERT_TRUE(pipe.run_until([&] { return *pipe.a().state(*client) == TcpState::kEstablished; },
                             seconds(5)));
  // The SYN-ACK went again: on B's timer and in answer to A's repeated SYN.
  EXPECT_GE(pipe.b().counters().retrans_segs, 1u);
  // Never accepted; the listener goes and takes the connection with it.
  ASSERT_TRUE(pipe.b().close(*listener, pipe.now()).ok());
  pipe.run_for(milliseconds(50));
  EXPECT_EQ(*pipe.a().state(*client), TcpState::kClosed);
  EXPECT_TRUE(pipe.b().sockets().empty());
}

TEST(TcpInputTest, CorruptSegmentsAreCountedAndIgnored) {
  SegmentPipe pipe;
  ASSERT_TRUE(pipe.b().listen(Endpoint{{}, kPort}, {}, pipe.now()).ok());
  packet::TcpRepr syn;
  syn.source_port = 1234;
  syn.destination_port = kPort;
  syn.flags = flag::kSyn;
  std::vector<std::byte> bytes(syn.buffer_len());
  syn.emit(bytes, testing::kAddressA, testing::kAddressB);
  bytes[4] ^= std::byte{1};
  pipe.b().receive(testing::kAddressA, testing::kAddressB, bytes, false, pipe.now());
  pipe.b().receive(testing::kAddressA, testing::kAddressB, std::span(bytes).first(10), false,
                   pipe.now());
  EXPECT_EQ(pipe.b().counters().in_csum_errors, 1u);
  EXPECT_EQ(pipe.b().counters().in_errs, 2u);
  EXPECT_EQ(pipe.b().counters().in_segs, 0u);
  EXPECT_TRUE(pipe.sent().empty());
}

}  // namespace
}  // namespace nslab::ustack::tcp
