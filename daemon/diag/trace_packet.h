#pragma once

#include <pcap/pcap.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace nslab::diag {

// One parsed IPv4 packet, from a capture or from an nftables trace event.
struct Packet {
  bool ok = false;
  std::string src, dst;
  int protocol = 0;
  uint16_t sport = 0, dport = 0;  // TCP and UDP
  uint8_t tcp_flags = 0;
  uint8_t icmp_type = 0, icmp_code = 0;
  uint16_t echo_id = 0;
};

// An IPv4 packet from its first byte (header and whatever follows of the transport).
Packet ParseIpv4(const u_char* data, size_t len);
// A captured frame of `link_type` (Ethernet, Linux cooked, raw IP).
Packet ParseFrame(int link_type, const u_char* data, size_t len);
// An nftables trace event's separate network and transport headers.
Packet ParseHeaders(std::string_view network, std::string_view transport);

// "icmp port-unreachable", "icmp time-exceeded", "reply" (echo reply), ...
std::string IcmpName(uint8_t type, uint8_t code);

struct Probe {
  std::string protocol;  // "tcp", "udp", "icmp"
  std::string destination;
  uint16_t port = 0;
  uint16_t source_port = 0;  // or the ICMP echo id
};

// The probe's IP protocol number: IPPROTO_TCP, IPPROTO_UDP or IPPROTO_ICMP.
int IpProtocolOf(const Probe& probe);

// One form the probe's flow takes on its way: NAT rewrites addresses and ports, so a hop
// after a translation sees another form than the source sent. For ICMP echo both ports hold
// the echo id.
struct FlowForm {
  std::string src, dst;
  uint16_t sport = 0, dport = 0;
  bool operator==(const FlowForm& other) const = default;
};

enum class PacketDirection { kUnrelated, kProbe, kAnswer };

// Which way `p` travels relative to the probe: the probe in one of its `forms`, an answer
// to one of them (the reversed form, or an ICMP error sent back to a form's source), or
// neither.
PacketDirection DirectionOf(const Probe& probe, const std::vector<FlowForm>& forms,
                            const Packet& p);

// What an answer packet says: "reply", "rst", "icmp ...", or "" for an echo reply to a TCP or
// UDP probe (not an answer to it).
std::string AnswerOf(const Probe& probe, const Packet& p);

}  // namespace nslab::diag
