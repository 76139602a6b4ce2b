#include "daemon/ustack/tcp/reset.h"

namespace nslab::ustack::tcp {

namespace flag = packet::tcp_flag;

std::optional<packet::TcpRepr> reset_for(const packet::TcpRepr& segment) {
  if (segment.flags & flag::kRst) {
    return std::nullopt;
  }
  packet::TcpRepr reset;
  reset.source_port = segment.destination_port;
  reset.destination_port = segment.source_port;
  if (segment.flags & flag::kAck) {
    // <SEQ=SEG.ACK><CTL=RST>
    reset.seq_number = segment.ack_number;
    reset.flags = flag::kRst;
  } else {
    // <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>
    const std::uint32_t len = static_cast<std::uint32_t>(segment.payload.size()) +
                              ((segment.flags & flag::kSyn) ? 1u : 0u) +
                              ((segment.flags & flag::kFin) ? 1u : 0u);
    reset.seq_number = 0;
    reset.ack_number = segment.seq_number + len;
    reset.flags = flag::kRst | flag::kAck;
  }
  return reset;
}

}  // namespace nslab::ustack::tcp
