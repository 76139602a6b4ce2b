#include "daemon/topology/validate_addresses.h"

#include <sys/socket.h>

#include <map>
#include <numeric>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "daemon/topology/ip_address.h"

namespace nslab::topology {
namespace {

using nslab::v1::Endpoint;
using nslab::v1::Topology;

constexpr uint32_t kIpv6MinMtu = 1280;

// Segments as sets of links: links that share a switch are one segment.
class Segments {
 public:
  explicit Segments(const Topology& topology) : parent_(topology.links_size()) {
    std::iota(parent_.begin(), parent_.end(), 0);
    std::map<std::string, bool> is_switch;
    for (const auto& node : topology.nodes()) {
      is_switch[node.name()] = node.kind() == nslab::v1::NODE_KIND_SWITCH;
    }
    std::map<std::string, int> first_link_of_switch;
    for (int l = 0; l < topology.links_size(); ++l) {
      for (const Endpoint* end : {&topology.links(l).a(), &topology.links(l).b()}) {
        if (!is_switch[end->node()]) {
          continue;
        }
        auto [it, inserted] = first_link_of_switch.emplace(end->node(), l);
        if (!inserted) {
          parent_[Find(l)] = Find(it->second);
        }
      }
    }
  }

  int Find(int link) { return parent_[link] == link ? link : parent_[link] = Find(parent_[link]); }

 private:
  std::vector<int> parent_;
};

std::string AddrPath(int link, bool a, int index) {
  return absl::StrCat("links[", link, "].", a ? "a" : "b", "_addr[", index, "]");
}

}  // namespace

std::optional<FieldError> CheckSegmentAddresses(const Topology& topology) {
  Segments segments(topology);
  // (segment, address) -> where it was first seen
  std::map<std::pair<int, std::string>, std::pair<std::string, const Endpoint*>> seen;
  for (int l = 0; l < topology.links_size(); ++l) {
    const int segment = segments.Find(l);
    for (const Endpoint* end : {&topology.links(l).a(), &topology.links(l).b()}) {
      const bool a = end == &topology.links(l).a();
      for (int i = 0; i < end->addresses_size(); ++i) {
        const std::optional<IpPrefix> prefix = ParseIpPrefix(end->addresses(i));
        if (!prefix) {
          continue;  // refused on its own
        }
        const std::string address = prefix->address.ToString();
        const std::string path = AddrPath(l, a, i);
        auto [it, inserted] = seen.emplace(std::pair{segment, address}, std::pair{path, end});
        if (inserted) {
          continue;
        }
        const auto& [first_path, first_end] = it->second;
        return FieldError{
            absl::StatusCode::kInvalidArgument, path,
            absl::StrCat("address ", address, " is also ", first_path, " (", first_end->node(), ":",
                         first_end->interface(), "), on the same L2 segment as ", end->node(), ":",
                         end->interface(), "; give each interface there its own address")};
      }
    }
  }
  return std::nullopt;
}

std::optional<FieldError> CheckIpv6Mtu(const nslab::v1::Link& link, const std::string& path) {
  if (link.mtu() == 0 || link.mtu() >= kIpv6MinMtu) {
    return std::nullopt;
  }
  for (const Endpoint* end : {&link.a(), &link.b()}) {
    for (int i = 0; i < end->addresses_size(); ++i) {
      const std::optional<IpPrefix> prefix = ParseIpPrefix(end->addresses(i));
      if (prefix && prefix->address.family == AF_INET6) {
        return FieldError{
            absl::StatusCode::kInvalidArgument, path + ".mtu",
            absl::StrCat("mtu ", link.mtu(), " is below 1280, IPv6's minimum, and ",
                         end == &link.a() ? "a" : "b", "_addr[", i, "] ", end->addresses(i),
                         " is IPv6: the kernel turns IPv6 off on such an interface; "
                         "raise the MTU to 1280 or use IPv4 there")};
      }
    }
  }
  return std::nullopt;
}

}  // namespace nslab::topology
