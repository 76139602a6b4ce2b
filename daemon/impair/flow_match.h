#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "nslab/v1/topology.pb.h"

namespace nslab::impair {

// A FlowMatch's text is at most this long: a match is a few words, and the text comes from
// API callers.
inline constexpr size_t kMaxFlowMatchTextBytes = 512;

// Reads a match said as nftables says it. Clauses, in any order, separated by whitespace:
//   ip saddr CIDR | ip daddr CIDR | ip6 saddr CIDR | ip6 daddr CIDR
//   tcp | udp | sctp | icmp | icmpv6
//   sport PORTS | dport PORTS    (after tcp, udp or sctp; PORTS is P or P-Q, 1..65535)
// A bare address is a /32 or /128. Each field at most once; addresses and icmp/icmpv6 of one
// family. The result is canonical (CanonicalFlowMatch). Errors are INVALID_ARGUMENT naming the
// word, its 1-based position and what was expected.
absl::StatusOr<nslab::v1::FlowMatch> ParseFlowMatch(std::string_view text);

// Checks the structured form, as gRPC clients send it, by the rules ParseFlowMatch applies to
// the text. An empty FlowMatch (all traffic) is valid here, though it has no text. Errors are
// INVALID_ARGUMENT naming the field (match.destination_port.first, ...).
absl::Status ValidateFlowMatch(const nslab::v1::FlowMatch& match);

// The one form of each valid match that ParseFlowMatch returns and FlowMatchText prints:
// addresses in their shortest text (RFC 5952 for IPv6), a /32 or /128 written as the bare
// address, any other prefix as network/prefix; a port range of one port as {first, last: 0}.
// Fields it cannot read are left as they are.
nslab::v1::FlowMatch CanonicalFlowMatch(const nslab::v1::FlowMatch& match);

// The canonical text, in the order `ip|ip6 saddr`, `ip|ip6 daddr`, protocol, `sport`,
// `dport`: ParseFlowMatch(FlowMatchText(m)) equals CanonicalFlowMatch(m) for every valid,
// non-empty m. The empty match prints "".
std::string FlowMatchText(const nslab::v1::FlowMatch& match);

// A 64-bit digest of the canonical text (FNV-1a), the same on every platform and run, so that
// a flow's random stream depends on what it matches and not on how the match was spelled.
uint64_t FlowMatchKey(const nslab::v1::FlowMatch& match);

// A match compiled for the data path: Matches() reads only the frame's bytes, never past its
// end, and allocates nothing.
//
// The frame is Ethernet (up to two 802.1Q/802.1ad tags looked through) carrying IPv4 or IPv6
// (after hop-by-hop, routing and destination-options headers). Ports are read from the first
// four bytes of TCP, UDP and SCTP headers. A fragment (IPv4 more-fragments or an offset; any
// IPv6 fragment header) carries no ports: a port condition does not hold for it, address and
// protocol conditions still do. A frame cut short of what a condition reads does not match.
// Non-IP frames (ARP, LLDP, ...) match only the empty match, which matches every frame.
class FlowMatcher {
 public:
  static absl::StatusOr<FlowMatcher> Compile(const nslab::v1::FlowMatch& match);

  bool Matches(std::span<const std::byte> frame) const;

 private:
  // Addresses are compared a byte at a time under a mask, so that a frame's address is read in
  // place: IPv4 uses the first 4 bytes.
  struct Prefix {
    bool any = true;
    std::array<uint8_t, 16> network{};
    std::array<uint8_t, 16> mask{};
    bool Holds(const std::byte* address, size_t length) const;
  };
  struct Ports {
    bool any = true;
    uint16_t first = 0;
    uint16_t last = 0;
    bool Holds(uint16_t port) const { return any || (port >= first && port <= last); }
  };

  FlowMatcher() = default;

  bool matches_everything_ = true;
  uint8_t ip_version_ = 0;  // 4 or 6 when an address or icmp/icmpv6 fixes it; 0 for either
  int protocol_ = -1;       // IP protocol number; -1 for any
  Prefix source_;
  Prefix destination_;
  Ports source_port_;
  Ports destination_port_;
};

}  // namespace nslab::impair
