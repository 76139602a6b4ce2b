#include "daemon/ustack/driver/rx_checksum.h"

#include <gtest/gtest.h>

#include "tests/unit/ustack/net/frames.h"

namespace nslab::ustack::driver {
namespace {

using net::testing::bytes_of;
using net::testing::ethernet_frame;

const packet::Ipv4Address kA(10, 0, 0, 1);
const packet::Ipv4Address kB(10, 0, 0, 2);
const packet::MacAddress kMac({2, 0, 0, 0, 0, 1});

TEST(RxChecksumTest, Udp) {
  auto frame = ethernet_frame(kMac, kMac, packet::ethertype::kIpv4,
                              net::testing::udp_datagram(kA, kB, 1, 2, bytes_of("data")));
  EXPECT_EQ(verify_rx_checksum(frame), RxChecksumVerdict::kValid);
  frame.back() ^= std::byte{0x40};
  EXPECT_EQ(verify_rx_checksum(frame), RxChecksumVerdict::kInvalid);
}

TEST(RxChecksumTest, NotApplicable) {
  EXPECT_EQ(verify_rx_checksum({}), RxChecksumVerdict::kNotApplicable);
  const auto icmp = ethernet_frame(kMac, kMac, packet::ethertype::kIpv4,
                                   net::testing::icmp_echo_request(kA, kB, 1, 1, {}));
  EXPECT_EQ(verify_rx_checksum(icmp), RxChecksumVerdict::kNotApplicable);
  const auto arp = net::testing::arp_frame(1, kMac, kMac, kA, kMac, kB);
  EXPECT_EQ(verify_rx_checksum(arp), RxChecksumVerdict::kNotApplicable);
  auto packet = net::testing::udp_datagram(kA, kB, 1, 2, bytes_of("data"));
  packet[20 + 6] = std::byte{0};  // no checksum
  packet[20 + 7] = std::byte{0};
  EXPECT_EQ(verify_rx_checksum(ethernet_frame(kMac, kMac, packet::ethertype::kIpv4, packet)),
            RxChecksumVerdict::kNotApplicable);
}

}  // namespace
}  // namespace nslab::ustack::driver
