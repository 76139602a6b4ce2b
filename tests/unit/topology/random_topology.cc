#include "tests/unit/topology/random_topology.h"

#include <sys/socket.h>

#include <algorithm>
#include <limits>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "daemon/impair/flow_match.h"
#include "daemon/impair/validate.h"

namespace nslab::topology::testing {
namespace {

using nslab::v1::Node;
using nslab::v1::Topology;

// Pieces of text that printers get wrong: YAML indicators, blanks and line breaks, control
// and non-ASCII characters (each UTF-8 length, the line and paragraph separators, the byte
// order mark). Brackets come in pairs: the reader's nesting guard counts every '[' and '{'.
const std::vector<std::string>& Pieces() {
  static const auto* pieces = new std::vector<std::string>{"a",
                                                           "cubic",
                                                           "eth0",
                                                           "x y",
                                                           "web",
                                                           ":",
                                                           ": ",
                                                           " #",
                                                           "#",
                                                           "-",
                                                           "- ",
                                                           "? ",
                                                           "?",
                                                           "&a",
                                                           "*a",
                                                           "!t",
                                                           "!!str",
                                                           "%",
                                                           "@",
                                                           "`",
                                                           "|",
                                                           ">",
                                                           "'",
                                                           "\"",
                                                           "\\",
                                                           ",",
                                                           "{}",
                                                           "[]",
                                                           "{ x }",
                                                           "[a, b]",
                                                           "---",
                                                           "...",
                                                           "<<",
                                                           " ",
                                                           "  ",
                                                           "\t",
                                                           "\n",
                                                           "\r",
                                                           "\r\n",
                                                           "\x01",
                                                           "\x04",
                                                           "\x7f",
                                                           "\x1b[0m",
                                                           std::string(1, '\0'),
                                                           "\u00e9",
                                                           "\u00a0",
                                                           "\u0085",
                                                           "\u2028",
                                                           "\u2029",
                                                           "\ufeff",
                                                           "\u65e5\u672c",
                                                           "\U0001F600",
                                                           "\u07ff",
                                                           "\u0800",
                                                           "\ufffd",
                                                           "\U0010FFFD",
                                                           "0",
                                                           "1.5",
                                                           "0x1f",
                                                           "12:30",
                                                           "true",
                                                           "~"};
  return *pieces;
}

// Whole values other YAML tools read as something else, or that YAML spells specially.
const std::vector<std::string>& Words() {
  static const auto* words = new std::vector<std::string>{
      "",    "null", "Null",  "~",     "true",   "False", "yes",
      "NO",  "on",   "off",   "y",     "n",      "0",     "-1",
      "+2",  "007",  "0o17",  "0x1F",  "0b101",  "1_000", "1.5",
      ".5",  "1e3",  "-.inf", ".NaN",  "12:30",  "1:2:3", "02:00:00:00:00:01",
      "- a", "a: b", "#x",    " lead", "trail ", "\t",    "\n",
      "a\n", "\n\n", "---"};
  return *words;
}

}  // namespace

uint32_t RandomTopology::Uint32() {
  switch (Below(6)) {
    case 0:
      return 1;
    case 1:
      return std::numeric_limits<uint32_t>::max();
    case 2:
      return static_cast<uint32_t>(Below(4294) + 1) * 1'000'000;
    case 3:
      return static_cast<uint32_t>(Below(4'294'967) + 1) * 1'000;
    default:
      return static_cast<uint32_t>(Below(std::numeric_limits<uint32_t>::max()) + 1);
  }
}

uint64_t RandomTopology::Uint64() {
  switch (Below(6)) {
    case 0:
      return 1;
    case 1:
      return std::numeric_limits<uint64_t>::max();
    case 2:
      return (uint64_t{1} << 53) + 1;  // the first integer a double cannot hold
    case 3:
      return (Below(18'000'000'000) + 1) * 1'000'000'000;
    default:
      return std::max<uint64_t>(rng_(), 1);
  }
}

double RandomTopology::Percent() {
  switch (Below(6)) {
    case 0:
      return static_cast<double>(Below(100) + 1);
    case 1:
      return 0.1;
    case 2:
      return Pick(std::vector<double>{5e-324, 1e-300, 1e-7, 100.0 / 3, 99.99999999999999});
    default: {
      const double unit = static_cast<double>(rng_() >> 11) * 0x1.0p-53;  // [0, 1)
      return unit == 0 ? 100 : unit * 100;
    }
  }
}

std::string RandomTopology::Text(bool one_line) {
  std::string text;
  if (Chance(25)) {
    text = Pick(Words());
  } else {
    const uint64_t pieces = Below(6) + 1;
    for (uint64_t i = 0; i < pieces; ++i) {
      absl::StrAppend(&text, Pick(Pieces()));
    }
  }
  if (Chance(2)) {
    text = std::string(1100, 'k') + text;  // yaml-cpp prints a key this long as "? key"
  }
  if (one_line) {
    text.erase(std::remove(text.begin(), text.end(), '\n'), text.end());
  }
  return text;
}

std::string RandomTopology::MultilineText() {
  std::string text = Chance(10) ? Pick(std::vector<std::string>{" ", "\n", "  indented"}) : "";
  const uint64_t lines = Below(5) + 1;
  for (uint64_t i = 0; i < lines; ++i) {
    absl::StrAppend(&text, i > 0 ? "\n" : "",
                    Chance(50) ? Text(/*one_line=*/true) : "table inet t { chain c { } }");
  }
  return text + Pick(std::vector<std::string>{"", "\n", "\n", "\n", "\n\n", " \n"});
}

std::string RandomTopology::Name(size_t max_length) {
  if (Chance(20)) {
    return Pick(std::vector<std::string>{"null", "true", "yes", "no", "on", "off", "y", "n", "nan",
                                         "inf", "e1", "x-0"});
  }
  static constexpr absl::string_view kMiddle = "abcdefghijklmnopqrstuvwxyz0123456789-";
  std::string name(1, static_cast<char>('a' + Below(26)));
  const uint64_t length = Below(max_length);
  for (uint64_t i = 1; i < length; ++i) {
    name += kMiddle[Below(kMiddle.size())];
  }
  if (name.back() == '-') {
    name.back() = '0';
  }
  return name;
}

std::string RandomTopology::InterfaceName(const std::vector<std::string>& taken) {
  // Printable, without '/', ':' or blanks; no brackets (see Pieces()).
  static constexpr absl::string_view kChars =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.#&*!|>'\"%@`,?=+~";
  for (;;) {
    std::string name;
    if (Chance(60)) {
      name = absl::StrCat("eth", Below(8));
    } else {
      const uint64_t length = Below(15) + 1;
      for (uint64_t i = 0; i < length; ++i) {
        name += kChars[Below(kChars.size())];
      }
    }
    if (name != "." && name != ".." && name != "lo" &&
        std::find(taken.begin(), taken.end(), name) == taken.end()) {
      return name;
    }
  }
}

std::string RandomTopology::Ipv4Address() {
  const uint32_t n = ++address_counter_;
  return absl::StrCat("10.", (n >> 8) & 255, ".", n & 255, ".", 1 + (n >> 16) % 250);
}

std::string RandomTopology::Ipv6Address() {
  return absl::StrFormat("2001:db8::%x", ++address_counter_);
}

std::string RandomTopology::Mac() {
  return absl::StrFormat("%02x:%02x:%02x:%02x:%02x:%02X", Below(128) * 2, Below(256), Below(256),
                         Below(256), Below(256), Below(256));
}

std::string RandomTopology::Trace() {
  std::string text;
  uint64_t ms = 0;
  const uint64_t lines = Below(6) + 1;
  const std::string end = Pick(std::vector<std::string>{"\n", "\n", "\r\n", " \n"});
  for (uint64_t i = 0; i < lines; ++i) {
    ms += Below(3);
    absl::StrAppend(&text, i + 1 == lines ? ms + 1 : ms, i + 1 < lines || Chance(70) ? end : "");
    if (Chance(10)) {
      text += "\n";  // a blank line
    }
  }
  return text;
}

Topology RandomTopology::Next() {
  Topology topology;
  infos_.clear();
  if (Chance(70)) {
    topology.set_name(Name(32));
  }
  if (Chance(50)) {
    topology.set_seed(Uint64());
  }
  for (uint64_t i = Below(4); i > 0; --i) {
    (*topology.mutable_labels())[Text()] = Text();
  }
  if (Chance(40)) {
    topology.set_ttl_seconds(Pick(std::vector<uint32_t>{1, 59, 60, 3600, 86'400, Uint32()}));
  }
  topology.set_routing(static_cast<nslab::v1::RoutingMode>(Below(3)));

  std::set<std::string> names;
  const uint64_t count = Below(6) + 1;
  while (names.size() < count) {
    names.insert(Name(32));
  }
  for (const std::string& name : names) {
    Node* node = topology.add_nodes();
    node->set_name(name);
    // The first node is never a ustack node: every ustack node links to a kernel node.
    node->set_kind(static_cast<nslab::v1::NodeKind>(Below(topology.nodes_size() == 1 ? 3 : 4) + 1));
    infos_.emplace_back();
  }
  std::vector<int> kernel_nodes;
  for (int i = 0; i < topology.nodes_size(); ++i) {
    if (topology.nodes(i).kind() != nslab::v1::NODE_KIND_USTACK) {
      kernel_nodes.push_back(i);
    }
  }
  for (int i = 0; i < topology.nodes_size(); ++i) {
    if (topology.nodes(i).kind() == nslab::v1::NODE_KIND_USTACK) {
      AddLink(&topology, i, Pick(kernel_nodes), true, false);
    }
  }
  for (uint64_t i = Below(5); i > 0; --i) {
    AddLink(&topology, Pick(kernel_nodes), Pick(kernel_nodes), false, false);
  }

  for (int i = 0; i < topology.nodes_size(); ++i) {
    Node* node = topology.mutable_nodes(i);
    AddRoutes(node, infos_[i]);
    AddProcesses(node);
    for (uint64_t s = Chance(30) ? Below(3) + 1 : 0; s > 0; --s) {
      std::string key = "net";
      for (uint64_t part = Below(4) + 1; part > 0; --part) {
        absl::StrAppend(&key, ".", Name(12), Chance(20) ? "_x" : "");
      }
      std::string value = Text(/*one_line=*/true);
      (*node->mutable_sysctls())[key] = value.empty() ? "0" : value;
    }
    if (Chance(20)) {
      node->set_nftables(Chance(70) ? MultilineText() : Text());
    }
    if (Chance(15)) {
      node->set_nftables_file(Text());
      if (node->nftables_file().empty()) {
        node->set_nftables_file("rules.nft");
      }
    }
    if (node->kind() == nslab::v1::NODE_KIND_USTACK) {
      AddUstackOptions(node);
    } else {
      AddRules(node, infos_[i]);
    }
    if (node->kind() == nslab::v1::NODE_KIND_SWITCH && Chance(50)) {
      nslab::v1::Bridge* bridge = node->mutable_bridge();
      bridge->set_stp(Chance(50));
      if (Chance(50)) {
        bridge->set_ageing_seconds(Pick(std::vector<uint32_t>{1, 30, 60, 7200, Uint32()}));
      }
    }
  }
  return topology;
}

void RandomTopology::AddLink(Topology* topology, int a, int b, bool a_ustack, bool b_ustack) {
  nslab::v1::Link* link = topology->add_links();
  bool has_ipv6 = false;
  for (auto [index, ustack, end] :
       {std::tuple{a, a_ustack, link->mutable_a()}, std::tuple{b, b_ustack, link->mutable_b()}}) {
    const Node& node = topology->nodes(index);
    end->set_node(node.name());
    end->set_interface(InterfaceName(infos_[index].interfaces));
    infos_[index].interfaces.push_back(end->interface());
    if (ustack) {
      end->add_addresses(absl::StrCat(Ipv4Address(), "/", 8 + Below(23)));
    } else if (node.kind() != nslab::v1::NODE_KIND_SWITCH) {
      for (uint64_t i = Below(4); i > 0; --i) {
        end->add_addresses(Chance(60) ? absl::StrCat(Ipv4Address(), "/", Below(33))
                                      : absl::StrCat(Ipv6Address(), "/", Below(129)));
      }
    }
    for (const std::string& address : end->addresses()) {
      infos_[index].addresses.emplace_back(end->interface(), *ParseIpPrefix(address));
      has_ipv6 = has_ipv6 || address.find(':') != std::string::npos;
    }
    if (Chance(20)) {
      end->set_mac(Mac());
    }
  }
  if (Chance(30)) {
    link->set_name(absl::StrCat(Text(), "#", topology->links_size()));  // unique
  }
  if (Chance(30)) {
    // IPv6 needs 1280 at least, a ustack node's stack takes 9000 at most.
    std::vector<uint32_t> mtus = {1280, 9000};
    if (!has_ipv6) {
      mtus.push_back(68);
    }
    if (!a_ustack && !b_ustack) {
      mtus.push_back(65535);
    }
    link->set_mtu(Pick(mtus));
  }
  link->set_mode(static_cast<nslab::v1::LinkMode>(Below(4)));
  if (Chance(35)) {
    *link->mutable_impair() = Impairment();
  }
  if (Chance(25)) {
    *link->mutable_a_to_b() = Impairment();
  }
  if (Chance(25)) {
    *link->mutable_b_to_a() = Impairment();
  }
  if (link->mode() != nslab::v1::LINK_MODE_VETH && Chance(20)) {
    std::set<std::string> matches;  // one flow per match
    for (uint64_t n = 1 + Below(3); n > 0; --n) {
      nslab::v1::FlowMatch match = FlowMatch();
      if (!matches.insert(impair::FlowMatchText(match)).second) {
        continue;
      }
      auto* flow = link->add_flows();
      *flow->mutable_match() = std::move(match);
      if (Chance(30)) {
        *flow->mutable_a_to_b() = Impairment();
      }
      if (Chance(30)) {
        *flow->mutable_b_to_a() = Impairment();
      }
      if (Chance(60) || (!flow->has_a_to_b() && !flow->has_b_to_a())) {
        *flow->mutable_impair() = Impairment();
      }
    }
  }
}

// A valid match in the canonical form the reader returns.
nslab::v1::FlowMatch RandomTopology::FlowMatch() {
  nslab::v1::FlowMatch match;
  const bool ipv6 = Chance(30);
  std::vector<std::string> protocols = {"", "tcp", "udp", "sctp", ipv6 ? "icmpv6" : "icmp"};
  match.set_protocol(Pick(protocols));
  for (std::string* address : {match.mutable_source(), match.mutable_destination()}) {
    if (Chance(40)) {
      *address = ipv6 ? (Chance(50) ? absl::StrFormat("fd00:%x::/64", Below(65536))
                                    : absl::StrFormat("fd00::%x", 1 + Below(9999)))
                      : (Chance(50) ? absl::StrCat("10.", Below(256), ".0.0/16")
                                    : absl::StrCat("10.0.", Below(256), ".", 1 + Below(254)));
    }
  }
  const std::string& protocol = match.protocol();
  if (protocol == "tcp" || protocol == "udp" || protocol == "sctp") {
    using Field = nslab::v1::PortRange* (nslab::v1::FlowMatch::*)();
    for (Field field : {&nslab::v1::FlowMatch::mutable_source_port,
                        &nslab::v1::FlowMatch::mutable_destination_port}) {
      if (Chance(50)) {
        nslab::v1::PortRange* ports = (match.*field)();  // present only when it has a port
        ports->set_first(static_cast<uint32_t>(1 + Below(65535)));
        if (Chance(40)) {
          ports->set_last(ports->first() + static_cast<uint32_t>(Below(65536 - ports->first())));
        }
      }
    }
    if (!match.has_source_port() && !match.has_destination_port() && Chance(50)) {
      match.mutable_destination_port()->set_first(5432);
    }
  }
  if (match.ByteSizeLong() == 0) {
    match.set_protocol("udp");
  }
  return impair::CanonicalFlowMatch(match);
}

nslab::v1::Impairment RandomTopology::Impairment() {
  nslab::v1::Impairment out;
  if (Chance(10)) {
    return out;  // present and empty: a direction with no impairment at all
  }
  if (Chance(50)) {
    out.set_delay_us(Uint32());
  }
  if (Chance(40)) {
    out.set_jitter_us(static_cast<uint32_t>(Below(impair::kMaxJitterUs) + 1));
    if (Chance(50)) {
      out.set_delay_correlation(Percent());
    }
  }
  // Uniform (spelled out or not) needs nothing; the others shape a jitter.
  out.set_distribution(static_cast<nslab::v1::DelayDistribution>(
      out.jitter_us() > 0 ? Below(5) : Pick(std::vector<uint64_t>{0, 4})));
  switch (Below(4)) {
    case 0:
      out.set_loss(Percent());
      if (Chance(50)) {
        out.set_loss_correlation(Percent());
      }
      break;
    case 1: {
      nslab::v1::GilbertElliott* ge = out.mutable_gilbert_elliott();
      if (Chance(80)) {
        ge->set_p(Percent());
        ge->set_r(Percent());
        (Chance(50) ? ge->set_h(Percent()) : ge->set_k(Percent()));
        if (Chance(30)) {
          ge->set_k(Percent());
        }
      }  // else present and all zero: no model
      break;
    }
    default:
      break;
  }
  if (Chance(30)) {
    out.set_duplicate(Percent());
  }
  if (Chance(30)) {
    out.set_corrupt(Percent());
  }
  if (out.delay_us() > 0 && Chance(40)) {
    out.set_reorder(Percent());
    if (Chance(50)) {
      out.set_reorder_gap(Uint32());
    }
  }
  if (Chance(30)) {
    out.set_limit_packets(static_cast<uint32_t>(Below(impair::kMaxLimitPackets) + 1));
  }
  if (Chance(40)) {
    out.set_rate_bps(Uint64());
    if (Chance(50)) {
      out.set_burst_bytes(Uint32());
    }
  } else if (Chance(40)) {
    if (Chance(70)) {
      out.set_trace(Trace());
    }
    if (Chance(60) || out.trace().empty()) {
      out.set_trace_file(Chance(50) ? "cell.trace" : Text() + ".trace");
    }
  }
  return out;
}

std::optional<std::pair<std::string, std::string>> RandomTopology::Gateway(const NodeInfo& info,
                                                                           int family) {
  std::vector<std::pair<std::string, IpPrefix>> subnets;
  for (const auto& [interface, prefix] : info.addresses) {
    if (prefix.address.family == family && prefix.length < (family == AF_INET ? 32 : 128)) {
      subnets.emplace_back(interface, prefix);
    }
  }
  if (subnets.empty()) {
    return std::nullopt;
  }
  const auto& [interface, prefix] = Pick(subnets);
  // The address's neighbour in its last bit: in the subnet, and (addresses being unique and
  // all made the same way) never the node's own.
  IpAddress gateway = prefix.address;
  gateway.bytes[gateway.size() - 1] ^= 1;
  for (const auto& [unused, own] : info.addresses) {
    const bool broadcast = family == AF_INET && own.address.family == AF_INET && own.length < 31 &&
                           own.Last() == gateway;
    if (own.address == gateway || broadcast) {
      return std::nullopt;
    }
  }
  return std::pair{interface, gateway.ToString()};
}

void RandomTopology::AddRoutes(Node* node, NodeInfo& info) {
  const bool ustack = node->kind() == nslab::v1::NODE_KIND_USTACK;
  for (const auto& [unused, prefix] : info.addresses) {
    if (prefix.address.family == AF_INET && prefix.length == 0) {
      info.defaults.emplace(AF_INET, 0, 0);  // the kernel's route to the subnet 0.0.0.0/0
    }
  }
  for (uint64_t i = Chance(40) ? Below(4) + 1 : 0; i > 0; --i) {
    nslab::v1::Route* route = node->add_routes();
    const bool v6 = !ustack && Chance(30);
    const bool any_family = Chance(30);
    const int family = (v6 || (any_family && Chance(30))) && !ustack ? AF_INET6 : AF_INET;
    if (any_family) {
      route->set_to("default");
    } else if (v6) {
      route->set_to(absl::StrCat(Ipv6Address(), Chance(80) ? "/64" : ""));
    } else {
      // The kernel refuses an IPv4 destination with host bits set.
      route->set_to(Chance(80)
                        ? ParseIpPrefix(absl::StrCat(Ipv4Address(), "/24"))->Network().ToString()
                        : Ipv4Address());
    }
    if (Chance(30)) {
      route->set_metric(Uint32());
    }
    // A gateway on one of the node's subnets, with the interface it is on; or a link-local
    // one, which needs its interface.
    const auto hop = [&](std::string* via, std::string* dev, int via_chance) {
      auto gateway = Gateway(info, family);
      if (!gateway && family == AF_INET6 && !info.interfaces.empty()) {
        gateway = std::pair{Pick(info.interfaces), absl::StrFormat("fe80::%x", Below(65535) + 1)};
      }
      const bool link_local = gateway && gateway->second.starts_with("fe80:");
      if (gateway && (info.interfaces.empty() || Chance(via_chance) || link_local)) {
        *via = gateway->second;
        if (link_local || Chance(30)) {
          *dev = gateway->first;
        }
      } else if (!info.interfaces.empty()) {
        *dev = Pick(info.interfaces);
      }
    };
    if (ustack) {
      // Validation needs the stack's address first; every ustack node has one.
      route->set_via(Gateway(info, AF_INET)->second);
      continue;
    }
    route->set_type(static_cast<nslab::v1::RouteType>(Below(5)));
    if (Chance(30)) {
      route->set_table(Uint32());
    }
    const bool unicast = route->type() == nslab::v1::ROUTE_TYPE_UNSPECIFIED ||
                         route->type() == nslab::v1::ROUTE_TYPE_UNICAST;
    if (unicast && Chance(30)) {
      for (uint64_t h = Below(3) + 1; h > 0; --h) {
        nslab::v1::Nexthop* next = route->add_nexthops();
        hop(next->mutable_via(), next->mutable_dev(), 60);
        if (Chance(50)) {
          next->set_weight(static_cast<uint32_t>(Below(256) + 1));
        }
      }
    } else if (unicast) {
      hop(route->mutable_via(), route->mutable_dev(), 70);
    }
    bool routed =
        !unicast || !route->via().empty() || !route->dev().empty() || route->nexthops_size() > 0;
    for (const auto& next : route->nexthops()) {
      routed = routed && (!next.via().empty() || !next.dev().empty());
    }
    if (!routed) {
      // Nowhere to send it (no interface, or none on the family): a route that goes nowhere.
      route->clear_nexthops();
      route->set_type(nslab::v1::ROUTE_TYPE_BLACKHOLE);
    }
    // The kernel keeps one IPv4 default per table and metric: the others get their own metric.
    std::string first_via = route->via();
    for (const auto& next : route->nexthops()) {
      first_via = first_via.empty() ? next.via() : first_via;
    }
    const bool has_ipv6_gateway = first_via.find(':') != std::string::npos;
    if (route->to() == "default" && !has_ipv6_gateway) {
      while (!info.defaults.emplace(AF_INET, route->table(), route->metric()).second) {
        route->set_metric(route->metric() + 1);
      }
    }
  }
}

void RandomTopology::AddRules(Node* node, const NodeInfo& info) {
  for (uint64_t i = Chance(25) ? Below(3) + 1 : 0; i > 0; --i) {
    nslab::v1::Rule* rule = node->add_rules();
    if (Chance(50)) {
      rule->set_from(Chance(70) ? absl::StrCat(Ipv4Address(), "/24") : Ipv6Address());
    }
    if (Chance(30)) {
      rule->set_to(absl::StrCat(Ipv6Address(), "/48"));
    }
    if (Chance(30)) {
      rule->set_fwmark(Uint32());
    }
    if (Chance(30)) {
      rule->set_iif(info.interfaces.empty() || Chance(20) ? "lo" : Pick(info.interfaces));
    }
    if (Chance(50)) {
      rule->set_priority(Uint32());
    }
    rule->set_table(Uint32());
  }
}

void RandomTopology::AddProcesses(Node* node) {
  for (uint64_t i = Chance(30) ? Below(4) + 1 : 0; i > 0; --i) {
    nslab::v1::Process* process = node->add_run();
    switch (Below(3)) {
      case 0:  // what `run: ["command"]` reads as
        for (const std::string& arg :
             {std::string("/bin/sh"), std::string("-c"), Chance(40) ? MultilineText() : Text()}) {
          process->add_argv(arg);
        }
        break;
      case 1:  // near misses of the shell form stay argv lists
        process->add_argv(Chance(50) ? "/bin/sh" : "sh");
        process->add_argv("-c");
        if (Chance(50)) {
          process->add_argv("true");
          process->add_argv(Text());
        }
        break;
      default:
        process->add_argv(Text() + "x");
        for (uint64_t a = Below(4); a > 0; --a) {
          process->add_argv(Text());
        }
        break;
    }
    process->set_restart(static_cast<nslab::v1::RestartPolicy>(Below(4)));
    if (Chance(30)) {
      nslab::v1::ProcessReady* ready = process->mutable_ready();
      switch (Below(3)) {
        case 0:
          ready->set_tcp(Below(65535) + 1);
          break;
        case 1:
          ready->set_udp(Below(65535) + 1);
          break;
        default:
          ready->set_line(Text() + "x");
          std::erase(*ready->mutable_line(), '\n');  // one line of output
          break;
      }
      if (Chance(50)) {
        ready->set_timeout_ms(Below(600'000) + 1);
      }
    }
  }
}

void RandomTopology::AddUstackOptions(Node* node) {
  std::set<std::pair<bool, uint32_t>> ports;
  for (uint64_t i = Below(5); i > 0; --i) {
    nslab::v1::Service* service = node->add_services();
    if (Chance(30)) {  // a client: connects out, binds nothing
      service->set_tcp(static_cast<uint32_t>(Below(65535) + 1));
      service->set_connect(Ipv4Address());
      service->set_app(Pick(std::vector<std::string>{"source", "sink", "hold"}));
      if (service->app() == "source" && Chance(50)) {
        service->set_bytes(Uint64());
      }
      continue;
    }
    const bool tcp = Chance(50);
    uint32_t port = 0;
    do {
      port = static_cast<uint32_t>(Below(65535) + 1);
    } while (!ports.emplace(tcp, port).second);
    (tcp ? service->set_tcp(port) : service->set_udp(port));
    service->set_app(tcp ? Pick(std::vector<std::string>{"echo", "discard", "chargen", "http"})
                         : Pick(std::vector<std::string>{"echo", "discard"}));
    if (tcp && Chance(30)) {
      nslab::v1::ServiceFault* fault = service->mutable_fault();
      fault->set_mode(
          Pick(std::vector<std::string>{"refuse", "blackhole-syn", "never-accept", "close-wait",
                                        "ignore-fin", "zero-window", "slow-read", "reset-after"}));
      if (fault->mode() == "slow-read") {
        fault->set_rate(Uint64() | 1);
      } else if (fault->mode() == "reset-after") {
        fault->set_bytes(Uint64() | 1);
      }
    }
  }
  // A fault is per port (validate.cc): none where a client shares a faulted server's port.
  for (const auto& client : node->services()) {
    if (client.connect().empty()) {
      continue;
    }
    for (auto& server : *node->mutable_services()) {
      if (server.connect().empty() && server.tcp() == client.tcp()) {
        server.clear_fault();
      }
    }
  }
  if (Chance(40)) {
    nslab::v1::Ring* ring = node->mutable_ring();
    if (Chance(60)) {
      ring->set_rx(1u << Below(16));
    }
    if (Chance(60)) {
      ring->set_tx(1u << Below(16));
    }
  }
  if (Chance(40)) {
    nslab::v1::Offloads* offloads = node->mutable_offloads();
    offloads->set_csum(Chance(60));
    offloads->set_tso(offloads->csum() && Chance(50));
  }
}

}  // namespace nslab::topology::testing
