#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "daemon/common/fd.h"
#include "daemon/diag/capture.h"
#include "daemon/diag/routing.h"
#include "daemon/diag/sockets.h"
#include "daemon/lab/lab_registry.h"
#include "nslab/v1/diag.pb.h"

namespace nslab::diag {

// The per-layer views of a node of a running lab: each opens the node's namespace and
// reads the kernel's own tables (no tool is forked). NOT_FOUND names a missing lab or node.
class DiagEngine {
 public:
  explicit DiagEngine(lab::LabRegistry* labs) : labs_(labs) {}

  absl::StatusOr<nslab::v1::SocketsResponse> Sockets(const std::string& lab,
                                                     const std::string& node,
                                                     const SocketFilter& filter) const;
  absl::StatusOr<nslab::v1::RouteGetResponse> RouteGet(const std::string& lab,
                                                       const std::string& node,
                                                       const RouteQuery& query) const;
  absl::StatusOr<nslab::v1::RoutesResponse> Routes(const std::string& lab,
                                                   const std::string& node) const;
  absl::StatusOr<nslab::v1::ConntrackResponse> Conntrack(const std::string& lab,
                                                         const std::string& node) const;
  absl::StatusOr<nslab::v1::QdiscsResponse> Qdiscs(const std::string& lab, const std::string& node,
                                                   const std::string& interface) const;
  absl::StatusOr<nslab::v1::LinksResponse> Links(const std::string& lab,
                                                 const std::string& node) const;
  absl::StatusOr<nslab::v1::NeighboursResponse> Neighbours(const std::string& lab,
                                                           const std::string& node) const;
  // Every layer of every node, gathered in parallel.
  absl::StatusOr<nslab::v1::SnapshotResponse> Snapshot(const std::string& lab) const;

  // An armed capture on a node's interface.
  absl::StatusOr<PacketCapture> OpenCapture(const std::string& lab, const std::string& node,
                                            const CaptureOptions& options) const;

  absl::StatusOr<nslab::v1::TraceResponse> Trace(const nslab::v1::TraceRequest& request) const;

 private:
  absl::StatusOr<UniqueFd> OpenNode(const std::string& lab, const std::string& node) const;

  lab::LabRegistry* labs_;
};

// The firewall of the namespace with counters (`nft -a list ruleset`, parsed).
absl::StatusOr<nslab::v1::Firewall> ReadFirewall(int netns_fd);

}  // namespace nslab::diag
