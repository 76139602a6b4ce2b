// Every fixture, cut at every length, walked through every view and Repr: each cut that
// removes a byte the frame needs must be refused somewhere on the way down, without a read out
// of bounds (AddressSanitizer runs this over exactly sized heap copies).

#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "daemon/ustack/packet/arp.h"
#include "daemon/ustack/packet/ethernet.h"
#include "daemon/ustack/packet/icmp.h"
#include "daemon/ustack/packet/ipv4.h"
#include "daemon/ustack/packet/tcp.h"
#include "daemon/ustack/packet/udp.h"
#include "tests/unit/ustack/packet/fixtures.h"
#include "tests/unit/ustack/packet/test_util.h"

namespace nslab::ustack::packet {
namespace {

using testing::heap_copy;
using testing::view_of;

// True when the frame parses down to its last layer.
bool dissects(ConstBytes frame) {
  const auto eth = EthernetView<ConstBytes>::checked(frame);
  if (!eth || !EthernetRepr::parse(*eth)) {
    return false;
  }
  if (eth->ethertype() == ethertype::kArp) {
    const auto arp = ArpView<ConstBytes>::checked(eth->payload());
    return arp && ArpRepr::parse(*arp);
  }
  const auto ip_view = Ipv4View<ConstBytes>::checked(eth->payload());
  if (!ip_view) {
    return false;
  }
  const auto ip = Ipv4Repr::parse(*ip_view);
  if (!ip) {
    return false;
  }
  if (ip->more_fragments || ip->fragment_offset != 0) {
    return true;  // a fragment's payload is not a transport header
  }
  switch (ip->protocol) {
    case ip_protocol::kIcmp: {
      const auto icmp = IcmpView<ConstBytes>::checked(ip_view->payload());
      return icmp && IcmpRepr::parse(*icmp);
    }
    case ip_protocol::kUdp: {
      const auto udp = UdpView<ConstBytes>::checked(ip_view->payload());
      return udp && UdpRepr::parse(*udp, ip->source, ip->destination);
    }
    case ip_protocol::kTcp: {
      const auto tcp = TcpView<ConstBytes>::checked(ip_view->payload());
      return tcp && TcpRepr::parse(*tcp, ip->source, ip->destination);
    }
    default:
      return false;
  }
}

struct Case {
  std::string name;
  ConstBytes frame;
  std::size_t needed;  // bytes the frame needs; the rest is padding
};

TEST(TruncationTest, EveryCutIsRefusedAndNoneReadsPastTheEnd) {
  const Case cases[] = {
      {"tcp_syn", fixtures::bytes(fixtures::kTcpSyn), fixtures::kTcpSyn.size()},
      {"tcp_syn_ack", fixtures::bytes(fixtures::kTcpSynAck), fixtures::kTcpSynAck.size()},
      {"tcp_data", fixtures::bytes(fixtures::kTcpDataTs), fixtures::kTcpDataTs.size()},
      {"tcp_rst", fixtures::bytes(fixtures::kTcpRst), fixtures::kTcpRst.size()},
      {"tcp_sack", fixtures::bytes(fixtures::kTcpSackAck), fixtures::kTcpSackAck.size()},
      {"udp_dns", fixtures::bytes(fixtures::kUdpDnsQuery), fixtures::kUdpDnsQuery.size()},
      {"icmp_unreachable", fixtures::bytes(fixtures::kIcmpPortUnreachable),
       fixtures::kIcmpPortUnreachable.size()},
      {"icmp_echo", fixtures::bytes(fixtures::kIcmpEchoRequest), fixtures::kIcmpEchoRequest.size()},
      {"ip_options", fixtures::bytes(fixtures::kIpv4WithOptions),
       fixtures::kIpv4WithOptions.size()},
      {"ip_fragment", fixtures::bytes(fixtures::kIpv4FirstFragment),
       fixtures::kIpv4FirstFragment.size()},
      {"arp_request", fixtures::bytes(fixtures::kArpRequest), 42},
      {"arp_reply_padded", fixtures::bytes(fixtures::kArpReplyPadded), 42},
  };
  for (const Case& c : cases) {
    EXPECT_TRUE(dissects(c.frame)) << c.name;
    for (std::size_t len = 0; len < c.frame.size(); ++len) {
      const auto copy = heap_copy(c.frame.first(len));
      EXPECT_EQ(dissects(view_of(copy)), len >= c.needed) << c.name << " cut at " << len;
    }
  }
}

}  // namespace
}  // namespace nslab::ustack::packet
