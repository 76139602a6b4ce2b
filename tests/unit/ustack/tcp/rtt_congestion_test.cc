#include <gtest/gtest.h>

#include "daemon/ustack/tcp/new_reno.h"
#include "daemon/ustack/tcp/options.h"
#include "daemon/ustack/tcp/rtt_estimator.h"

namespace nslab::ustack::tcp {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(RttEstimatorTest, FollowsRfc6298) {
  RttEstimator rtt(seconds(1), milliseconds(200), seconds(60));
  EXPECT_EQ(rtt.rto(), seconds(1));
  rtt.add_sample(milliseconds(100));
  // SRTT = 100, RTTVAR = 50: RTO = 100 + 4 * 50 = 300 ms.
  EXPECT_EQ(*rtt.srtt(), milliseconds(100));
  EXPECT_EQ(rtt.rto(), milliseconds(300));
  rtt.add_sample(milliseconds(200));
  // RTTVAR = 3/4 * 50 + 1/4 * 100 = 62.5; SRTT = 7/8 * 100 + 1/8 * 200 = 112.5.
  EXPECT_EQ(rtt.rto(), std::chrono::microseconds(112500 + 4 * 62500));
}

TEST(RttEstimatorTest, BacksOffExponentiallyUpToTheMaximum) {
  RttEstimator rtt(seconds(1), milliseconds(200), seconds(60));
  rtt.back_off();
  EXPECT_EQ(rtt.rto(), seconds(2));
  rtt.back_off();
  EXPECT_EQ(rtt.rto(), seconds(4));
  for (int i = 0; i < 30; ++i) {
    rtt.back_off();
  }
  EXPECT_EQ(rtt.rto(), seconds(60));
  rtt.add_sample(milliseconds(10));
  EXPECT_EQ(rtt.backoff_count(), 0);
  EXPECT_EQ(rtt.rto(), milliseconds(200));  // bounded below
}

TEST(NewRenoTest, SlowStartThenAvoidance) {
  NewReno reno(1000);
  EXPECT_EQ(reno.cwnd(), 4000u);  // RFC 5681 initial window for SMSS <= 1095
  reno.on_ack(SeqNumber(1000), 1000, 4000);
  EXPECT_EQ(reno.cwnd(), 5000u);
  reno.on_retransmit_timeout(SeqNumber(10000), 8000);
  EXPECT_EQ(reno.cwnd(), 1000u);
  EXPECT_EQ(reno.ssthresh(), 4000u);
  for (int i = 0; i < 3; ++i) {
    reno.on_ack(SeqNumber(20000 + i * 1000), 1000, 1000);
  }
  EXPECT_EQ(reno.cwnd(), 4000u);  // slow start reached ssthresh
  reno.on_ack(SeqNumber(30000), 1000, 4000);
  EXPECT_EQ(reno.cwnd(), 4000u);  // avoidance: one MSS per window, not per ACK
  for (int i = 0; i < 3; ++i) {
    reno.on_ack(SeqNumber(31000 + i * 1000), 1000, 4000);
  }
  EXPECT_EQ(reno.cwnd(), 5000u);
}

TEST(NewRenoTest, FastRetransmitOnTheThirdDuplicateAndPartialAcks) {
  NewReno reno(1000);
  const SeqNumber highest(50000);
  EXPECT_EQ(reno.on_duplicate_ack(highest, 10000), AckVerdict::kNothing);
  EXPECT_EQ(reno.on_duplicate_ack(highest, 10000), AckVerdict::kNothing);
  EXPECT_EQ(reno.on_duplicate_ack(highest, 10000), AckVerdict::kRetransmitFirstUnacked);
  EXPECT_TRUE(reno.in_recovery());
  EXPECT_EQ(reno.ssthresh(), 5000u);
  EXPECT_EQ(reno.cwnd(), 8000u);  // ssthresh + 3 SMSS
  reno.on_duplicate_ack(highest, 10000);
  EXPECT_EQ(reno.cwnd(), 9000u);  // inflated per further duplicate
  // A partial ACK retransmits the next hole and stays in recovery.
  EXPECT_EQ(reno.on_ack(SeqNumber(45000), 2000, 10000), AckVerdict::kRetransmitFirstUnacked);
  EXPECT_TRUE(reno.in_recovery());
  // The full ACK ends it, deflated to ssthresh.
  EXPECT_EQ(reno.on_ack(SeqNumber(50000), 5000, 5000), AckVerdict::kNothing);
  EXPECT_FALSE(reno.in_recovery());
  EXPECT_LE(reno.cwnd(), reno.ssthresh());
}

TEST(OptionsTest, NegotiatesOnlyWhatBothOffered) {
  EXPECT_EQ(mss_for_mtu(1500), 1460);
  EXPECT_EQ(mss_for_mtu(100), kDefaultMss);
  EXPECT_EQ(window_shift_for(65535), 0);
  EXPECT_EQ(window_shift_for(256 * 1024), 3);
  EXPECT_EQ(window_shift_for(std::size_t{1} << 40), kMaxWindowShift);

  OfferedOptions ours{1460, 7, true, true};
  OfferedOptions theirs{1400, std::nullopt, true, false};
  const NegotiatedOptions settled = negotiate(ours, theirs);
  EXPECT_EQ(settled.send_mss, 1400);
  EXPECT_EQ(settled.send_window_shift, 0);
  EXPECT_EQ(settled.receive_window_shift, 0);  // no scaling unless both offer it
  EXPECT_FALSE(settled.timestamps);
  EXPECT_TRUE(settled.sack);
  const OfferedOptions answer = answer_to(ours, theirs);
  EXPECT_FALSE(answer.window_shift);
  EXPECT_FALSE(answer.timestamps);
}

}  // namespace
}  // namespace nslab::ustack::tcp
