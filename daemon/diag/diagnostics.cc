#include "daemon/diag/diagnostics.h"

#include <google/protobuf/util/time_util.h>

#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "daemon/common/parallel.h"
#include "daemon/diag/conntrack.h"
#include "daemon/diag/kernel_tables.h"
#include "daemon/diag/own_counters.h"
#include "daemon/diag/trace.h"
#include "daemon/diag/ustack_sockets.h"
#include "daemon/lab/ustack_control.h"
#include "daemon/netns/netns.h"
#include "daemon/nft/ruleset.h"
#include "daemon/nft/ruleset_listing.h"

namespace nslab::diag {

absl::StatusOr<nslab::v1::Firewall> ReadFirewall(int netns_fd) {
  auto listing = nft::ListRuleset(netns_fd);
  if (!listing.ok()) {
    return listing.status();
  }
  nslab::v1::Firewall firewall;
  firewall.set_ruleset(*listing);
  for (const auto& rule : nft::ParseRulesetListing(*listing)) {
    auto* out = firewall.add_rules();
    out->set_family(rule.family);
    out->set_table(rule.table);
    out->set_chain(rule.chain);
    out->set_handle(rule.handle);
    out->set_text(rule.text);
    out->set_has_counter(rule.has_counter);
    out->set_packets(rule.packets);
    out->set_bytes(rule.bytes);
  }
  return firewall;
}

absl::StatusOr<UniqueFd> DiagEngine::OpenNode(const std::string& lab,
                                              const std::string& node) const {
  auto netns = labs_->NodeNamespace(lab, node);
  if (!netns.ok()) {
    return netns.status();
  }
  return netns::Open(*netns);
}

#define NSLAB_DIAG_NODE_CALL(expr) \
  auto fd = OpenNode(lab, node);   \
  if (!fd.ok()) {                  \
    return fd.status();            \
  }                                \
  return expr

absl::StatusOr<nslab::v1::SocketsResponse> DiagEngine::Sockets(const std::string& lab,
                                                               const std::string& node,
                                                               const SocketFilter& filter) const {
  // A ustack node's sockets live in its stack, not in its namespace's kernel.
  if (auto topology = labs_->TopologyOf(lab); topology.ok()) {
    for (const auto& candidate : topology->nodes()) {
      if (candidate.name() == node && candidate.kind() == nslab::v1::NODE_KIND_USTACK) {
        auto stats = lab::GetUstackStats(*labs_, lab, node);
        if (!stats.ok()) {
          return stats.status();
        }
        return SocketsFromUstack(*stats, filter);
      }
    }
  }
  NSLAB_DIAG_NODE_CALL(ListSockets(fd->get(), filter));
}

absl::StatusOr<nslab::v1::RouteGetResponse> DiagEngine::RouteGet(const std::string& lab,
                                                                 const std::string& node,
                                                                 const RouteQuery& query) const {
  NSLAB_DIAG_NODE_CALL(GetRoute(fd->get(), query));
}

absl::StatusOr<nslab::v1::RoutesResponse> DiagEngine::Routes(const std::string& lab,
                                                             const std::string& node) const {
  NSLAB_DIAG_NODE_CALL(ListRoutingTables(fd->get()));
}

absl::StatusOr<nslab::v1::ConntrackResponse> DiagEngine::Conntrack(const std::string& lab,
                                                                   const std::string& node) const {
  NSLAB_DIAG_NODE_CALL(ListConntrack(fd->get()));
}

absl::StatusOr<nslab::v1::QdiscsResponse> DiagEngine::Qdiscs(const std::string& lab,
                                                             const std::string& node,
                                                             const std::string& interface) const {
  NSLAB_DIAG_NODE_CALL(ListQdiscs(fd->get(), interface));
}

absl::StatusOr<nslab::v1::LinksResponse> DiagEngine::Links(const std::string& lab,
                                                           const std::string& node) const {
  auto fd = OpenNode(lab, node);
  if (!fd.ok()) {
    return fd.status();
  }
  auto list = ListLinkStats(fd->get());
  if (list.ok()) {
    AddOwnCounters(*labs_, lab, node, &*list);
  }
  return list;
}

absl::StatusOr<nslab::v1::NeighboursResponse> DiagEngine::Neighbours(
    const std::string& lab, const std::string& node) const {
  NSLAB_DIAG_NODE_CALL(ListNeighbours(fd->get()));
}

absl::StatusOr<PacketCapture> DiagEngine::OpenCapture(const std::string& lab,
                                                      const std::string& node,
                                                      const CaptureOptions& options) const {
  NSLAB_DIAG_NODE_CALL(PacketCapture::Open(fd->get(), options));
}

#undef NSLAB_DIAG_NODE_CALL

absl::StatusOr<nslab::v1::SnapshotResponse> DiagEngine::Snapshot(const std::string& lab) const {
  auto topology = labs_->TopologyOf(lab);
  if (!topology.ok()) {
    return topology.status();
  }
  const absl::Time start = absl::Now();
  nslab::v1::SnapshotResponse snapshot;
  snapshot.set_lab(lab);
  *snapshot.mutable_taken() =
      google::protobuf::util::TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(start));
  for (const auto& node : topology->nodes()) {
    snapshot.add_nodes()->set_node(node.name());
  }
  auto gather = [&](size_t i) {
    nslab::v1::NodeSnapshot* out = snapshot.mutable_nodes(static_cast<int>(i));
    auto fd = OpenNode(lab, out->node());
    if (!fd.ok()) {
      out->add_errors(std::string(fd.status().message()));
      return absl::OkStatus();
    }
    auto keep = [out](const char* layer, auto result, auto* field) {
      if (result.ok()) {
        *field = std::move(*result);
      } else {
        out->add_errors(absl::StrCat(layer, ": ", result.status().message()));
      }
    };
    keep("links", ListLinkStats(fd->get()), out->mutable_links());
    keep("qdiscs", ListQdiscs(fd->get(), ""), out->mutable_qdiscs());
    keep("sockets", ListSockets(fd->get(), {}), out->mutable_sockets());
    keep("routes", ListRoutingTables(fd->get()), out->mutable_routes());
    keep("firewall", ReadFirewall(fd->get()), out->mutable_firewall());
    keep("conntrack", ListConntrack(fd->get()), out->mutable_conntrack());
    keep("neighbours", ListNeighbours(fd->get()), out->mutable_neighbours());
    return absl::OkStatus();
  };
  const size_t workers = std::max(2u, std::min(8u, std::thread::hardware_concurrency() * 2));
  if (auto status = ParallelFor(static_cast<size_t>(snapshot.nodes_size()), workers, gather);
      !status.ok()) {
    return status;
  }
  snapshot.set_duration_us(static_cast<uint64_t>(absl::ToInt64Microseconds(absl::Now() - start)));
  return snapshot;
}

absl::StatusOr<nslab::v1::TraceResponse> DiagEngine::Trace(
    const nslab::v1::TraceRequest& request) const {
  return RunTrace(labs_, request);
}

}  // namespace nslab::diag
