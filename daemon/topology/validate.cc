#include "daemon/topology/validate.h"

#include <sys/socket.h>

#include <map>
#include <set>
#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "daemon/impair/flow_match.h"
#include "daemon/impair/trace.h"
#include "daemon/impair/validate.h"
#include "daemon/topology/ip_address.h"
#include "daemon/topology/names.h"
#include "daemon/topology/process_ready.h"
#include "daemon/topology/validate_addresses.h"
#include "daemon/topology/validate_routes.h"
#include "proto/enum_defaults.h"

namespace nslab::topology {
namespace {

using nslab::v1::Endpoint;
using nslab::v1::Link;
using nslab::v1::Node;
using nslab::v1::Topology;

using MaybeError = std::optional<FieldError>;

MaybeError Invalid(std::string path, std::string message) {
  return FieldError{absl::StatusCode::kInvalidArgument, std::move(path), std::move(message)};
}

MaybeError Unsupported(std::string path, std::string message) {
  return FieldError{absl::StatusCode::kUnimplemented, std::move(path), std::move(message)};
}

// Bounds the per-frame match on the wire, far above what a person writes by hand.
constexpr int kMaxFlowsPerLink = 64;

MaybeError CheckFlows(const Link& link, const std::string& path) {
  if (link.flows_size() == 0) {
    return std::nullopt;
  }
  // mode: veth with flows is the kernel's to judge (LabRegistry, CheckKernelFlows): whether
  // it can play them depends on its qdiscs and hooks, which validation does not know.
  if (link.flows_size() > kMaxFlowsPerLink) {
    return Invalid(path + ".flows",
                   absl::StrCat(link.flows_size(), " flows; at most ", kMaxFlowsPerLink,
                                " per link (merge matches, e.g. a port range)"));
  }
  std::set<uint64_t> keys;
  for (int i = 0; i < link.flows_size(); ++i) {
    const nslab::v1::FlowImpairment& flow = link.flows(i);
    const std::string flow_path = absl::StrCat(path, ".flows[", i, "]");
    if (flow.match().ByteSizeLong() == 0) {
      return Invalid(flow_path + ".match",
                     "an empty match selects every frame: put that impairment in the link's "
                     "impair (or a_to_b, b_to_a) instead");
    }
    if (auto status = impair::ValidateFlowMatch(flow.match()); !status.ok()) {
      return Invalid(flow_path + ".match", std::string(status.message()));
    }
    if (!keys.insert(impair::FlowMatchKey(flow.match())).second) {
      return Invalid(flow_path + ".match",
                     absl::StrCat("\"", impair::FlowMatchText(flow.match()),
                                  "\" is an earlier flow's match too; that one would always be "
                                  "taken"));
    }
    if (!flow.has_impair() && !flow.has_a_to_b() && !flow.has_b_to_a()) {
      return Invalid(flow_path,
                     "no impairment: give impair, a_to_b or b_to_a (impair: {} lets the matched "
                     "traffic pass untouched)");
    }
    for (const auto& [key, impairment] :
         {std::pair{"impair", &flow.impair()}, std::pair{"a_to_b", &flow.a_to_b()},
          std::pair{"b_to_a", &flow.b_to_a()}}) {
      if (impairment->ByteSizeLong() == 0) {
        continue;
      }
      if (auto status = impair::ValidateImpairment(*impairment); !status.ok()) {
        return Invalid(absl::StrCat(flow_path, ".", key), std::string(status.message()));
      }
    }
  }
  return std::nullopt;
}

MaybeError FromStatus(const absl::Status& status, std::string path) {
  if (status.ok()) {
    return std::nullopt;
  }
  return Invalid(std::move(path), std::string(status.message()));
}

bool IsEmpty(const nslab::v1::Impairment& impairment) { return impairment.ByteSizeLong() == 0; }

// What the checks need to know about the lab as a whole.
struct Index {
  std::map<std::string, const Node*> nodes;
  // node -> interfaces the links give it, and their addresses
  std::map<std::string, InterfaceAddresses> interfaces;
};

// The largest MTU nslab-ustack takes (its --mtu, daemon/ustack/tool/main.cc): above it the
// stack's process exits at start and the lab never becomes ready.
constexpr uint32_t kUstackMaxMtu = 9000;

bool IsPowerOfTwo(uint32_t n) { return n != 0 && (n & (n - 1)) == 0; }

// The fault modes nslab-ustack plays (daemon/ustack/apps/fault.h), and the number each takes.
struct FaultModeRule {
  absl::string_view mode;
  absl::string_view number;  // "bytes", "rate" or empty
};
constexpr FaultModeRule kFaultModes[] = {
    {"refuse", ""},     {"blackhole-syn", ""}, {"never-accept", ""},  {"close-wait", ""},
    {"ignore-fin", ""}, {"zero-window", ""},   {"slow-read", "rate"}, {"reset-after", "bytes"},
};

MaybeError CheckServiceFault(const nslab::v1::Service& service, const std::string& service_path) {
  const std::string path = service_path + ".fault";
  const nslab::v1::ServiceFault& fault = service.fault();
  if (service.tcp() == 0) {
    return Invalid(path, "faults are for tcp services; remove it or make the service tcp: PORT");
  }
  std::vector<absl::string_view> known;
  const FaultModeRule* rule = nullptr;
  for (const FaultModeRule& candidate : kFaultModes) {
    known.push_back(candidate.mode);
    if (candidate.mode == fault.mode()) {
      rule = &candidate;
    }
  }
  if (rule == nullptr) {
    const std::string what =
        fault.mode().empty() ? "missing" : absl::StrCat("unknown mode \"", fault.mode(), "\"");
    return Invalid(path + ".mode", absl::StrCat(what, ": use one of ", absl::StrJoin(known, ", ")));
  }
  if (!service.connect().empty() && (fault.mode() == "refuse" || fault.mode() == "blackhole-syn" ||
                                     fault.mode() == "never-accept")) {
    return Invalid(
        path + ".mode",
        absl::StrCat(fault.mode(),
                     " is a listener's (a server's) fault; a client (with connect) "
                     "takes close-wait, ignore-fin, zero-window, slow-read, reset-after"));
  }
  if (rule->number == "bytes" && fault.bytes() == 0) {
    return Invalid(path + ".bytes",
                   "reset-after needs bytes: N, e.g. fault: {mode: reset-after, bytes: 1000}");
  }
  if (rule->number == "rate" && fault.rate() == 0) {
    return Invalid(path + ".rate",
                   "slow-read needs rate: BYTES/s, e.g. fault: {mode: slow-read, rate: 4096}");
  }
  if (rule->number != "bytes" && fault.bytes() != 0) {
    return Invalid(path + ".bytes",
                   absl::StrCat("only reset-after takes bytes, not ", fault.mode()));
  }
  if (rule->number != "rate" && fault.rate() != 0) {
    return Invalid(path + ".rate", absl::StrCat("only slow-read takes a rate, not ", fault.mode()));
  }
  return std::nullopt;
}

// The participant node: its stack answers on one interface with one IPv4 address, runs
// the built-in UDP and TCP apps and routes through IPv4 gateways.
MaybeError CheckUstackNode(const Node& node, const std::string& path) {
  if (node.offloads().tso() && !node.offloads().csum()) {
    return Invalid(path + ".offloads.tso",
                   "tso needs csum: true (the segments the TAP cuts get their checksums from it)");
  }
  std::set<std::pair<std::string, uint32_t>> ports;
  // The stack sets a port's fault on every TCP service there (a server and the clients that
  // connect to that port): they must agree.
  std::map<uint32_t, int> fault_by_port;  // tcp port -> the first service on it
  for (int i = 0; i < node.services_size(); ++i) {
    const auto& service = node.services(i);
    if (service.tcp() == 0) {
      continue;
    }
    auto [first, inserted] = fault_by_port.emplace(service.tcp(), i);
    const auto& other = node.services(first->second);
    if (!inserted && (service.has_fault() != other.has_fault() ||
                      service.fault().SerializeAsString() != other.fault().SerializeAsString())) {
      return Invalid(absl::StrCat(path, ".services[", i, "].fault"),
                     absl::StrCat("tcp port ", service.tcp(), " has services[", first->second,
                                  "] with another fault; a fault is per port, so give the "
                                  "services on one port the same fault"));
    }
  }
  for (int i = 0; i < node.services_size(); ++i) {
    const auto& service = node.services(i);
    const std::string service_path = absl::StrCat(path, ".services[", i, "]");
    if ((service.udp() == 0) == (service.tcp() == 0)) {
      return Invalid(service_path, "give the service's port as either udp: PORT or tcp: PORT");
    }
    const bool tcp = service.tcp() != 0;
    const uint32_t port = tcp ? service.tcp() : service.udp();
    if (port > 65535) {
      return Invalid(service_path + (tcp ? ".tcp" : ".udp"),
                     absl::StrCat("port ", port, " is not in 1-65535"));
    }
    if (service.has_fault()) {
      if (auto error = CheckServiceFault(service, service_path)) {
        return error;
      }
    }
    if (!service.connect().empty()) {
      // A client: it connects out and binds no port of its own.
      if (!tcp) {
        return Invalid(service_path + ".connect", "only tcp services connect out");
      }
      const std::optional<IpAddress> address = ParseIpAddress(service.connect());
      if (!address || address->family != AF_INET) {
        return Invalid(service_path + ".connect",
                       absl::StrCat("\"", service.connect(), "\" is not an IPv4 address"));
      }
      if (service.app() != "source" && service.app() != "sink" && service.app() != "hold") {
        return Invalid(service_path + ".app",
                       absl::StrCat("unknown client app \"", service.app(),
                                    "\" (known with connect: source, sink, hold)"));
      }
      if (service.bytes() != 0 && service.app() != "source") {
        return Invalid(service_path + ".bytes", "only a source takes a byte count");
      }
      continue;
    }
    if (service.bytes() != 0) {
      return Invalid(service_path + ".bytes", "a byte count is for a client (with connect)");
    }
    const bool known = service.app() == "echo" || service.app() == "discard" ||
                       (tcp && (service.app() == "chargen" || service.app() == "http"));
    if (!known) {
      return Invalid(service_path + ".app",
                     absl::StrCat("unknown app \"", service.app(), "\" (known: echo, discard",
                                  tcp ? ", chargen, http; with connect: source, sink, hold"
                                      : "; chargen and http are tcp only",
                                  ")"));
    }
    if (!ports.emplace(tcp ? "tcp" : "udp", port).second) {
      return Invalid(service_path, absl::StrCat(tcp ? "tcp" : "udp", " port ", port,
                                                " has another service already"));
    }
  }
  for (auto [key, size] : {std::pair{"rx", node.ring().rx()}, std::pair{"tx", node.ring().tx()}}) {
    if (size != 0 && (!IsPowerOfTwo(size) || size > 32768)) {
      return Invalid(absl::StrCat(path, ".ring.", key),
                     "a virtqueue size is a power of two from 1 to 32768");
    }
  }
  if (node.rules_size() > 0) {
    return Unsupported(
        absl::StrCat("rules.", node.name()),
        "the userspace stack has one routing table; policy rules need a kernel node");
  }
  for (int i = 0; i < node.routes_size(); ++i) {
    const auto& route = node.routes(i);
    const std::optional<IpAddress> via = ParseIpAddress(route.via());
    if ((via && via->family != AF_INET) || route.via().empty() || !route.dev().empty() ||
        route.type() != 0 || route.table() != 0 || route.nexthops_size() > 0) {
      return Unsupported(
          absl::StrCat("routes.", node.name(), "[", i, "]"),
          "a ustack node takes plain IPv4 routes: {to: PREFIX|default, via: GATEWAY}");
    }
  }
  return std::nullopt;
}

MaybeError CheckUstackLinks(const Topology& topology, const Node& node) {
  int ends = 0;
  for (int i = 0; i < topology.links_size(); ++i) {
    for (const auto* end : {&topology.links(i).a(), &topology.links(i).b()}) {
      if (end->node() != node.name()) {
        continue;
      }
      ++ends;
      const std::string path =
          absl::StrCat("links[", i, "].", end == &topology.links(i).a() ? "a" : "b");
      if (topology.links(i).mtu() > kUstackMaxMtu) {
        return Invalid(
            absl::StrCat("links[", i, "].mtu"),
            absl::StrCat("mtu ", topology.links(i).mtu(), " is above ", kUstackMaxMtu,
                         ", the most ", node.name(), "'s stack (kind ustack) takes; lower it to ",
                         kUstackMaxMtu, " or less"));
      }
      auto prefix = end->addresses_size() == 1 ? ParseIpPrefix(end->addresses(0)) : std::nullopt;
      if (!prefix || prefix->address.family != AF_INET) {
        return Invalid(
            path + "_addr",
            "a ustack node's interface needs exactly one IPv4 address (e.g. 10.0.0.2/24)");
      }
    }
  }
  if (ends != 1) {
    return Unsupported(absl::StrCat("nodes.", node.name()),
                       absl::StrCat("a ustack node has exactly one link (it has ", ends, ")"));
  }
  return std::nullopt;
}

MaybeError CheckNode(const Node& node, const std::string& path) {
  switch (node.kind()) {
    case nslab::v1::NODE_KIND_HOST:
    case nslab::v1::NODE_KIND_ROUTER:
    case nslab::v1::NODE_KIND_SWITCH:
      break;
    case nslab::v1::NODE_KIND_USTACK:
      if (auto error = CheckUstackNode(node, path)) {
        return error;
      }
      break;
    default:
      return Invalid(path + ".kind", "missing or unknown kind (host, router, switch, ustack)");
  }
  if (node.has_bridge() && node.kind() != nslab::v1::NODE_KIND_SWITCH) {
    return Invalid(path + ".bridge", "bridge options are only for nodes of kind switch");
  }
  if (node.kind() != nslab::v1::NODE_KIND_USTACK &&
      (node.services_size() > 0 || node.has_ring() || node.has_offloads())) {
    return Invalid(path + (node.has_ring()       ? ".ring"
                           : node.has_offloads() ? ".offloads"
                                                 : ".services"),
                   "services, ring and offloads are only for nodes of kind ustack");
  }
  for (const auto& [key, value] : node.sysctls()) {
    const std::string key_path = absl::StrCat("sysctls.", node.name(), ".", key);
    if (!key.starts_with("net.") || key.find("..") != std::string::npos || key.back() == '.') {
      return Invalid(key_path, "only net.* sysctls can be set in a lab (they are per namespace)");
    }
    for (char c : key) {
      if (!absl::ascii_isalnum(c) && c != '.' && c != '_' && c != '-') {
        return Invalid(key_path, "sysctl names hold letters, digits, '.', '_' and '-'");
      }
    }
    if (value.empty() || value.find('\n') != std::string::npos) {
      return Invalid(key_path, "needs a one-line value");
    }
  }
  for (int i = 0; i < node.run_size(); ++i) {
    const std::string run_path = absl::StrCat("run.", node.name(), "[", i, "]");
    if (node.run(i).argv_size() == 0 || node.run(i).argv(0).empty()) {
      return Invalid(run_path, "empty command");
    }
    if (!nslab::v1::RestartPolicy_IsValid(node.run(i).restart())) {
      return Invalid(run_path + ".restart", "unknown restart policy (never, on-failure, always)");
    }
    NSLAB_TRY_FIELD(CheckProcessReady(node.run(i).ready(), run_path + ".ready"));
  }
  return std::nullopt;
}

MaybeError CheckEndpoint(const Endpoint& end, const std::string& path, const Link& link,
                         Index& index, std::map<std::string, std::set<std::string>>& addresses) {
  auto node = index.nodes.find(end.node());
  if (node == index.nodes.end()) {
    return Invalid(path, absl::StrCat("node \"", end.node(), "\" is not defined"));
  }
  if (auto status = CheckInterfaceName(end.interface()); !status.ok()) {
    return FromStatus(status, path);
  }
  if (end.interface() == "lo") {
    return Invalid(path, "\"lo\" is the node's loopback; choose another interface name");
  }
  if (!index.interfaces[end.node()].emplace(end.interface(), std::vector<IpPrefix>{}).second) {
    return Invalid(path, absl::StrCat("interface ", end.node(), ":", end.interface(),
                                      " is used by another link"));
  }
  const bool is_switch = node->second->kind() == nslab::v1::NODE_KIND_SWITCH;
  const bool is_ustack = node->second->kind() == nslab::v1::NODE_KIND_USTACK;
  // Devices nslab makes in the node's namespace beside the links' ends.
  if ((is_switch && end.interface() == kSwitchBridge) ||
      (is_ustack && (end.interface() == kUstackBridge || end.interface() == kUstackTap))) {
    return Invalid(path, absl::StrCat("interface name \"", end.interface(), "\" is taken by the ",
                                      is_switch ? "switch's bridge" : "stack's bridge and TAP",
                                      " nslab makes in ", end.node(), "; choose another name"));
  }
  // A switch past a bridge's 1,023 ports is a tree: nslab-br<k> leaves joined to the root by
  // nslab-up<k>/nslab-dn<k> veths (daemon/lab/builder.cc).
  if (is_switch && absl::StartsWith(end.interface(), "nslab-")) {
    return Invalid(path, absl::StrCat("interface name \"", end.interface(),
                                      "\": names starting with \"nslab-\" are for the bridges "
                                      "nslab makes in a big switch; choose another name"));
  }
  if (is_switch && end.addresses_size() > 0) {
    return Invalid(path + "_addr", "a switch port carries no address; put it on the other end");
  }
  for (int i = 0; i < end.addresses_size(); ++i) {
    const std::string& text = end.addresses(i);
    const std::string addr_path = absl::StrCat(path, "_addr[", i, "]");
    auto prefix = ParseIpPrefix(text);
    if (!prefix) {
      return Invalid(addr_path, absl::StrCat("\"", text,
                                             "\" is not an address with prefix length (e.g. "
                                             "10.0.0.1/24 or 2001:db8::1/64)"));
    }
    if (!addresses[end.node()].insert(prefix->address.ToString()).second) {
      return Invalid(addr_path, absl::StrCat("address ", prefix->address.ToString(),
                                             " is already used on node ", end.node()));
    }
    index.interfaces[end.node()][end.interface()].push_back(*prefix);
  }
  if (!end.mac().empty() && !IsValidUnicastMac(end.mac())) {
    return Invalid(path + "_mac", absl::StrCat("\"", end.mac(),
                                               "\" is not a unicast MAC (e.g. 02:00:00:00:00:01)"));
  }
  (void)link;
  return std::nullopt;
}

MaybeError CheckLink(const Link& link, const std::string& path, Index& index,
                     std::map<std::string, std::set<std::string>>& addresses) {
  if (auto error = CheckEndpoint(link.a(), path + ".a", link, index, addresses)) {
    return error;
  }
  if (auto error = CheckEndpoint(link.b(), path + ".b", link, index, addresses)) {
    return error;
  }
  if (link.mtu() != 0 && (link.mtu() < 68 || link.mtu() > 65535)) {
    return Invalid(path + ".mtu", "must be from 68 to 65535");
  }
  NSLAB_TRY_FIELD(CheckIpv6Mtu(link, path));
  if (!nslab::v1::LinkMode_IsValid(link.mode())) {
    return Invalid(path + ".mode", "unknown mode (auto, veth, wire)");
  }
  NSLAB_TRY_FIELD(CheckFlows(link, path));
  for (const auto& [key, impairment] :
       {std::pair{"impair", &link.impair()}, std::pair{"a_to_b", &link.a_to_b()},
        std::pair{"b_to_a", &link.b_to_a()}}) {
    if (IsEmpty(*impairment)) {
      continue;
    }
    if (auto status = impair::ValidateImpairment(*impairment); !status.ok()) {
      return Invalid(absl::StrCat(path, ".", key), std::string(status.message()));
    }
    if (!impairment->trace().empty()) {
      if (auto trace = impair::DeliveryTrace::Parse(impairment->trace()); !trace.ok()) {
        // `trace:` named a file before it held the text: say where a name goes now.
        const bool one_line = impairment->trace().find('\n') == std::string::npos;
        return Invalid(absl::StrCat(path, ".", key, ".trace"),
                       absl::StrCat(trace.status().message(),
                                    one_line ? " (to name a file, write trace_file:)" : ""));
      }
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<FieldError> ValidateTopology(const Topology& topology) {
  if (!topology.name().empty()) {
    if (auto status = CheckLabName(topology.name()); !status.ok()) {
      return FromStatus(status, "name");
    }
  }
  if (!nslab::v1::RoutingMode_IsValid(topology.routing())) {
    return Invalid("routing", "unknown routing mode (auto, static)");
  }
  if (topology.nodes_size() == 0) {
    return Invalid("nodes", "a topology needs at least one node");
  }
  Index index;
  for (const Node& node : topology.nodes()) {
    const std::string path = absl::StrCat("nodes.", node.name());
    if (auto status = CheckNodeName(node.name()); !status.ok()) {
      return FromStatus(status, path);
    }
    if (!index.nodes.emplace(node.name(), &node).second) {
      return Invalid(path, absl::StrCat("node \"", node.name(), "\" is defined twice"));
    }
    if (auto error = CheckNode(node, path)) {
      return error;
    }
  }
  std::map<std::string, std::set<std::string>> addresses;
  std::set<std::string> link_names;
  for (int i = 0; i < topology.links_size(); ++i) {
    const Link& link = topology.links(i);
    const std::string path = absl::StrCat("links[", i, "]");
    if (!link.name().empty() && !link_names.insert(link.name()).second) {
      return Invalid(path + ".name", absl::StrCat("link name \"", link.name(), "\" is used twice"));
    }
    if (auto error = CheckLink(link, path, index, addresses)) {
      return error;
    }
  }
  NSLAB_TRY_FIELD(CheckSegmentAddresses(topology));
  for (const Node& node : topology.nodes()) {
    if (auto error = CheckRoutesAndRules(node, index.interfaces[node.name()])) {
      return error;
    }
    if (node.kind() == nslab::v1::NODE_KIND_USTACK) {
      if (auto error = CheckUstackLinks(topology, node)) {
        return error;
      }
    }
  }
  return std::nullopt;
}

}  // namespace nslab::topology
