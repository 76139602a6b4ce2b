#include "daemon/ustack/net/icmp.h"

#include <algorithm>

#include "daemon/ustack/packet/icmp.h"
#include "daemon/ustack/packet/ip_protocol.h"
#include "daemon/ustack/packet/ipv4.h"

namespace nslab::ustack::net {

using packet::ConstBytes;
using packet::IcmpRepr;

namespace {

// An ICMP error about an ICMP error would answer one error with another, without end.
bool is_icmp_error(const Ipv4Packet& packet) {
  if (packet.protocol != packet::ip_protocol::kIcmp) {
    return false;
  }
  const auto view = packet::IcmpView<ConstBytes>::checked(packet.payload);
  return !view || (view->type() != packet::icmp_type::kEchoRequest &&
                   view->type() != packet::icmp_type::kEchoReply);
}

}  // namespace

void Icmp::receive(const Ipv4Packet& packet) {
  ++counters_.in_msgs;
  const auto view = packet::IcmpView<ConstBytes>::checked(packet.payload);
  const auto message = view ? IcmpRepr::parse(*view) : std::nullopt;
  if (!message) {
    // Also types we do not know (timestamp, redirect...): Linux counts those as InMsgs only,
    // but here nothing is done with them either way.
    ++counters_.in_errors;
    return;
  }
  switch (message->kind) {
    case IcmpRepr::Kind::kEchoRequest: {
      ++counters_.in_echos;
      // Echo to a broadcast address is ignored (Linux's icmp_echo_ignore_broadcasts).
      if (packet.to_broadcast) {
        return;
      }
      IcmpRepr reply = *message;
      reply.kind = IcmpRepr::Kind::kEchoReply;
      const SendResult result = output_.send_ipv4(
          Ipv4SendRequest{packet.source, packet.destination, packet::ip_protocol::kIcmp,
                          reply.buffer_len(), std::nullopt, std::nullopt},
          [&](packet::MutableBytes payload, packet::Ipv4Address, bool) { reply.emit(payload); });
      if (send_succeeded(result)) {
        ++counters_.out_msgs;
        ++counters_.out_echo_reps;
      }
      return;
    }
    case IcmpRepr::Kind::kEchoReply:
      ++counters_.in_echo_reps;
      return;
    case IcmpRepr::Kind::kDestinationUnreachable:
      ++counters_.in_dest_unreachs;
      return;
    case IcmpRepr::Kind::kTimeExceeded:
      return;
  }
}

bool Icmp::take_error_token(Instant now) {
  const double elapsed = std::chrono::duration<double>(now - tokens_updated_).count();
  tokens_updated_ = now;
  if (elapsed > 0) {
    error_tokens_ = std::min<double>(kErrorBurst, error_tokens_ + elapsed * kErrorsPerSecond);
  }
  if (error_tokens_ < 1) {
    return false;
  }
  error_tokens_ -= 1;
  return true;
}

void Icmp::send_destination_unreachable(const Ipv4Packet& offending, std::uint8_t code,
                                        Instant now) {
  if (offending.to_broadcast || offending.source.is_unspecified() ||
      offending.source.is_broadcast() || offending.source.is_multicast() ||
      is_icmp_error(offending)) {
    return;
  }
  if (!take_error_token(now)) {
    ++counters_.out_rate_limited;
    return;
  }
  constexpr std::size_t kRoom = kMaxErrorLen - packet::Ipv4View<ConstBytes>::kMinHeaderLen -
                                packet::IcmpView<ConstBytes>::kHeaderLen;
  IcmpRepr error;
  error.kind = IcmpRepr::Kind::kDestinationUnreachable;
  error.code = code;
  error.data = offending.datagram.first(std::min(offending.datagram.size(), kRoom));
  const SendResult result = output_.send_ipv4(
      Ipv4SendRequest{offending.source, offending.destination, packet::ip_protocol::kIcmp,
                      error.buffer_len(), std::nullopt, std::nullopt},
      [&](packet::MutableBytes payload, packet::Ipv4Address, bool) { error.emit(payload); });
  if (send_succeeded(result)) {
    ++counters_.out_msgs;
    ++counters_.out_dest_unreachs;
  }
}

}  // namespace nslab::ustack::net
