#include "daemon/ustack/packet/udp.h"

#include <algorithm>
#include <cstring>

#include "daemon/ustack/packet/emit_check.h"

namespace nslab::ustack::packet {

std::optional<UdpRepr> UdpRepr::parse(const UdpView<ConstBytes>& view, Ipv4Address source,
                                      Ipv4Address destination, Checksum mode) {
  // Source port 0 means "no reply expected" (RFC 768); destination port 0 is reserved.
  if (view.destination_port() == 0) {
    return std::nullopt;
  }
  if (mode == Checksum::kCompute && !view.verify_checksum(source, destination)) {
    return std::nullopt;
  }
  return UdpRepr{view.source_port(), view.destination_port(), view.payload()};
}

void UdpRepr::emit(MutableBytes buffer, Ipv4Address source, Ipv4Address destination,
                   Checksum mode) const {
  check_emit_buffer(buffer, buffer_len());
  auto view = UdpView<MutableBytes>::unchecked(buffer);
  view.set_source_port(source_port);
  view.set_destination_port(destination_port);
  view.set_length(static_cast<std::uint16_t>(buffer_len()));
  if (!payload.empty()) {
    std::memmove(view.payload().data(), payload.data(), payload.size());
  }
  view.fill_checksum(source, destination, mode);
}

bool operator==(const UdpRepr& a, const UdpRepr& b) {
  return a.source_port == b.source_port && a.destination_port == b.destination_port &&
         std::ranges::equal(a.payload, b.payload);
}

}  // namespace nslab::ustack::packet
