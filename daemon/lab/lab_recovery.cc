// LabRegistry after a daemon restart: re-adopting the labs a previous nslabd left up.
#include <utility>

#include "absl/strings/str_cat.h"
#include "daemon/exec/netns_processes.h"
#include "daemon/lab/lab_registry.h"
#include "daemon/lab/link_impairment.h"
#include "daemon/lab/teardown.h"
#include "daemon/netns/netns.h"
#include "daemon/topology/names.h"

namespace nslab::lab {

using nslab::v1::Lab;

absl::Status LabRegistry::Recover(std::vector<std::string>* log) {
  if (auto status = store_.Init(); !status.ok()) {
    return status;
  }
  std::vector<std::string> problems;
  for (Lab& lab : store_.LoadAll(&problems)) {
    if (lab.links_size() == 0) {
      // Written before links were recorded: every link was a veth then.
      for (const auto& link : lab.topology().links()) {
        auto* status = lab.add_links();
        status->set_name(LinkLabel(link));
        status->set_mode(nslab::v1::LINK_MODE_VETH);
        status->set_mode_reason("built by an older nslabd");
        const auto impairments = RequestedImpairments(link);
        *status->mutable_a_to_b() = impairments[0];
        *status->mutable_b_to_a() = impairments[1];
        const auto flows = RequestedFlows(link);
        status->mutable_a_to_b_flows()->Assign(flows[0].begin(), flows[0].end());
        status->mutable_b_to_a_flows()->Assign(flows[1].begin(), flows[1].end());
      }
    }
    const NamespaceOwnership ownership = OwnNamespaces(lab);
    if (lab.state() == nslab::v1::LAB_STATE_READY && ownership.foreign.empty()) {
      // The previous daemon's supervised processes are orphans now: replace them.
      exec::KillProcessesIn(ownership.own);
      if (auto status = ReattachWires(lab); !status.ok()) {
        log->push_back(absl::StrCat("lab ", lab.name(), ": ", status.message()));
      }
      if (auto status = StartProcesses(lab); !status.ok()) {
        log->push_back(absl::StrCat("lab ", lab.name(), ": ", status.message()));
      }
      log->push_back(absl::StrCat("re-adopted lab ", lab.name()));
      link_watches_.Start(lab);
      absl::MutexLock lock(&mutex_);
      labs_[lab.name()] = std::move(lab);
      continue;
    }
    // Killed while building or deleting: finish the job so nothing is left half-made. A
    // ready lab with a node's namespace replaced cannot run there (its processes, wires and
    // exec would act on someone else's namespace by name), so it goes too; what is not its
    // own stays, and RemoveKernelObjects logs it.
    auto status = RemoveKernelObjects(lab);
    if (status.ok()) {
      status = store_.Remove(lab.name());
    }
    std::string line = absl::StrCat("removed half-built lab ", lab.name());
    if (lab.state() == nslab::v1::LAB_STATE_DELETING) {
      line = absl::StrCat("removed half-deleted lab ", lab.name());
    } else if (lab.state() == nslab::v1::LAB_STATE_READY) {
      line = absl::StrCat("removed lab ", lab.name(), ": a namespace it made was replaced");
    }
    log->push_back(status.ok() ? std::move(line)
                               : absl::StrCat(line, " (incomplete: ", status.message(), ")"));
  }
  for (auto& problem : problems) {
    log->push_back(std::move(problem));
  }
  return absl::OkStatus();
}

absl::Status LabRegistry::ReattachWires(const Lab& lab) {
  auto wires = std::make_shared<LabWires>(wire_runtime_.get());
  absl::Status first_error;
  for (int i = 0; i < lab.links_size() && i < lab.topology().links_size(); ++i) {
    if (lab.links(i).mode() != nslab::v1::LINK_MODE_WIRE) {
      continue;
    }
    const auto& link = lab.topology().links(i);
    auto ns_a = netns::Open(topology::NamespaceOf(lab.name(), link.a().node()));
    auto ns_b = netns::Open(topology::NamespaceOf(lab.name(), link.b().node()));
    absl::Status status = !ns_a.ok() ? ns_a.status() : ns_b.status();
    if (status.ok()) {
      status = wires->Add({.lab_seed = lab.topology().seed(),
                           .link = &link,
                           .index = i,
                           .ns_a = ns_a->get(),
                           .ns_b = ns_b->get(),
                           .a_to_b = lab.links(i).a_to_b(),
                           .b_to_a = lab.links(i).b_to_a(),
                           .a_to_b_flows = FlowRulesOf(lab.links(i).a_to_b_flows()),
                           .b_to_a_flows = FlowRulesOf(lab.links(i).b_to_a_flows()),
                           .reattach = true});
    }
    if (!status.ok() && first_error.ok()) {
      first_error = absl::Status(
          status.code(), absl::StrCat("wire ", lab.links(i).name(), ": ", status.message()));
    }
  }
  absl::MutexLock lock(&mutex_);
  wires_[lab.name()] = std::move(wires);
  return first_error;
}

}  // namespace nslab::lab
