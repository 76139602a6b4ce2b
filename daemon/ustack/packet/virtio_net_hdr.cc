#include "daemon/ustack/packet/virtio_net_hdr.h"

#include "daemon/ustack/packet/emit_check.h"

namespace nslab::ustack::packet {
namespace {

bool known_gso_type(std::uint8_t gso_type) {
  switch (gso_type & ~virtio_net_gso::kEcn) {
    case virtio_net_gso::kNone:
      return (gso_type & virtio_net_gso::kEcn) == 0;
    case virtio_net_gso::kTcpV4:
    case virtio_net_gso::kTcpV6:
      return true;
    case virtio_net_gso::kUdp:
    case virtio_net_gso::kUdpL4:
      return (gso_type & virtio_net_gso::kEcn) == 0;
    default:
      return false;
  }
}

}  // namespace

std::optional<VirtioNetHdrRepr> VirtioNetHdrRepr::parse(const VirtioNetHdrView<ConstBytes>& view) {
  if ((view.flags() & ~virtio_net_flag::kKnown) != 0 || !known_gso_type(view.gso_type())) {
    return std::nullopt;
  }
  if (view.gso_type() != virtio_net_gso::kNone && view.gso_size() == 0) {
    return std::nullopt;
  }
  return VirtioNetHdrRepr{view.flags(),      view.gso_type(),    view.hdr_len(),    view.gso_size(),
                          view.csum_start(), view.csum_offset(), view.num_buffers()};
}

void VirtioNetHdrRepr::emit(MutableBytes buffer) const {
  check_emit_buffer(buffer, buffer_len());
  auto view = VirtioNetHdrView<MutableBytes>::unchecked(buffer, size());
  view.set_flags(flags);
  view.set_gso_type(gso_type);
  view.set_hdr_len(hdr_len);
  view.set_gso_size(gso_size);
  view.set_csum_start(csum_start);
  view.set_csum_offset(csum_offset);
  if (num_buffers) {
    view.set_num_buffers(*num_buffers);
  }
}

}  // namespace nslab::ustack::packet
