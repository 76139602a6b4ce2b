#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "daemon/common/fd.h"

namespace nslab::diag {

// One nftables trace event (`nft monitor trace`): a rule, a chain's policy or a return
// that decided something about a traced packet.
struct TraceEvent {
  uint32_t id = 0;     // same for every event of one packet
  std::string family;  // table family: "ip", "inet", "netdev", ...
  std::string table;
  std::string chain;
  uint64_t handle = 0;         // rule handle; 0 for a policy
  int type = 0;                // NFT_TRACETYPE_RULE / POLICY / RETURN
  int verdict = -1;            // NF_DROP (0), NF_ACCEPT (1), NFT_CONTINUE (-1), NFT_JUMP (-3), ...
  std::string verdict_chain;   // for jump/goto
  std::string network_header;  // the packet's IP header as the hook saw it
  std::string transport_header;  // and its TCP/UDP/ICMP header
  // The packet's direction in its connection (IP_CT_DIR_ORIGINAL 0, IP_CT_DIR_REPLY 1), or -1
  // where the kernel does not say (NFTA_TRACE_CT_DIRECTION is newer than Linux 6.1).
  int ct_direction = -1;
};

// "drop", "accept", "continue", "jump", "goto", "return", "break", "queue", "stolen".
std::string VerdictName(int verdict);

// Traces packets through nftables in one namespace: a temporary table
// `inet nslab_trace_<tag>` marks the matching packets (`meta nftrace set 1`) at the
// first hooks (prerouting, output) and trace events are read from NFNLGRP_NFTRACE on a
// socket of that namespace. The table is deleted when the session ends.
class NftraceSession {
 public:
  // `matches` are nft match expressions, one rule each, e.g.
  // "ip daddr 10.0.0.2 tcp dport 80".
  static absl::StatusOr<std::unique_ptr<NftraceSession>> Start(
      int netns_fd, const std::string& tag, const std::vector<std::string>& matches);
  ~NftraceSession();

  const std::string& table() const { return table_; }

  // Every event received so far (non-blocking).
  std::vector<TraceEvent> Drain();

 private:
  NftraceSession(UniqueFd netns, UniqueFd events, std::string table)
      : netns_(std::move(netns)), events_(std::move(events)), table_(std::move(table)) {}
  UniqueFd netns_;
  UniqueFd events_;
  std::string table_;
};

}  // namespace nslab::diag
