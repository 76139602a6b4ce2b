#include "daemon/lab/builder.h"

#include <array>
#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "daemon/common/file_text.h"
#include "daemon/common/log.h"
#include "daemon/common/parallel.h"
#include "daemon/common/status_macros.h"
#include "daemon/lab/lab_fit.h"
#include "daemon/lab/link_impairment.h"
#include "daemon/lab/node_handles.h"
#include "daemon/lab/node_routes.h"
#include "daemon/lab/readiness.h"
#include "daemon/lab/teardown.h"
#include "daemon/lab/ustack_node.h"
#include "daemon/netlink/addresses.h"
#include "daemon/netlink/links.h"
#include "daemon/netlink/namespace_ids.h"
#include "daemon/netlink/route_socket.h"
#include "daemon/netlink/routes.h"
#include "daemon/netns/netns.h"
#include "daemon/nft/nft_context.h"
#include "daemon/topology/names.h"
#include "daemon/wire/netns_tap.h"

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
             LabWires* wires, const NamespacesMade& namespaces_made,
             events::ProgressReporter* progress, const BuildScope* scope = nullptr)
      : topology_(topology),
        lab_(std::move(lab)),
        features_(features),
        modes_(modes),
        wires_(wires),
        namespaces_made_(namespaces_made),
        scope_(scope),
        unreported_(nullptr, lab_, nslab::v1::LAB_OPERATION_BUILD, 0, 0),
        progress_(progress != nullptr ? progress : &unreported_),
        handles_(NamespacesOf(topology, lab_), kBuildHandleWindow),
        link_local_(UsesIpv6(topology)) {
    for (int i = 0; i < topology_.nodes_size(); ++i) {
      node_index_[topology_.nodes(i).name()] = static_cast<size_t>(i);
    }
    // Each switch end's place among its switch's ports, in topology order.
    std::unordered_map<std::string, uint64_t> interfaces;
    for (const auto& link : topology_.links()) {
      std::array<uint64_t, 2> ordinals{};
      for (int side = 0; side < 2; ++side) {
        const auto& end = side == 0 ? link.a() : link.b();
        if (!link_local_ && ++interfaces[end.node()] == kIpv6OffInterfaces + 1) {
          ipv6_off_.insert(end.node());
        }
        if (NodeNamed(end.node()).kind() == nslab::v1::NODE_KIND_SWITCH) {
          ordinals[side] = switch_ports_[end.node()]++;
        }
      }
      port_ordinals_.push_back(ordinals);
    }
    // netdev_max_backlog is global, read in the daemon's own namespace.
    uint64_t backlog = 1000;
    if (auto text = ReadTextFile("/proc/sys/net/core/netdev_max_backlog"); text.ok()) {
      (void)absl::SimpleAtoi(absl::StripAsciiWhitespace(*text), &backlog);
    }
    for (const auto& [node, count] : switch_ports_) {
      if (2 * count > backlog) {
        flooded_switches_.insert(node);
      }
      // One bridge while it takes them all, else leaves of kPortsPerLeafBridge under br0.
      switch_leaves_[node] =
          count <= kBridgeMaxPorts ? 0 : (count + kPortsPerLeafBridge - 1) / kPortsPerLeafBridge;
    }
  }

  absl::Status Build() {
    auto status = BuildSteps();
    if (!status.ok() && scope_ != nullptr) {
      RemovePart();
      return absl::Status(status.code(),
                          absl::StrCat("changing lab ", lab_, " failed at ", status.message(),
                                       " (what this change had built was removed)"));
    }
    if (!status.ok()) {
      // A wire's TAP fds hold their namespaces; closed first, the namespaces take every
      // link along.
      wires_->StopAll(wire::StopMode::kDeleteDevices);
      handles_.Clear();
      (void)DeleteNamespaces(created_);
      return absl::Status(status.code(),
                          absl::StrCat("building lab ", lab_, " failed at ", status.message(),
                                       " (everything built so far was removed)"));
    }
    return status;
  }

 private:
  // Enough threads to keep the kernel busy on two cores while others wait on it.
  static constexpr size_t kWorkers = kBuildWorkers;
  // Far above what a namespace hands out itself (it counts from 1), so never taken.
  static constexpr int kFirstLinkIfindex = 1000;

  // Whether this build makes node `i`'s namespace, sets its routes and the rest, makes link
  // `i`: everything without a scope.
  bool MakesNode(size_t i) const { return scope_ == nullptr || scope_->make_node.at(i); }
  bool FinishesNode(size_t i) const { return scope_ == nullptr || scope_->finish_node.at(i); }
  bool MakesLink(size_t i) const { return scope_ == nullptr || scope_->make_link.at(i); }
  // Whether node `i` is made, finished or at an end of a link made here: the nodes whose links
  // must be running before the build returns.
  bool Touches(size_t i) const {
    if (MakesNode(i) || FinishesNode(i)) {
      return true;
    }
    const std::string& name = topology_.nodes(static_cast<int>(i)).name();
    for (int l = 0; l < topology_.links_size(); ++l) {
      const auto& link = topology_.links(l);
      if (MakesLink(l) && (link.a().node() == name || link.b().node() == name)) {
        return true;
      }
    }
    return false;
  }

  // A failed part: removes its wires and veths, then its namespaces. The lab's own stay.
  void RemovePart() {
    std::vector<int> built;
    {
      std::lock_guard<std::mutex> lock(created_mutex_);
      built = built_links_;
    }
    std::unordered_set<std::string> made(created_.begin(), created_.end());
    for (int i : built) {
      if (IsWire(i)) {
        wires_->Remove(i, wire::StopMode::kDeleteDevices);
        continue;
      }
      // From an end this part did not make: a deleted namespace's veths go later, on the
      // kernel's own workqueue, and their peers would hold names in the nodes that stay.
      const auto& link = topology_.links(i);
      const auto* kept = made.count(topology::NamespaceOf(lab_, link.a().node())) == 0   ? &link.a()
                         : made.count(topology::NamespaceOf(lab_, link.b().node())) == 0 ? &link.b()
                                                                                         : nullptr;
      if (kept == nullptr) {
        continue;
      }
      if (auto handle = Handle(kept->node()); handle.ok()) {
        std::lock_guard<std::mutex> lock((*handle)->mutex);
        (void)netlink::DeleteLink((*handle)->socket, kept->interface());
      }
    }
    handles_.Clear();
    (void)DeleteNamespaces(created_);
  }

  absl::Status BuildSteps() {
    const size_t nodes = topology_.nodes_size();
    const size_t links = topology_.links_size();
    PhaseClock clock(lab_);
    std::vector<netns::Identity> identities(nodes);
    progress_->BeginPhase(nslab::v1::LAB_PHASE_NAMESPACES, static_cast<uint32_t>(nodes));
    NSLAB_RETURN_IF_ERROR(ParallelFor(nodes, kWorkers, [&](size_t i) {
      const Node& node = topology_.nodes(i);
      if (!MakesNode(i)) {
        return absl::OkStatus();
      }
      NSLAB_RETURN_IF_ERROR(AtStep(CreateNode(node, &identities[i]), "nodes." + node.name()));
      progress_->NodeDone();
      return absl::OkStatus();
    }));
    clock.Done("namespaces", nodes);
    if (namespaces_made_) {
      NSLAB_RETURN_IF_ERROR(namespaces_made_(identities));
    }
    clock.Done("record namespaces", nodes);
    progress_->EndPhase();
    progress_->BeginPhase(nslab::v1::LAB_PHASE_LINKS, static_cast<uint32_t>(links));
    NSLAB_RETURN_IF_ERROR(ParallelFor(links, kWorkers, [&](size_t i) {
      const auto& link = topology_.links(i);
      if (!MakesLink(i)) {
        return absl::OkStatus();
      }
      {
        std::lock_guard<std::mutex> lock(created_mutex_);
        built_links_.push_back(static_cast<int>(i));
      }
      NSLAB_RETURN_IF_ERROR(
          AtStep(BuildLink(link, i),
                 absl::StrCat("links[", i, "] (", link.a().node(), ":", link.a().interface(),
                              " <-> ", link.b().node(), ":", link.b().interface(), ")")));
      progress_->LinkDone();
      return absl::OkStatus();
    }));
    clock.Done("links", links);
    progress_->EndPhase();
    progress_->BeginPhase(nslab::v1::LAB_PHASE_ROUTES, static_cast<uint32_t>(nodes));
    NSLAB_RETURN_IF_ERROR(ParallelFor(nodes, kWorkers, [&](size_t i) {
      if (!FinishesNode(i)) {
        return absl::OkStatus();
      }
      NSLAB_RETURN_IF_ERROR(FinishNode(topology_.nodes(i)));
      progress_->StepDone();
      return absl::OkStatus();
    }));
    for (int i = 0; i < topology_.links_size(); ++i) {
      if (IsWire(i) || !MakesLink(i)) {
        continue;  // its pipelines started with their impairments
      }
      NSLAB_RETURN_IF_ERROR(
          AtStep(ImpairLink(topology_.links(i)), absl::StrCat("links[", i, "].impair")));
    }
    clock.Done("routes, rules, sysctls, rulesets, impairments", nodes);
    progress_->EndPhase();
    // Ready means ready: the first packet must not vanish into a link that is not yet
    // transmitting.
    progress_->BeginPhase(nslab::v1::LAB_PHASE_LINKS_RUNNING, static_cast<uint32_t>(nodes));
    NSLAB_RETURN_IF_ERROR(ParallelFor(nodes, kWorkers, [&](size_t i) {
      if (!Touches(i)) {
        return absl::OkStatus();
      }
      NSLAB_RETURN_IF_ERROR(WaitLinksRunning(topology_.nodes(i)));
      progress_->StepDone();
      return absl::OkStatus();
    }));
    clock.Done("links running", nodes);
    progress_->EndPhase();
    NSLAB_LOG(Debug) << "lab " << lab_ << ": opened " << handles_.opened()
                     << " node handles (window " << kBuildHandleWindow << ")";
    return absl::OkStatus();
  }

  // Logs how long each phase of a build took (at -v), to see where a big lab's time goes.
  class PhaseClock {
   public:
    explicit PhaseClock(const std::string& lab)
        : lab_(lab), last_(std::chrono::steady_clock::now()) {}
    void Done(const char* phase, size_t items) {
      const auto now = std::chrono::steady_clock::now();
      NSLAB_LOG(Debug) << "lab " << lab_ << ": " << phase << " (" << items << ") took "
                       << std::chrono::duration<double>(now - last_).count() << " s";
      last_ = now;
    }

   private:
    const std::string& lab_;
    std::chrono::steady_clock::time_point last_;
  };

  absl::Status WaitLinksRunning(const Node& node) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    NSLAB_ASSIGN_OR_RETURN(auto handle, Handle(node.name()));
    while (true) {
      absl::StatusOr<bool> running = false;
      {
        std::lock_guard<std::mutex> lock(handle->mutex);
        running = node.kind() == nslab::v1::NODE_KIND_SWITCH ? BridgePortsRunning(handle->socket)
                                                             : VethsRunning(handle->socket);
      }
      if (!running.ok()) {
        return running.status();
      }
      if (*running || std::chrono::steady_clock::now() >= deadline) {
        return absl::OkStatus();  // a link still not running after 3 s is shown as such
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

  absl::Status ImpairLink(const nslab::v1::Link& link) {
    const auto directions = DirectionsOf(lab_, link, topology_.seed());
    const auto impairments = RequestedImpairments(link);
    const auto flows = RequestedFlows(link);
    for (int d = 0; d < 2; ++d) {
      if (impairments[d].ByteSizeLong() != 0 || !flows[d].empty()) {
        NSLAB_RETURN_IF_ERROR(
            ApplyLinkDirection(directions[d], impairments[d], KernelFlowsOf(flows[d]), features_));
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
    std::shared_ptr<NodeHandle> handle;
    auto status = netns::CreateAndRunIn(ns, [&]() -> absl::Status {
      {
        std::lock_guard<std::mutex> lock(created_mutex_);
        created_.push_back(ns);
      }
      NSLAB_ASSIGN_OR_RETURN(*identity, netns::IdentityHere());
      NSLAB_ASSIGN_OR_RETURN(auto sock, netlink::RouteSocket::OpenHere());
      NSLAB_ASSIGN_OR_RETURN(auto netns_fd, netns::Open(ns));
      handle = handles_.Put(node_index_.at(node.name()),
                            std::make_shared<NodeHandle>(std::move(netns_fd), std::move(sock)));
      return ApplyNodeSysctls(node, link_local_, Ipv6Off(node.name()));
    });
    if (absl::IsAlreadyExists(status) && !handle) {
      return absl::AlreadyExistsError(absl::StrCat(
          "namespace ", ns, " already exists and is not this lab's; choose another lab name"));
    }
    NSLAB_RETURN_IF_ERROR(status);
    return SetUpNode(node, *handle);
  }

  static absl::Status ApplyNodeSysctls(const Node& node, bool link_local, bool ipv6_off) {
    const bool router = node.kind() == nslab::v1::NODE_KIND_ROUTER;
    for (const char* scope : {"all", "default"}) {
      // No duplicate address detection: link-local and static IPv6 addresses are usable
      // at once instead of ~1 s later. Interfaces made later copy "default". A lab without
      // IPv6 has no such addresses (LinkUp, Ipv6Off), and skips the /proc/sys lookups.
      if (link_local) {
        NSLAB_RETURN_IF_ERROR(
            netlink::WriteSysctl(absl::StrCat("net.ipv6.conf.", scope, ".accept_dad"), "0"));
      }
      if (router) {
        NSLAB_RETURN_IF_ERROR(
            netlink::WriteSysctl(absl::StrCat("net.ipv6.conf.", scope, ".forwarding"), "1"));
      }
    }
    if (ipv6_off) {
      // IPv6 off on every interface made from now on (lo keeps ::1). A kernel without IPv6
      // has no such key, and nothing to turn off.
      auto status = netlink::WriteSysctl("net.ipv6.conf.default.disable_ipv6", "1");
      if (!status.ok() && !absl::IsInvalidArgument(status)) {
        return status;
      }
    }
    return router ? netlink::WriteSysctl("net.ipv4.ip_forward", "1") : absl::OkStatus();
  }

  absl::Status SetUpNode(const Node& node, NodeHandle& handle) {
    std::lock_guard<std::mutex> lock(handle.mutex);
    const auto& sock = handle.socket;
    NSLAB_RETURN_IF_ERROR(netlink::SetLinkUp(sock, "lo", true));
    if (node.kind() == nslab::v1::NODE_KIND_SWITCH) {
      // Without IPv6 in the lab, no snooping: each bridge would announce itself with MLD
      // reports that every other switch of the segment floods to all its hosts (quadratic
      // in a line of switches), and with no querier in the lab a snooping bridge floods
      // multicast anyway.
      netlink::BridgeOptions options{.stp = node.bridge().stp(),
                                     .ageing_seconds = node.bridge().ageing_seconds(),
                                     .multicast_snooping = link_local_};
      NSLAB_RETURN_IF_ERROR(netlink::CreateBridge(sock, kSwitchBridge, options));
      NSLAB_RETURN_IF_ERROR(LinkUp(sock, node.name(), kSwitchBridge));
      NSLAB_RETURN_IF_ERROR(AddLeafBridges(node, handle, options));
    }
    if (node.kind() == nslab::v1::NODE_KIND_USTACK) {
      NSLAB_RETURN_IF_ERROR(netlink::CreateBridge(sock, kUstackBridge, {}));
      // Persistent, so the stack's process (and its restarts) attach to the same port.
      NSLAB_RETURN_IF_ERROR(
          wire::OpenTapInNetns(handle.netns.get(), kUstackTap,
                               {.mode = tap::OpenMode::kCreate, .persistent = true})
              .status());
      NSLAB_RETURN_IF_ERROR(netlink::SetMaster(sock, kUstackTap, kUstackBridge));
      NSLAB_RETURN_IF_ERROR(netlink::SetLinkUp(sock, kUstackTap, true));
      NSLAB_RETURN_IF_ERROR(netlink::SetLinkUp(sock, kUstackBridge, true));
    }
    return absl::OkStatus();
  }

  // A switch with more ports than a Linux bridge takes (1,023) holds them on leaf bridges
  // nslab-br1..K, each joined to br0 by a veth pair nslab-up<k> (in the leaf) <->
  // nslab-dn<k> (in br0): one L2 segment, a tree, so no loop.
  absl::Status AddLeafBridges(const Node& node, NodeHandle& handle,
                              const netlink::BridgeOptions& options) {
    const auto& sock = handle.socket;
    for (uint64_t k = 1; k <= SwitchLeaves(node.name()); ++k) {
      const std::string leaf = LeafBridge(k);
      const std::string up = absl::StrCat("nslab-up", k);
      const std::string down = absl::StrCat("nslab-dn", k);
      NSLAB_RETURN_IF_ERROR(netlink::CreateBridge(sock, leaf, options));
      NSLAB_RETURN_IF_ERROR(
          netlink::CreateVethPair(sock, TrunkEnd(up, handle), TrunkEnd(down, handle)));
      for (const std::string& end : {up, down}) {
        NSLAB_RETURN_IF_ERROR(netlink::EnableGro(sock, end));
        NSLAB_RETURN_IF_ERROR(netlink::DisableTso(sock, end));
      }
      NSLAB_RETURN_IF_ERROR(netlink::SetMaster(sock, up, leaf));
      NSLAB_RETURN_IF_ERROR(netlink::SetMaster(sock, down, kSwitchBridge));
      for (const std::string& device : {up, down, leaf}) {
        NSLAB_RETURN_IF_ERROR(LinkUp(sock, node.name(), device));
      }
    }
    return absl::OkStatus();
  }

  // Brings a link of the lab up; in a lab without IPv6, without IPv6 link-local addresses.
  // With them, every interface coming up sends MLD reports (and a host router
  // solicitations), and a switch floods each to all its ports and their namespaces:
  // quadratic in the hosts of a switch, 80% of a 1,000-host star's build.
  absl::Status LinkUp(const netlink::RouteSocket& sock, const std::string& node,
                      const std::string& name) const {
    // A node with many interfaces has IPv6 off on them instead (Ipv6Off), unless an apply
    // joins a namespace made before nslabd did that.
    if (!link_local_ && (!Ipv6Off(node) || scope_ != nullptr)) {
      NSLAB_RETURN_IF_ERROR(netlink::DisableLinkLocal(sock, name));
    }
    return netlink::SetLinkUp(sock, name, true);
  }

  static netlink::VethEnd TrunkEnd(const std::string& name, const NodeHandle& handle) {
    return {.name = name, .netns_fd = handle.netns.get(), .mac = "", .mtu = 0, .ifindex = 0};
  }

  // In a lab without IPv6, whether the node's namespace turns IPv6 off for its interfaces
  // (net.ipv6.conf.default.disable_ipv6) rather than only their link-local addresses. With
  // addr_gen_mode none alone each interface coming up still adds a multicast route
  // (ff00::/8) and walks all the namespace's IPv6 routes: quadratic in a switch's ports.
  // Only nodes with many interfaces do it: every /proc/sys lookup walks a dentry chain as
  // long as the host's count of namespaces, so a sysctl in each of thousands of nodes is
  // quadratic too.
  bool Ipv6Off(const std::string& node) const { return ipv6_off_.count(node) != 0; }
  static constexpr uint64_t kIpv6OffInterfaces = 32;

  uint64_t SwitchLeaves(const std::string& node) const {
    auto it = switch_leaves_.find(node);
    return it == switch_leaves_.end() ? 0 : it->second;
  }

  static std::string LeafBridge(uint64_t k) { return absl::StrCat("nslab-br", k); }

  // The bridge a switch end of link `index` is a port of.
  std::string SwitchBridgeOf(const std::string& node, size_t index, int side) const {
    if (SwitchLeaves(node) == 0) {
      return kSwitchBridge;
    }
    return LeafBridge(1 + port_ordinals_[index][side] / kPortsPerLeafBridge);
  }

  absl::StatusOr<std::shared_ptr<NodeHandle>> Handle(const std::string& node) {
    return handles_.Get(node_index_.at(node));
  }

  // A validated topology names only nodes it has.
  const Node& NodeNamed(const std::string& name) const {
    return topology_.nodes(static_cast<int>(node_index_.at(name)));
  }

  absl::Status BuildLink(const nslab::v1::Link& link, size_t index) {
    NSLAB_ASSIGN_OR_RETURN(auto a_handle, Handle(link.a().node()));
    NSLAB_ASSIGN_OR_RETURN(auto b_handle, Handle(link.b().node()));
    NodeHandle& a_node = *a_handle;
    NodeHandle& b_node = *b_handle;
    // Namespaces number their links from 2, so both ends of a veth would often get the
    // same ifindex; the kernel's link watcher then takes the pair for a non-stacked
    // device and batches its carrier change by up to a second instead of handling it at
    // once (linkwatch_urgent_event). Lab-unique indexes keep a new link usable at once.
    const int first =
        scope_ != nullptr && scope_->first_ifindex != 0 ? scope_->first_ifindex : kFirstLinkIfindex;
    const int ifindex = first + 2 * static_cast<int>(index);
    netlink::VethEnd a{link.a().interface(), a_node.netns.get(), link.a().mac(), link.mtu(),
                       ifindex};
    netlink::VethEnd b{link.b().interface(), b_node.netns.get(), link.b().mac(), link.mtu(),
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
      const auto flows = RequestedFlows(link);
      NSLAB_RETURN_IF_ERROR(wires_->Add({.lab_seed = topology_.seed(),
                                         .link = &link,
                                         .index = static_cast<int>(index),
                                         .ns_a = a_node.netns.get(),
                                         .ns_b = b_node.netns.get(),
                                         .a_to_b = impairments[0],
                                         .b_to_a = impairments[1],
                                         .a_to_b_flows = FlowRulesOf(flows[0]),
                                         .b_to_a_flows = FlowRulesOf(flows[1]),
                                         .ustack_a = ustack_a,
                                         .ustack_b = ustack_b}));
    } else {
      NSLAB_RETURN_IF_ERROR(OrderPeerIds(link, index, a_node, b_node));
      // Created through the a-side node's socket: the request names both namespaces, so
      // any socket will do, and this one is already open.
      std::lock_guard<std::mutex> lock(a_node.mutex);
      NSLAB_RETURN_IF_ERROR(netlink::CreateVethPair(a_node.socket, a, b));
    }
    for (int side = 0; side < 2; ++side) {
      const auto* end = side == 0 ? &link.a() : &link.b();
      NodeHandle* handle = side == 0 ? &a_node : &b_node;
      std::lock_guard<std::mutex> lock(handle->mutex);
      const auto& sock = handle->socket;
      const auto kind = NodeNamed(end->node()).kind();
      if (flooded_switches_.count(end->node()) != 0) {
        NSLAB_RETURN_IF_ERROR(netlink::DisableTso(sock, end->interface()));
      }
      if (kind == nslab::v1::NODE_KIND_SWITCH) {
        NSLAB_RETURN_IF_ERROR(
            netlink::SetMaster(sock, end->interface(), SwitchBridgeOf(end->node(), index, side)));
      }
      if (kind == nslab::v1::NODE_KIND_USTACK) {
        // The address (and MAC) belong to the stack behind the bridge, not to this end.
        NSLAB_RETURN_IF_ERROR(netlink::SetMaster(sock, end->interface(), kUstackBridge));
        NSLAB_RETURN_IF_ERROR(netlink::SetLinkUp(sock, end->interface(), true));
        continue;
      }
      const auto& other_end = side == 0 ? link.b() : link.a();
      if (flooded_switches_.count(other_end.node()) != 0) {
        NSLAB_RETURN_IF_ERROR(netlink::EnableGro(sock, end->interface()));
      }
      for (const auto& address : end->addresses()) {
        NSLAB_RETURN_IF_ERROR(netlink::AddAddress(sock, end->interface(), address));
      }
      NSLAB_RETURN_IF_ERROR(LinkUp(sock, end->node(), end->interface()));
    }
    return absl::OkStatus();
  }

  // A switch with many ports gives the namespace at the other end of its port `index` an id
  // below those of every earlier port's peer (netlink::SetPeerNamespaceId), so that the
  // kernel's scans for the newest port's peer, one per announcement about the port, stop at
  // once instead of passing every earlier host. Ids are a switch's port count minus the
  // port's place, all at least 1; a peer that has one already (a second link to it, a lab
  // being changed) keeps it.
  absl::Status OrderPeerIds(const nslab::v1::Link& link, size_t index, NodeHandle& a,
                            NodeHandle& b) {
    if (link.a().node() == link.b().node()) {
      return absl::OkStatus();
    }
    for (int side = 0; side < 2; ++side) {
      const auto ports = switch_ports_.find(side == 0 ? link.a().node() : link.b().node());
      if (ports == switch_ports_.end() || ports->second < kOrderedPeerIdPorts) {
        continue;
      }
      NodeHandle& sw = side == 0 ? a : b;
      const NodeHandle& peer = side == 0 ? b : a;
      const auto id = static_cast<int32_t>(ports->second - port_ordinals_[index][side]);
      std::lock_guard<std::mutex> lock(sw.mutex);
      auto status = netlink::SetPeerNamespaceId(sw.socket, peer.netns.get(), id);
      if (!status.ok() && !absl::IsAlreadyExists(status)) {
        return status;
      }
    }
    return absl::OkStatus();
  }
  // Below this, a switch's scans are short enough.
  static constexpr uint64_t kOrderedPeerIdPorts = 64;

  absl::Status FinishNode(const Node& node) {
    // A ustack node's routes are its stack's (UstackArgv), not this kernel's: none here.
    const std::vector<netlink::RouteSpec> routes = KernelRoutesOf(node);
    if (routes.empty() && node.rules().empty() && node.sysctls().empty() &&
        node.nftables().empty()) {
      return absl::OkStatus();  // nothing to open the node for
    }
    NSLAB_ASSIGN_OR_RETURN(auto handle, Handle(node.name()));
    std::lock_guard<std::mutex> lock(handle->mutex);
    const auto& sock = handle->socket;
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
      NSLAB_RETURN_IF_ERROR(netns::RunIn(handle->netns.get(), [&]() -> absl::Status {
        for (const auto& [key, value] : node.sysctls()) {
          NSLAB_RETURN_IF_ERROR(AtStep(netlink::WriteSysctl(key, value),
                                       absl::StrCat("sysctls.", node.name(), ".", key)));
        }
        return absl::OkStatus();
      }));
    }
    NSLAB_RETURN_IF_ERROR(AtStep(LoadRuleset(node, handle->netns.get()),
                                 absl::StrCat("nodes.", node.name(), ".nftables")));
    return absl::OkStatus();
  }

  static absl::Status LoadRuleset(const Node& node, int netns_fd) {
    if (node.nftables().empty()) {
      return absl::OkStatus();
    }
    return nft::RunCommands(netns_fd, node.nftables()).status();
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
  // Null: the whole topology.
  const BuildScope* const scope_;
  // Counts for no one when the caller wants no progress.
  events::ProgressReporter unreported_;
  events::ProgressReporter* const progress_;
  std::mutex created_mutex_;
  std::vector<std::string> created_;
  std::vector<int> built_links_;  // guarded by created_mutex_
  // A bounded window of open namespaces and netlink sockets, so that fds do not grow with
  // the lab.
  NodeHandles handles_;
  // Node name -> index in the topology; filled before the parallel phases, then only read.
  std::unordered_map<std::string, size_t> node_index_;
  // Whether interfaces get IPv6 link-local addresses (only in labs that use IPv6).
  const bool link_local_;
  // Per link, the place of each switch end among its switch's ports.
  std::vector<std::array<uint64_t, 2>> port_ordinals_;
  // Per switch, how many ports it has.
  std::unordered_map<std::string, uint64_t> switch_ports_;
  // Switches whose broadcast, sent to every port at once, could overrun the CPU's backlog
  // (net.core.netdev_max_backlog): the ends they send to get their own queue (EnableGro).
  std::unordered_set<std::string> flooded_switches_;
  // Nodes whose namespace has IPv6 off for the interfaces made in it (Ipv6Off).
  std::unordered_set<std::string> ipv6_off_;
  // Per switch with more ports than one bridge takes, its leaf bridges (else absent).
  std::unordered_map<std::string, uint64_t> switch_leaves_;
};

}  // namespace

bool UsesIpv6(const Topology& topology) {
  auto v6 = [](const std::string& text) { return text.find(':') != std::string::npos; };
  for (const auto& link : topology.links()) {
    for (const auto* end : {&link.a(), &link.b()}) {
      for (const auto& address : end->addresses()) {
        if (v6(address)) {
          return true;
        }
      }
    }
  }
  for (const Node& node : topology.nodes()) {
    for (const auto& route : node.routes()) {
      if (v6(route.to()) || v6(route.via())) {
        return true;
      }
      for (const auto& hop : route.nexthops()) {
        if (v6(hop.via())) {
          return true;
        }
      }
    }
    for (const auto& rule : node.rules()) {
      if (v6(rule.from()) || v6(rule.to())) {
        return true;
      }
    }
    for (const auto& [key, value] : node.sysctls()) {
      if (key.rfind("net.ipv6.", 0) == 0) {
        return true;
      }
    }
  }
  return false;
}

std::vector<std::string> NamespacesOf(const Topology& topology, const std::string& lab) {
  std::vector<std::string> result;
  for (const Node& node : topology.nodes()) {
    result.push_back(topology::NamespaceOf(lab, node.name()));
  }
  return result;
}

absl::Status BuildLab(const Topology& topology, const std::string& lab,
                      const impair::kernel::KernelFeatures& features, const LinkModes& modes,
                      LabWires* wires, const NamespacesMade& namespaces_made,
                      events::ProgressReporter* progress) {
  return LabBuilder(topology, lab, features, modes, wires, namespaces_made, progress).Build();
}

absl::Status BuildLabPart(const Topology& topology, const std::string& lab,
                          const impair::kernel::KernelFeatures& features, const LinkModes& modes,
                          LabWires* wires, const BuildScope& scope,
                          const NamespacesMade& namespaces_made) {
  return LabBuilder(topology, lab, features, modes, wires, namespaces_made, nullptr, &scope)
      .Build();
}

}  // namespace nslab::lab
