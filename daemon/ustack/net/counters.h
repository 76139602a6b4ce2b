#pragma once

// Per-layer counters, named after /proc/net/snmp where Linux has a name for the thing. Only
// the stack's thread touches them; others read a copy taken on that thread.

#include <cstdint>

namespace nslab::ustack::net {

struct EthernetCounters {
  std::uint64_t in_frames = 0;
  std::uint64_t in_malformed = 0;          // shorter than an Ethernet header
  std::uint64_t in_not_for_us = 0;         // another unicast MAC, or a multicast group
  std::uint64_t in_unknown_ethertype = 0;  // not ARP or IPv4
  std::uint64_t out_frames = 0;
};

struct ArpCounters {
  std::uint64_t requests_sent = 0;
  std::uint64_t replies_sent = 0;
  std::uint64_t requests_received = 0;
  std::uint64_t replies_received = 0;
  std::uint64_t gratuitous_sent = 0;
  std::uint64_t malformed = 0;
  std::uint64_t resolution_failures = 0;
  std::uint64_t pending_dropped = 0;
};

struct Ipv4Counters {
  std::uint64_t in_receives = 0;
  std::uint64_t in_hdr_errors = 0;
  std::uint64_t in_addr_errors = 0;
  std::uint64_t in_unknown_protos = 0;
  std::uint64_t in_delivers = 0;
  std::uint64_t in_fragments_dropped = 0;
  std::uint64_t out_requests = 0;
  std::uint64_t out_no_routes = 0;
  std::uint64_t out_discards = 0;
};

struct IcmpCounters {
  std::uint64_t in_msgs = 0;
  std::uint64_t in_errors = 0;
  std::uint64_t in_echos = 0;
  std::uint64_t in_echo_reps = 0;
  std::uint64_t in_dest_unreachs = 0;
  std::uint64_t out_msgs = 0;
  std::uint64_t out_echo_reps = 0;
  std::uint64_t out_dest_unreachs = 0;
  std::uint64_t out_rate_limited = 0;  // errors not sent: over the rate limit
};

struct UdpCounters {
  std::uint64_t in_datagrams = 0;
  std::uint64_t no_ports = 0;
  std::uint64_t in_errors = 0;
  std::uint64_t in_csum_errors = 0;
  std::uint64_t out_datagrams = 0;
  std::uint64_t sndbuf_errors = 0;
};

}  // namespace nslab::ustack::net
