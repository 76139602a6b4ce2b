#include "daemon/ustack/packet/ipv4.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "tests/unit/ustack/packet/fixtures.h"
#include "tests/unit/ustack/packet/test_util.h"

namespace nslab::ustack::packet {
namespace {

using testing::heap_copy;
using testing::view_of;

ConstBytes ip_of(ConstBytes frame) { return frame.subspan(14); }

TEST(Ipv4Test, ReadsCapturedSyn) {
  const auto ip = Ipv4View<ConstBytes>::checked(ip_of(fixtures::bytes(fixtures::kTcpSyn)));
  ASSERT_TRUE(ip.has_value());
  EXPECT_EQ(ip->version(), 4);
  EXPECT_EQ(ip->header_len(), 20u);
  EXPECT_EQ(ip->total_len(), 60);
  EXPECT_EQ(ip->ident(), 0xb295);
  EXPECT_TRUE(ip->dont_fragment());
  EXPECT_FALSE(ip->is_fragment());
  EXPECT_EQ(ip->ttl(), 64);
  EXPECT_EQ(ip->protocol(), ip_protocol::kTcp);
  EXPECT_EQ(ip->source(), Ipv4Address(127, 0, 0, 1));
  EXPECT_EQ(ip->destination(), Ipv4Address(127, 0, 0, 1));
  EXPECT_TRUE(ip->verify_checksum());
  EXPECT_TRUE(ip->options().empty());
  EXPECT_EQ(ip->payload().size(), 40u);
}

TEST(Ipv4Test, HeadersRoundTripByteForByte) {
  for (const ConstBytes frame :
       {fixtures::bytes(fixtures::kTcpSyn), fixtures::bytes(fixtures::kTcpSynAck),
        fixtures::bytes(fixtures::kTcpDataTs), fixtures::bytes(fixtures::kTcpRst),
        fixtures::bytes(fixtures::kTcpSackAck), fixtures::bytes(fixtures::kUdpDnsQuery),
        fixtures::bytes(fixtures::kIcmpPortUnreachable),
        fixtures::bytes(fixtures::kIcmpEchoRequest), fixtures::bytes(fixtures::kIcmpEchoReply),
        fixtures::bytes(fixtures::kIpv4FirstFragment),
        fixtures::bytes(fixtures::kIpv4SecondFragment)}) {
    const auto view = Ipv4View<ConstBytes>::checked(ip_of(frame));
    ASSERT_TRUE(view.has_value());
    const auto repr = Ipv4Repr::parse(*view);
    ASSERT_TRUE(repr.has_value());
    std::vector<std::byte> out(repr->buffer_len());
    repr->emit(out);
    EXPECT_TRUE(std::ranges::equal(out, view->header()));
    EXPECT_EQ(repr->payload_len, view->payload().size());
  }
}

TEST(Ipv4Test, CopiesDscpAndEcn) {
  const auto repr = Ipv4Repr::parse(
      *Ipv4View<ConstBytes>::checked(ip_of(fixtures::bytes(fixtures::kIcmpPortUnreachable))));
  ASSERT_TRUE(repr.has_value());
  EXPECT_EQ(repr->dscp, 0x30);  // TOS 0xc0: CS6, as Linux marks ICMP errors
  EXPECT_EQ(repr->ecn, 0);
  EXPECT_FALSE(repr->dont_fragment);
}

TEST(Ipv4Test, SkipsOptions) {
  const auto view =
      Ipv4View<ConstBytes>::checked(ip_of(fixtures::bytes(fixtures::kIpv4WithOptions)));
  ASSERT_TRUE(view.has_value());
  EXPECT_EQ(view->header_len(), 24u);
  ASSERT_EQ(view->options().size(), 4u);
  EXPECT_EQ(read_be32(view->options(), 0), 0x94040000u);  // Router Alert
  // The payload starts after the options: it is the UDP header (source port 33300).
  EXPECT_EQ(read_be16(view->payload(), 0), 33300);
  const auto repr = Ipv4Repr::parse(*view);
  ASSERT_TRUE(repr.has_value());
  EXPECT_EQ(repr->payload_len, view->payload().size());
  // Re-emitted without options, the header is 20 bytes and still valid.
  std::vector<std::byte> out(repr->buffer_len() + repr->payload_len);
  repr->emit(out);
  std::ranges::copy(view->payload(), out.begin() + 20);
  const auto again = Ipv4View<ConstBytes>::checked(view_of(out));
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(Ipv4Repr::parse(*again), repr);
}

TEST(Ipv4Test, ExposesFragmentFields) {
  const auto first =
      Ipv4View<ConstBytes>::checked(ip_of(fixtures::bytes(fixtures::kIpv4FirstFragment)));
  const auto second =
      Ipv4View<ConstBytes>::checked(ip_of(fixtures::bytes(fixtures::kIpv4SecondFragment)));
  ASSERT_TRUE(first.has_value() && second.has_value());
  EXPECT_TRUE(first->more_fragments());
  EXPECT_EQ(first->fragment_offset(), 0);
  EXPECT_TRUE(first->is_fragment());
  EXPECT_FALSE(second->more_fragments());
  EXPECT_EQ(second->fragment_offset(), 32);
  EXPECT_TRUE(second->is_fragment());
  EXPECT_EQ(first->ident(), second->ident());
  EXPECT_EQ(Ipv4Repr::parse(*second)->fragment_offset, 32);
}

TEST(Ipv4Test, PayloadStopsAtTotalLengthNotAtPadding) {
  auto padded = heap_copy(ip_of(fixtures::bytes(fixtures::kTcpRst)));
  padded.resize(padded.size() + 6);  // to the 60-byte Ethernet minimum
  const auto view = Ipv4View<ConstBytes>::checked(view_of(padded));
  ASSERT_TRUE(view.has_value());
  EXPECT_EQ(view->payload().size(), 20u);
}

TEST(Ipv4Test, RejectsBadLengths) {
  const ConstBytes good = ip_of(fixtures::bytes(fixtures::kIpv4WithOptions));
  for (std::size_t len = 0; len < good.size(); ++len) {
    const auto copy = heap_copy(good.first(len));
    EXPECT_FALSE(Ipv4View<ConstBytes>::checked(view_of(copy)).has_value()) << len;
  }
  for (const std::uint8_t ihl : {0, 1, 4}) {  // below the 20-byte minimum
    auto bad = heap_copy(good);
    bad[0] = std::byte(0x40 | ihl);
    EXPECT_FALSE(Ipv4View<ConstBytes>::checked(view_of(bad)).has_value()) << int{ihl};
  }
  auto bad = heap_copy(good.first(40));
  bad[0] = std::byte{0x4f};  // a 60-byte header in a 40-byte packet
  write_be16(bad, ipv4_field::kTotalLen, 40);
  EXPECT_FALSE(Ipv4View<ConstBytes>::checked(view_of(bad)).has_value());
  bad = heap_copy(good);
  write_be16(bad, ipv4_field::kTotalLen, static_cast<std::uint16_t>(good.size() + 1));
  EXPECT_FALSE(Ipv4View<ConstBytes>::checked(view_of(bad)).has_value());
  bad = heap_copy(good);
  write_be16(bad, ipv4_field::kTotalLen, 22);  // shorter than the header
  EXPECT_FALSE(Ipv4View<ConstBytes>::checked(view_of(bad)).has_value());
}

TEST(Ipv4Test, ReprRejectsBadChecksumAndVersion) {
  auto bad = heap_copy(ip_of(fixtures::bytes(fixtures::kTcpSyn)));
  bad[ipv4_field::kTtl] = std::byte{63};
  auto view = Ipv4View<MutableBytes>::checked(bad);
  ASSERT_TRUE(view.has_value());
  EXPECT_FALSE(view->verify_checksum());
  EXPECT_FALSE(Ipv4Repr::parse(*view).has_value());
  view->fill_checksum();
  EXPECT_TRUE(Ipv4Repr::parse(*view).has_value());
  bad[0] = std::byte{0x65};
  view->fill_checksum();
  EXPECT_FALSE(Ipv4Repr::parse(*view).has_value());
}

TEST(Ipv4Test, TtlDecrementWithIncrementalChecksum) {
  auto frame = heap_copy(ip_of(fixtures::bytes(fixtures::kTcpSyn)));
  auto view = *Ipv4View<MutableBytes>::checked(frame);
  const std::uint16_t old_word = read_be16(frame, ipv4_field::kTtl);
  view.set_ttl(static_cast<std::uint8_t>(view.ttl() - 1));
  view.set_checksum(checksum_update(view.checksum(), old_word, read_be16(frame, ipv4_field::kTtl)));
  EXPECT_TRUE(view.verify_checksum());
}

}  // namespace
}  // namespace nslab::ustack::packet
