#include "tests/netem/support/probe_frame.h"

#include <gtest/gtest.h>

#include <vector>

namespace nslab::netem {
namespace {

ProbeFlow Flow() {
  ProbeFlow flow;
  flow.source_mac = {0x02, 0, 0, 0, 0, 0x01};
  flow.destination_mac = {0x02, 0, 0, 0, 0, 0x02};
  flow.source_ip = 0x0a000001;       // 10.0.0.1
  flow.destination_ip = 0x0a000002;  // 10.0.0.2
  flow.destination_port = 40000;
  flow.payload_bytes = 100;
  return flow;
}

void Put16(std::vector<std::byte>& frame, size_t at, uint16_t value) {
  frame[at] = static_cast<std::byte>(value >> 8);
  frame[at + 1] = static_cast<std::byte>(value);
}

void Put32(std::vector<std::byte>& frame, size_t at, uint32_t value) {
  Put16(frame, at, static_cast<uint16_t>(value >> 16));
  Put16(frame, at + 2, static_cast<uint16_t>(value));
}

// The frame a Linux UDP socket sends for probe `seq`, checksums filled in.
std::vector<std::byte> ProbeFrame(const ProbeFlow& flow, uint32_t seq, int64_t sent_ns) {
  std::vector<std::byte> frame(kEthernetBytes + kIpv4Bytes + kUdpBytes);
  for (size_t i = 0; i < 6; ++i) {
    frame[i] = static_cast<std::byte>(flow.destination_mac[i]);
    frame[6 + i] = static_cast<std::byte>(flow.source_mac[i]);
  }
  Put16(frame, 12, 0x0800);
  const size_t ip = kEthernetBytes;
  frame[ip] = std::byte{0x45};
  Put16(frame, ip + 2, static_cast<uint16_t>(kIpv4Bytes + kUdpBytes + flow.payload_bytes));
  Put16(frame, ip + 4, 0x1234);  // identification
  Put16(frame, ip + 6, 0x4000);  // DF
  frame[ip + 8] = std::byte{64};
  frame[ip + 9] = std::byte{17};
  Put32(frame, ip + 12, flow.source_ip);
  Put32(frame, ip + 16, flow.destination_ip);
  Put16(frame, ip + 10,
        static_cast<uint16_t>(~OnesComplementSum(std::span(frame).subspan(ip, kIpv4Bytes))));
  const size_t udp = ip + kIpv4Bytes;
  const uint16_t udp_length = static_cast<uint16_t>(kUdpBytes + flow.payload_bytes);
  Put16(frame, udp, 51000);
  Put16(frame, udp + 2, flow.destination_port);
  Put16(frame, udp + 4, udp_length);
  const std::vector<std::byte> payload = ProbePayload(flow.payload_bytes, seq, sent_ns);
  frame.insert(frame.end(), payload.begin(), payload.end());
  const uint32_t pseudo = (flow.source_ip >> 16) + (flow.source_ip & 0xffff) +
                          (flow.destination_ip >> 16) + (flow.destination_ip & 0xffff) + 17 +
                          udp_length;
  uint16_t checksum =
      static_cast<uint16_t>(~OnesComplementSum(std::span(frame).subspan(udp), pseudo));
  Put16(frame, udp + 6, checksum == 0 ? 0xffff : checksum);
  return frame;
}

TEST(ProbeFrameTest, AnIntactProbeGivesItsSequenceNumberAndSendTime) {
  const ProbeFlow flow = Flow();
  const auto frame = ProbeFrame(flow, 4242, 1'765'000'000'123'456'789);
  ASSERT_EQ(frame.size(), flow.frame_bytes());
  const FrameCheck check = CheckProbeFrame(frame, flow, false);
  EXPECT_EQ(check.verdict, FrameVerdict::kIntact);
  EXPECT_EQ(check.seq, 4242u);
  EXPECT_EQ(check.sent_ns, 1'765'000'000'123'456'789);
}

// netem flips one bit anywhere in the frame; every one of them must be seen.
TEST(ProbeFrameTest, EveryFlippedBitMakesTheFrameCorrupted) {
  const ProbeFlow flow = Flow();
  const auto intact = ProbeFrame(flow, 7, 123456789);
  for (size_t bit = 0; bit < intact.size() * 8; ++bit) {
    auto frame = intact;
    frame[bit / 8] ^= static_cast<std::byte>(1u << (bit % 8));
    EXPECT_EQ(CheckProbeFrame(frame, flow, false).verdict, FrameVerdict::kCorrupted)
        << "bit " << bit;
  }
}

TEST(ProbeFrameTest, PendingUdpChecksumIsNotChecked) {
  const ProbeFlow flow = Flow();
  auto frame = ProbeFrame(flow, 7, 123456789);
  Put16(frame, kEthernetBytes + kIpv4Bytes + 6, 0x1234);  // the offload's partial sum
  EXPECT_EQ(CheckProbeFrame(frame, flow, true).verdict, FrameVerdict::kIntact);
  EXPECT_EQ(CheckProbeFrame(frame, flow, false).verdict, FrameVerdict::kCorrupted);
}

TEST(ProbeFrameTest, OtherSizesAreForeign) {
  const ProbeFlow flow = Flow();
  auto frame = ProbeFrame(flow, 7, 123456789);
  frame.pop_back();
  EXPECT_EQ(CheckProbeFrame(frame, flow, false).verdict, FrameVerdict::kForeign);
  EXPECT_EQ(CheckProbeFrame(std::vector<std::byte>(42), flow, false).verdict,
            FrameVerdict::kForeign);
}

TEST(ProbeFrameTest, OnesComplementSumFoldsCarriesAndPadsOddLength) {
  const std::vector<std::byte> bytes = {std::byte{0xff}, std::byte{0xff}, std::byte{0x00},
                                        std::byte{0x02}, std::byte{0x01}};
  // 0xffff + 0x0002 + 0x0100 = 0x10101 -> 0x0102.
  EXPECT_EQ(OnesComplementSum(bytes), 0x0102);
}

}  // namespace
}  // namespace nslab::netem
