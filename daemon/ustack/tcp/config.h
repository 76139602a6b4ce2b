#pragma once

// What a TCP instance and each of its sockets may be tuned with. Defaults follow Linux where it
// has a knob (net.ipv4.tcp_*), and the RFCs where it does not.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>

#include "daemon/ustack/tcp/endpoint.h"
#include "daemon/ustack/tcp/time.h"

namespace nslab::ustack::tcp {

using std::chrono::milliseconds;
using std::chrono::seconds;

// Linux's default net.core.somaxconn (since 5.4): what listen() clamps its backlog to, and the
// backlog the built-in apps listen with.
inline constexpr std::size_t kDefaultMaxListenBacklog = 4096;

// Per socket; a listener's options are inherited by the connections it accepts.
struct SocketOptions {
  std::size_t send_buffer_size = 256 * 1024;     // SO_SNDBUF
  std::size_t receive_buffer_size = 256 * 1024;  // SO_RCVBUF
  bool no_delay = false;                         // TCP_NODELAY: Nagle off
  // TCP_CORK: partial segments wait for more data, the uncork, or kCorkCeiling; full ones go.
  bool cork = false;
  bool keep_alive = false;                     // SO_KEEPALIVE
  Duration keep_alive_idle = seconds(7200);    // TCP_KEEPIDLE
  Duration keep_alive_interval = seconds(75);  // TCP_KEEPINTVL
  int keep_alive_probes = 9;                   // TCP_KEEPCNT
};

// How long corked data (TCP_CORK, or a write flagged kMore) may wait for the rest of its segment:
// Linux's ceiling, tcp(7).
inline constexpr Duration kCorkCeiling = milliseconds(200);

struct TcpConfig {
  SocketOptions socket_defaults;
  // Maximum segment lifetime; TIME_WAIT lasts twice this (Linux: 60 s in all).
  Duration msl = seconds(30);
  // Orphaned connections (closed by the application) give up in FIN_WAIT_2 after this.
  Duration fin_wait_2_timeout = seconds(60);
  // RFC 6298: initial 1 s, minimum 1 s (Linux uses 200 ms), maximum at least 60 s.
  Duration initial_rto = seconds(1);
  Duration min_rto = milliseconds(200);
  Duration max_rto = seconds(120);
  Duration delayed_ack_timeout = milliseconds(40);
  int syn_retries = 6;       // net.ipv4.tcp_syn_retries
  int synack_retries = 5;    // net.ipv4.tcp_synack_retries
  int max_retransmits = 15;  // net.ipv4.tcp_retries2
  bool window_scaling = true;
  bool timestamps = true;
  bool sack = true;
  std::string_view congestion_control = "newreno";
  // Hash key for initial sequence numbers (RFC 6528); set per instance.
  std::uint64_t isn_secret = 0x6e736c6162746370;
  // Replaces the RFC 6528 generator (tests choose ISNs near 2^32 with it).
  std::function<std::uint32_t(const FourTuple&, Instant)> isn_override;
  // net.core.somaxconn: listen() clamps its backlog to this.
  std::size_t max_listen_backlog = kDefaultMaxListenBacklog;
  // Range of ports connect() picks from when none is given.
  std::uint16_t ephemeral_port_first = 32768;
  std::uint16_t ephemeral_port_last = 60999;
};

}  // namespace nslab::ustack::tcp
