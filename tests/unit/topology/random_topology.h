#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "daemon/topology/ip_address.h"
#include "nslab/v1/topology.pb.h"

namespace nslab::topology::testing {

// Random topologies that ValidateTopology accepts, from a seed: every node kind, every field
// of links, endpoints and impairments (present-but-empty messages too), routes of every type
// with next hops, policy rules, sysctls, processes in both forms with every restart policy,
// rulesets and file names, ustack services, rings and offloads; explicit and unspecified enum
// values; numbers at their edges; and text that is hard to print as YAML (quotes, indicators,
// blanks at either end, line breaks and CRs, control characters, non-ASCII, words other YAML
// tools would take for booleans or numbers, keys over 1024 bytes).
class RandomTopology {
 public:
  explicit RandomTopology(uint64_t seed) : rng_(seed) {}

  nslab::v1::Topology Next();

 private:
  struct NodeInfo {
    std::vector<std::string> interfaces;
    std::vector<std::pair<std::string, IpPrefix>> addresses;  // interface, address
    std::set<std::tuple<int, uint32_t, uint32_t>> defaults;   // family, table, metric
  };
  // A gateway on one of the node's subnets of `family` and its interface, as validation asks.
  std::optional<std::pair<std::string, std::string>> Gateway(const NodeInfo& info, int family);

  uint64_t Below(uint64_t n) { return n == 0 ? 0 : rng_() % n; }
  bool Chance(int percent) { return Below(100) < static_cast<uint64_t>(percent); }
  template <typename T>
  const T& Pick(const std::vector<T>& items) {
    return items[Below(items.size())];
  }

  uint32_t Uint32();
  uint64_t Uint64();
  double Percent();  // in (0, 100]
  std::string Text(bool one_line = false);
  std::string MultilineText();
  std::string Name(size_t max_length);
  std::string InterfaceName(const std::vector<std::string>& taken);
  std::string Ipv4Address();
  std::string Ipv6Address();
  std::string Mac();
  std::string Trace();

  void AddLink(nslab::v1::Topology* topology, int a, int b, bool a_ustack, bool b_ustack);
  nslab::v1::Impairment Impairment();
  nslab::v1::FlowMatch FlowMatch();
  void AddRoutes(nslab::v1::Node* node, NodeInfo& info);
  void AddRules(nslab::v1::Node* node, const NodeInfo& info);
  void AddProcesses(nslab::v1::Node* node);
  void AddUstackOptions(nslab::v1::Node* node);

  std::mt19937_64 rng_;
  uint32_t address_counter_ = 0;  // keeps every address unique
  std::vector<NodeInfo> infos_;
};

}  // namespace nslab::topology::testing
