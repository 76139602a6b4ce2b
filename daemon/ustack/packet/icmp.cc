#include "daemon/ustack/packet/icmp.h"

#include <algorithm>
#include <cstring>

#include "daemon/ustack/packet/emit_check.h"

namespace nslab::ustack::packet {

std::optional<IcmpRepr> IcmpRepr::parse(const IcmpView<ConstBytes>& view) {
  if (!view.verify_checksum()) {
    return std::nullopt;
  }
  IcmpRepr repr;
  repr.code = view.code();
  repr.data = view.data();
  switch (view.type()) {
    case icmp_type::kEchoRequest:
    case icmp_type::kEchoReply:
      if (view.code() != 0) {
        return std::nullopt;
      }
      repr.kind = view.type() == icmp_type::kEchoRequest ? Kind::kEchoRequest : Kind::kEchoReply;
      repr.echo_ident = view.echo_ident();
      repr.echo_seq = view.echo_seq();
      return repr;
    case icmp_type::kDestinationUnreachable:
      if (view.code() > icmp_unreachable::kMaxCode) {
        return std::nullopt;
      }
      repr.kind = Kind::kDestinationUnreachable;
      repr.next_hop_mtu = view.next_hop_mtu();
      return repr;
    case icmp_type::kTimeExceeded:
      if (view.code() > 1) {
        return std::nullopt;
      }
      repr.kind = Kind::kTimeExceeded;
      return repr;
    default:
      return std::nullopt;
  }
}

void IcmpRepr::emit(MutableBytes buffer) const {
  check_emit_buffer(buffer, buffer_len());
  auto view = IcmpView<MutableBytes>::unchecked(buffer.first(buffer_len()));
  switch (kind) {
    case Kind::kEchoRequest:
    case Kind::kEchoReply:
      view.set_type(kind == Kind::kEchoRequest ? icmp_type::kEchoRequest : icmp_type::kEchoReply);
      view.set_rest_of_header(std::uint32_t{echo_ident} << 16 | echo_seq);
      break;
    case Kind::kDestinationUnreachable:
      view.set_type(icmp_type::kDestinationUnreachable);
      view.set_rest_of_header(next_hop_mtu);
      break;
    case Kind::kTimeExceeded:
      view.set_type(icmp_type::kTimeExceeded);
      view.set_rest_of_header(0);
      break;
  }
  view.set_code(code);
  // memmove: the data may already sit in place (a reply built over its request).
  if (!data.empty()) {
    std::memmove(view.data().data(), data.data(), data.size());
  }
  view.fill_checksum();
}

bool operator==(const IcmpRepr& a, const IcmpRepr& b) {
  return a.kind == b.kind && a.code == b.code && a.echo_ident == b.echo_ident &&
         a.echo_seq == b.echo_seq && a.next_hop_mtu == b.next_hop_mtu &&
         std::ranges::equal(a.data, b.data);
}

}  // namespace nslab::ustack::packet
