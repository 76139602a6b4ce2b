#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "daemon/diag/nftrace.h"
#include "daemon/diag/trace_nat.h"
#include "daemon/diag/trace_packet.h"
#include "daemon/diag/trace_walk.h"
#include "nslab/v1/diag.pb.h"

namespace nslab::diag {

// "family table handle": how a trace event names the rule it passed.
std::string TableKey(const std::string& family, const std::string& table, uint64_t handle);

// What one node's nftables trace recorded, and the text of its rules by handle.
struct NodeEvents {
  std::vector<TraceEvent> events;
  // The trace's own table: its events show packets as they enter (prerouting) or leave
  // (output), before any translation; they are evidence, not something to report.
  std::string own_table;
  std::map<std::string, std::string> rule_text;  // TableKey -> rule
};

// Follows the probe through the translations of each hop (the node's connection table, or,
// for a connection the kernel dropped or forgot, its trace events' headers) and walks again
// from a hop that rewrote the packet. Returns every form the probe took, the source's first.
absl::StatusOr<std::vector<FlowForm>> FollowTranslations(
    NodeNamespaces& namespaces, const LabMap& map, const Probe& probe,
    const std::map<std::string, NodeEvents>& events, std::vector<nslab::v1::TraceHop>* hops);

// "10.0.0.10:8080": the probe's last destination (after every dnat).
std::string AnsweredBy(const Probe& probe, const std::vector<FlowForm>& forms);

// " (the probe to 198.51.100.1:80, after dnat at gw)", or "" when nothing was translated.
std::string TranslatedNote(const Probe& probe, const std::vector<nslab::v1::TraceHop>& hops,
                           const std::vector<FlowForm>& forms);

}  // namespace nslab::diag
