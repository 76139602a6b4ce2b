#include "daemon/lab/builder.h"

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "daemon/common/file_text.h"
#include "daemon/common/parallel.h"
#include "daemon/common/status_macros.h"
#include "daemon/lab/link_impairment.h"
#include "daemon/lab/node_routes.h"
#include "daemon/lab/teardown.h"
#include "daemon/lab/ustack_node.h"
#include "daemon/netlink/addresses.h"
#include "daemon/netlink/links.h"
#include "daemon/netlink/route_socket.h"
#include "daemon/netlink/routes.h"
#include "daemon/netns/netns.h"
#include "daemon/nft/nft_context.h"
#include "daemon/topology/names.h"
#include "daemon/wire/tap_device.h"

namespace nslab::lab {
namespace {

using nslab::v1::Node;
using nslab::v1::Topology;

// The bridge inside a node of kind switch.
using topology::kSwitchBridge;

// Adds the step's name to an error so the user learns where the build stopped.
absl::Status AtStep(const absl::Status& status, const std::string& step) {
  if (status.ok()) {
    return status;
  }
  return absl::Status(status.code(), absl::StrCat(step, ": ", status.message()));
}

class LabBuilder {
 public:
  LabBuilder(const Topology& topology, std::string lab,
             const impair::kernel::KernelFeatures& features, const LinkModes& modes,
             LabWires* wires, const NamespacesMade& namespaces_made)
      : topology_(topology),
        lab_(std::move(lab)),
        features_(features),
        modes_(modes),
        wires_(wires),
        namespaces_made_(namespaces_made) {}

  absl::Status Build() {
    auto status = BuildSteps();
    if (!status.ok()) {
      // A wire's TAP fds hold their namespaces; closed first, the namespaces take every
      // link along.
      wires_->StopAll(wire::StopMode::kDeleteDevices);
      handles_.clear();
      (void)DeleteNamespaces(created_);
      return absl::Status(status.code(),
                          absl::StrCat("building lab ", lab_, " failed at ", status.message(),
                                       " (everything built so far was removed)"));
    }
    return status;
  }

 private:
  // Enough threads to keep the kernel busy on two cores while others wait on it.
  static constexpr size_t kWorkers = 4;
  // Far above what a namespace hands out itself (it counts from 1), so never taken.
  static constexpr int kFirstLinkIfindex = 1000;

  struct NodeHandles {
    UniqueFd fd;
    std::unique_ptr<netlink::RouteSocket> sock;
    std::mutex mutex;  // one user of `sock` at a time
  };

  absl::Status BuildSteps() {
    const size_t nodes = topology_.nodes_size();
    for (const Node& node : topology_.nodes()) {
      handles_[node.name()] = std::make_unique<NodeHandles>();
    }
    std::vector<netns::Identity> identities(nodes);
    NSLAB_RETURN_IF_ERROR(ParallelFor(nodes, kWorkers, [&](size_t i) {
      const Node& node = topology_.nodes(i);
      return AtStep(CreateNode(node, &identities[i]), "nodes." + node.name());
    }));
    if (namespaces_made_) {
      NSLAB_RETURN_IF_ERROR(namespaces_made_(identities));
    }
    NSLAB_RETURN_IF_ERROR(ParallelFor(topology_.links_size(), kWorkers, [&](size_t i) {
      const auto& link = topology_.links(i);
      return AtStep(BuildLink(link, i),
                    absl::StrCat("links[", i, "] (", link.a().node(), ":", link.a().interface(),
                                 " <-> ", link.b().node(), ":", link.b().interface(), ")"));
    }));
    NSLAB_RETURN_IF_ERROR(
        ParallelFor(nodes, kWorkers, [&](size_t i) { return FinishNode(topology_.nodes(i)); }));
    for (int i = 0; i < topology_.links_size(); ++i) {
      if (IsWire(i)) {
        continue;  // its pipelines started with their impairments
      }
      NSLAB_RETURN_IF_ERROR(
          AtStep(ImpairLink(topology_.links(i)), absl::StrCat("links[", i, "].impair")));
    }
    // Ready means ready: the first packet must not vanish into a link that is not yet
    // transmitting.
    return ParallelFor(nodes, kWorkers,
                       [&](size_t i) { return WaitLinksRunning(topology_.nodes(i)); });
  }

  absl::Status WaitLinksRunning(const Node& node) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    while (true) {
      NSLAB_ASSIGN_OR_RETURN(auto links, netlink::ListLinks(Socket(node.name())));
      bool running = true;
      for (const auto& link : links) {
        running = running && (link.kind != "veth" || !link.up || !link.carrier || link.oper_up);
      }
      if (running || std::chrono::steady_clock::now() >= deadline) {
        return absl::OkStatus();  // a link still not running after 3 s is shown as such
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

  absl::Status ImpairLink(const nslab::v1::Link& link) {
    const auto directions = DirectionsOf(lab_, link, topology_.seed());
    const auto impairments = RequestedImpairments(link);
    for (int d = 0; d < 2; ++d) {
      if (impairments[d].ByteSizeLong() != 0) {
        NSLAB_RETURN_IF_ERROR(ApplyLinkDirection(directions[d], impairments[d], features_));
      }
    }
    return absl::OkStatus();
  }

  // Creates the node's namespace and, on the same thread while inside it, opens its
  // netlink socket and sets what must be in place before links arrive.
  // Records in `identity` which namespace it made, so that teardown can later tell it from
  // one put under the same name by someone else.
  absl::Status CreateNode(const Node& node, netns::Identity* identity) {
    const std::string ns = topology::NamespaceOf(lab_, node.name());
    NodeHandles& handles = *handles_.at(node.name());
    auto status = netns::CreateAndRunIn(ns, [&]() -> absl::Status {
      {
        std::lock_guard<std::mutex> lock(created_mutex_);
        created_.push_back(ns);
      }
      NSLAB_ASSIGN_OR_RETURN(*identity, netns::IdentityHere());
      NSLAB_ASSIGN_OR_RETURN(auto sock, netlink::RouteSocket::OpenHere());
      handles.sock = std::make_unique<netlink::RouteSocket>(std::move(sock));
      return ApplyNodeSysctls(node);
    });
    if (absl::IsAlreadyExists(status) && !handles.sock) {
      return absl::AlreadyExistsError(absl::StrCat(
          "namespace ", ns, " already exists and is not this lab's; choose another lab name"));
    }
    NSLAB_RETURN_IF_ERROR(status);
    NSLAB_ASSIGN_OR_RETURN(handles.fd, netns::Open(ns));
    return SetUpNode(node);
  }

  static absl::Status ApplyNodeSysctls(const Node& node) {
    const bool router = node.kind() == nslab::v1::NODE_KIND_ROUTER;
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
  }

  absl::Status SetUpNode(const Node& node) {
    const auto& sock = Socket(node.name());
    NSLAB_RETURN_IF_ERROR(netlink::SetLinkUp(sock, "lo", true));
    if (node.kind() == nslab::v1::NODE_KIND_SWITCH) {
      netlink::BridgeOptions options{node.bridge().stp(), node.bridge().ageing_seconds()};
      NSLAB_RETURN_IF_ERROR(netlink::CreateBridge(sock, kSwitchBridge, options));
      NSLAB_RETURN_IF_ERROR(netlink::SetLinkUp(sock, kSwitchBridge, true));
    }
    if (node.kind() == nslab::v1::NODE_KIND_USTACK) {
      NSLAB_RETURN_IF_ERROR(netlink::CreateBridge(sock, kUstackBridge, {}));
      // Persistent, so the stack's process (and its restarts) attach to the same port.
      NSLAB_RETURN_IF_ERROR(
          wire::TapDevice::Create(handles_.at(node.name())->fd.get(), kUstackTap,
                                  {.mtu = 0, .mac = std::nullopt, .up = false, .persistent = true})
              .status());
      NSLAB_RETURN_IF_ERROR(netlink::SetMaster(sock, kUstackTap, kUstackBridge));
      NSLAB_RETURN_IF_ERROR(netlink::SetLinkUp(sock, kUstackTap, true));
      NSLAB_RETURN_IF_ERROR(netlink::SetLinkUp(sock, kUstackBridge, true));
    }
    return absl::OkStatus();
  }

  const netlink::RouteSocket& Socket(const std::string& node) const {
    return *handles_.at(node)->sock;
  }

  absl::Status InNode(const Node& node, const std::function<absl::Status()>& work) {
    return netns::RunIn(handles_.at(node.name())->fd.get(), work);
  }

  const Node& NodeNamed(const std::string& name) const {
    for (const Node& node : topology_.nodes()) {
      if (node.name() == name) {
        return node;
      }
    }
    return topology_.nodes(0);  // unreachable for a validated topology
  }

  absl::Status BuildLink(const nslab::v1::Link& link, size_t index) {
    NodeHandles& a_node = *handles_.at(link.a().node());
    NodeHandles& b_node = *handles_.at(link.b().node());
    // Namespaces number their links from 2, so both ends of a veth would often get the
    // same ifindex; the kernel's link watcher then takes the pair for a non-stacked
    // device and batches its carrier change by up to a second instead of handling it at
    // once (linkwatch_urgent_event). Lab-unique indexes keep a new link usable at once.
    const int ifindex = kFirstLinkIfindex + 2 * static_cast<int>(index);
    netlink::VethEnd a{link.a().interface(), a_node.fd.get(), link.a().mac(), link.mtu(), ifindex};
    netlink::VethEnd b{link.b().interface(), b_node.fd.get(), link.b().mac(), link.mtu(),
                       ifindex + 1};
    // A ustack end's MAC in the topology is the stack's own (UstackArgv), not its device's.
    const bool ustack_a = NodeNamed(link.a().node()).kind() == nslab::v1::NODE_KIND_USTACK;
    const bool ustack_b = NodeNamed(link.b().node()).kind() == nslab::v1::NODE_KIND_USTACK;
    if (ustack_a) {
      a.mac.clear();
    }
    if (ustack_b) {
      b.mac.clear();
    }
    if (IsWire(static_cast<int>(index))) {
      const auto impairments = RequestedImpairments(link);
      NSLAB_RETURN_IF_ERROR(wires_->Add({.lab_seed = topology_.seed(),
                                         .link = &link,
                                         .index = static_cast<int>(index),
                                         .ns_a = a_node.fd.get(),
                                         .ns_b = b_node.fd.get(),
                                         .a_to_b = impairments[0],
                                         .b_to_a = impairments[1],
                                         .ustack_a = ustack_a,
                                         .ustack_b = ustack_b}));
    } else {
      // Created through the a-side node's socket: the request names both namespaces, so
      // any socket will do, and this one is already open.
      std::lock_guard<std::mutex> lock(a_node.mutex);
      NSLAB_RETURN_IF_ERROR(netlink::CreateVethPair(*a_node.sock, a, b));
    }
    for (const auto* end : {&link.a(), &link.b()}) {
      NodeHandles& handles = *handles_.at(end->node());
      std::lock_guard<std::mutex> lock(handles.mutex);
      const auto kind = NodeNamed(end->node()).kind();
      if (kind == nslab::v1::NODE_KIND_SWITCH) {
        NSLAB_RETURN_IF_ERROR(netlink::SetMaster(*handles.sock, end->interface(), kSwitchBridge));
      }
      if (kind == nslab::v1::NODE_KIND_USTACK) {
        // The address (and MAC) belong to the stack behind the bridge, not to this end.
        NSLAB_RETURN_IF_ERROR(netlink::SetMaster(*handles.sock, end->interface(), kUstackBridge));
        NSLAB_RETURN_IF_ERROR(netlink::SetLinkUp(*handles.sock, end->interface(), true));
        continue;
      }
      for (const auto& address : end->addresses()) {
        NSLAB_RETURN_IF_ERROR(netlink::AddAddress(*handles.sock, end->interface(), address));
      }
      NSLAB_RETURN_IF_ERROR(netlink::SetLinkUp(*handles.sock, end->interface(), true));
    }
    return absl::OkStatus();
  }

  absl::Status FinishNode(const Node& node) {
    const auto& sock = Socket(node.name());
    // A ustack node's routes are its stack's (UstackArgv), not this kernel's: none here.
    const std::vector<netlink::RouteSpec> routes = KernelRoutesOf(node);
    for (size_t i = 0; i < routes.size(); ++i) {
      NSLAB_RETURN_IF_ERROR(AtStep(netlink::AddRoute(sock, routes[i]),
                                   absl::StrCat("routes.", node.name(), "[", i, "]")));
    }
    for (int i = 0; i < node.rules_size(); ++i) {
      const auto& rule = node.rules(i);
      netlink::RuleSpec spec{rule.from(), rule.to(),       rule.fwmark(),
                             rule.iif(),  rule.priority(), rule.table()};
      NSLAB_RETURN_IF_ERROR(
          AtStep(netlink::AddRule(sock, spec), absl::StrCat("rules.", node.name(), "[", i, "]")));
    }
    if (!node.sysctls().empty()) {
      NSLAB_RETURN_IF_ERROR(InNode(node, [&]() -> absl::Status {
        for (const auto& [key, value] : node.sysctls()) {
          NSLAB_RETURN_IF_ERROR(AtStep(netlink::WriteSysctl(key, value),
                                       absl::StrCat("sysctls.", node.name(), ".", key)));
        }
        return absl::OkStatus();
      }));
    }
    NSLAB_RETURN_IF_ERROR(
        AtStep(LoadRuleset(node), absl::StrCat("nodes.", node.name(), ".nftables")));
    return absl::OkStatus();
  }

  absl::Status LoadRuleset(const Node& node) {
    if (node.nftables().empty()) {
      return absl::OkStatus();
    }
    return nft::RunCommands(handles_.at(node.name())->fd.get(), node.nftables()).status();
  }

  const Topology& topology_;
  const std::string lab_;
  bool IsWire(int index) const {
    return static_cast<size_t>(index) < modes_.size() && modes_[index] == nslab::v1::LINK_MODE_WIRE;
  }

  const impair::kernel::KernelFeatures features_;
  const LinkModes& modes_;
  LabWires* wires_;
  const NamespacesMade& namespaces_made_;
  std::mutex created_mutex_;
  std::vector<std::string> created_;
  // Filled before the parallel phases start; each phase only reads the map.
  std::map<std::string, std::unique_ptr<NodeHandles>> handles_;
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
                      const impair::kernel::KernelFeatures& features, const LinkModes& modes,
                      LabWires* wires, const NamespacesMade& namespaces_made) {
  return LabBuilder(topology, lab, features, modes, wires, namespaces_made).Build();
}

}  // namespace nslab::lab
