#include "daemon/chaos/chaos_engine.h"

#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "daemon/chaos/partition_rules.h"
#include "daemon/impair/flow_match.h"
#include "daemon/impair/validate.h"
#include "daemon/lab/link_impairment.h"
#include "daemon/lab/node_routes.h"
#include "daemon/netlink/links.h"
#include "daemon/netlink/route_socket.h"
#include "daemon/netns/netns.h"
#include "daemon/nft/nft_context.h"
#include "daemon/nft/ruleset.h"

namespace nslab::chaos {
namespace {

struct EndRef {
  std::string node;
  std::string interface;
};

absl::StatusOr<std::vector<EndRef>> ResolveLink(const nslab::v1::Topology& topology,
                                                const std::string& link, End end) {
  auto index = FindLink(topology, link);
  if (!index.ok()) {
    return index.status();
  }
  const auto& found = topology.links(*index);
  std::vector<EndRef> ends;
  if (end != End::kB) {
    ends.push_back({found.a().node(), found.a().interface()});
  }
  if (end != End::kA) {
    ends.push_back({found.b().node(), found.b().interface()});
  }
  return ends;
}

// Whether the interface is administratively up in the namespace `netns`.
bool InterfaceUp(const std::string& netns, const std::string& interface) {
  auto fd = netns::Open(netns);
  if (!fd.ok()) {
    return false;
  }
  auto sock = netlink::RouteSocket::OpenIn(fd->get());
  if (!sock.ok()) {
    return false;
  }
  auto links = netlink::ListLinks(*sock);
  if (!links.ok()) {
    return false;
  }
  for (const auto& info : *links) {
    if (info.name == interface) {
      return info.up;
    }
  }
  return false;
}

}  // namespace

absl::StatusOr<int> FindLink(const nslab::v1::Topology& topology, const std::string& link) {
  std::vector<std::string> names;
  for (int i = 0; i < topology.links_size(); ++i) {
    const auto& candidate = topology.links(i);
    const std::string a = absl::StrCat(candidate.a().node(), ":", candidate.a().interface());
    const std::string b = absl::StrCat(candidate.b().node(), ":", candidate.b().interface());
    if (link == a || link == b || (!candidate.name().empty() && link == candidate.name())) {
      return i;
    }
    names.push_back(candidate.name().empty() ? absl::StrCat(a, " <-> ", b) : candidate.name());
  }
  return absl::NotFoundError(
      absl::StrCat("lab ", topology.name(), " has no link \"", link,
                   "\" (name a link by node:interface of either end, or by its name; its links: ",
                   absl::StrJoin(names, ", "), ")"));
}

End EndOf(nslab::v1::LinkEnd end) {
  switch (end) {
    case nslab::v1::LINK_END_A:
      return End::kA;
    case nslab::v1::LINK_END_B:
      return End::kB;
    default:
      return End::kBoth;
  }
}

absl::StatusOr<UniqueFd> ChaosEngine::OpenNode(const std::string& lab,
                                               const std::string& node) const {
  auto netns = labs_->NodeNamespace(lab, node);
  if (!netns.ok()) {
    return netns.status();
  }
  return netns::Open(*netns);
}

absl::StatusOr<int> ChaosEngine::LinkIndexIn(const std::string& lab, const std::string& link) {
  auto topology = labs_->TopologyOf(lab);
  if (!topology.ok()) {
    return topology.status();
  }
  return FindLink(*topology, link);
}

absl::StatusOr<std::vector<LinkImpairmentView>> ChaosEngine::SetImpairment(
    const std::string& lab, const std::string& link, const std::vector<int>& directions,
    const nslab::v1::Impairment& impairment) {
  auto index = LinkIndexIn(lab, link);
  if (!index.ok()) {
    return index.status();
  }
  if (impairment.ByteSizeLong() != 0) {
    if (auto status = impair::ValidateImpairment(impairment); !status.ok()) {
      return status;
    }
  }
  if (auto status = labs_->SetLinkImpairment(lab, *index, directions, impairment); !status.ok()) {
    return status;
  }
  return ListImpairments(lab);
}

absl::StatusOr<std::vector<LinkImpairmentView>> ChaosEngine::SetFlowImpairment(
    const std::string& lab, const std::string& link, const std::vector<int>& directions,
    const nslab::v1::FlowMatch& match, const std::optional<nslab::v1::Impairment>& impairment) {
  auto index = LinkIndexIn(lab, link);
  if (!index.ok()) {
    return index.status();
  }
  if (match.ByteSizeLong() == 0) {
    return absl::InvalidArgumentError(
        "an empty match selects every frame: set the link's impairment instead (no match)");
  }
  if (auto status = impair::ValidateFlowMatch(match); !status.ok()) {
    return status;
  }
  if (impairment && impairment->ByteSizeLong() != 0) {
    if (auto status = impair::ValidateImpairment(*impairment); !status.ok()) {
      return status;
    }
  }
  if (auto status = labs_->SetLinkFlow(lab, *index, directions, match, impairment); !status.ok()) {
    return status;
  }
  return ListImpairments(lab);
}

absl::StatusOr<std::vector<LinkImpairmentView>> ChaosEngine::ListImpairments(
    const std::string& lab) {
  auto links = labs_->Links(lab);
  if (!links.ok()) {
    return links.status();
  }
  std::vector<LinkImpairmentView> result;
  for (const auto& link : *links) {
    const bool wire = link.mode() == nslab::v1::LINK_MODE_WIRE;
    if (!wire && link.a_to_b().ByteSizeLong() == 0 && link.b_to_a().ByteSizeLong() == 0 &&
        link.a_to_b_flows_size() == 0 && link.b_to_a_flows_size() == 0) {
      continue;  // an unimpaired veth without flows has nothing to show
    }
    result.push_back({link.name(),
                      {link.a_to_b(), link.b_to_a()},
                      wire,
                      {link.a_to_b_counters(), link.b_to_a_counters()},
                      {std::vector<nslab::v1::FlowImpairmentState>(link.a_to_b_flows().begin(),
                                                                   link.a_to_b_flows().end()),
                       std::vector<nslab::v1::FlowImpairmentState>(link.b_to_a_flows().begin(),
                                                                   link.b_to_a_flows().end())}});
  }
  return result;
}

ChaosEngine::~ChaosEngine() {
  absl::MutexLock lock(&mutex_);
  for (auto& flap : flaps_) {
    flap->stop.Notify();
  }
  for (auto& flap : flaps_) {
    flap->thread.join();
  }
}

absl::StatusOr<FirewallView> ChaosEngine::GetFirewall(const std::string& lab,
                                                      const std::string& node) {
  auto fd = OpenNode(lab, node);
  if (!fd.ok()) {
    return fd.status();
  }
  auto listing = nft::ListRuleset(fd->get());
  if (!listing.ok()) {
    return listing.status();
  }
  return FirewallView{*listing, nft::ParseRulesetListing(*listing)};
}

absl::StatusOr<std::string> ChaosEngine::GetUserRuleset(const std::string& lab,
                                                        const std::string& node) {
  auto fd = OpenNode(lab, node);
  if (!fd.ok()) {
    return fd.status();
  }
  return nft::ListUserRuleset(fd->get());
}

absl::StatusOr<FirewallView> ChaosEngine::SetFirewall(const std::string& lab,
                                                      const std::string& node,
                                                      const std::string& ruleset) {
  auto fd = OpenNode(lab, node);
  if (!fd.ok()) {
    return fd.status();
  }
  if (auto status = nft::ReplaceUserRuleset(fd->get(), ruleset); !status.ok()) {
    return absl::Status(status.code(),
                        absl::StrCat(status.message(), " (the previous ruleset stays in force)"));
  }
  return GetFirewall(lab, node);
}

absl::StatusOr<std::vector<std::string>> ChaosEngine::SetLinkState(const std::string& lab,
                                                                   const std::string& link, bool up,
                                                                   End end) {
  auto topology = labs_->TopologyOf(lab);
  if (!topology.ok()) {
    return topology.status();
  }
  auto ends = ResolveLink(*topology, link, end);
  if (!ends.ok()) {
    return ends.status();
  }
  std::vector<std::string> changed;
  for (const EndRef& ref : *ends) {
    auto fd = OpenNode(lab, ref.node);
    if (!fd.ok()) {
      return fd.status();
    }
    auto sock = netlink::RouteSocket::OpenIn(fd->get());
    if (!sock.ok()) {
      return sock.status();
    }
    if (auto status = netlink::SetLinkUp(*sock, ref.interface, up); !status.ok()) {
      return status;
    }
    if (up) {
      if (auto status = lab::RestoreAfterLinkUp(*sock, *topology, ref.node, ref.interface);
          !status.ok()) {
        return absl::Status(status.code(), absl::StrCat(ref.node, ":", ref.interface,
                                                        " is up, but restoring its addresses and "
                                                        "routes failed: ",
                                                        status.message()));
      }
    }
    changed.push_back(absl::StrCat(ref.node, ":", ref.interface));
  }
  // A wire also stops carrying frames, counted as dropped_link_down; it carries again only
  // when both of its TAPs are up.
  auto index = FindLink(*topology, link);
  auto wire = index.ok() ? labs_->WireOf(lab, *index) : index.status();
  if (wire.ok() && *wire) {
    bool both_up = up;
    if (up && end != End::kBoth) {
      const auto& ends = topology->links(*index);
      for (const auto* endpoint : {&ends.a(), &ends.b()}) {
        auto netns = labs_->NodeNamespace(lab, endpoint->node());
        both_up = both_up && netns.ok() && InterfaceUp(*netns, endpoint->interface());
      }
    }
    if (auto status = (*wire)->SetUp(both_up); !status.ok()) {
      return status;
    }
  }
  return changed;
}

absl::StatusOr<std::vector<std::string>> ChaosEngine::StartFlap(const std::string& lab,
                                                                const std::string& link, End end,
                                                                absl::Duration down,
                                                                absl::Duration up, int count) {
  if (count <= 0 || down <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("flap needs count >= 1 and a down time > 0");
  }
  // Fail now, not in the background, if the link does not exist.
  auto first = SetLinkState(lab, link, true, end);
  if (!first.ok()) {
    return first.status();
  }
  auto flap = std::make_unique<Flap>();
  Flap* raw = flap.get();
  raw->thread = std::thread([this, raw, lab, link, end, down, up, count] {
    for (int i = 0; i < count; ++i) {
      if (!SetLinkState(lab, link, false, end).ok() ||
          raw->stop.WaitForNotificationWithTimeout(down)) {
        (void)SetLinkState(lab, link, true, end);
        return;
      }
      if (!SetLinkState(lab, link, true, end).ok()) {
        return;  // the lab went away
      }
      if (i + 1 < count && raw->stop.WaitForNotificationWithTimeout(up)) {
        return;
      }
    }
  });
  absl::MutexLock lock(&mutex_);
  flaps_.push_back(std::move(flap));
  return first;
}

absl::StatusOr<std::vector<std::string>> ChaosEngine::Partition(
    const std::string& lab, const std::vector<std::vector<std::string>>& groups, bool reject) {
  auto topology = labs_->TopologyOf(lab);
  if (!topology.ok()) {
    return topology.status();
  }
  if (groups.size() < 2) {
    return absl::InvalidArgumentError("groups: a partition needs at least two groups");
  }
  std::map<std::string, size_t> group_of;
  for (size_t g = 0; g < groups.size(); ++g) {
    if (groups[g].empty()) {
      return absl::InvalidArgumentError(absl::StrCat("groups[", g, "] is empty"));
    }
    for (const auto& node : groups[g]) {
      if (!labs_->NodeNamespace(lab, node).ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("groups[", g, "]: lab ", lab, " has no node \"", node, "\""));
      }
      if (!group_of.emplace(node, g).second) {
        return absl::InvalidArgumentError(
            absl::StrCat("groups[", g, "]: node ", node, " is in two groups"));
      }
    }
  }
  if (!has_nftables_inet_) {
    return absl::FailedPreconditionError(
        "partition: this kernel's nftables has no inet family (CONFIG_NF_TABLES_INET), which "
        "partitions are made of (nslab caps: nftables no); link down or loss: 100% cut a link "
        "without it");
  }
  // Every address of every grouped node, without its prefix length.
  std::map<std::string, std::vector<std::string>> addresses;
  for (const auto& link : topology->links()) {
    for (const auto* end : {&link.a(), &link.b()}) {
      for (const auto& cidr : end->addresses()) {
        addresses[end->node()].push_back(cidr.substr(0, cidr.find('/')));
      }
    }
  }
  std::vector<std::string> changed;
  for (const auto& [node, group] : group_of) {
    std::vector<std::string> others;
    for (const auto& [other, other_group] : group_of) {
      if (other_group != group) {
        others.insert(others.end(), addresses[other].begin(), addresses[other].end());
      }
    }
    auto fd = OpenNode(lab, node);
    if (!fd.ok()) {
      return fd.status();
    }
    auto status = nft::RunCommands(fd->get(), RenderPartitionRules(others, reject)).status();
    if (!status.ok()) {
      (void)Heal(lab);
      return absl::Status(status.code(), absl::StrCat("partition in ", node, ": ", status.message(),
                                                      " (healed again)"));
    }
    changed.push_back(node);
  }
  return changed;
}

absl::StatusOr<std::vector<std::string>> ChaosEngine::Heal(const std::string& lab) {
  auto topology = labs_->TopologyOf(lab);
  if (!topology.ok()) {
    return topology.status();
  }
  std::vector<std::string> healed;
  for (const auto& node : topology->nodes()) {
    auto fd = OpenNode(lab, node.name());
    if (!fd.ok()) {
      return fd.status();
    }
    auto listing = nft::ListRuleset(fd->get());
    if (!listing.ok() || listing->find(kPartitionTable) == std::string::npos) {
      continue;
    }
    if (auto status = nft::RunCommands(fd->get(), RenderHeal()).status(); !status.ok()) {
      return status;
    }
    healed.push_back(node.name());
  }
  return healed;
}

}  // namespace nslab::chaos
