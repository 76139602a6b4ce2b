#include "daemon/impair/flow_class.h"

#include <cstdint>
#include <initializer_list>
#include <set>
#include <vector>

#include "gtest/gtest.h"

namespace nslab::impair {
namespace {

using Frame = std::vector<std::byte>;

void Append(Frame& frame, std::initializer_list<int> bytes) {
  for (int byte : bytes) {
    frame.push_back(std::byte{static_cast<uint8_t>(byte)});
  }
}

// MACs, then VLAN tags (TPID 0x8100, VID 5 each), then the ethertype.
Frame Ethernet(uint16_t ethertype, int vlan_tags = 0) {
  Frame frame;
  Append(frame, {2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1});
  for (int i = 0; i < vlan_tags; ++i) {
    Append(frame, {0x81, 0x00, 0x00, 0x05});
  }
  Append(frame, {ethertype >> 8, ethertype & 0xff});
  return frame;
}

// A 20-byte IPv4 header 10.0.0.1 -> 10.0.0.<dst>, then `l4`.
Frame Ipv4(uint8_t protocol, std::initializer_list<int> l4, int dst = 2, int vlan_tags = 0,
           uint16_t fragment = 0) {
  Frame frame = Ethernet(0x0800, vlan_tags);
  Append(frame, {0x45, 0, 0,  0, 0, 0,  fragment >> 8, fragment & 0xff, 64, protocol, 0, 0, 10, 0,
                 0,    1, 10, 0, 0, dst});
  Append(frame, l4);
  return frame;
}

// fe80::1 -> ff02::<dst>, next header `next`, then `rest` (extension headers and transport).
Frame Ipv6(uint8_t next, std::initializer_list<int> rest, int dst = 2) {
  Frame frame = Ethernet(0x86dd);
  Append(frame, {0x60, 0, 0, 0, 0, 0, next, 255});
  Append(frame, {0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});
  Append(frame, {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, dst});
  Append(frame, rest);
  return frame;
}

std::array<uint8_t, 16> V4(int last) { return {10, 0, 0, static_cast<uint8_t>(last)}; }

TEST(FlowClassTest, Ipv4UdpIsAddressesProtocolAndDestinationPort) {
  // Source port 40000, destination port 53.
  const FlowClass flow = ClassifyFrame(Ipv4(17, {0x9c, 0x40, 0, 53, 0, 8, 0, 0}));
  EXPECT_EQ(flow.ethertype, 0x0800);
  EXPECT_EQ(flow.ip_version, 4);
  EXPECT_EQ(flow.protocol, 17);
  EXPECT_EQ(flow.selector, 53);
  EXPECT_EQ(flow.source, V4(1));
  EXPECT_EQ(flow.destination, V4(2));
}

TEST(FlowClassTest, TheSourcePortAndTheEchoIdentifierDoNotMatter) {
  EXPECT_EQ(ClassifyFrame(Ipv4(6, {0x9c, 0x40, 0, 80})), ClassifyFrame(Ipv4(6, {0xa0, 1, 0, 80})));
  // ICMP echo request (type 8): identifier and sequence differ, the class does not.
  const FlowClass echo = ClassifyFrame(Ipv4(1, {8, 0, 0, 0, 0x12, 0x34, 0, 1}));
  EXPECT_EQ(echo, ClassifyFrame(Ipv4(1, {8, 0, 0, 0, 0x56, 0x78, 0, 2})));
  EXPECT_EQ(echo.selector, 8);
  // What does matter: the destination port, the ICMP type, the protocol, an address.
  const std::set<uint64_t> keys = {
      FlowClassKey(ClassifyFrame(Ipv4(6, {0x9c, 0x40, 0, 80}))),
      FlowClassKey(ClassifyFrame(Ipv4(6, {0x9c, 0x40, 0, 81}))),
      FlowClassKey(ClassifyFrame(Ipv4(17, {0x9c, 0x40, 0, 80}))),
      FlowClassKey(ClassifyFrame(Ipv4(6, {0x9c, 0x40, 0, 80}, 3))),
      FlowClassKey(echo),
      FlowClassKey(ClassifyFrame(Ipv4(1, {0, 0, 0, 0, 0x12, 0x34, 0, 1}))),  // echo reply
  };
  EXPECT_EQ(keys.size(), 6u);
}

TEST(FlowClassTest, VlanTagsAreSkipped) {
  const FlowClass untagged = ClassifyFrame(Ipv4(17, {0, 1, 0, 53}));
  EXPECT_EQ(ClassifyFrame(Ipv4(17, {0, 1, 0, 53}, 2, 1)), untagged);
  EXPECT_EQ(ClassifyFrame(Ipv4(17, {0, 1, 0, 53}, 2, 2)), untagged);
  // A third tag is more than QinQ: the frame is classed by that tag's TPID.
  const FlowClass deep = ClassifyFrame(Ipv4(17, {0, 1, 0, 53}, 2, 3));
  EXPECT_EQ(deep.ethertype, 0x8100);
  EXPECT_EQ(deep.ip_version, 0);
}

TEST(FlowClassTest, FragmentsHaveNoPort) {
  const FlowClass first = ClassifyFrame(Ipv4(17, {0, 1, 0, 53}, 2, 0, 0x2000));  // MF, offset 0
  const FlowClass later = ClassifyFrame(Ipv4(17, {7, 7, 7, 7}, 2, 0, 0x00b9));   // offset only
  EXPECT_EQ(first.selector, 0);
  EXPECT_EQ(first, later);
  EXPECT_EQ(first.protocol, 17);
}

TEST(FlowClassTest, ArpAndOtherNonIpFramesAreTheirEthertype) {
  Frame arp = Ethernet(0x0806);
  Append(arp, {0, 1, 8, 0, 6, 4, 0, 1});
  const FlowClass flow = ClassifyFrame(arp);
  EXPECT_EQ(flow, (FlowClass{.ethertype = 0x0806}));
  Frame other_arp = Ethernet(0x0806);
  Append(other_arp, {0, 1, 8, 0, 6, 4, 0, 2, 9, 9, 9});  // a reply, other addresses
  EXPECT_EQ(ClassifyFrame(other_arp), flow);
  // 802.3 length frames (LLC: STP, ...) are one class, whatever their length.
  EXPECT_EQ(ClassifyFrame(Ethernet(0x0026)), FlowClass{});
  EXPECT_EQ(ClassifyFrame(Ethernet(0x05dc)), FlowClass{});
}

TEST(FlowClassTest, Ipv6WalksExtensionHeadersToTheIcmpType) {
  // An MLDv2 report: hop-by-hop options (router alert), then ICMPv6 type 143.
  const FlowClass mld = ClassifyFrame(
      Ipv6(0, {58, 0, 5, 2, 0, 0, 1, 0, /* ICMPv6 */ 143, 0, 0, 0, 0, 0, 0, 1}, 0x16));
  EXPECT_EQ(mld.ip_version, 6);
  EXPECT_EQ(mld.protocol, 58);
  EXPECT_EQ(mld.selector, 143);
  EXPECT_EQ(mld.source[0], 0xfe);
  EXPECT_EQ(mld.destination[15], 0x16);
  // A router solicitation, straight after the header.
  const FlowClass rs = ClassifyFrame(Ipv6(58, {133, 0, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(rs.selector, 133);
  EXPECT_NE(FlowClassKey(rs), FlowClassKey(mld));
  // UDP behind a destination-options header of 16 bytes (length field 1).
  const FlowClass udp = ClassifyFrame(Ipv6(
      60, {17, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* UDP */ 0x9c, 0x40, 0x02, 0x22}));
  EXPECT_EQ(udp.protocol, 17);
  EXPECT_EQ(udp.selector, 546);
  // A fragment header: the protocol inside, no port.
  const FlowClass fragment =
      ClassifyFrame(Ipv6(44, {17, 0, 0, 1, 0, 0, 0, 9, /* UDP */ 0x9c, 0x40, 0x02, 0x22}));
  EXPECT_EQ(fragment.protocol, 17);
  EXPECT_EQ(fragment.selector, 0);
}

TEST(FlowClassTest, TruncatedFramesAreClassedByWhatIsThere) {
  EXPECT_EQ(ClassifyFrame({}), FlowClass{});
  Frame runt = Ethernet(0x0800);
  runt.pop_back();
  EXPECT_EQ(ClassifyFrame(runt), FlowClass{});
  // An IPv4 header cut short: the ethertype alone.
  Frame short_ip = Ipv4(17, {});
  short_ip.resize(short_ip.size() - 1);
  EXPECT_EQ(ClassifyFrame(short_ip), (FlowClass{.ethertype = 0x0800}));
  // An IHL pointing past the frame, and a version that is not 4.
  Frame long_ihl = Ipv4(17, {0, 1, 0, 53});
  long_ihl[14] = std::byte{0x4f};
  EXPECT_EQ(ClassifyFrame(long_ihl), (FlowClass{.ethertype = 0x0800}));
  Frame version = Ipv4(17, {0, 1, 0, 53});
  version[14] = std::byte{0x65};
  EXPECT_EQ(ClassifyFrame(version), (FlowClass{.ethertype = 0x0800}));
  // A transport header too short for the port: addresses and protocol, no port.
  const FlowClass no_port = ClassifyFrame(Ipv4(17, {0, 1, 0}));
  EXPECT_EQ(no_port.protocol, 17);
  EXPECT_EQ(no_port.selector, 0);
  // An IPv6 extension header whose length runs past the frame.
  const FlowClass cut = ClassifyFrame(Ipv6(0, {58, 200, 0, 0, 0, 0, 0, 0, 143}));
  EXPECT_EQ(cut.ip_version, 6);
  EXPECT_EQ(cut.protocol, 0);
  EXPECT_EQ(cut.selector, 0);
  // A VLAN tag cut short.
  Frame tag = Ethernet(0x8100);
  Append(tag, {0, 5, 8});
  EXPECT_EQ(ClassifyFrame(tag), (FlowClass{.ethertype = 0x8100}));
  // Every prefix of a full frame parses (ASan checks the bounds).
  const Frame full =
      Ipv6(0, {60, 0, 5, 2, 0, 0, 1, 0, 17, 0, 1, 2, 3, 4, 5, 6, 0x9c, 0x40, 0x02, 0x22});
  for (size_t length = 0; length <= full.size(); ++length) {
    ClassifyFrame(std::span(full).first(length));
  }
}

TEST(FlowClassTest, KeysAndSeedsAreFixedValues) {
  // Pinned: a key or seed that changed would give every lab other fates for the same seed.
  const FlowClass echo = ClassifyFrame(Ipv4(1, {8, 0, 0, 0, 0x12, 0x34, 0, 1}));
  const uint64_t key = FlowClassKey(echo);
  EXPECT_EQ(key, FlowClassKey(ClassifyFrame(Ipv4(1, {8, 0, 0, 0, 0x12, 0x34, 0, 1}))));
  EXPECT_EQ(key, 0x27ca832c3fd3c11bULL);
  EXPECT_EQ(ClassSeed(42, key), 0x8b38bea57740968bULL);
  EXPECT_NE(ClassSeed(42, key), ClassSeed(43, key));
  EXPECT_NE(ClassSeed(42, key), ClassSeed(42, key + 1));
}

}  // namespace
}  // namespace nslab::impair
