#include <gtest/gtest.h>

#include <algorithm>
#include <string_view>
#include <vector>

#include "daemon/ustack/packet/icmp.h"
#include "daemon/ustack/packet/ipv4.h"
#include "daemon/ustack/packet/udp.h"
#include "tests/unit/ustack/packet/fixtures.h"
#include "tests/unit/ustack/packet/test_util.h"

namespace nslab::ustack::packet {
namespace {

using testing::heap_copy;
using testing::view_of;

Ipv4View<ConstBytes> ip_of(ConstBytes frame) {
  return *Ipv4View<ConstBytes>::checked(frame.subspan(14));
}

void expect_icmp_round_trip(ConstBytes frame) {
  const auto view = IcmpView<ConstBytes>::checked(ip_of(frame).payload());
  ASSERT_TRUE(view.has_value());
  EXPECT_TRUE(view->verify_checksum());
  const auto repr = IcmpRepr::parse(*view);
  ASSERT_TRUE(repr.has_value());
  std::vector<std::byte> out(repr->buffer_len());
  repr->emit(out);
  EXPECT_TRUE(std::ranges::equal(out, view->bytes()));
}

TEST(IcmpTest, EchoRequestAndReply) {
  const auto request = IcmpRepr::parse(
      *IcmpView<ConstBytes>::checked(ip_of(fixtures::bytes(fixtures::kIcmpEchoRequest)).payload()));
  ASSERT_TRUE(request.has_value());
  EXPECT_EQ(request->kind, IcmpRepr::Kind::kEchoRequest);
  EXPECT_EQ(request->echo_ident, 0x12e1);
  EXPECT_EQ(request->echo_seq, 1);
  EXPECT_EQ(request->data.size(), 16u);
  expect_icmp_round_trip(fixtures::bytes(fixtures::kIcmpEchoRequest));
  expect_icmp_round_trip(fixtures::bytes(fixtures::kIcmpEchoReply));
}

TEST(IcmpTest, ReplyBuiltOverItsRequestMatchesLinux) {
  auto buffer = heap_copy(ip_of(fixtures::bytes(fixtures::kIcmpEchoRequest)).payload());
  auto repr = *IcmpRepr::parse(*IcmpView<ConstBytes>::checked(view_of(buffer)));
  repr.kind = IcmpRepr::Kind::kEchoReply;
  repr.emit(buffer);  // data overlaps its own destination
  EXPECT_TRUE(
      std::ranges::equal(buffer, ip_of(fixtures::bytes(fixtures::kIcmpEchoReply)).payload()));
}

TEST(IcmpTest, PortUnreachableQuotesTheQuery) {
  const auto view = IcmpView<ConstBytes>::checked(
      ip_of(fixtures::bytes(fixtures::kIcmpPortUnreachable)).payload());
  ASSERT_TRUE(view.has_value());
  const auto repr = IcmpRepr::parse(*view);
  ASSERT_TRUE(repr.has_value());
  EXPECT_EQ(repr->kind, IcmpRepr::Kind::kDestinationUnreachable);
  EXPECT_EQ(repr->code, icmp_unreachable::kPortUnreachable);
  const auto quoted = Ipv4View<ConstBytes>::checked(repr->data);
  ASSERT_TRUE(quoted.has_value());
  EXPECT_EQ(quoted->protocol(), ip_protocol::kUdp);
  EXPECT_EQ(read_be16(quoted->payload(), udp_field::kDestinationPort), 53);
  expect_icmp_round_trip(fixtures::bytes(fixtures::kIcmpPortUnreachable));
}

TEST(IcmpTest, FragmentationNeededCarriesMtu) {
  IcmpRepr repr;
  repr.kind = IcmpRepr::Kind::kDestinationUnreachable;
  repr.code = icmp_unreachable::kFragmentationNeeded;
  repr.next_hop_mtu = 1400;
  repr.data = ip_of(fixtures::bytes(fixtures::kTcpSyn)).bytes().first(28);
  std::vector<std::byte> out(repr.buffer_len());
  repr.emit(out);
  const auto view = IcmpView<ConstBytes>::checked(view_of(out));
  EXPECT_EQ(view->next_hop_mtu(), 1400);
  EXPECT_EQ(IcmpRepr::parse(*view), repr);
}

TEST(IcmpTest, RejectsBadInput) {
  const ConstBytes good = ip_of(fixtures::bytes(fixtures::kIcmpEchoRequest)).payload();
  for (std::size_t len = 0; len < 8; ++len) {
    const auto copy = heap_copy(good.first(len));
    EXPECT_FALSE(IcmpView<ConstBytes>::checked(view_of(copy)).has_value());
  }
  // A truncated message fails its checksum (the last 8 bytes are not all zero).
  const auto short_copy = heap_copy(good.first(good.size() - 8));
  EXPECT_FALSE(IcmpRepr::parse(*IcmpView<ConstBytes>::checked(view_of(short_copy))).has_value());
  for (const std::uint8_t type : {5, 13, 42}) {  // redirect, timestamp, unassigned
    auto bad = heap_copy(good);
    auto view = *IcmpView<MutableBytes>::checked(bad);
    view.set_type(type);
    view.fill_checksum();
    EXPECT_FALSE(IcmpRepr::parse(view).has_value()) << int{type};
  }
  auto bad = heap_copy(good);
  auto view = *IcmpView<MutableBytes>::checked(bad);
  view.set_code(1);  // echo has only code 0
  view.fill_checksum();
  EXPECT_FALSE(IcmpRepr::parse(view).has_value());
}

TEST(UdpTest, ParsesDnsQuery) {
  const Ipv4View<ConstBytes> ip = ip_of(fixtures::bytes(fixtures::kUdpDnsQuery));
  const auto view = UdpView<ConstBytes>::checked(ip.payload());
  ASSERT_TRUE(view.has_value());
  EXPECT_EQ(view->source_port(), 33300);
  EXPECT_EQ(view->destination_port(), 53);
  EXPECT_EQ(view->length(), 37);
  EXPECT_TRUE(view->verify_checksum(ip.source(), ip.destination()));
  const auto repr = UdpRepr::parse(*view, ip.source(), ip.destination());
  ASSERT_TRUE(repr.has_value());
  EXPECT_EQ(repr->payload.size(), 29u);
  // QNAME: 7 "example" 3 "com" 0
  const std::string_view qname(reinterpret_cast<const char*>(repr->payload.data()) + 13, 7);
  EXPECT_EQ(qname, "example");
  std::vector<std::byte> out(repr->buffer_len());
  repr->emit(out, ip.source(), ip.destination());
  EXPECT_TRUE(std::ranges::equal(out, ip.payload()));
}

TEST(UdpTest, OffloadLeavesThePseudoHeaderSum) {
  const Ipv4View<ConstBytes> ip = ip_of(fixtures::bytes(fixtures::kUdpDnsQuery));
  const auto repr =
      UdpRepr::parse(*UdpView<ConstBytes>::checked(ip.payload()), ip.source(), ip.destination());
  std::vector<std::byte> out(repr->buffer_len());
  repr->emit(out, ip.source(), ip.destination(), Checksum::kOffload);
  // What lo left in the field of the captured datagram (quoted in the port unreachable).
  EXPECT_EQ(read_be16(out, udp_field::kChecksum), 0xfe38);
  EXPECT_FALSE(
      UdpRepr::parse(*UdpView<ConstBytes>::checked(view_of(out)), ip.source(), ip.destination())
          .has_value());
  EXPECT_TRUE(UdpRepr::parse(*UdpView<ConstBytes>::checked(view_of(out)), ip.source(),
                             ip.destination(), Checksum::kOffload)
                  .has_value());
}

TEST(UdpTest, ZeroChecksumMeansNone) {
  const Ipv4View<ConstBytes> ip = ip_of(fixtures::bytes(fixtures::kUdpDnsQuery));
  auto copy = heap_copy(ip.payload());
  write_be16(copy, udp_field::kChecksum, 0);
  EXPECT_TRUE(
      UdpRepr::parse(*UdpView<ConstBytes>::checked(view_of(copy)), ip.source(), ip.destination())
          .has_value());
  write_be16(copy, udp_field::kChecksum, 0x1234);
  EXPECT_FALSE(
      UdpRepr::parse(*UdpView<ConstBytes>::checked(view_of(copy)), ip.source(), ip.destination())
          .has_value());
}

TEST(UdpTest, RejectsBadLengths) {
  const ConstBytes good = ip_of(fixtures::bytes(fixtures::kUdpDnsQuery)).payload();
  for (std::size_t len = 0; len < good.size(); ++len) {
    const auto copy = heap_copy(good.first(len));
    EXPECT_FALSE(UdpView<ConstBytes>::checked(view_of(copy)).has_value()) << len;
  }
  for (const std::uint16_t length : {0, 7}) {
    auto bad = heap_copy(good);
    write_be16(bad, udp_field::kLength, length);
    EXPECT_FALSE(UdpView<ConstBytes>::checked(view_of(bad)).has_value());
  }
  // A length shorter than the buffer is fine: the rest is not the datagram's.
  auto shorter = heap_copy(good);
  write_be16(shorter, udp_field::kLength, 8);
  const auto view = UdpView<ConstBytes>::checked(view_of(shorter));
  ASSERT_TRUE(view.has_value());
  EXPECT_TRUE(view->payload().empty());
}

}  // namespace
}  // namespace nslab::ustack::packet
