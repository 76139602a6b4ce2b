#include "daemon/ustack/packet/ipv4.h"

#include "daemon/ustack/packet/emit_check.h"

namespace nslab::ustack::packet {

std::optional<Ipv4Repr> Ipv4Repr::parse(const Ipv4View<ConstBytes>& view) {
  if (view.version() != 4 || !view.verify_checksum()) {
    return std::nullopt;
  }
  Ipv4Repr repr;
  repr.source = view.source();
  repr.destination = view.destination();
  repr.protocol = view.protocol();
  repr.payload_len = static_cast<std::uint16_t>(view.total_len() - view.header_len());
  repr.ttl = view.ttl();
  repr.dscp = view.dscp();
  repr.ecn = view.ecn();
  repr.ident = view.ident();
  repr.dont_fragment = view.dont_fragment();
  repr.more_fragments = view.more_fragments();
  repr.fragment_offset = view.fragment_offset();
  return repr;
}

void Ipv4Repr::emit(MutableBytes buffer) const {
  check_emit_buffer(buffer, buffer_len());
  auto view = Ipv4View<MutableBytes>::unchecked(buffer);
  view.set_version_and_header_len(4, buffer_len());
  view.set_dscp_ecn(dscp, ecn);
  view.set_total_len(static_cast<std::uint16_t>(buffer_len() + payload_len));
  view.set_ident(ident);
  view.set_fragment(dont_fragment, more_fragments, fragment_offset);
  view.set_ttl(ttl);
  view.set_protocol(protocol);
  view.set_source(source);
  view.set_destination(destination);
  view.fill_checksum();
}

}  // namespace nslab::ustack::packet
