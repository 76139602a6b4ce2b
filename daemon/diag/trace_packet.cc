#include "daemon/diag/trace_packet.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <netinet/tcp.h>

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace nslab::diag {
namespace {

std::string Ip(const void* raw) {
  char text[INET_ADDRSTRLEN] = {};
  ::inet_ntop(AF_INET, raw, text, sizeof(text));
  return text;
}

}  // namespace

Packet ParseIpv4(const u_char* data, size_t len) {
  Packet packet;
  if (len < 20 || (data[0] >> 4) != 4) {
    return packet;
  }
  const size_t ihl = (data[0] & 0x0f) * 4u;
  if (ihl < 20 || len < ihl) {
    return packet;
  }
  packet.ok = true;
  packet.protocol = data[9];
  packet.src = Ip(data + 12);
  packet.dst = Ip(data + 16);
  const u_char* l4 = data + ihl;
  const size_t l4_len = len - ihl;
  if ((packet.protocol == IPPROTO_TCP || packet.protocol == IPPROTO_UDP) && l4_len >= 4) {
    packet.sport = static_cast<uint16_t>(l4[0] << 8 | l4[1]);
    packet.dport = static_cast<uint16_t>(l4[2] << 8 | l4[3]);
    if (packet.protocol == IPPROTO_TCP && l4_len >= 14) {
      packet.tcp_flags = l4[13];
    }
  } else if (packet.protocol == IPPROTO_ICMP && l4_len >= 8) {
    packet.icmp_type = l4[0];
    packet.icmp_code = l4[1];
    packet.echo_id = static_cast<uint16_t>(l4[4] << 8 | l4[5]);
  }
  return packet;
}

Packet ParseFrame(int link_type, const u_char* data, size_t len) {
  size_t offset = 0;
  uint16_t ethertype = 0;
  if (link_type == DLT_EN10MB) {
    if (len < 14) {
      return {};
    }
    ethertype = static_cast<uint16_t>(data[12] << 8 | data[13]);
    offset = 14;
    if (ethertype == 0x8100 && len >= 18) {
      ethertype = static_cast<uint16_t>(data[16] << 8 | data[17]);
      offset = 18;
    }
  } else if (link_type == DLT_LINUX_SLL) {
    if (len < 16) {
      return {};
    }
    ethertype = static_cast<uint16_t>(data[14] << 8 | data[15]);
    offset = 16;
  } else {
    ethertype = 0x0800;  // raw IP
  }
  if (ethertype != 0x0800) {
    return {};
  }
  return ParseIpv4(data + offset, len - offset);
}

std::string IcmpName(uint8_t type, uint8_t code) {
  if (type == ICMP_DEST_UNREACH) {
    switch (code) {
      case ICMP_NET_UNREACH:
        return "icmp net-unreachable";
      case ICMP_HOST_UNREACH:
        return "icmp host-unreachable";
      case ICMP_PROT_UNREACH:
        return "icmp prot-unreachable";
      case ICMP_PORT_UNREACH:
        return "icmp port-unreachable";
      case ICMP_NET_ANO:
        return "icmp net-prohibited";
      case ICMP_HOST_ANO:
        return "icmp host-prohibited";
      case ICMP_PKT_FILTERED:
        return "icmp admin-prohibited";
      case ICMP_FRAG_NEEDED:
        return "icmp frag-needed";
      default:
        return absl::StrCat("icmp unreachable code ", code);
    }
  }
  if (type == ICMP_TIME_EXCEEDED) {
    return "icmp time-exceeded";
  }
  if (type == ICMP_ECHOREPLY) {
    return "reply";
  }
  return absl::StrCat("icmp type ", type);
}

// What came back, from an answer packet: "reply", "rst", "icmp ...".
std::string AnswerOf(const Probe& probe, const Packet& p) {
  if (p.protocol == IPPROTO_ICMP) {
    if (p.icmp_type == ICMP_ECHOREPLY && probe.protocol != "icmp") {
      return "";
    }
    return IcmpName(p.icmp_type, p.icmp_code);
  }
  if (p.protocol == IPPROTO_TCP) {
    return (p.tcp_flags & TH_RST) != 0 ? "rst" : "reply";
  }
  return "reply";
}

Packet ParseHeaders(std::string_view network, std::string_view transport) {
  // Reassembled as one buffer: the transport header right after the IP header.
  std::string joined(network);
  if (!joined.empty()) {
    const size_t ihl = (static_cast<unsigned char>(joined[0]) & 0x0f) * 4u;
    joined.resize(std::max(joined.size(), ihl));
  }
  joined.append(transport);
  return ParseIpv4(reinterpret_cast<const u_char*>(joined.data()), joined.size());
}

int IpProtocolOf(const Probe& probe) {
  return probe.protocol == "icmp"  ? IPPROTO_ICMP
         : probe.protocol == "tcp" ? IPPROTO_TCP
                                   : IPPROTO_UDP;
}

PacketDirection DirectionOf(const Probe& probe, const std::vector<FlowForm>& forms,
                            const Packet& p) {
  if (!p.ok) {
    return PacketDirection::kUnrelated;
  }
  const bool icmp_probe = probe.protocol == "icmp";
  const int protocol = IpProtocolOf(probe);
  if (p.protocol == IPPROTO_ICMP &&
      (p.icmp_type == ICMP_DEST_UNREACH || p.icmp_type == ICMP_TIME_EXCEEDED)) {
    // An error about the probe goes back to where some form of it came from.
    for (const FlowForm& form : forms) {
      if (p.dst == form.src) {
        return PacketDirection::kAnswer;
      }
    }
    return PacketDirection::kUnrelated;
  }
  if (p.protocol != protocol) {
    return PacketDirection::kUnrelated;
  }
  const bool request = !icmp_probe || p.icmp_type == ICMP_ECHO;
  const bool reply = !icmp_probe || p.icmp_type == ICMP_ECHOREPLY;
  const FlowForm seen{p.src, p.dst, icmp_probe ? p.echo_id : p.sport,
                      icmp_probe ? p.echo_id : p.dport};
  for (const FlowForm& form : forms) {
    if (request && seen == form) {
      return PacketDirection::kProbe;
    }
    if (reply && seen == FlowForm{form.dst, form.src, form.dport, form.sport}) {
      return PacketDirection::kAnswer;
    }
  }
  return PacketDirection::kUnrelated;
}

}  // namespace nslab::diag
