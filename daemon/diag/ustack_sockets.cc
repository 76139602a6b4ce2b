#include "daemon/diag/ustack_sockets.h"

#include "daemon/diag/sockets.h"

#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace nslab::diag {
namespace {

// "10.0.0.2:80" -> address and port.
void SplitEndpoint(const std::string& text, std::string* address, uint32_t* port) {
  const size_t colon = text.rfind(':');
  *address = text.substr(0, colon);
  if (colon == std::string::npos || !absl::SimpleAtoi(text.substr(colon + 1), port)) {
    *port = 0;
  }
}

uint32_t Clamp(uint64_t value) {
  return static_cast<uint32_t>(std::min<uint64_t>(value, UINT32_MAX));
}

nslab::v1::Socket ToSocket(const nslab::v1::UstackTcpSocket& from) {
  nslab::v1::Socket socket;
  socket.set_protocol("tcp");
  socket.set_family("inet");
  socket.set_state(from.state());
  socket.set_recv_q(Clamp(from.recv_q()));
  socket.set_send_q(Clamp(from.send_q()));
  std::string address;
  uint32_t port = 0;
  SplitEndpoint(from.local(), &address, &port);
  socket.set_local_address(address);
  socket.set_local_port(port);
  SplitEndpoint(from.remote(), &address, &port);
  // ss prints a listener's peer as *:*, which is what 0.0.0.0 port 0 prints as.
  socket.set_peer_address(address);
  socket.set_peer_port(port);
  nslab::v1::TcpInfo* tcp = socket.mutable_tcp();
  tcp->set_rtt_us(Clamp(from.rtt_us()));
  tcp->set_rttvar_us(Clamp(from.rttvar_us()));
  tcp->set_rto_us(Clamp(from.rto_us()));
  tcp->set_snd_mss(from.mss());
  // tcp_info counts cwnd and ssthresh in segments; the stack keeps bytes.
  const uint32_t mss = std::max<uint32_t>(from.mss(), 1);
  tcp->set_snd_cwnd(from.cwnd() / mss);
  tcp->set_snd_ssthresh(from.ssthresh() / mss);
  tcp->set_retransmits(from.backoff());
  tcp->set_total_retrans(Clamp(from.retransmits()));
  tcp->set_congestion("reno");
  tcp->set_nodelay(from.no_delay());
  tcp->set_cork(from.cork());
  return socket;
}

}  // namespace

absl::StatusOr<nslab::v1::SocketsResponse> SocketsFromUstack(const nslab::v1::UstackStats& stats,
                                                             const SocketFilter& filter) {
  auto checked = CheckedFilterState(filter);
  if (!checked.ok()) {
    return checked.status();
  }
  const std::string state = *std::move(checked);
  nslab::v1::SocketsResponse list;
  if (filter.protocol == "udp") {
    return list;
  }
  for (const auto& row : stats.tcp_sockets()) {
    nslab::v1::Socket socket = ToSocket(row);
    if (!state.empty() && absl::AsciiStrToLower(socket.state()) != state) {
      continue;
    }
    if (filter.port != 0 && socket.local_port() != filter.port &&
        socket.peer_port() != filter.port) {
      continue;
    }
    *list.add_sockets() = std::move(socket);
  }
  AddStateSummary(&list);
  return list;
}

}  // namespace nslab::diag
