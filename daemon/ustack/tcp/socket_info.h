#pragma once

// One row of the socket table, as `ss -tni` shows it.

#include <cstdint>
#include <optional>

#include "daemon/ustack/tcp/endpoint.h"
#include "daemon/ustack/tcp/state.h"
#include "daemon/ustack/tcp/time.h"

namespace nslab::ustack::tcp {

using SocketId = std::uint32_t;

struct TcpSocketInfo {
  SocketId id = 0;
  Endpoint local;
  Endpoint remote;  // unspecified for a listener
  TcpState state = TcpState::kClosed;
  // For a listener, as ss shows: recv_q is the accept queue, send_q its limit.
  std::uint64_t send_q = 0;  // written, not yet acknowledged
  std::uint64_t recv_q = 0;  // received, not yet read
  std::optional<Duration> rtt;
  Duration rttvar{};
  Duration rto{};
  std::uint32_t mss = 0;
  std::uint32_t cwnd = 0;  // bytes
  std::uint32_t ssthresh = 0;
  std::uint32_t send_window = 0;  // bytes, scaled
  std::uint8_t send_window_shift = 0;
  std::uint8_t receive_window_shift = 0;
  bool timestamps = false;
  bool sack = false;
  std::uint64_t retransmits = 0;  // segments, over the connection's life
  int backoff = 0;
  bool orphaned = false;  // closed by the application, still finishing
  bool no_delay = false;  // TCP_NODELAY
  bool cork = false;      // TCP_CORK
  // Send and receive buffer storage allocated now (ss -m's tb + rb are the limits; this is what
  // the connection holds of them: the buffers grow on demand and are given back once done).
  std::uint64_t buffer_bytes = 0;
};

}  // namespace nslab::ustack::tcp
