// The stack below TCP fed with frames a Linux neighbour would send, checked by the frames it
// sends back. Time is whatever the test says.

#include "daemon/ustack/net/stack.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "daemon/ustack/apps/service.h"
#include "daemon/ustack/apps/udp_echo.h"
#include "tests/unit/ustack/net/frames.h"

namespace nslab::ustack::net {
namespace {

using packet::ConstBytes;
using packet::IcmpRepr;
using packet::Ipv4Address;
using packet::MacAddress;
using testing::FrameCollector;

const MacAddress kOurMac({0x02, 0, 0, 0, 0, 0x02});
const MacAddress kPeerMac({0x02, 0, 0, 0, 0, 0x01});
const MacAddress kGatewayMac({0x02, 0, 0, 0, 0, 0xfe});
const Ipv4Address kOurIp(10, 0, 0, 2);
const Ipv4Address kPeerIp(10, 0, 0, 1);
const Ipv4Address kGatewayIp(10, 0, 0, 254);

class StackTest : public ::testing::Test {
 protected:
  StackTest() : stack_(config(), link_) {}

  static InterfaceConfig config() {
    InterfaceConfig config;
    config.mac = kOurMac;
    config.addresses = {Ipv4Cidr{kOurIp, 24}};
    return config;
  }

  void receive(const testing::Frame& frame, bool trusted = false) {
    stack_.receive(frame, trusted, now_);
  }
  void receive_ipv4(const std::vector<std::byte>& packet, MacAddress from = kPeerMac) {
    receive(testing::ethernet_frame(kOurMac, from, packet::ethertype::kIpv4, packet));
  }
  // Teaches the stack the peer's MAC, as the peer's ARP request for us would.
  void learn_peer() {
    receive(testing::arp_frame(packet::kArpOperationRequest, MacAddress::broadcast(), kPeerMac,
                               kPeerIp, MacAddress(), kOurIp));
    link_.take();
  }

  FrameCollector link_;
  Stack stack_;
  Instant now_ = Instant() + std::chrono::hours(1);
};

TEST_F(StackTest, AnnouncesEachAddressWithGratuitousArp) {
  stack_.start(now_);
  ASSERT_EQ(link_.sent.size(), 1u);
  const auto arp = testing::parse_arp(link_.sent[0].bytes);
  ASSERT_TRUE(arp);
  EXPECT_EQ(arp->operation, packet::kArpOperationRequest);
  EXPECT_EQ(arp->source_ip, kOurIp);
  EXPECT_EQ(arp->target_ip, kOurIp);
  EXPECT_EQ(arp->source_mac, kOurMac);
  EXPECT_EQ(stack_.stats().arp.gratuitous_sent, 1u);
}

TEST_F(StackTest, AnswersArpRequestForItsAddressAndLearnsTheAsker) {
  receive(testing::arp_frame(packet::kArpOperationRequest, MacAddress::broadcast(), kPeerMac,
                             kPeerIp, MacAddress(), kOurIp));
  ASSERT_EQ(link_.sent.size(), 1u);
  const auto reply = testing::parse_arp(link_.sent[0].bytes);
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->operation, packet::kArpOperationReply);
  EXPECT_EQ(reply->source_mac, kOurMac);
  EXPECT_EQ(reply->source_ip, kOurIp);
  EXPECT_EQ(reply->target_mac, kPeerMac);
  EXPECT_EQ(reply->target_ip, kPeerIp);
  const StackStats stats = stack_.stats();
  ASSERT_EQ(stats.arp_entries.size(), 1u);
  EXPECT_EQ(stats.arp_entries[0].ip, kPeerIp);
  EXPECT_EQ(stats.arp_entries[0].mac, kPeerMac);
  EXPECT_EQ(stats.arp_entries[0].state, NeighbourState::kReachable);
  EXPECT_EQ(stats.arp.requests_received, 1u);
  EXPECT_EQ(stats.arp.replies_sent, 1u);
}

TEST_F(StackTest, IgnoresArpForOtherAddresses) {
  receive(testing::arp_frame(packet::kArpOperationRequest, MacAddress::broadcast(), kPeerMac,
                             kPeerIp, MacAddress(), Ipv4Address(10, 0, 0, 3)));
  EXPECT_TRUE(link_.sent.empty());
  EXPECT_TRUE(stack_.stats().arp_entries.empty());
}

TEST_F(StackTest, CountsMalformedArp) {
  std::vector<std::byte> truncated(10);
  receive(testing::ethernet_frame(MacAddress::broadcast(), kPeerMac, packet::ethertype::kArp,
                                  truncated));
  EXPECT_EQ(stack_.stats().arp.malformed, 1u);
  EXPECT_TRUE(link_.sent.empty());
}

TEST_F(StackTest, RepliesToEcho) {
  learn_peer();
  const auto data = testing::bytes_of("abcdefgh0123456789");
  receive_ipv4(testing::icmp_echo_request(kPeerIp, kOurIp, 0x1234, 7, data));
  ASSERT_EQ(link_.sent.size(), 1u);
  const auto reply = testing::parse_ipv4(link_.sent[0].bytes);
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->ethernet.destination, kPeerMac);
  EXPECT_EQ(reply->ip.source, kOurIp);
  EXPECT_EQ(reply->ip.destination, kPeerIp);
  const auto icmp = IcmpRepr::parse(*packet::IcmpView<ConstBytes>::checked(reply->payload));
  ASSERT_TRUE(icmp);
  EXPECT_EQ(icmp->kind, IcmpRepr::Kind::kEchoReply);
  EXPECT_EQ(icmp->echo_ident, 0x1234);
  EXPECT_EQ(icmp->echo_seq, 7);
  EXPECT_TRUE(std::ranges::equal(icmp->data, data));
  const StackStats stats = stack_.stats();
  EXPECT_EQ(stats.icmp.in_echos, 1u);
  EXPECT_EQ(stats.icmp.out_echo_reps, 1u);
  EXPECT_EQ(stats.ipv4.in_delivers, 1u);
}

TEST_F(StackTest, QueuesReplyWhileResolvingThenSendsIt) {
  receive_ipv4(testing::icmp_echo_request(kPeerIp, kOurIp, 1, 1, testing::bytes_of("x")));
  ASSERT_EQ(link_.sent.size(), 1u);
  const auto request = testing::parse_arp(link_.sent[0].bytes);
  ASSERT_TRUE(request);
  EXPECT_EQ(request->operation, packet::kArpOperationRequest);
  EXPECT_EQ(request->target_ip, kPeerIp);
  EXPECT_EQ(request->source_ip, kOurIp);
  ASSERT_EQ(stack_.stats().arp_entries.size(), 1u);
  EXPECT_EQ(stack_.stats().arp_entries[0].state, NeighbourState::kIncomplete);
  EXPECT_EQ(stack_.stats().arp_entries[0].pending_packets, 1u);
  link_.take();

  receive(
      testing::arp_frame(packet::kArpOperationReply, kOurMac, kPeerMac, kPeerIp, kOurMac, kOurIp));
  ASSERT_EQ(link_.sent.size(), 1u);
  const auto reply = testing::parse_ipv4(link_.sent[0].bytes);
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->ethernet.destination, kPeerMac);
  EXPECT_EQ(reply->ip.protocol, packet::ip_protocol::kIcmp);
  EXPECT_EQ(stack_.stats().arp_entries[0].pending_packets, 0u);
}

TEST_F(StackTest, GivesUpResolvingAfterThreeRequests) {
  receive_ipv4(testing::icmp_echo_request(kPeerIp, kOurIp, 1, 1, {}));
  link_.take();
  for (int second = 1; second <= 3; ++second) {
    now_ += std::chrono::seconds(1);
    stack_.poll(now_);
  }
  // Two retransmits, then failure.
  EXPECT_EQ(link_.take().size(), 2u);
  StackStats stats = stack_.stats();
  EXPECT_EQ(stats.arp.requests_sent, 3u);
  EXPECT_EQ(stats.arp.resolution_failures, 1u);
  EXPECT_EQ(stats.arp.pending_dropped, 1u);
  ASSERT_EQ(stats.arp_entries.size(), 1u);
  EXPECT_EQ(stats.arp_entries[0].state, NeighbourState::kFailed);
  now_ += std::chrono::seconds(3);
  stack_.poll(now_);
  EXPECT_TRUE(stack_.stats().arp_entries.empty());
}

TEST_F(StackTest, ReachableEntryGoesStaleAndIsRefreshedWhenUsed) {
  learn_peer();
  now_ += std::chrono::seconds(31);
  stack_.poll(now_);
  ASSERT_EQ(stack_.stats().arp_entries[0].state, NeighbourState::kStale);
  receive_ipv4(testing::icmp_echo_request(kPeerIp, kOurIp, 1, 1, {}));
  // The stale MAC is still used, and a request refreshes it.
  const std::vector<testing::SentFrame> sent = link_.take();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_TRUE(testing::parse_arp(sent[0].bytes));
  EXPECT_TRUE(testing::parse_ipv4(sent[1].bytes));
  now_ += std::chrono::seconds(61);
  stack_.poll(now_);
  EXPECT_TRUE(stack_.stats().arp_entries.empty());
}

TEST_F(StackTest, ClosedUdpPortGetsPortUnreachableQuotingTheDatagram) {
  learn_peer();
  const auto datagram =
      testing::udp_datagram(kPeerIp, kOurIp, 40000, 4444, testing::bytes_of("probe"));
  receive_ipv4(datagram);
  ASSERT_EQ(link_.sent.size(), 1u);
  const auto error = testing::parse_ipv4(link_.sent[0].bytes);
  ASSERT_TRUE(error);
  EXPECT_EQ(error->ip.destination, kPeerIp);
  const auto icmp = IcmpRepr::parse(*packet::IcmpView<ConstBytes>::checked(error->payload));
  ASSERT_TRUE(icmp);
  EXPECT_EQ(icmp->kind, IcmpRepr::Kind::kDestinationUnreachable);
  EXPECT_EQ(icmp->code, packet::icmp_unreachable::kPortUnreachable);
  EXPECT_TRUE(std::ranges::equal(icmp->data, datagram));
  EXPECT_EQ(stack_.stats().udp.no_ports, 1u);
  EXPECT_EQ(stack_.stats().icmp.out_dest_unreachs, 1u);
}

TEST_F(StackTest, NoPortUnreachableForBroadcast) {
  learn_peer();
  receive(testing::ethernet_frame(
      MacAddress::broadcast(), kPeerMac, packet::ethertype::kIpv4,
      testing::udp_datagram(kPeerIp, Ipv4Address(10, 0, 0, 255), 40000, 4444, {})));
  EXPECT_TRUE(link_.sent.empty());
  EXPECT_EQ(stack_.stats().udp.no_ports, 1u);
}

TEST_F(StackTest, UnknownProtocolGetsProtocolUnreachable) {
  learn_peer();
  receive_ipv4(testing::ipv4_packet(kPeerIp, kOurIp, 99, testing::bytes_of("????")));
  ASSERT_EQ(link_.sent.size(), 1u);
  const auto error = testing::parse_ipv4(link_.sent[0].bytes);
  const auto icmp = IcmpRepr::parse(*packet::IcmpView<ConstBytes>::checked(error->payload));
  ASSERT_TRUE(icmp);
  EXPECT_EQ(icmp->code, packet::icmp_unreachable::kProtocolUnreachable);
  EXPECT_EQ(stack_.stats().ipv4.in_unknown_protos, 1u);
}

TEST_F(StackTest, NoErrorAboutAnError) {
  learn_peer();
  packet::IcmpRepr error;
  error.kind = IcmpRepr::Kind::kDestinationUnreachable;
  error.code = 3;
  std::vector<std::byte> message(error.buffer_len());
  error.emit(message);
  receive_ipv4(testing::ipv4_packet(kPeerIp, kOurIp, packet::ip_protocol::kIcmp, message));
  EXPECT_TRUE(link_.sent.empty());
  EXPECT_EQ(stack_.stats().icmp.in_dest_unreachs, 1u);
}

TEST_F(StackTest, UdpEchoAnswersFromTheAddressAsked) {
  learn_peer();
  ASSERT_TRUE(apps::start_udp_echo(stack_.udp(), 7).ok());
  receive_ipv4(testing::udp_datagram(kPeerIp, kOurIp, 40000, 7, testing::bytes_of("hello")));
  ASSERT_EQ(link_.sent.size(), 1u);
  const auto reply = testing::parse_ipv4(link_.sent[0].bytes);
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->ip.source, kOurIp);
  const auto view = packet::UdpView<ConstBytes>::checked(reply->payload);
  const auto udp = packet::UdpRepr::parse(*view, kOurIp, kPeerIp);
  ASSERT_TRUE(udp);
  EXPECT_EQ(udp->source_port, 7);
  EXPECT_EQ(udp->destination_port, 40000);
  EXPECT_TRUE(std::ranges::equal(udp->payload, testing::bytes_of("hello")));
  EXPECT_EQ(stack_.stats().udp.in_datagrams, 1u);
  EXPECT_EQ(stack_.stats().udp.out_datagrams, 1u);
}

// A TCP segment from the peer, checksum included.
std::vector<std::byte> tcp_segment(const packet::TcpRepr& segment) {
  std::vector<std::byte> bytes(segment.buffer_len());
  segment.emit(bytes, kPeerIp, kOurIp);
  return testing::ipv4_packet(kPeerIp, kOurIp, packet::ip_protocol::kTcp, bytes);
}

std::optional<packet::TcpRepr> parse_tcp(const testing::Frame& frame) {
  const auto ip = testing::parse_ipv4(frame);
  if (!ip || ip->ip.protocol != packet::ip_protocol::kTcp) {
    return std::nullopt;
  }
  const auto view = packet::TcpView<ConstBytes>::checked(ip->payload);
  if (!view) {
    return std::nullopt;
  }
  return packet::TcpRepr::parse(*view, ip->ip.source, ip->ip.destination);
}

// The peer's SYN to `port`: MSS 1460, a 64 KiB window, ISN 1000.
packet::TcpRepr peer_syn(std::uint16_t port) {
  packet::TcpRepr syn;
  syn.source_port = 40000;
  syn.destination_port = port;
  syn.seq_number = 1000;
  syn.flags = packet::tcp_flag::kSyn;
  syn.window_len = 65535;
  syn.max_segment_size = 1460;
  return syn;
}

TEST_F(StackTest, TcpListenerAnswersSynAndClosedPortAnswersReset) {
  learn_peer();
  const auto echo = apps::start_service(*apps::parse_service("tcp:7:echo"), stack_);
  ASSERT_TRUE(echo.ok()) << echo.status();
  packet::TcpRepr syn = peer_syn(7);
  receive_ipv4(tcp_segment(syn));
  ASSERT_EQ(link_.sent.size(), 1u);
  const auto syn_ack = parse_tcp(link_.sent[0].bytes);
  ASSERT_TRUE(syn_ack);  // the checksum is verified by the parse
  EXPECT_EQ(syn_ack->flags, packet::tcp_flag::kSyn | packet::tcp_flag::kAck);
  EXPECT_EQ(syn_ack->source_port, 7);
  EXPECT_EQ(syn_ack->ack_number, 1001u);
  EXPECT_EQ(syn_ack->max_segment_size, 1460);

  syn.destination_port = 8;
  receive_ipv4(tcp_segment(syn));
  ASSERT_EQ(link_.sent.size(), 2u);
  const auto reset = parse_tcp(link_.sent[1].bytes);
  ASSERT_TRUE(reset);
  EXPECT_EQ(reset->flags, packet::tcp_flag::kRst | packet::tcp_flag::kAck);
  EXPECT_EQ(reset->ack_number, 1001u);

  auto corrupt = tcp_segment(syn);
  corrupt.back() ^= std::byte{0xff};
  receive_ipv4(corrupt);
  EXPECT_EQ(link_.sent.size(), 2u);
  const StackStats stats = stack_.stats();
  EXPECT_EQ(stats.tcp.in_segs, 2u);
  EXPECT_EQ(stats.tcp.in_csum_errors, 1u);
  EXPECT_EQ(stats.tcp.no_socket, 1u);
  EXPECT_EQ(stats.tcp.out_rsts, 1u);
  ASSERT_EQ(stats.tcp_sockets.size(), 2u);  // the listener and the half-open connection
  EXPECT_EQ(stats.tcp_sockets[0].state, tcp::TcpState::kListen);
  EXPECT_EQ(stats.tcp_sockets[1].state, tcp::TcpState::kSynReceived);
  EXPECT_TRUE(stack_.next_deadline());  // the SYN-ACK's retransmission timer
}

TEST_F(StackTest, TakesUnsegmentedTcpAndSendsLargeSegmentsForTheLinkToCut) {
  link_.offload = true;
  link_.segmentation = true;
  learn_peer();
  const auto echo = apps::start_service(*apps::parse_service("tcp:7:echo"), stack_);
  ASSERT_TRUE(echo.ok()) << echo.status();
  packet::TcpRepr peer = peer_syn(7);
  receive_ipv4(tcp_segment(peer));
  ASSERT_EQ(link_.sent.size(), 1u);
  const auto syn_ack = packet::TcpRepr::parse(
      *packet::TcpView<ConstBytes>::checked(testing::parse_ipv4(link_.sent[0].bytes)->payload),
      kOurIp, kPeerIp, packet::Checksum::kOffload);
  ASSERT_TRUE(syn_ack);
  link_.take();
  // The kernel's GSO hands over 20,000 bytes in one segment (the NIC vouching for the checksum,
  // as NEEDS_CSUM does); the echo answers with one segment as large as the initial congestion
  // window allows, to be cut into 1460-byte pieces.
  std::vector<std::byte> data(20'000, std::byte{0x5a});
  peer.flags = packet::tcp_flag::kAck;
  peer.max_segment_size.reset();
  peer.seq_number = 1001;
  peer.ack_number = syn_ack->seq_number + 1;
  peer.payload = data;
  receive(testing::ethernet_frame(kOurMac, kPeerMac, packet::ethertype::kIpv4, tcp_segment(peer)),
          /*trusted=*/true);
  std::size_t echoed = 0;
  std::size_t segmented_frames = 0;
  for (const testing::SentFrame& frame : link_.sent) {
    const auto ip = testing::parse_ipv4(frame.bytes);
    ASSERT_TRUE(ip);
    const auto view = packet::TcpView<ConstBytes>::checked(ip->payload);
    ASSERT_TRUE(view);
    echoed += ip->payload.size() - view->header_len();
    if (frame.bytes.size() > 1514) {
      ++segmented_frames;
      ASSERT_TRUE(frame.segmentation);
      ASSERT_TRUE(frame.checksum);
      EXPECT_EQ(frame.segmentation->mss, 1460);
      EXPECT_EQ(frame.segmentation->header_len, 14 + 20 + 20);
    }
  }
  EXPECT_EQ(echoed, 4380u);  // RFC 5681's initial window for an MSS of 1460
  EXPECT_EQ(segmented_frames, 1u);
  // Counted as they go on the wire: the SYN-ACK, three cut pieces, and the ACKs.
  const std::size_t acks = link_.sent.size() - 1;
  EXPECT_EQ(stack_.stats().tcp.out_segs, 1u + 3u + acks);
  // A datagram has no segmentation offload: the MTU still binds UDP.
  const std::vector<std::byte> big(1500 - 20 - 8 + 1);
  EXPECT_EQ(stack_.udp().send(5000, kPeerIp, 9, big), SendResult::kTooBig);
}

TEST_F(StackTest, BindingAPortTwiceFails) {
  ASSERT_TRUE(stack_.udp().bind(9, [](const UdpDatagram&) {}).ok());
  EXPECT_EQ(stack_.udp().bind(9, [](const UdpDatagram&) {}).code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(stack_.udp().bind(0, [](const UdpDatagram&) {}).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(StackTest, OffloadedUdpChecksumLeavesThePseudoHeaderSum) {
  learn_peer();
  link_.offload = true;
  ASSERT_TRUE(apps::start_udp_echo(stack_.udp(), 7).ok());
  receive_ipv4(testing::udp_datagram(kPeerIp, kOurIp, 40000, 7, testing::bytes_of("hello")));
  ASSERT_EQ(link_.sent.size(), 1u);
  const testing::SentFrame& sent = link_.sent[0];
  ASSERT_TRUE(sent.checksum);
  EXPECT_EQ(sent.checksum->start, 34);
  EXPECT_EQ(sent.checksum->offset, 6);
  // Completing it as the device would gives a valid datagram.
  testing::Frame frame = sent.bytes;
  const std::uint16_t sum = packet::ones_complement_sum(ConstBytes(frame).subspan(34));
  packet::write_be16(frame, 34 + 6, static_cast<std::uint16_t>(~sum));
  const auto reply = testing::parse_ipv4(frame);
  const auto view = packet::UdpView<ConstBytes>::checked(reply->payload);
  EXPECT_TRUE(view->verify_checksum(kOurIp, kPeerIp));
}

TEST_F(StackTest, BadUdpChecksumIsDroppedUnlessTheNicVouched) {
  learn_peer();
  int received = 0;
  ASSERT_TRUE(stack_.udp().bind(9, [&](const UdpDatagram&) { ++received; }).ok());
  auto datagram = testing::udp_datagram(kPeerIp, kOurIp, 40000, 9, testing::bytes_of("abc"));
  datagram[20 + 6] ^= std::byte{0x01};
  receive_ipv4(datagram);
  EXPECT_EQ(received, 0);
  EXPECT_EQ(stack_.stats().udp.in_csum_errors, 1u);
  receive(testing::ethernet_frame(kOurMac, kPeerMac, packet::ethertype::kIpv4, datagram),
          /*trusted=*/true);
  EXPECT_EQ(received, 1);
}

TEST_F(StackTest, DropsAndCountsFragments) {
  learn_peer();
  auto packet = testing::icmp_echo_request(kPeerIp, kOurIp, 1, 1, testing::bytes_of("frag"));
  auto view = *packet::Ipv4View<packet::MutableBytes>::checked(packet);
  view.set_fragment(false, true, 0);
  view.fill_checksum();
  receive_ipv4(packet);
  view.set_fragment(false, false, 8);
  view.fill_checksum();
  receive_ipv4(packet);
  EXPECT_TRUE(link_.sent.empty());
  EXPECT_EQ(stack_.stats().ipv4.in_fragments_dropped, 2u);
}

TEST_F(StackTest, CountsHeaderAndAddressErrors) {
  learn_peer();
  auto packet = testing::icmp_echo_request(kPeerIp, kOurIp, 1, 1, {});
  packet[10] ^= std::byte{0xff};  // header checksum
  receive_ipv4(packet);
  receive_ipv4(testing::icmp_echo_request(kPeerIp, Ipv4Address(10, 0, 0, 9), 1, 1, {}));
  receive(testing::ethernet_frame(MacAddress({0x02, 9, 9, 9, 9, 9}), kPeerMac,
                                  packet::ethertype::kIpv4,
                                  testing::icmp_echo_request(kPeerIp, kOurIp, 1, 1, {})));
  const StackStats stats = stack_.stats();
  EXPECT_EQ(stats.ipv4.in_hdr_errors, 1u);
  EXPECT_EQ(stats.ipv4.in_addr_errors, 1u);
  EXPECT_EQ(stats.ethernet.in_not_for_us, 1u);
  EXPECT_TRUE(link_.sent.empty());
}

TEST_F(StackTest, RoutesOffLinkThroughTheGateway) {
  const Ipv4Address far(192, 0, 2, 1);
  EXPECT_EQ(stack_.udp().send(5000, far, 9, {}), SendResult::kNoRoute);
  EXPECT_EQ(stack_.stats().ipv4.out_no_routes, 1u);
  ASSERT_TRUE(stack_.add_route(Ipv4Cidr{{}, 0}, kGatewayIp).ok());
  EXPECT_EQ(stack_.udp().send(5000, far, 9, testing::bytes_of("x")), SendResult::kQueued);
  const auto request = testing::parse_arp(link_.take().at(0).bytes);
  ASSERT_TRUE(request);
  EXPECT_EQ(request->target_ip, kGatewayIp);
  receive(testing::arp_frame(packet::kArpOperationReply, kOurMac, kGatewayMac, kGatewayIp, kOurMac,
                             kOurIp));
  const auto sent = testing::parse_ipv4(link_.take().at(0).bytes);
  ASSERT_TRUE(sent);
  EXPECT_EQ(sent->ethernet.destination, kGatewayMac);
  EXPECT_EQ(sent->ip.destination, far);
}

TEST_F(StackTest, RefusesWhatExceedsTheMtuAndWhenTheLinkIsFull) {
  learn_peer();
  const std::vector<std::byte> big(1500 - 20 - 8 + 1);
  EXPECT_EQ(stack_.udp().send(5000, kPeerIp, 9, big), SendResult::kTooBig);
  link_.full = true;
  EXPECT_EQ(stack_.udp().send(5000, kPeerIp, 9, {}), SendResult::kDropped);
  EXPECT_EQ(stack_.stats().udp.sndbuf_errors, 2u);
  EXPECT_EQ(stack_.stats().ipv4.out_discards, 2u);
}

TEST_F(StackTest, RateLimitsErrors) {
  learn_peer();
  const auto datagram = testing::udp_datagram(kPeerIp, kOurIp, 40000, 4444, {});
  for (int i = 0; i < 60; ++i) {
    receive_ipv4(datagram);
  }
  EXPECT_EQ(link_.take().size(), Icmp::kErrorBurst);
  EXPECT_EQ(stack_.stats().icmp.out_rate_limited, 60 - Icmp::kErrorBurst);
  now_ += std::chrono::milliseconds(5);
  receive_ipv4(datagram);
  EXPECT_EQ(link_.take().size(), 1u);
}

}  // namespace
}  // namespace nslab::ustack::net
