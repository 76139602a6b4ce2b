#include "daemon/ustack/packet/arp.h"

#include "daemon/ustack/packet/emit_check.h"
#include "daemon/ustack/packet/ethernet.h"

namespace nslab::ustack::packet {

std::optional<ArpRepr> ArpRepr::parse(const ArpView<ConstBytes>& view) {
  if (view.hardware_type() != kArpHardwareEthernet || view.protocol_type() != ethertype::kIpv4 ||
      view.hardware_len() != MacAddress::kSize || view.protocol_len() != Ipv4Address::kSize) {
    return std::nullopt;
  }
  if (view.operation() != kArpOperationRequest && view.operation() != kArpOperationReply) {
    return std::nullopt;
  }
  return ArpRepr{view.operation(), MacAddress::from_bytes(view.source_hardware_address()),
                 Ipv4Address::from_bytes(view.source_protocol_address()),
                 MacAddress::from_bytes(view.target_hardware_address()),
                 Ipv4Address::from_bytes(view.target_protocol_address())};
}

void ArpRepr::emit(MutableBytes buffer) const {
  check_emit_buffer(buffer, buffer_len());
  auto view = ArpView<MutableBytes>::unchecked(buffer);
  view.set_hardware_type(kArpHardwareEthernet);
  view.set_protocol_type(ethertype::kIpv4);
  view.set_hardware_len(MacAddress::kSize);
  view.set_protocol_len(Ipv4Address::kSize);
  view.set_operation(operation);
  source_mac.write_to(view.source_hardware_address());
  source_ip.write_to(view.source_protocol_address());
  target_mac.write_to(view.target_hardware_address());
  target_ip.write_to(view.target_protocol_address());
}

}  // namespace nslab::ustack::packet
