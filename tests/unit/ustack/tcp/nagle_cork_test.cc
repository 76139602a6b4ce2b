// Small writes over the in-memory pipe and its virtual clock: Nagle as RFC 9293 3.7.4 has it,
// TCP_NODELAY, TCP_CORK and MSG_MORE as Linux's tcp(7) describes them (with the 200 ms ceiling),
// and ACKs that ride on the reply an application writes from its readiness callback.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "daemon/ustack/tcp/tcp.h"
#include "tests/unit/ustack/tcp/segment_pipe.h"
#include "tests/unit/ustack/tcp/stream_apps.h"

namespace nslab::ustack::tcp {
namespace {

namespace flag = packet::tcp_flag;
using std::chrono::milliseconds;
using testing::connect_pair;
using testing::Connected;
using testing::SegmentPipe;
using testing::SentSegment;
using testing::Side;
using testing::StreamSink;

constexpr std::uint16_t kPort = 8080;

// The payload of a full-sized segment: the peer's MSS less the timestamps option.
std::size_t FullPayload(SegmentPipe& pipe, SocketId socket) {
  const TcpSocketInfo info = *pipe.a().info(socket);
  return info.mss - (info.timestamps ? 12 : 0);
}

std::vector<SentSegment> DataSentBy(const SegmentPipe& pipe, Side side) {
  std::vector<SentSegment> data;
  for (const SentSegment& segment : pipe.sent_by(side)) {
    if (segment.payload_len > 0) {
      data.push_back(segment);
    }
  }
  return data;
}

class NagleCorkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pair_ = connect_pair(pipe_, kPort);
    sink_ = std::make_unique<StreamSink>(pipe_.b(), pair_.b, pipe_.now());
    // B's first read opens its window past the 64 KiB a SYN-ACK can offer, and the update goes
    // at once: let that happen (one byte, which the sink counts) before the tests watch ACKs.
    Write(1);
    pipe_.run_for(milliseconds(100));
    pipe_.clear_sent();
    full_ = FullPayload(pipe_, pair_.a);
  }
  void Write(std::size_t size, std::uint8_t flags = 0) {
    const std::vector<std::byte> data = testing::pattern(size, 7);
    const absl::StatusOr<std::size_t> written = pipe_.a().write(pair_.a, data, pipe_.now(), flags);
    ASSERT_TRUE(written.ok()) << written.status();
    ASSERT_EQ(*written, size);
  }
  std::vector<SentSegment> Data() const { return DataSentBy(pipe_, Side::kA); }

  SegmentPipe pipe_;
  Connected pair_;
  std::unique_ptr<StreamSink> sink_;
  std::size_t full_ = 0;
};

TEST_F(NagleCorkTest, NagleSendsASmallWriteWithNothingInFlightAndHoldsTheNextForTheAck) {
  const Instant start = pipe_.now();
  Write(10);
  ASSERT_EQ(Data().size(), 1u);  // nothing unacknowledged: it goes at once
  EXPECT_EQ(Data()[0].at, start);
  Write(10);
  Write(10);
  EXPECT_EQ(Data().size(), 1u);  // data in flight: the small ones wait
  pipe_.run_for(milliseconds(200));
  // The peer delays its ACK of a lone segment (40 ms); the held bytes go with its arrival, as
  // one segment.
  const std::vector<SentSegment> data = Data();
  ASSERT_EQ(data.size(), 2u);
  EXPECT_EQ(data[1].payload_len, 20u);
  EXPECT_GE(data[1].at, start + pipe_.latency * 2 + milliseconds(40));
  EXPECT_EQ(sink_->received().size(), 1 + 30u);
}

TEST_F(NagleCorkTest, NagleLetsAFullSegmentGoWhileSmallDataIsInFlight) {
  Write(10);
  Write(full_ + 5);
  // The full segment is not held; the 15 bytes after it are (RFC 9293 3.7.4: until the
  // outstanding data is acknowledged or a full-sized segment can be sent).
  std::vector<SentSegment> data = Data();
  ASSERT_EQ(data.size(), 2u);
  EXPECT_EQ(data[1].payload_len, full_);
  EXPECT_EQ(data[1].at, data[0].at);
  pipe_.run_for(milliseconds(200));
  data = Data();
  ASSERT_EQ(data.size(), 3u);
  EXPECT_EQ(data[2].payload_len, 5u);
  EXPECT_EQ(sink_->received().size(), 1 + 10 + full_ + 5);
}

TEST_F(NagleCorkTest, NoDelaySendsEverySmallWriteAtOnce) {
  ASSERT_TRUE(pipe_.a().set_no_delay(pair_.a, true, pipe_.now()).ok());
  EXPECT_TRUE(pipe_.a().info(pair_.a)->no_delay);
  Write(10);
  Write(10);
  Write(10);
  const std::vector<SentSegment> data = Data();
  ASSERT_EQ(data.size(), 3u);
  for (const SentSegment& segment : data) {
    EXPECT_EQ(segment.payload_len, 10u);
    EXPECT_EQ(segment.at, data[0].at);
  }
}

TEST_F(NagleCorkTest, CorkCoalescesWritesIntoFullSegmentsAndUncorkSendsTheRest) {
  ASSERT_TRUE(pipe_.a().set_cork(pair_.a, true, pipe_.now()).ok());
  EXPECT_TRUE(pipe_.a().info(pair_.a)->cork);
  Write(100);  // nothing in flight, yet corked: a partial segment waits
  EXPECT_TRUE(Data().empty());
  std::size_t written = 100;
  while (written < 2 * full_ + 300) {
    Write(100);
    written += 100;
  }
  std::vector<SentSegment> data = Data();
  ASSERT_EQ(data.size(), 2u);  // only full segments left
  EXPECT_EQ(data[0].payload_len, full_);
  EXPECT_EQ(data[1].payload_len, full_);
  pipe_.run_for(milliseconds(100));  // ACKed; the tail still waits for the rest
  EXPECT_EQ(Data().size(), 2u);
  const Instant uncorked = pipe_.now();
  ASSERT_TRUE(pipe_.a().set_cork(pair_.a, false, pipe_.now()).ok());
  data = Data();
  ASSERT_EQ(data.size(), 3u);
  EXPECT_EQ(data[2].payload_len, written - 2 * full_);
  EXPECT_EQ(data[2].at, uncorked);
  pipe_.run_for(milliseconds(100));
  EXPECT_EQ(sink_->received().size(), 1 + written);
}

TEST_F(NagleCorkTest, UncorkLeavesTheTailToNagleUnlessNoDelay) {
  // Linux's tcp_push_pending_frames on uncork: Nagle still holds a partial segment behind
  // unacknowledged data, unless TCP_NODELAY is set.
  ASSERT_TRUE(pipe_.a().set_cork(pair_.a, true, pipe_.now()).ok());
  Write(full_ + 50);
  ASSERT_EQ(Data().size(), 1u);
  ASSERT_TRUE(pipe_.a().set_cork(pair_.a, false, pipe_.now()).ok());
  EXPECT_EQ(Data().size(), 1u);  // the full segment is in flight: Nagle holds the 50
  pipe_.run_for(milliseconds(100));
  ASSERT_EQ(Data().size(), 2u);
  EXPECT_EQ(Data()[1].payload_len, 50u);

  pipe_.clear_sent();
  ASSERT_TRUE(pipe_.a().set_no_delay(pair_.a, true, pipe_.now()).ok());
  ASSERT_TRUE(pipe_.a().set_cork(pair_.a, true, pipe_.now()).ok());
  Write(full_ + 50);
  ASSERT_EQ(Data().size(), 1u);
  ASSERT_TRUE(pipe_.a().set_cork(pair_.a, false, pipe_.now()).ok());
  ASSERT_EQ(Data().size(), 2u);  // with TCP_NODELAY the tail goes at the uncork
  EXPECT_EQ(Data()[1].payload_len, 50u);
}

TEST_F(NagleCorkTest, CorkedDataGoesAfterTheCeiling) {
  ASSERT_TRUE(pipe_.a().set_cork(pair_.a, true, pipe_.now()).ok());
  const Instant start = pipe_.now();
  Write(300);
  pipe_.run_for(kCorkCeiling - milliseconds(1));
  EXPECT_TRUE(Data().empty());
  pipe_.run_for(milliseconds(50));
  const std::vector<SentSegment> data = Data();
  ASSERT_EQ(data.size(), 1u);
  EXPECT_EQ(data[0].payload_len, 300u);
  EXPECT_EQ(data[0].at, start + kCorkCeiling);
  EXPECT_TRUE(pipe_.a().info(pair_.a)->cork);  // the option stays; the data did not wait more
}

TEST_F(NagleCorkTest, SettingNoDelayWhileCorkedPushesOnceAndTheCorkStays) {
  // tcp(7): TCP_NODELAY is overridden by TCP_CORK, but setting it flushes pending output.
  ASSERT_TRUE(pipe_.a().set_cork(pair_.a, true, pipe_.now()).ok());
  Write(100);
  EXPECT_TRUE(Data().empty());
  ASSERT_TRUE(pipe_.a().set_no_delay(pair_.a, true, pipe_.now()).ok());
  ASSERT_EQ(Data().size(), 1u);
  EXPECT_EQ(Data()[0].payload_len, 100u);
  Write(100);  // corked again: TCP_NODELAY does not undo TCP_CORK
  Write(100);
  EXPECT_EQ(Data().size(), 1u);
  // Set again while already on: pushes again, as Linux does.
  ASSERT_TRUE(pipe_.a().set_no_delay(pair_.a, true, pipe_.now()).ok());
  ASSERT_EQ(Data().size(), 2u);
  EXPECT_EQ(Data()[1].payload_len, 200u);
}

TEST_F(NagleCorkTest, MoreFlagHoldsThePiecesOfAMessageUntilItsLastWrite) {
  Write(100, write_flag::kMore);
  Write(100, write_flag::kMore);
  EXPECT_TRUE(Data().empty());
  Write(100);
  std::vector<SentSegment> data = Data();
  ASSERT_EQ(data.size(), 1u);
  EXPECT_EQ(data[0].payload_len, 300u);
  pipe_.run_for(milliseconds(100));
  // An empty write without the flag ends a message as well.
  Write(40, write_flag::kMore);
  EXPECT_EQ(Data().size(), 1u);
  ASSERT_TRUE(pipe_.a().write(pair_.a, {}, pipe_.now()).ok());
  data = Data();
  ASSERT_EQ(data.size(), 2u);
  EXPECT_EQ(data[1].payload_len, 40u);
}

TEST_F(NagleCorkTest, ShutdownSendsWhatTheCorkHeldWithTheFin) {
  ASSERT_TRUE(pipe_.a().set_cork(pair_.a, true, pipe_.now()).ok());
  Write(100);
  ASSERT_TRUE(pipe_.a().shutdown(pair_.a, pipe_.now()).ok());
  const std::vector<SentSegment> data = Data();
  ASSERT_EQ(data.size(), 1u);
  EXPECT_EQ(data[0].payload_len, 100u);
  EXPECT_TRUE(data[0].has(flag::kFin));
}

TEST_F(NagleCorkTest, ListenerOptionsAreInheritedAndShownInTheTable) {
  SocketOptions options = TcpConfig().socket_defaults;
  options.no_delay = true;
  options.cork = true;
  testing::PairOptions pair_options;
  pair_options.server_options = options;
  const Connected other = connect_pair(pipe_, kPort + 1, pair_options);
  EXPECT_TRUE(pipe_.b().info(other.listener)->no_delay);
  EXPECT_TRUE(pipe_.b().info(other.listener)->cork);
  EXPECT_TRUE(pipe_.b().info(other.b)->no_delay);
  EXPECT_TRUE(pipe_.b().info(other.b)->cork);
  EXPECT_FALSE(pipe_.a().info(other.a)->no_delay);
}

// The server answers each request from its readiness callback, at once: a request/response
// exchange like HTTP's.
class Responder {
 public:
  Responder(Tcp& tcp, SocketId socket, const Instant& now, std::size_t request_size,
            std::size_t reply_size)
      : tcp_(tcp), now_(now), request_size_(request_size), reply_(testing::pattern(reply_size, 3)) {
    EXPECT_TRUE(
        tcp_.set_readiness_callback(socket, [this](SocketId id, std::uint8_t) { serve(id); }).ok());
  }
  std::size_t replies() const { return replies_; }

 private:
  void serve(SocketId socket) {
    std::byte buffer[4096];
    for (;;) {
      const absl::StatusOr<std::size_t> read = tcp_.read(socket, buffer, now_);
      if (!read.ok() || *read == 0) {
        return;
      }
      pending_ += *read;
      while (pending_ >= request_size_) {
        pending_ -= request_size_;
        ++replies_;
        EXPECT_TRUE(tcp_.write(socket, reply_, now_).ok());
      }
    }
  }

  Tcp& tcp_;
  const Instant& now_;
  std::size_t request_size_;
  std::vector<std::byte> reply_;
  std::size_t pending_ = 0;
  std::size_t replies_ = 0;
};

TEST(TcpAckRideTest, TheReplyCarriesTheAckOfItsRequestAndNoBareAckGoesFirst) {
  SegmentPipe pipe;
  const Connected pair = connect_pair(pipe, kPort);
  Responder server(pipe.b(), pair.b, pipe.now(), 40, 300);
  StreamSink client(pipe.a(), pair.a, pipe.now());
  ASSERT_TRUE(pipe.a().set_no_delay(pair.a, true, pipe.now()).ok());
  for (int i = 0; i < 4; ++i) {
    pipe.clear_sent();
    // The first request also opens B's window past the 64 KiB its SYN-ACK could offer: that
    // window update rides on the reply too.
    const std::vector<std::byte> request = testing::pattern(40, i);
    ASSERT_TRUE(pipe.a().write(pair.a, request, pipe.now()).ok());
    const SentSegment sent = pipe.sent_by(Side::kA).at(0);
    ASSERT_TRUE(pipe.run_until([&] { return !pipe.sent_by(Side::kB).empty(); }, milliseconds(100)));
    const SentSegment answer = pipe.sent_by(Side::kB).front();
    EXPECT_EQ(answer.payload_len, 300u) << "request " << i << ": a bare ACK went first";
    EXPECT_EQ(answer.ack, sent.seq + 40) << "request " << i;
    EXPECT_EQ(answer.at, sent.at + pipe.latency) << "request " << i;
    pipe.run_for(milliseconds(100));
  }
  EXPECT_EQ(server.replies(), 4u);
}

TEST(TcpAckRideTest, AnAckDueAtOnceStillWaitsForTheReplyOfTheSameEvent) {
  SegmentPipe pipe;
  const Connected pair = connect_pair(pipe, kPort);
  // A request in two segments: the second makes an ACK due at once (every second segment,
  // RFC 9293 3.8.6.3); the reply written for it in the same event carries it.
  Responder server(pipe.b(), pair.b, pipe.now(), 80, 300);
  StreamSink client(pipe.a(), pair.a, pipe.now());
  ASSERT_TRUE(pipe.a().set_no_delay(pair.a, true, pipe.now()).ok());
  ASSERT_TRUE(pipe.a().write(pair.a, testing::pattern(80, 0), pipe.now()).ok());  // the window
  pipe.run_for(milliseconds(100));
  pipe.clear_sent();
  ASSERT_TRUE(pipe.a().write(pair.a, testing::pattern(40, 1), pipe.now()).ok());
  ASSERT_TRUE(pipe.a().write(pair.a, testing::pattern(40, 2), pipe.now()).ok());
  ASSERT_EQ(pipe.sent_by(Side::kA).size(), 2u);
  pipe.run_for(milliseconds(100));
  const std::vector<SentSegment> from_b = pipe.sent_by(Side::kB);
  ASSERT_FALSE(from_b.empty());
  EXPECT_EQ(from_b[0].payload_len, 300u) << "a bare ACK went before the reply";
  EXPECT_EQ(from_b[0].ack, pipe.sent_by(Side::kA)[1].seq + 40);
  EXPECT_EQ(server.replies(), 2u);
}

TEST(TcpAckRideTest, WithoutAReplyTheAckStillGoesByTheDelayedAckTimer) {
  SegmentPipe pipe;
  const Connected pair = connect_pair(pipe, kPort);
  StreamSink server(pipe.b(), pair.b, pipe.now());
  ASSERT_TRUE(pipe.a().write(pair.a, testing::pattern(1, 0), pipe.now()).ok());  // the window
  pipe.run_for(milliseconds(100));
  pipe.clear_sent();
  ASSERT_TRUE(pipe.a().write(pair.a, testing::pattern(40, 1), pipe.now()).ok());
  const Instant sent = pipe.now();
  pipe.run_for(milliseconds(100));
  const std::vector<SentSegment> from_b = pipe.sent_by(Side::kB);
  ASSERT_EQ(from_b.size(), 1u);
  EXPECT_EQ(from_b[0].payload_len, 0u);
  EXPECT_EQ(from_b[0].at, sent + pipe.latency + TcpConfig().delayed_ack_timeout);
}

}  // namespace
}  // namespace nslab::ustack::tcp
