#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "daemon/ustack/packet/arp.h"
#include "daemon/ustack/packet/ethernet.h"
#include "tests/unit/ustack/packet/fixtures.h"
#include "tests/unit/ustack/packet/test_util.h"

namespace nslab::ustack::packet {
namespace {

using testing::heap_copy;

TEST(EthernetTest, ReadsCapturedFrame) {
  const auto eth = EthernetView<ConstBytes>::checked(fixtures::bytes(fixtures::kTcpSyn));
  ASSERT_TRUE(eth.has_value());
  EXPECT_EQ(eth->destination().to_string(), "02:42:ac:11:00:02");
  EXPECT_EQ(eth->source().to_string(), "52:54:00:12:34:56");
  EXPECT_EQ(eth->ethertype(), ethertype::kIpv4);
  EXPECT_EQ(eth->payload().size(), fixtures::kTcpSyn.size() - 14);
}

TEST(EthernetTest, HeaderRoundTripsForEveryFixture) {
  for (const ConstBytes frame :
       {fixtures::bytes(fixtures::kTcpSyn), fixtures::bytes(fixtures::kArpRequest),
        fixtures::bytes(fixtures::kArpReplyPadded), fixtures::bytes(fixtures::kIcmpEchoReply)}) {
    const auto view = EthernetView<ConstBytes>::checked(frame);
    ASSERT_TRUE(view.has_value());
    const auto repr = EthernetRepr::parse(*view);
    ASSERT_TRUE(repr.has_value());
    std::vector<std::byte> out(repr->buffer_len());
    repr->emit(out);
    EXPECT_TRUE(std::ranges::equal(out, frame.first(14)));
  }
}

TEST(EthernetTest, SettersWriteTheFields) {
  std::vector<std::byte> frame(20);
  auto view = EthernetView<MutableBytes>::checked(frame);
  ASSERT_TRUE(view.has_value());
  view->set_destination(MacAddress::broadcast());
  view->set_source(*MacAddress::parse("02:00:00:00:00:01"));
  view->set_ethertype(ethertype::kArp);
  const EthernetView<ConstBytes> read = *view;
  EXPECT_TRUE(read.destination().is_broadcast());
  EXPECT_EQ(read.ethertype(), ethertype::kArp);
  EXPECT_EQ(read.payload().size(), 6u);
}

TEST(EthernetTest, RejectsShortFrames) {
  for (std::size_t len = 0; len < 14; ++len) {
    const auto copy = heap_copy(fixtures::bytes(fixtures::kTcpSyn).first(len));
    EXPECT_FALSE(EthernetView<ConstBytes>::checked(copy).has_value());
  }
}

TEST(ArpTest, ParsesRequest) {
  const auto eth = EthernetView<ConstBytes>::checked(fixtures::bytes(fixtures::kArpRequest));
  ASSERT_TRUE(eth.has_value());
  ASSERT_EQ(eth->ethertype(), ethertype::kArp);
  const auto view = ArpView<ConstBytes>::checked(eth->payload());
  ASSERT_TRUE(view.has_value());
  const auto arp = ArpRepr::parse(*view);
  ASSERT_TRUE(arp.has_value());
  EXPECT_EQ(arp->operation, kArpOperationRequest);
  EXPECT_EQ(arp->source_mac.to_string(), "52:54:00:12:34:56");
  EXPECT_EQ(arp->source_ip, Ipv4Address(10, 0, 2, 15));
  EXPECT_EQ(arp->target_mac, MacAddress());
  EXPECT_EQ(arp->target_ip, Ipv4Address(10, 0, 2, 2));
}

TEST(ArpTest, RoundTripsRequestAndPaddedReply) {
  for (const ConstBytes frame :
       {fixtures::bytes(fixtures::kArpRequest), fixtures::bytes(fixtures::kArpReplyPadded)}) {
    const ConstBytes payload = frame.subspan(14);
    const auto view = ArpView<ConstBytes>::checked(payload);
    ASSERT_TRUE(view.has_value());
    EXPECT_EQ(view->packet_len(), 28u);
    const auto arp = ArpRepr::parse(*view);
    ASSERT_TRUE(arp.has_value());
    std::vector<std::byte> out(arp->buffer_len());
    arp->emit(out);
    EXPECT_TRUE(std::ranges::equal(out, payload.first(28)));
  }
  const auto reply = ArpRepr::parse(
      *ArpView<ConstBytes>::checked(fixtures::bytes(fixtures::kArpReplyPadded).subspan(14)));
  EXPECT_EQ(reply->operation, kArpOperationReply);
  EXPECT_EQ(reply->source_mac.to_string(), "02:42:ac:11:00:02");
}

TEST(ArpTest, RejectsTruncatedAndForeignPackets) {
  const ConstBytes payload = fixtures::bytes(fixtures::kArpRequest).subspan(14);
  for (std::size_t len = 0; len < 28; ++len) {
    const auto copy = heap_copy(payload.first(len));
    EXPECT_FALSE(ArpView<ConstBytes>::checked(copy).has_value()) << len;
  }
  // Address lengths that run past the buffer.
  auto bad = heap_copy(payload);
  bad[arp_field::kHardwareLen] = std::byte{200};
  EXPECT_FALSE(ArpView<ConstBytes>::checked(testing::view_of(bad)).has_value());
  // Valid layout but not Ethernet/IPv4, or an unknown operation: the view reads it, the Repr
  // refuses it.
  bad = heap_copy(payload);
  bad[arp_field::kHardwareLen] = std::byte{4};
  auto view = ArpView<ConstBytes>::checked(testing::view_of(bad));
  ASSERT_TRUE(view.has_value());
  EXPECT_EQ(view->target_protocol_address().size(), 4u);
  EXPECT_FALSE(ArpRepr::parse(*view).has_value());
  bad = heap_copy(payload);
  bad[arp_field::kOperation + 1] = std::byte{3};
  EXPECT_FALSE(ArpRepr::parse(*ArpView<ConstBytes>::checked(testing::view_of(bad))).has_value());
}

}  // namespace
}  // namespace nslab::ustack::packet
