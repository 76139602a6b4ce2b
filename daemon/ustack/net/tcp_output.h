#pragma once

// TCP's segments into IPv4 on the interface: the seam between tcp/ (which knows no IP layer)
// and net/. Checksums are left to the NIC when it offers to complete them.

#include <cstddef>
#include <optional>

#include "daemon/ustack/net/interface.h"
#include "daemon/ustack/tcp/segment_output.h"

namespace nslab::ustack::net {

class TcpSegmentOutput final : public tcp::SegmentOutput {
 public:
  explicit TcpSegmentOutput(Interface& interface) : interface_(interface) {}

  bool send_segment(const tcp::FourTuple& connection, const packet::TcpRepr& segment,
                    std::uint16_t cut_payload_len) override;
  std::optional<packet::Ipv4Address> source_address_for(
      packet::Ipv4Address destination) const override;
  std::size_t mtu() const override { return interface_.config().mtu; }
  std::size_t max_offloaded_segment_len() const override {
    return interface_.max_segmented_packet_len() - kIpv4HeaderLen;
  }

 private:
  Interface& interface_;
};

}  // namespace nslab::ustack::net
