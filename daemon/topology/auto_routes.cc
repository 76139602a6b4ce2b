#include "daemon/topology/auto_routes.h"

#include <sys/socket.h>

#include <map>
#include <numeric>
#include <queue>
#include <set>
#include <string>
#include <vector>

#include "daemon/topology/ip_address.h"

namespace nslab::topology {
namespace {

using nslab::v1::Node;
using nslab::v1::Topology;

// One address of a node on a segment (an L2 domain: a veth link, or every link of a
// connected group of switches).
struct Attachment {
  int node = 0;
  int segment = 0;
  IpPrefix prefix;
};

struct DisjointSets {
  explicit DisjointSets(int n) : parent(n) { std::iota(parent.begin(), parent.end(), 0); }
  int Find(int x) { return parent[x] == x ? x : parent[x] = Find(parent[x]); }
  void Join(int a, int b) { parent[Find(a)] = Find(b); }
  std::vector<int> parent;
};

class AutoRouter {
 public:
  explicit AutoRouter(Topology* topology) : topology_(topology) {
    for (int i = 0; i < topology->nodes_size(); ++i) {
      index_[topology->nodes(i).name()] = i;
    }
  }

  void Run() {
    BuildSegments();
    for (int family : {AF_INET, AF_INET6}) {
      for (int source = 0; source < topology_->nodes_size(); ++source) {
        if (!IsSwitch(source)) {
          RouteFrom(source, family);
        }
      }
    }
  }

 private:
  bool IsSwitch(int node) const {
    return topology_->nodes(node).kind() == nslab::v1::NODE_KIND_SWITCH;
  }
  bool IsRouter(int node) const {
    return topology_->nodes(node).kind() == nslab::v1::NODE_KIND_ROUTER;
  }

  // Links are segments; links sharing a switch are one segment.
  void BuildSegments() {
    const int links = topology_->links_size();
    DisjointSets sets(links);
    std::map<int, int> first_link_of_switch;
    for (int l = 0; l < links; ++l) {
      for (const auto* end : {&topology_->links(l).a(), &topology_->links(l).b()}) {
        const int node = index_.at(end->node());
        if (IsSwitch(node)) {
          auto [it, inserted] = first_link_of_switch.emplace(node, l);
          if (!inserted) {
            sets.Join(l, it->second);
          }
        }
      }
    }
    for (int l = 0; l < links; ++l) {
      for (const auto* end : {&topology_->links(l).a(), &topology_->links(l).b()}) {
        const int node = index_.at(end->node());
        for (const auto& text : end->addresses()) {
          if (auto prefix = ParseIpPrefix(text)) {
            attachments_.push_back({node, sets.Find(l), *prefix});
          }
        }
      }
    }
  }

  void RouteFrom(int source, int family) {
    const int n = topology_->nodes_size();
    // BFS over nodes; only the source and routers pass traffic on.
    std::vector<int> distance(n, -1);
    std::vector<const Attachment*> first_hop(n, nullptr);  // gateway address of the path
    std::queue<int> queue;
    distance[source] = 0;
    queue.push(source);
    while (!queue.empty()) {
      const int u = queue.front();
      queue.pop();
      if (u != source && !IsRouter(u)) {
        continue;
      }
      for (const Attachment& mine : attachments_) {
        if (mine.node != u || mine.prefix.address.family != family) {
          continue;
        }
        for (const Attachment& theirs : attachments_) {
          if (theirs.segment != mine.segment || theirs.node == u ||
              theirs.prefix.address.family != family || distance[theirs.node] != -1) {
            continue;
          }
          distance[theirs.node] = distance[u] + 1;
          first_hop[theirs.node] = u == source ? &theirs : first_hop[u];
          queue.push(theirs.node);
        }
      }
    }
    Node& node = *topology_->mutable_nodes(source);
    std::set<std::string> existing;
    for (const auto& route : node.routes()) {
      if (route.table() == 0) {
        existing.insert(route.to());
      }
    }
    std::set<std::string> connected;
    for (const Attachment& a : attachments_) {
      if (a.node == source) {
        connected.insert(a.prefix.Network().ToString());
      }
    }
    std::set<std::string> done;
    for (const Attachment& target : attachments_) {
      const std::string subnet = target.prefix.Network().ToString();
      if (target.prefix.address.family != family || connected.count(subnet) != 0 ||
          done.count(subnet) != 0 || existing.count(subnet) != 0) {
        continue;
      }
      // The nearest router on that subnet delivers into it.
      const Attachment* best = nullptr;
      for (const Attachment& candidate : attachments_) {
        if (candidate.prefix.Network().ToString() != subnet || !IsRouter(candidate.node) ||
            distance[candidate.node] <= 0) {
          continue;
        }
        if (best == nullptr || distance[candidate.node] < distance[best->node]) {
          best = &candidate;
        }
      }
      if (best == nullptr) {
        continue;  // unreachable through routers: leave it to the user's routes
      }
      done.insert(subnet);
      auto* route = node.add_routes();
      route->set_to(subnet);
      route->set_via(first_hop[best->node]->prefix.address.ToString());
    }
  }

  Topology* topology_;
  std::map<std::string, int> index_;
  std::vector<Attachment> attachments_;
};

}  // namespace

void AddAutoRoutes(Topology* topology) { AutoRouter(topology).Run(); }

}  // namespace nslab::topology
