// LabRegistry's links: their wires, the impairments and flows in force, and changing them.
#include <algorithm>
#include <array>
#include <utility>

#include "absl/strings/str_cat.h"
#include "daemon/common/status_macros.h"
#include "daemon/impair/flow_match.h"
#include "daemon/impair/kernel/kernel_plan.h"
#include "daemon/lab/lab_registry.h"
#include "daemon/lab/link_impairment.h"

namespace nslab::lab {

using nslab::v1::Lab;

absl::StatusOr<std::shared_ptr<wire::WireLink>> LabRegistry::WireOf(const std::string& lab,
                                                                    int index) const {
  absl::ReaderMutexLock lock(&mutex_);
  auto found = Find(lab);
  if (!found.ok()) {
    return found.status();
  }
  auto it = wires_.find(lab);
  if (it == wires_.end()) {
    return std::shared_ptr<wire::WireLink>();
  }
  return it->second->Find(index);
}

void LabRegistry::FillWireCounters(const std::string& lab,
                                   std::vector<nslab::v1::LinkStatus>* links) const {
  for (int i = 0; i < static_cast<int>(links->size()); ++i) {
    auto& link = (*links)[i];
    if (link.mode() != nslab::v1::LINK_MODE_WIRE) {
      continue;
    }
    auto wire = WireOf(lab, i);
    if (wire.ok() && *wire) {
      const wire::WireCounters a_to_b = (*wire)->Counters(impair::Direction::kAToB);
      const wire::WireCounters b_to_a = (*wire)->Counters(impair::Direction::kBToA);
      *link.mutable_a_to_b_counters() = ToProto(a_to_b);
      *link.mutable_b_to_a_counters() = ToProto(b_to_a);
      // The snapshot may lag a change of flows by one batch; only counters it has are shown.
      for (int j = 0; j < link.a_to_b_flows_size() && j < static_cast<int>(a_to_b.flows.size());
           ++j) {
        *link.mutable_a_to_b_flows(j)->mutable_counters() = ToProto(a_to_b.flows[j]);
      }
      for (int j = 0; j < link.b_to_a_flows_size() && j < static_cast<int>(b_to_a.flows.size());
           ++j) {
        *link.mutable_b_to_a_flows(j)->mutable_counters() = ToProto(b_to_a.flows[j]);
      }
    }
  }
}

absl::StatusOr<std::vector<nslab::v1::LinkStatus>> LabRegistry::Links(
    const std::string& lab) const {
  std::vector<nslab::v1::LinkStatus> links;
  // A veth's flows are counted by the kernel (its classifier's and loss table's rules, the
  // qdiscs of its flow tree), read where each direction's ends are.
  std::vector<std::pair<int, std::array<LinkDirection, 2>>> veth_flows;
  {
    absl::ReaderMutexLock lock(&mutex_);
    auto found = FindReady(lab);
    if (!found.ok()) {
      return found.status();
    }
    links.assign(found->links().begin(), found->links().end());
    for (int i = 0; i < found->links_size() && i < found->topology().links_size(); ++i) {
      const nslab::v1::LinkStatus& link = found->links(i);
      if (link.mode() != nslab::v1::LINK_MODE_WIRE &&
          (link.a_to_b_flows_size() != 0 || link.b_to_a_flows_size() != 0)) {
        veth_flows.emplace_back(
            i, DirectionsOf(lab, found->topology().links(i), found->topology().seed()));
      }
    }
  }
  FillWireCounters(lab, &links);
  for (const auto& [i, ends] : veth_flows) {
    ReadKernelFlowCounters(ends[0], links[i].mutable_a_to_b_flows());
    ReadKernelFlowCounters(ends[1], links[i].mutable_b_to_a_flows());
  }
  return links;
}

absl::StatusOr<Lab> LabRegistry::ReadyLabWithLink(const std::string& lab, int index) const {
  absl::ReaderMutexLock lock(&mutex_);
  auto found = FindReady(lab);
  if (!found.ok()) {
    return found.status();
  }
  if (index < 0 || index >= found->links_size()) {
    return absl::NotFoundError(absl::StrCat("lab ", lab, " has no link #", index));
  }
  return found;
}

absl::Status LabRegistry::RecordLink(const std::string& lab, int index,
                                     const nslab::v1::LinkStatus& status) {
  absl::MutexLock lock(&mutex_);
  auto it = labs_.find(lab);
  if (it == labs_.end()) {
    return absl::NotFoundError(absl::StrCat("lab ", lab, " was deleted meanwhile"));
  }
  *it->second.mutable_links(index) = status;
  return store_.Save(it->second);
}

absl::Status LabRegistry::SetLinkImpairment(const std::string& lab, int index,
                                            const std::vector<int>& directions,
                                            const nslab::v1::Impairment& impairment) {
  absl::MutexLock serial(&impair_mutex_);
  NSLAB_ASSIGN_OR_RETURN(Lab snapshot, ReadyLabWithLink(lab, index));
  nslab::v1::LinkStatus& status = *snapshot.mutable_links(index);
  std::array<nslab::v1::Impairment*, 2> current = {status.mutable_a_to_b(),
                                                   status.mutable_b_to_a()};
  NSLAB_ASSIGN_OR_RETURN(auto wire, WireOf(lab, index));
  const auto ends = DirectionsOf(lab, snapshot.topology().links(index), snapshot.topology().seed());
  std::vector<int> applied;
  // A veth direction's flows stay as they are; their tree is rebuilt around the new impairment.
  const std::array<std::vector<impair::kernel::KernelFlow>, 2> flows = {
      KernelFlowsOf(status.a_to_b_flows()), KernelFlowsOf(status.b_to_a_flows())};
  auto apply = [&](int direction, const nslab::v1::Impairment& value) {
    if (wire) {
      return wire->SetImpairment(static_cast<impair::Direction>(direction), value);
    }
    return ApplyLinkDirection(ends[direction], value, flows[direction], features_);
  };
  for (int direction : directions) {
    if (auto result = apply(direction, impairment); !result.ok()) {
      // Put back what was there, so a refused change changes nothing.
      for (int done : applied) {
        (void)apply(done, *current[done]);
      }
      (void)apply(direction, *current[direction]);
      return result;
    }
    applied.push_back(direction);
  }
  for (int direction : directions) {
    *current[direction] = impairment;
  }
  return RecordLink(lab, index, status);
}

absl::Status LabRegistry::SetLinkFlow(const std::string& lab, int index,
                                      const std::vector<int>& directions,
                                      const nslab::v1::FlowMatch& match,
                                      const std::optional<nslab::v1::Impairment>& impairment) {
  absl::MutexLock serial(&impair_mutex_);
  NSLAB_ASSIGN_OR_RETURN(Lab snapshot, ReadyLabWithLink(lab, index));
  nslab::v1::LinkStatus& status = *snapshot.mutable_links(index);
  NSLAB_ASSIGN_OR_RETURN(auto wire, WireOf(lab, index));
  const uint64_t key = impair::FlowMatchKey(match);
  std::array<google::protobuf::RepeatedPtrField<nslab::v1::FlowImpairmentState>*, 2> current = {
      status.mutable_a_to_b_flows(), status.mutable_b_to_a_flows()};
  std::array<google::protobuf::RepeatedPtrField<nslab::v1::FlowImpairmentState>, 2> wanted = {
      *current[0], *current[1]};
  for (int direction : directions) {
    auto& flows = wanted[direction];
    auto same = std::find_if(flows.begin(), flows.end(), [&](const auto& flow) {
      return impair::FlowMatchKey(flow.match()) == key;
    });
    if (!impairment) {
      if (same != flows.end()) {
        flows.erase(same);
      }
      continue;
    }
    nslab::v1::FlowImpairmentState state;
    *state.mutable_match() = impair::CanonicalFlowMatch(match);
    state.set_match_text(impair::FlowMatchText(match));
    *state.mutable_impairment() = *impairment;
    if (same != flows.end()) {
      *same = std::move(state);
    } else {
      *flows.Add() = std::move(state);
    }
  }
  // A veth direction's flows go on the kernel beside its own impairment (link_impairment.h).
  const auto ends = DirectionsOf(lab, snapshot.topology().links(index), snapshot.topology().seed());
  const std::array<const nslab::v1::Impairment*, 2> own = {&status.a_to_b(), &status.b_to_a()};
  auto apply = [&](int direction, const auto& flows) {
    if (wire) {
      return wire->SetFlows(static_cast<impair::Direction>(direction), FlowRulesOf(flows));
    }
    return ApplyLinkDirection(ends[direction], *own[direction], KernelFlowsOf(flows), features_);
  };
  if (!wire) {
    // What this kernel cannot do is refused before any direction is touched.
    for (int direction : directions) {
      if (auto plan = impair::kernel::PlanKernelFlows(
              *own[direction], KernelFlowsOf(wanted[direction]), features_, ends[direction].mtu);
          !plan.ok()) {
        return absl::Status(
            plan.status().code(),
            absl::StrCat("link ", status.name(), " (a veth), ",
                         direction == 0 ? "a_to_b " : "b_to_a ", plan.status().message()));
      }
    }
  }
  std::vector<int> applied;
  for (int direction : directions) {
    if (auto result = apply(direction, wanted[direction]); !result.ok()) {
      // Put back what was there: a refused change changes nothing.
      for (int done : applied) {
        (void)apply(done, *current[done]);
      }
      if (!wire) {  // the kernel may have taken part of it
        (void)apply(direction, *current[direction]);
      }
      return result;
    }
    applied.push_back(direction);
  }
  for (int direction : directions) {
    *current[direction] = wanted[direction];
  }
  return RecordLink(lab, index, status);
}

}  // namespace nslab::lab
