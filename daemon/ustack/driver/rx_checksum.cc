#include "daemon/ustack/driver/rx_checksum.h"

#include "daemon/ustack/packet/checksum.h"
#include "daemon/ustack/packet/ethernet.h"
#include "daemon/ustack/packet/ip_protocol.h"
#include "daemon/ustack/packet/ipv4.h"
#include "daemon/ustack/packet/udp.h"

namespace nslab::ustack::driver {

using packet::ConstBytes;

RxChecksumVerdict verify_rx_checksum(ConstBytes frame) {
  const auto ethernet = packet::EthernetView<ConstBytes>::checked(frame);
  if (!ethernet || ethernet->ethertype() != packet::ethertype::kIpv4) {
    return RxChecksumVerdict::kNotApplicable;
  }
  const auto ip = packet::Ipv4View<ConstBytes>::checked(ethernet->payload());
  if (!ip || ip->version() != 4 || ip->is_fragment()) {
    return RxChecksumVerdict::kNotApplicable;
  }
  const ConstBytes segment = ip->payload();
  const std::uint8_t protocol = ip->protocol();
  if (protocol == packet::ip_protocol::kUdp) {
    const auto udp = packet::UdpView<ConstBytes>::checked(segment);
    if (!udp || udp->checksum() == 0) {
      return RxChecksumVerdict::kNotApplicable;
    }
    return udp->verify_checksum(ip->source(), ip->destination()) ? RxChecksumVerdict::kValid
                                                                 : RxChecksumVerdict::kInvalid;
  }
  if (protocol == packet::ip_protocol::kTcp) {
    if (segment.size() < 20 || segment.size() > 0xffff) {
      return RxChecksumVerdict::kNotApplicable;
    }
    const std::uint16_t pseudo = packet::pseudo_header_sum(
        ip->source(), ip->destination(), protocol, static_cast<std::uint16_t>(segment.size()));
    return packet::ones_complement_sum(segment, pseudo) == 0xffff ? RxChecksumVerdict::kValid
                                                                  : RxChecksumVerdict::kInvalid;
  }
  return RxChecksumVerdict::kNotApplicable;
}

}  // namespace nslab::ustack::driver
