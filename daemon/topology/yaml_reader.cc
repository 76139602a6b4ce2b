#include "daemon/topology/yaml_reader.h"
#include "daemon/impair/flow_match.h"

#include <yaml-cpp/yaml.h>

#include <functional>
#include <initializer_list>
#include <limits>
#include <map>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "daemon/common/units.h"
#include "daemon/topology/field_error.h"
#include "daemon/topology/text.h"
#include "daemon/topology/validate.h"
#include "daemon/topology/yaml_field_reader.h"
#include "daemon/topology/yaml_limits.h"
#include "daemon/topology/yaml_reader_internal.h"
#include "daemon/topology/yaml_words.h"

namespace nslab::topology {
namespace internal {

MaybeError Reader::ExpectMap(const YAML::Node& node, const std::string& path,
                             std::initializer_list<absl::string_view> allowed) {
  if (!node.IsMap()) {
    return Fail(node, path, "expected a map of keys");
  }
  for (auto it = node.begin(); it != node.end(); ++it) {
    const std::string key = it->first.Scalar();
    const std::string key_path = JoinPath(path, key);
    Record(key_path, it->first);
    bool known = false;
    for (absl::string_view name : allowed) {
      known = known || name == key;
    }
    if (!known) {
      return Fail(
          it->first, key_path,
          absl::StrCat("unknown key \"", key, "\" (known: ", absl::StrJoin(allowed, ", "), ")"));
    }
  }
  return std::nullopt;
}

MaybeError Reader::ExpectMapOfAnyKeys(const YAML::Node& node, const std::string& path) {
  if (!node.IsMap()) {
    return Fail(node, path, "expected a map");
  }
  for (auto it = node.begin(); it != node.end(); ++it) {
    if (!it->first.IsScalar()) {
      return Fail(it->first, path, "keys must be plain strings");
    }
    if (auto problem = TextProblem(it->first.Scalar())) {
      return Fail(it->first, path, absl::StrCat("a key: ", *problem));
    }
    Record(JoinPath(path, it->first.Scalar()), it->first);
  }
  return std::nullopt;
}

MaybeError Reader::Seconds(const YAML::Node& node, const std::string& path, bool round_up,
                           uint64_t* out) {
  uint64_t us = 0;
  NSLAB_TRY_FIELD(Unit(node, path, ParseDurationUs, &us));
  *out = us / 1'000'000 + (round_up && us % 1'000'000 != 0 ? 1 : 0);
  if (*out > UINT32_MAX) {
    return Fail(node, path, "must be at most 4294967295s (about 136 years)");
  }
  return std::nullopt;
}

MaybeError Reader::ReadTopology(const YAML::Node& root, Topology* out) {
  if (!root.IsDefined() || root.IsNull()) {
    return Fail(root, "", "the topology is empty");
  }
  NSLAB_TRY_FIELD(ExpectMap(root, "",
                            {"name", "seed", "labels", "ttl", "routing", "nodes", "links", "routes",
                             "rules", "sysctls", "run"}));
  if (root["name"]) {
    NSLAB_TRY_FIELD(String(root["name"], "name", out->mutable_name()));
  }
  if (root["seed"]) {
    uint64_t seed = 0;
    NSLAB_TRY_FIELD(Uint(root["seed"], "seed", UINT64_MAX, &seed));
    out->set_seed(seed);
  }
  if (const YAML::Node labels = root["labels"]) {
    NSLAB_TRY_FIELD(ExpectMapOfAnyKeys(labels, "labels"));
    for (auto it = labels.begin(); it != labels.end(); ++it) {
      std::string value;
      NSLAB_TRY_FIELD(String(it->second, JoinPath("labels", it->first.Scalar()), &value));
      (*out->mutable_labels())[it->first.Scalar()] = value;
    }
  }
  if (root["ttl"]) {
    uint64_t seconds = 0;
    NSLAB_TRY_FIELD(Seconds(root["ttl"], "ttl", /*round_up=*/true, &seconds));
    out->set_ttl_seconds(static_cast<uint32_t>(seconds));
  }
  if (root["routing"]) {
    NSLAB_TRY_FIELD(
        Choice(root["routing"], "routing", kRoutingModeWords, out, &Topology::set_routing));
  }
  const YAML::Node nodes = root["nodes"];
  if (!nodes) {
    return Fail(root, "nodes", "a topology needs at least one node");
  }
  NSLAB_TRY_FIELD(ExpectMapOfAnyKeys(nodes, "nodes"));
  for (auto it = nodes.begin(); it != nodes.end(); ++it) {
    const std::string name = it->first.Scalar();
    NSLAB_TRY_FIELD(ReadNode(name, it->second, JoinPath("nodes", name), out->add_nodes()));
  }
  if (const YAML::Node links = root["links"]) {
    NSLAB_TRY_FIELD(ExpectSequence(links, "links"));
    for (size_t i = 0; i < links.size(); ++i) {
      NSLAB_TRY_FIELD(ReadLink(links[i], IndexPath("links", i), out->add_links()));
    }
  }
  if (const YAML::Node routes = root["routes"]) {
    NSLAB_TRY_FIELD(ForEachNodeSection(
        routes, "routes", out, [&](const YAML::Node& list, const std::string& path, Node* node) {
          NSLAB_TRY_FIELD(ExpectSequence(list, path));
          for (size_t i = 0; i < list.size(); ++i) {
            NSLAB_TRY_FIELD(ReadRoute(list[i], IndexPath(path, i), node->add_routes()));
          }
          return MaybeError();
        }));
  }
  if (const YAML::Node rules = root["rules"]) {
    NSLAB_TRY_FIELD(ForEachNodeSection(
        rules, "rules", out, [&](const YAML::Node& list, const std::string& path, Node* node) {
          NSLAB_TRY_FIELD(ExpectSequence(list, path));
          for (size_t i = 0; i < list.size(); ++i) {
            NSLAB_TRY_FIELD(ReadRule(list[i], IndexPath(path, i), node->add_rules()));
          }
          return MaybeError();
        }));
  }
  if (const YAML::Node sysctls = root["sysctls"]) {
    NSLAB_TRY_FIELD(ForEachNodeSection(
        sysctls, "sysctls", out, [&](const YAML::Node& map, const std::string& path, Node* node) {
          NSLAB_TRY_FIELD(ExpectMapOfAnyKeys(map, path));
          for (auto it = map.begin(); it != map.end(); ++it) {
            std::string value;
            NSLAB_TRY_FIELD(String(it->second, JoinPath(path, it->first.Scalar()), &value));
            (*node->mutable_sysctls())[it->first.Scalar()] = value;
          }
          return MaybeError();
        }));
  }
  if (const YAML::Node run = root["run"]) {
    NSLAB_TRY_FIELD(ForEachNodeSection(
        run, "run", out, [&](const YAML::Node& list, const std::string& path, Node* node) {
          NSLAB_TRY_FIELD(ExpectSequence(list, path));
          for (size_t i = 0; i < list.size(); ++i) {
            NSLAB_TRY_FIELD(ReadProcess(list[i], IndexPath(path, i), node->add_run()));
          }
          return MaybeError();
        }));
  }
  return std::nullopt;
}

MaybeError Reader::ForEachNodeSection(
    const YAML::Node& section, const std::string& path, Topology* topology,
    const std::function<MaybeError(const YAML::Node&, const std::string&, Node*)>& read) {
  NSLAB_TRY_FIELD(ExpectMapOfAnyKeys(section, path));
  for (auto it = section.begin(); it != section.end(); ++it) {
    const std::string name = it->first.Scalar();
    const std::string node_path = JoinPath(path, name);
    Node* node = nullptr;
    for (Node& candidate : *topology->mutable_nodes()) {
      if (candidate.name() == name) {
        node = &candidate;
      }
    }
    if (node == nullptr) {
      return Fail(it->first, node_path, absl::StrCat("node \"", name, "\" is not defined"));
    }
    NSLAB_TRY_FIELD(read(it->second, node_path, node));
  }
  return std::nullopt;
}

MaybeError Reader::ReadNode(const std::string& name, const YAML::Node& node,
                            const std::string& path, Node* out) {
  out->set_name(name);
  out->set_kind(nslab::v1::NODE_KIND_HOST);
  if (node.IsNull()) {
    return std::nullopt;  // `client:` alone is a host
  }
  NSLAB_TRY_FIELD(ExpectMap(
      node, path, {"kind", "nftables", "nftables_file", "bridge", "services", "ring", "offloads"}));
  if (node["kind"]) {
    NSLAB_TRY_FIELD(
        Choice(node["kind"], JoinPath(path, "kind"), kNodeKindWords, out, &Node::set_kind));
  }
  if (node["nftables"]) {
    NSLAB_TRY_FIELD(String(node["nftables"], JoinPath(path, "nftables"), out->mutable_nftables()));
  }
  if (node["nftables_file"]) {
    // Beside `nftables` it only records where the text came from (a running lab's topology
    // keeps both): the text is what is loaded.
    NSLAB_TRY_FIELD(String(node["nftables_file"], JoinPath(path, "nftables_file"),
                           out->mutable_nftables_file()));
  }
  if (const YAML::Node bridge = node["bridge"]) {
    const std::string bridge_path = JoinPath(path, "bridge");
    NSLAB_TRY_FIELD(ExpectMap(bridge, bridge_path, {"stp", "ageing"}));
    // Present even when empty: `bridge: {}` on a host is an error, as in the proto.
    out->mutable_bridge();
    if (bridge["stp"]) {
      bool stp = false;
      NSLAB_TRY_FIELD(Bool(bridge["stp"], JoinPath(bridge_path, "stp"), &stp));
      out->mutable_bridge()->set_stp(stp);
    }
    if (bridge["ageing"]) {
      uint64_t seconds = 0;
      NSLAB_TRY_FIELD(
          Seconds(bridge["ageing"], JoinPath(bridge_path, "ageing"), /*round_up=*/false, &seconds));
      out->mutable_bridge()->set_ageing_seconds(static_cast<uint32_t>(seconds));
    }
  }
  if (const YAML::Node services = node["services"]) {
    const std::string services_path = JoinPath(path, "services");
    NSLAB_TRY_FIELD(ExpectSequence(services, services_path));
    for (size_t i = 0; i < services.size(); ++i) {
      const std::string service_path = IndexPath(services_path, i);
      NSLAB_TRY_FIELD(
          ExpectMap(services[i], service_path, {"udp", "tcp", "app", "connect", "bytes", "fault"}));
      auto* service = out->add_services();
      for (const auto& [key, set] : {std::pair{"udp", &nslab::v1::Service::set_udp},
                                     std::pair{"tcp", &nslab::v1::Service::set_tcp}}) {
        if (services[i][key]) {
          uint64_t port = 0;
          NSLAB_TRY_FIELD(Uint(services[i][key], JoinPath(service_path, key), 65535, &port));
          (service->*set)(static_cast<uint32_t>(port));
        }
      }
      if (services[i]["app"]) {
        NSLAB_TRY_FIELD(
            String(services[i]["app"], JoinPath(service_path, "app"), service->mutable_app()));
      }
      if (services[i]["connect"]) {
        NSLAB_TRY_FIELD(String(services[i]["connect"], JoinPath(service_path, "connect"),
                               service->mutable_connect()));
      }
      if (services[i]["bytes"]) {
        uint64_t bytes = 0;
        NSLAB_TRY_FIELD(Uint(services[i]["bytes"], JoinPath(service_path, "bytes"),
                             std::numeric_limits<uint64_t>::max(), &bytes));
        service->set_bytes(bytes);
      }
      if (const YAML::Node fault = services[i]["fault"]) {
        // A mode alone (fault: close-wait), or a map that gives the mode its number:
        // {mode: reset-after, bytes: 1000}. The number sits with its mode rather than beside
        // the service's own `bytes` (a source's count), so neither can be mistaken for the other.
        const std::string fault_path = JoinPath(service_path, "fault");
        auto* out_fault = service->mutable_fault();
        if (fault.IsScalar()) {
          NSLAB_TRY_FIELD(String(fault, fault_path, out_fault->mutable_mode()));
        } else {
          NSLAB_TRY_FIELD(ExpectMap(fault, fault_path, {"mode", "bytes", "rate"}));
          if (fault["mode"]) {
            NSLAB_TRY_FIELD(
                String(fault["mode"], JoinPath(fault_path, "mode"), out_fault->mutable_mode()));
          }
          for (const auto& [key, set] : {std::pair{"bytes", &nslab::v1::ServiceFault::set_bytes},
                                         std::pair{"rate", &nslab::v1::ServiceFault::set_rate}}) {
            if (fault[key]) {
              uint64_t number = 0;
              NSLAB_TRY_FIELD(Uint(fault[key], JoinPath(fault_path, key),
                                   std::numeric_limits<uint64_t>::max(), &number));
              (out_fault->*set)(number);
            }
          }
        }
      }
    }
  }
  if (const YAML::Node offloads = node["offloads"]) {
    const std::string offloads_path = JoinPath(path, "offloads");
    NSLAB_TRY_FIELD(ExpectMap(offloads, offloads_path, {"csum", "tso"}));
    out->mutable_offloads();
    for (const auto& [key, set] : {std::pair{"csum", &nslab::v1::Offloads::set_csum},
                                   std::pair{"tso", &nslab::v1::Offloads::set_tso}}) {
      if (offloads[key]) {
        bool on = false;
        NSLAB_TRY_FIELD(Bool(offloads[key], JoinPath(offloads_path, key), &on));
        (out->mutable_offloads()->*set)(on);
      }
    }
  }
  if (const YAML::Node ring = node["ring"]) {
    const std::string ring_path = JoinPath(path, "ring");
    NSLAB_TRY_FIELD(ExpectMap(ring, ring_path, {"rx", "tx"}));
    out->mutable_ring();
    for (const auto& [key, set] :
         {std::pair{"rx", &nslab::v1::Ring::set_rx}, std::pair{"tx", &nslab::v1::Ring::set_tx}}) {
      if (ring[key]) {
        uint64_t size = 0;
        NSLAB_TRY_FIELD(Uint(ring[key], JoinPath(ring_path, key), 32768, &size));
        (out->mutable_ring()->*set)(static_cast<uint32_t>(size));
      }
    }
  }
  return std::nullopt;
}

MaybeError Reader::ReadEndpoint(const YAML::Node& link, char side, const std::string& path,
                                Endpoint* out) {
  const std::string key(1, side);
  const std::string key_path = JoinPath(path, key);
  const YAML::Node ref = link[key];
  if (!ref) {
    return Fail(link, key_path, "missing (write node:interface, e.g. client:eth0)");
  }
  std::string text;
  NSLAB_TRY_FIELD(String(ref, key_path, &text));
  const size_t colon = text.find(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) {
    return Fail(ref, key_path,
                absl::StrCat("\"", text, "\" is not node:interface (e.g. client:eth0)"));
  }
  out->set_node(text.substr(0, colon));
  out->set_interface(text.substr(colon + 1));
  if (const YAML::Node addr = link[key + "_addr"]) {
    NSLAB_TRY_FIELD(StringList(addr, JoinPath(path, key + "_addr"), out->mutable_addresses()));
  }
  if (const YAML::Node mac = link[key + "_mac"]) {
    NSLAB_TRY_FIELD(String(mac, JoinPath(path, key + "_mac"), out->mutable_mac()));
  }
  return std::nullopt;
}

MaybeError Reader::ReadLink(const YAML::Node& node, const std::string& path, Link* out) {
  NSLAB_TRY_FIELD(ExpectMap(node, path,
                            {"name", "a", "b", "a_addr", "b_addr", "a_mac", "b_mac", "mtu", "mode",
                             "impair", "a_to_b", "b_to_a", "flows"}));
  if (node["name"]) {
    NSLAB_TRY_FIELD(String(node["name"], JoinPath(path, "name"), out->mutable_name()));
  }
  NSLAB_TRY_FIELD(ReadEndpoint(node, 'a', path, out->mutable_a()));
  NSLAB_TRY_FIELD(ReadEndpoint(node, 'b', path, out->mutable_b()));
  if (node["mtu"]) {
    uint64_t mtu = 0;
    NSLAB_TRY_FIELD(Uint(node["mtu"], JoinPath(path, "mtu"), 65535, &mtu));
    out->set_mtu(static_cast<uint32_t>(mtu));
  }
  if (node["mode"]) {
    NSLAB_TRY_FIELD(
        Choice(node["mode"], JoinPath(path, "mode"), kLinkModeWords, out, &Link::set_mode));
  }
  if (node["impair"]) {
    NSLAB_TRY_FIELD(
        ReadImpairment(node["impair"], JoinPath(path, "impair"), out->mutable_impair()));
  }
  if (node["a_to_b"]) {
    NSLAB_TRY_FIELD(
        ReadImpairment(node["a_to_b"], JoinPath(path, "a_to_b"), out->mutable_a_to_b()));
  }
  if (node["b_to_a"]) {
    NSLAB_TRY_FIELD(
        ReadImpairment(node["b_to_a"], JoinPath(path, "b_to_a"), out->mutable_b_to_a()));
  }
  if (const YAML::Node flows = node["flows"]) {
    const std::string flows_path = JoinPath(path, "flows");
    NSLAB_TRY_FIELD(ExpectSequence(flows, flows_path));
    for (size_t i = 0; i < flows.size(); ++i) {
      const std::string flow_path = IndexPath(flows_path, i);
      NSLAB_TRY_FIELD(ExpectMap(flows[i], flow_path, {"match", "impair", "a_to_b", "b_to_a"}));
      auto* flow = out->add_flows();
      const std::string match_path = JoinPath(flow_path, "match");
      if (!flows[i]["match"]) {
        return Fail(flows[i], match_path,
                    "missing: what the flow selects, e.g. \"tcp dport 5432\"");
      }
      std::string text;
      NSLAB_TRY_FIELD(String(flows[i]["match"], match_path, &text));
      absl::StatusOr<nslab::v1::FlowMatch> match = impair::ParseFlowMatch(text);
      if (!match.ok()) {
        return Fail(flows[i]["match"], match_path, std::string(match.status().message()));
      }
      *flow->mutable_match() = *std::move(match);
      for (const auto& [key, field] :
           {std::pair{"impair", &nslab::v1::FlowImpairment::mutable_impair},
            std::pair{"a_to_b", &nslab::v1::FlowImpairment::mutable_a_to_b},
            std::pair{"b_to_a", &nslab::v1::FlowImpairment::mutable_b_to_a}}) {
        if (flows[i][key]) {
          NSLAB_TRY_FIELD(
              ReadImpairment(flows[i][key], JoinPath(flow_path, key), (flow->*field)()));
        }
      }
    }
  }
  return std::nullopt;
}

}  // namespace internal

using internal::MaybeError;
using internal::Reader;
using nslab::v1::Impairment;
using nslab::v1::Topology;

absl::StatusOr<Impairment> ReadImpairmentYaml(const YAML::Node& node, const std::string& path) {
  Reader reader;
  Impairment impairment;
  if (MaybeError error = reader.ReadImpairment(node, path, &impairment)) {
    return error->ToStatus();
  }
  return impairment;
}

absl::StatusOr<Topology> ReadTopologyYaml(absl::string_view text) {
  auto root = LoadCheckedYaml(text);
  if (!root.ok()) {
    return root.status();
  }
  Reader reader;
  Topology topology;
  MaybeError error;
  if (auto thrown =
          CatchYamlErrors("topology", [&] { error = reader.ReadTopology(*root, &topology); });
      !thrown.ok()) {
    return thrown;
  }
  if (!error) {
    error = ValidateTopology(topology);
    if (error && error->line == 0) {
      error->line = FindLine(reader.lines(), error->path);
    }
  }
  if (error) {
    return error->ToStatus();
  }
  return topology;
}

}  // namespace nslab::topology
