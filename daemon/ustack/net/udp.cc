#include "daemon/ustack/net/udp.h"

#include "absl/strings/str_cat.h"
#include "daemon/ustack/packet/icmp.h"
#include "daemon/ustack/packet/ip_protocol.h"
#include "daemon/ustack/packet/udp.h"

namespace nslab::ustack::net {

using packet::Checksum;
using packet::ConstBytes;

absl::Status Udp::bind(std::uint16_t port, UdpReceiver receiver) {
  if (port == 0) {
    return absl::InvalidArgumentError("UDP port 0 cannot be bound; pick 1-65535");
  }
  if (!sockets_.emplace(port, std::move(receiver)).second) {
    return absl::AlreadyExistsError(absl::StrCat("UDP port ", port, " is already bound"));
  }
  return absl::OkStatus();
}

void Udp::unbind(std::uint16_t port) { sockets_.erase(port); }

SendResult Udp::send(std::uint16_t source_port, packet::Ipv4Address destination,
                     std::uint16_t destination_port, ConstBytes payload,
                     std::optional<packet::Ipv4Address> source) {
  const packet::UdpRepr datagram{source_port, destination_port, payload};
  if (datagram.buffer_len() > 0xffff) {
    ++counters_.sndbuf_errors;
    return SendResult::kTooBig;
  }
  const SendResult result = output_.send_ipv4(
      Ipv4SendRequest{destination, source, packet::ip_protocol::kUdp, datagram.buffer_len(),
                      static_cast<std::uint16_t>(packet::udp_field::kChecksum), std::nullopt},
      [&](packet::MutableBytes out, packet::Ipv4Address chosen_source, bool offloaded) {
        datagram.emit(out, chosen_source, destination,
                      offloaded ? Checksum::kOffload : Checksum::kCompute);
      });
  if (send_succeeded(result)) {
    ++counters_.out_datagrams;
  } else {
    ++counters_.sndbuf_errors;
  }
  return result;
}

void Udp::receive(const Ipv4Packet& packet, Instant now) {
  const auto view = packet::UdpView<ConstBytes>::checked(packet.payload);
  if (!view) {
    ++counters_.in_errors;
    return;
  }
  if (!packet.checksum_trusted && !view->verify_checksum(packet.source, packet.destination)) {
    ++counters_.in_csum_errors;
    ++counters_.in_errors;
    return;
  }
  const auto datagram =
      packet::UdpRepr::parse(*view, packet.source, packet.destination, Checksum::kOffload);
  if (!datagram) {
    ++counters_.in_errors;
    return;
  }
  const auto socket = sockets_.find(datagram->destination_port);
  if (socket == sockets_.end()) {
    ++counters_.no_ports;
    icmp_.send_destination_unreachable(packet, packet::icmp_unreachable::kPortUnreachable, now);
    return;
  }
  ++counters_.in_datagrams;
  socket->second(UdpDatagram{packet.source, datagram->source_port, packet.destination,
                             datagram->destination_port, packet.to_broadcast, datagram->payload});
}

}  // namespace nslab::ustack::net
