#pragma once

#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "absl/status/statusor.h"
#include "daemon/common/fd.h"
#include "daemon/diag/trace_packet.h"
#include "daemon/lab/lab_registry.h"
#include "nslab/v1/diag.pb.h"

namespace nslab::diag {

// The route walk of a trace: which nodes a probe passes through, as each node's kernel
// decides, over the wiring the topology describes.

inline constexpr int kMaxTraceHops = 16;

struct EndpointRef {
  std::string node;
  std::string interface;
  bool operator<(const EndpointRef& other) const {
    return std::tie(node, interface) < std::tie(other.node, other.interface);
  }
};

// What the topology says about addresses and wiring.
struct LabMap {
  std::map<std::string, EndpointRef> owners;  // address -> endpoint
  std::map<EndpointRef, EndpointRef> peers;   // endpoint -> the other end of its link
  std::map<std::string, nslab::v1::NodeKind> kinds;
  std::map<std::string, std::vector<std::string>> node_addresses;
};

LabMap MapOf(const nslab::v1::Topology& topology);

bool IsIpv4(const std::string& text);

class NodeNamespaces {
 public:
  NodeNamespaces(lab::LabRegistry* labs, std::string lab) : labs_(labs), lab_(std::move(lab)) {}

  // The node's namespace, opened at the first call.
  absl::StatusOr<int> Get(const std::string& node);

 private:
  lab::LabRegistry* labs_;
  std::string lab_;
  std::map<std::string, UniqueFd> open_;
};

// The route walk for `form` from `node`, where it arrives on `input` (empty at the source):
// one hop per node, as each node's kernel decides (RTM_GETROUTE with the packet's addresses
// and input interface), until local delivery, a dead end, a next hop outside the lab, a loop,
// or `max_hops`.
absl::Status Walk(NodeNamespaces& namespaces, const LabMap& map, std::string node,
                  std::string input, const FlowForm& form, int max_hops,
                  std::vector<nslab::v1::TraceHop>* hops);

}  // namespace nslab::diag
