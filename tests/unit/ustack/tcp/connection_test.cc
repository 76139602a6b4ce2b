// Two TCP instances over the in-memory pipe: handshakes, transfers under loss, every state,
// and the RST, timer and backlog rules.

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <set>

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
using testing::Side;
using testing::StreamSink;
using testing::StreamSource;

constexpr std::uint16_t kPort = 7777;

// Records every state any socket of either side is seen in.
class StateRecorder {
 public:
  explicit StateRecorder(SegmentPipe& pipe) : pipe_(pipe) {
    pipe.set_observer([this] { record(); });
  }
  void watch(Side side, SocketId socket) { watched_.push_back({side, socket}); }
  void record() {
    for (Side side : {Side::kA, Side::kB}) {
      for (const TcpSocketInfo& info : pipe_.tcp(side).sockets()) {
        seen_.insert(info.state);
      }
    }
    for (const auto& [side, socket] : watched_) {
      if (const auto state = pipe_.tcp(side).state(socket); state.ok()) {
        seen_.insert(*state);
      }
    }
  }
  const std::set<TcpState>& seen() const { return seen_; }

 private:
  SegmentPipe& pipe_;
  std::vector<std::pair<Side, SocketId>> watched_;
  std::set<TcpState> seen_;
};

TEST(TcpConnectionTest, HandshakeNegotiatesMssWindowScaleTimestampsAndSack) {
  SegmentPipe pipe;
  const Connected pair = connect_pair(pipe, kPort);
  const auto sent = pipe.sent();
  ASSERT_GE(sent.size(), 3u);
  EXPECT_EQ(sent[0].flags, flag::kSyn);
  EXPECT_EQ(sent[1].flags, flag::kSyn | flag::kAck);
  EXPECT_EQ(sent[1].ack, sent[0].seq + 1);
  EXPECT_EQ(sent[2].flags, flag::kAck);
  EXPECT_EQ(sent[2].ack, sent[1].seq + 1);
  for (const auto& [tcp, socket] : {std::pair{&pipe.a(), pair.a}, std::pair{&pipe.b(), pair.b}}) {
    const auto info = tcp->info(socket);
    ASSERT_TRUE(info.ok());
    EXPECT_EQ(info->state, TcpState::kEstablished);
    EXPECT_EQ(info->mss, 1460u);
    EXPECT_EQ(info->send_window_shift, 3);  // 256 KiB buffers
    EXPECT_TRUE(info->timestamps);
    EXPECT_TRUE(info->sack);
    ASSERT_TRUE(info->rtt);
    EXPECT_EQ(*info->rtt, milliseconds(10));  // two 5 ms legs, measured by timestamps
  }
  EXPECT_EQ(pipe.a().counters().active_opens, 1u);
  EXPECT_EQ(pipe.b().counters().passive_opens, 1u);
  EXPECT_EQ(pipe.a().current_established(), 1u);
}

void transfer_and_check(SegmentPipe& pipe, std::size_t size) {
  const Connected pair = connect_pair(pipe, kPort);
  const auto data = testing::pattern(size, 42);
  const auto reply = testing::pattern(size / 4, 7);
  StreamSource a_source(pipe.a(), pair.a, data, pipe.now());
  StreamSink b_sink(pipe.b(), pair.b, pipe.now());
  ASSERT_TRUE(pipe.run_until([&] { return b_sink.end_of_stream(); }, seconds(600)))
      << "received " << b_sink.received().size() << " of " << size;
  EXPECT_EQ(b_sink.received().size(), data.size());
  EXPECT_TRUE(b_sink.received() == data);
  // And back the other way on the same connection.
  StreamSource b_source(pipe.b(), pair.b, reply, pipe.now());
  StreamSink a_sink(pipe.a(), pair.a, pipe.now());
  ASSERT_TRUE(pipe.run_until([&] { return a_sink.end_of_stream(); }, seconds(600)));
  EXPECT_TRUE(a_sink.received() == reply);
}

TEST(TcpConnectionTest, TransfersMegabytesIntactOverACleanPipe) {
  SegmentPipe pipe;
  transfer_and_check(pipe, 4 * 1024 * 1024);
  EXPECT_EQ(pipe.a().counters().retrans_segs, 0u);
  EXPECT_EQ(pipe.b().counters().retrans_segs, 0u);
}

TEST(TcpConnectionTest, TransfersMegabytesIntactDespiteLossReorderAndDuplication) {
  SegmentPipe pipe;
  pipe.set_faults(testing::random_faults(/*seed=*/1234, /*drop=*/2, /*duplicate=*/2,
                                         /*delay=*/5));
  transfer_and_check(pipe, 3 * 1024 * 1024);
  const TcpCounters& sender = pipe.a().counters();
  EXPECT_GT(sender.retrans_segs, 0u);
  EXPECT_GT(sender.fast_retransmits, 0u);
  EXPECT_GT(pipe.b().counters().ofo_queued, 0u);
  EXPECT_GT(pipe.b().counters().sack_blocks_sent, 0u);
}

TEST(TcpConnectionTest, TransfersIntactUnderHeavyFaultsWithManySeeds) {
  for (std::uint32_t seed = 1; seed <= 20; ++seed) {
    SCOPED_TRACE(seed);
    SegmentPipe pipe;
    pipe.set_faults(testing::random_faults(seed, /*drop=*/8, /*duplicate=*/5, /*delay=*/15));
    transfer_and_check(pipe, 200'000);
  }
}

TEST(TcpConnectionTest, SegmentationOffloadSendsLargeSegmentsCutIntoFullMssPieces) {
  SegmentPipe pipe;
  pipe.segmentation_limit = 65535 - 20;
  transfer_and_check(pipe, 4 * 1024 * 1024);
  EXPECT_GT(pipe.offloaded_segments, 0u);
  EXPECT_EQ(pipe.a().counters().retrans_segs, 0u);
  // Cut pieces are full-sized except where the data ran out.
  std::size_t short_pieces = 0;
  std::size_t data_segments = 0;
  std::size_t max_payload = 0;
  for (const auto& segment : pipe.sent_by(Side::kA)) {
    if (segment.payload_len > 0) {
      ++data_segments;
      max_payload = std::max(max_payload, segment.payload_len);
      short_pieces += segment.payload_len < max_payload ? 1 : 0;
    }
  }
  EXPECT_EQ(max_payload, 1448u);  // 1460 less the timestamps option
  EXPECT_LE(short_pieces, data_segments / 100);
  // The counters count what went on the wire, as Linux does.
  EXPECT_EQ(pipe.a().counters().out_segs, pipe.sent_by(Side::kA).size());
}

TEST(TcpConnectionTest, SegmentationOffloadSurvivesLossReorderAndDuplication) {
  for (std::uint32_t seed = 1; seed <= 5; ++seed) {
    SCOPED_TRACE(seed);
    SegmentPipe pipe;
    pipe.segmentation_limit = 65535 - 20;
    pipe.set_faults(testing::random_faults(seed, /*drop=*/3, /*duplicate=*/2, /*delay=*/5));
    transfer_and_check(pipe, 2 * 1024 * 1024);
    EXPECT_GT(pipe.offloaded_segments, 0u);
    EXPECT_GT(pipe.a().counters().retrans_segs, 0u);
  }
}

// Four segments of one window lost: with SACK the sender learns every hole from the duplicate
// ACKs and resends them all in the first round trip of recovery; NewReno alone learns one hole
// per round trip from partial ACKs.
TEST(TcpConnectionTest, SackRecoveryResendsEveryHoleOfAWindowInOneRoundTrip) {
  auto recover = [](bool sack, TcpCounters& sender) {
    TcpConfig config;
    config.sack = sack;
    SegmentPipe pipe(config, config);
    const Connected pair = connect_pair(pipe, kPort);
    pipe.set_faults([](Side from, std::uint64_t index, const packet::TcpRepr& segment) {
      const bool lost = from == Side::kA && !segment.payload.empty() &&
                        (index == 40 || index == 42 || index == 44 || index == 46);
      return lost ? Fault::kDrop : Fault::kDeliver;
    });
    const auto data = testing::pattern(1024 * 1024, 3);
    StreamSource source(pipe.a(), pair.a, data, pipe.now());
    StreamSink sink(pipe.b(), pair.b, pipe.now());
    const Instant start = pipe.now();
    EXPECT_TRUE(pipe.run_until([&] { return sink.end_of_stream(); }, seconds(60)));
    EXPECT_TRUE(sink.received() == data);
    sender = pipe.a().counters();
    return pipe.now() - start;
  };
  TcpCounters with_sack;
  TcpCounters without_sack;
  const Duration sack_time = recover(true, with_sack);
  const Duration newreno_time = recover(false, without_sack);
  EXPECT_EQ(with_sack.fast_retransmits, 1u);
  EXPECT_EQ(with_sack.sack_recovery_retransmits, 3u);
  EXPECT_EQ(with_sack.retrans_segs, 4u);  // nothing resent that had arrived
  EXPECT_EQ(with_sack.timeouts, 0u);
  EXPECT_EQ(without_sack.sack_recovery_retransmits, 0u);
  EXPECT_LT(sack_time, newreno_time);
}

TEST(TcpConnectionTest, SequenceNumbersWrapAroundMidTransfer) {
  TcpConfig near_wrap;
  near_wrap.isn_override = [](const FourTuple&, Instant) { return 0xffffffffu - 100'000; };
  SegmentPipe pipe(near_wrap, near_wrap);
  pipe.set_faults(testing::random_faults(99, 1, 1, 3));
  transfer_and_check(pipe, 1024 * 1024);
  // Both directions crossed 2^32.
  bool a_wrapped = false;
  bool b_wrapped = false;
  for (const auto& segment : pipe.sent()) {
    if (segment.payload_len > 0 && segment.seq < 100'000) {
      (segment.from == Side::kA ? a_wrapped : b_wrapped) = true;
    }
  }
  EXPECT_TRUE(a_wrapped);
  EXPECT_TRUE(b_wrapped);
}

TEST(TcpConnectionTest, ReachesEveryOneOfTheElevenStates) {
  SegmentPipe pipe;
  StateRecorder states(pipe);
  // Handshake, then A closes first: FIN_WAIT_1, FIN_WAIT_2, TIME_WAIT on A; CLOSE_WAIT,
  // LAST_ACK, CLOSED on B.
  const Connected pair = connect_pair(pipe, kPort);
  states.watch(Side::kA, pair.a);
  states.watch(Side::kB, pair.b);
  ASSERT_TRUE(pipe.a().shutdown(pair.a, pipe.now()).ok());
  ASSERT_TRUE(
      pipe.run_until([&] { return *pipe.b().state(pair.b) == TcpState::kCloseWait; }, seconds(1)));
  pipe.run_for(seconds(1));  // FIN_WAIT_2 on A while B holds its side open
  ASSERT_TRUE(pipe.b().shutdown(pair.b, pipe.now()).ok());
  ASSERT_TRUE(
      pipe.run_until([&] { return *pipe.b().state(pair.b) == TcpState::kClosed; }, seconds(1)));
  EXPECT_EQ(*pipe.a().state(pair.a), TcpState::kTimeWait);
  // A simultaneous close for CLOSING.
  testing::PairOptions same_listener;
  same_listener.listener = pair.listener;
  const Connected second = connect_pair(pipe, kPort, same_listener);
  ASSERT_NE(second.b, 0u);
  ASSERT_TRUE(pipe.a().shutdown(second.a, pipe.now()).ok());
  ASSERT_TRUE(pipe.b().shutdown(second.b, pipe.now()).ok());
  pipe.run_for(milliseconds(7));
  states.record();
  pipe.run_for(seconds(200));  // TIME_WAIT ends (2 MSL = 60 s)
  states.record();
  const std::set<TcpState> all = {
      TcpState::kClosed,      TcpState::kListen,   TcpState::kSynSent,  TcpState::kSynReceived,
      TcpState::kEstablished, TcpState::kFinWait1, TcpState::kFinWait2, TcpState::kCloseWait,
      TcpState::kClosing,     TcpState::kLastAck,  TcpState::kTimeWait};
  for (const TcpState state : all) {
    EXPECT_TRUE(states.seen().contains(state)) << state_name(state);
  }
  EXPECT_EQ(*pipe.a().state(pair.a), TcpState::kClosed);
  EXPECT_EQ(pipe.a().counters().time_wait_expired, 2u);
  EXPECT_EQ(pipe.b().counters().time_wait_expired, 1u);
}

TEST(TcpConnectionTest, SimultaneousOpenEstablishesThroughSynReceived) {
  SegmentPipe pipe;
  StateRecorder states(pipe);
  const auto a = pipe.a().connect(Endpoint{testing::kAddressB, 5000}, 6000, pipe.now());
  const auto b = pipe.b().connect(Endpoint{testing::kAddressA, 6000}, 5000, pipe.now());
  ASSERT_TRUE(a.ok() && b.ok());
  states.watch(Side::kA, *a);
  states.watch(Side::kB, *b);
  ASSERT_TRUE(pipe.run_until(
      [&] {
        return *pipe.a().state(*a) == TcpState::kEstablished &&
               *pipe.b().state(*b) == TcpState::kEstablished;
      },
      seconds(5)));
  EXPECT_TRUE(states.seen().contains(TcpState::kSynReceived));
  // Both SYNs crossed: each side sent a SYN and then a SYN-ACK.
  int syns = 0;
  int syn_acks = 0;
  for (const auto& segment : pipe.sent()) {
    syns += segment.flags == flag::kSyn;
    syn_acks += segment.flags == (flag::kSyn | flag::kAck);
  }
  EXPECT_EQ(syns, 2);
  EXPECT_EQ(syn_acks, 2);
  // The connection carries data both ways.
  StreamSource source(pipe.a(), *a, testing::pattern(100'000, 3), pipe.now());
  StreamSink sink(pipe.b(), *b, pipe.now());
  ASSERT_TRUE(pipe.run_until([&] { return sink.end_of_stream(); }, seconds(10)));
  EXPECT_TRUE(sink.received() == testing::pattern(100'000, 3));
}

TEST(TcpConnectionTest, SimultaneousCloseGoesThroughClosingToTimeWait) {
  SegmentPipe pipe;
  StateRecorder states(pipe);
  const Connected pair = connect_pair(pipe, kPort);
  ASSERT_TRUE(pipe.a().shutdown(pair.a, pipe.now()).ok());
  ASSERT_TRUE(pipe.b().shutdown(pair.b, pipe.now()).ok());
  EXPECT_EQ(*pipe.a().state(pair.a), TcpState::kFinWait1);
  EXPECT_EQ(*pipe.b().state(pair.b), TcpState::kFinWait1);
  ASSERT_TRUE(pipe.run_until(
      [&] {
        return *pipe.a().state(pair.a) == TcpState::kTimeWait &&
               *pipe.b().state(pair.b) == TcpState::kTimeWait;
      },
      seconds(2)));
  EXPECT_TRUE(states.seen().contains(TcpState::kClosing));
}

TEST(TcpConnectionTest, TimeWaitLastsTwiceTheConfiguredMsl) {
  TcpConfig short_msl;
  short_msl.msl = seconds(2);
  SegmentPipe pipe(short_msl, short_msl);
  const Connected pair = connect_pair(pipe, kPort);
  pipe.a().shutdown(pair.a, pipe.now()).IgnoreError();
  pipe.b().shutdown(pair.b, pipe.now()).IgnoreError();
  ASSERT_TRUE(
      pipe.run_until([&] { return *pipe.a().state(pair.a) == TcpState::kTimeWait; }, seconds(1)));
  const Instant entered = pipe.now();
  ASSERT_TRUE(
      pipe.run_until([&] { return *pipe.a().state(pair.a) == TcpState::kClosed; }, seconds(10)));
  EXPECT_GE(pipe.now() - entered, seconds(4) - milliseconds(20));
  EXPECT_LE(pipe.now() - entered, seconds(4));
}

}  // namespace
}  // namespace nslab::ustack::tcp
