#include "daemon/lab/builder.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "daemon/common/status_macros.h"
#include "daemon/lab/teardown.h"
#include "daemon/netlink/addresses.h"
#include "daemon/netlink/links.h"
#include "daemon/netlink/route_socket.h"
#include "daemon/netlink/routes.h"
#include "daemon/netns/netns.h"
#include "daemon/nft/nft_context.h"
#include "daemon/topology/names.h"

namespace nslab::lab {
namespace {

using nslab::v1::Node;
using nslab::v1::Topology;

// The bridge inside a node of kind switch.
constexpr char kSwitchBridge[] = "br0";

// Adds the step's name to an error so the user learns where the build stopped.
absl::Status AtStep(const absl::Status& status, const std::string& step) {
  if (status.ok()) {
    return status;
  }
  return absl::Status(status.code(), absl::StrCat(step, ": ", status.message()));
}

netlink::RouteKind KindOf(nslab::v1::RouteType type) {
  switch (type) {
    case nslab::v1::ROUTE_TYPE_BLACKHOLE:
      return netlink::RouteKind::kBlackhole;
    case nslab::v1::ROUTE_TYPE_UNREACHABLE:
      return netlink::RouteKind::kUnreachable;
    case nslab::v1::ROUTE_TYPE_PROHIBIT:
      return netlink::RouteKind::kProhibit;
    default:
      return netlink::RouteKind::kUnicast;
  }
}

class LabBuilder {
 public:
  LabBuilder(const Topology& topology, std::string lab, std::string base_dir)
      : topology_(topology), lab_(std::move(lab)), base_dir_(std::move(base_dir)) {}

  absl::Status Build() {
    auto status = BuildSteps();
    if (!status.ok()) {
      // Every link lives inside one of these namespaces, so they take everything along.
      sockets_.clear();
      fds_.clear();
      (void)DeleteNamespaces(created_);
      return absl::Status(status.code(),
                          absl::StrCat("building lab ", lab_, " failed at ", status.message(),
                                       " (everything built so far was removed)"));
    }
    return status;
  }

 private:
  struct NodeHandles {
    UniqueFd fd;
  };

  absl::Status BuildSteps() {
    for (const Node& node : topology_.nodes()) {
      NSLAB_RETURN_IF_ERROR(AtStep(CreateNodeNamespace(node), "nodes." + node.name()));
    }
    for (const Node& node : topology_.nodes()) {
      NSLAB_RETURN_IF_ERROR(AtStep(SetUpNode(node), "nodes." + node.name()));
    }
    NSLAB_ASSIGN_OR_RETURN(auto host_sock, netlink::RouteSocket::OpenHere());
    for (int i = 0; i < topology_.links_size(); ++i) {
      const auto& link = topology_.links(i);
      NSLAB_RETURN_IF_ERROR(
          AtStep(BuildLink(host_sock, link),
                 absl::StrCat("links[", i, "] (", link.a().node(), ":", link.a().interface(),
                              " <-> ", link.b().node(), ":", link.b().interface(), ")")));
    }
    for (const Node& node : topology_.nodes()) {
      NSLAB_RETURN_IF_ERROR(FinishNode(node));
    }
    return absl::OkStatus();
  }

  absl::Status CreateNodeNamespace(const Node& node) {
    const std::string ns = topology::NamespaceOf(lab_, node.name());
    if (auto status = netns::Create(ns); !status.ok()) {
      if (absl::IsAlreadyExists(status)) {
        return absl::AlreadyExistsError(absl::StrCat(
            "namespace ", ns, " already exists and is not this lab's; choose another lab name"));
      }
      return status;
    }
    created_.push_back(ns);
    NSLAB_ASSIGN_OR_RETURN(fds_[node.name()], netns::Open(ns));
    NSLAB_ASSIGN_OR_RETURN(auto sock, netlink::RouteSocket::OpenIn(fds_[node.name()].get()));
    sockets_.emplace(node.name(), std::make_unique<netlink::RouteSocket>(std::move(sock)));
    return absl::OkStatus();
  }

  absl::Status SetUpNode(const Node& node) {
    const auto& sock = *sockets_.at(node.name());
    NSLAB_RETURN_IF_ERROR(netlink::SetLinkUp(sock, "lo", true));
    const bool router = node.kind() == nslab::v1::NODE_KIND_ROUTER;
    NSLAB_RETURN_IF_ERROR(InNode(node, [router] {
      // No duplicate address detection: link-local and static IPv6 addresses are usable
      // at once instead of ~1 s later. Interfaces made later copy "default".
      for (const char* scope : {"all", "default"}) {
        NSLAB_RETURN_IF_ERROR(
            netlink::WriteSysctl(absl::StrCat("net.ipv6.conf.", scope, ".accept_dad"), "0"));
        if (router) {
          NSLAB_RETURN_IF_ERROR(
              netlink::WriteSysctl(absl::StrCat("net.ipv6.conf.", scope, ".forwarding"), "1"));
        }
      }
      return router ? netlink::WriteSysctl("net.ipv4.ip_forward", "1") : absl::OkStatus();
    }));
    if (node.kind() == nslab::v1::NODE_KIND_SWITCH) {
      netlink::BridgeOptions options{node.bridge().stp(), node.bridge().ageing_seconds()};
      NSLAB_RETURN_IF_ERROR(netlink::CreateBridge(sock, kSwitchBridge, options));
      NSLAB_RETURN_IF_ERROR(netlink::SetLinkUp(sock, kSwitchBridge, true));
    }
    return absl::OkStatus();
  }

  absl::Status InNode(const Node& node, const std::function<absl::Status()>& work) {
    return netns::RunIn(fds_.at(node.name()).get(), work);
  }

  const Node& NodeNamed(const std::string& name) const {
    for (const Node& node : topology_.nodes()) {
      if (node.name() == name) {
        return node;
      }
    }
    return topology_.nodes(0);  // unreachable for a validated topology
  }

  absl::Status BuildLink(const netlink::RouteSocket& host_sock, const nslab::v1::Link& link) {
    netlink::VethEnd a{link.a().interface(), fds_.at(link.a().node()).get(), link.a().mac(),
                       link.mtu()};
    netlink::VethEnd b{link.b().interface(), fds_.at(link.b().node()).get(), link.b().mac(),
                       link.mtu()};
    NSLAB_RETURN_IF_ERROR(netlink::CreateVethPair(host_sock, a, b));
    for (const auto* end : {&link.a(), &link.b()}) {
      const auto& sock = *sockets_.at(end->node());
      if (NodeNamed(end->node()).kind() == nslab::v1::NODE_KIND_SWITCH) {
        NSLAB_RETURN_IF_ERROR(netlink::SetMaster(sock, end->interface(), kSwitchBridge));
      }
      for (const auto& address : end->addresses()) {
        NSLAB_RETURN_IF_ERROR(netlink::AddAddress(sock, end->interface(), address));
      }
      NSLAB_RETURN_IF_ERROR(netlink::SetLinkUp(sock, end->interface(), true));
    }
    return absl::OkStatus();
  }

  absl::Status FinishNode(const Node& node) {
    const auto& sock = *sockets_.at(node.name());
    for (int i = 0; i < node.routes_size(); ++i) {
      const auto& route = node.routes(i);
      netlink::RouteSpec spec{route.to(), KindOf(route.type()), {}, route.metric(), route.table()};
      if (!route.via().empty() || !route.dev().empty()) {
        spec.nexthops.push_back({route.via(), route.dev(), 1});
      }
      for (const auto& hop : route.nexthops()) {
        spec.nexthops.push_back({hop.via(), hop.dev(), hop.weight() == 0 ? 1 : hop.weight()});
      }
      NSLAB_RETURN_IF_ERROR(
          AtStep(netlink::AddRoute(sock, spec), absl::StrCat("routes.", node.name(), "[", i, "]")));
    }
    for (int i = 0; i < node.rules_size(); ++i) {
      const auto& rule = node.rules(i);
      netlink::RuleSpec spec{rule.from(), rule.to(),       rule.fwmark(),
                             rule.iif(),  rule.priority(), rule.table()};
      NSLAB_RETURN_IF_ERROR(
          AtStep(netlink::AddRule(sock, spec), absl::StrCat("rules.", node.name(), "[", i, "]")));
    }
    for (const auto& [key, value] : node.sysctls()) {
      NSLAB_RETURN_IF_ERROR(AtStep(InNode(node, [&] { return netlink::WriteSysctl(key, value); }),
                                   absl::StrCat("sysctls.", node.name(), ".", key)));
    }
    NSLAB_RETURN_IF_ERROR(
        AtStep(LoadRuleset(node), absl::StrCat("nodes.", node.name(), ".nftables")));
    return absl::OkStatus();
  }

  absl::Status LoadRuleset(const Node& node) {
    std::string ruleset = node.nftables();
    if (!node.nftables_file().empty()) {
      std::filesystem::path path(node.nftables_file());
      if (path.is_relative()) {
        path = std::filesystem::path(base_dir_) / path;
      }
      std::ifstream in(path);
      if (!in) {
        return absl::NotFoundError(absl::StrCat("cannot read nftables_file ", path.string()));
      }
      std::stringstream text;
      text << in.rdbuf();
      ruleset = text.str();
    }
    if (ruleset.empty()) {
      return absl::OkStatus();
    }
    return nft::RunCommands(fds_.at(node.name()).get(), ruleset).status();
  }

  const Topology& topology_;
  const std::string lab_;
  const std::string base_dir_;
  std::vector<std::string> created_;
  std::map<std::string, UniqueFd> fds_;
  std::map<std::string, std::unique_ptr<netlink::RouteSocket>> sockets_;
};

}  // namespace

std::vector<std::string> NamespacesOf(const Topology& topology, const std::string& lab) {
  std::vector<std::string> result;
  for (const Node& node : topology.nodes()) {
    result.push_back(topology::NamespaceOf(lab, node.name()));
  }
  return result;
}

absl::Status BuildLab(const Topology& topology, const std::string& lab,
                      const std::string& base_dir) {
  return LabBuilder(topology, lab, base_dir).Build();
}

}  // namespace nslab::lab
