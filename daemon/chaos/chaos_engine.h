#pragma once

#include <array>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "daemon/common/fd.h"
#include "daemon/lab/lab_registry.h"
#include "daemon/nft/ruleset_listing.h"
#include "nslab/v1/chaos.pb.h"

namespace nslab::chaos {

struct FirewallView {
  std::string ruleset;
  std::vector<nft::ListedRule> rules;
};

enum class End { kBoth, kA, kB };

// The index of `link` ("node:interface" of either end, or the link's name) in the topology's
// links; NOT_FOUND listing the links there are.
absl::StatusOr<int> FindLink(const nslab::v1::Topology& topology, const std::string& link);

// The API's LinkEnd (UNSPECIFIED: both).
End EndOf(nslab::v1::LinkEnd end);

struct LinkImpairmentView {
  std::string link;                                 // name:, else "a:if <-> b:if"
  std::array<nslab::v1::Impairment, 2> directions;  // a->b, b->a
  bool wire = false;                                // else qdiscs and nftables on a veth
  std::array<nslab::v1::WireCounters, 2> counters;  // wire links only
  // Each direction's flows in the order they are tried, with their counters (on a veth, the
  // kernel's: see lab::ReadKernelFlowCounters).
  std::array<std::vector<nslab::v1::FlowImpairmentState>, 2> flows;
};

// Faults injected into running labs, each undone by its counterpart.
class ChaosEngine {
 public:
  // `has_nftables_inet`: whether this kernel's nf_tables has the inet family (the daemon's
  // capability probe, "nftables"), which partitions are made of.
  ChaosEngine(lab::LabRegistry* labs, bool has_nftables_inet)
      : labs_(labs), has_nftables_inet_(has_nftables_inet) {}
  ~ChaosEngine();

  absl::StatusOr<FirewallView> GetFirewall(const std::string& lab, const std::string& node);
  // The node's own tables alone, as SetFirewall takes them: what undoes a SetFirewall.
  absl::StatusOr<std::string> GetUserRuleset(const std::string& lab, const std::string& node);
  absl::StatusOr<FirewallView> SetFirewall(const std::string& lab, const std::string& node,
                                           const std::string& ruleset);

  // `link` is "node:interface" of either end or the link's name. Returns the ends set.
  absl::StatusOr<std::vector<std::string>> SetLinkState(const std::string& lab,
                                                        const std::string& link, bool up, End end);
  absl::StatusOr<std::vector<std::string>> StartFlap(const std::string& lab,
                                                     const std::string& link, End end,
                                                     absl::Duration down, absl::Duration up,
                                                     int count);

  // Sets one or both directions (`directions` holds 0 for a->b, 1 for b->a) of a link's
  // impairment; an empty impairment clears. Returns every impaired link of the lab.
  absl::StatusOr<std::vector<LinkImpairmentView>> SetImpairment(
      const std::string& lab, const std::string& link, const std::vector<int>& directions,
      const nslab::v1::Impairment& impairment);
  // The same for one flow of a link (Link.flows; on a veth, where the kernel can do it):
  // set with `impairment`, removed with nullopt. The match and the impairment are validated first.
  absl::StatusOr<std::vector<LinkImpairmentView>> SetFlowImpairment(
      const std::string& lab, const std::string& link, const std::vector<int>& directions,
      const nslab::v1::FlowMatch& match, const std::optional<nslab::v1::Impairment>& impairment);
  absl::StatusOr<std::vector<LinkImpairmentView>> ListImpairments(const std::string& lab);

  // Traffic between nodes of different groups stops (drop: timeouts; reject: refused).
  // FAILED_PRECONDITION, before anything changes, on a kernel without nftables' inet family.
  absl::StatusOr<std::vector<std::string>> Partition(
      const std::string& lab, const std::vector<std::vector<std::string>>& groups, bool reject);
  // Removes every partition rule from every node of the lab.
  absl::StatusOr<std::vector<std::string>> Heal(const std::string& lab);

 private:
  // The index of `link` in lab `lab`'s topology (FindLink).
  absl::StatusOr<int> LinkIndexIn(const std::string& lab, const std::string& link);
  struct Flap {
    absl::Notification stop;
    std::thread thread;
  };

  // The node's namespace, opened (NOT_FOUND names the lab or node that is missing).
  absl::StatusOr<UniqueFd> OpenNode(const std::string& lab, const std::string& node) const;

  lab::LabRegistry* labs_;
  const bool has_nftables_inet_;
  absl::Mutex mutex_;
  std::vector<std::unique_ptr<Flap>> flaps_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace nslab::chaos
