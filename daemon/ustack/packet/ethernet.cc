#include "daemon/ustack/packet/ethernet.h"

#include "daemon/ustack/packet/emit_check.h"

namespace nslab::ustack::packet {

std::optional<EthernetRepr> EthernetRepr::parse(const EthernetView<ConstBytes>& view) {
  return EthernetRepr{view.destination(), view.source(), view.ethertype()};
}

void EthernetRepr::emit(MutableBytes buffer) const {
  check_emit_buffer(buffer, buffer_len());
  auto view = EthernetView<MutableBytes>::unchecked(buffer);
  view.set_destination(destination);
  view.set_source(source);
  view.set_ethertype(ethertype);
}

}  // namespace nslab::ustack::packet
