#include "daemon/lab/lab_registry.h"

#include <google/protobuf/util/time_util.h>

#include <unistd.h>

#include <algorithm>
#include <array>

#include "absl/strings/str_cat.h"
#include "daemon/common/log.h"
#include "daemon/common/parallel.h"
#include "daemon/common/status_macros.h"
#include "daemon/events/event_bus.h"
#include "daemon/exec/netns_processes.h"
#include "daemon/lab/builder.h"
#include "daemon/lab/lab_fit.h"
#include "daemon/lab/link_impairment.h"
#include "daemon/lab/link_mode.h"
#include "daemon/lab/node_status.h"
#include "daemon/lab/run_process.h"
#include "daemon/lab/teardown.h"
#include "daemon/lab/ustack_node.h"
#include "daemon/netns/netns.h"
#include "daemon/topology/auto_routes.h"
#include "daemon/topology/names.h"
#include "daemon/topology/validate.h"

namespace nslab::lab {
namespace {

using nslab::v1::Lab;

absl::Time CreatedAt(const Lab& lab) {
  return absl::FromUnixSeconds(lab.created().seconds()) + absl::Nanoseconds(lab.created().nanos());
}

}  // namespace

LabRegistry::LabRegistry(StateStore store, exec::ProcessRegistry* processes,
                         exec::Supervisor* supervisor, impair::kernel::KernelFeatures features,
                         events::EventBus* events)
    : store_(std::move(store)),
      processes_(processes),
      supervisor_(supervisor),
      features_(features),
      events_(events),
      link_watches_(events),
      wire_runtime_(std::make_unique<WireRuntime>()) {}

void LabRegistry::Announce(const std::string& lab, nslab::v1::LabEventKind kind,
                           const std::string& message) {
  if (events_ != nullptr) {
    events_->Publish(lab, kind, "", "", message);
  }
}

std::string LabRegistry::UstackControlSocket(const std::string& lab,
                                             const std::string& node) const {
  return absl::StrCat(store_.dir(), "/", topology::NamespaceOf(lab, node), ".ustack.sock");
}

absl::Status LabRegistry::StartStack(const std::string& lab, const nslab::v1::Topology& topology,
                                     const nslab::v1::Node& node) {
  if (ustack_binary_.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "nodes.", node.name(), ": this nslabd has no nslab-ustack binary (--ustack-binary)"));
  }
  exec::ProcessSpec spec;
  spec.lab = lab;
  spec.node = node.name();
  spec.netns = topology::NamespaceOf(lab, node.name());
  spec.argv = UstackArgv(ustack_binary_, topology, node, UstackControlSocket(lab, node.name()));
  spec.restart = exec::RestartPolicy::kOnFailure;
  spec.ready_line = kUstackReadyLine;
  spec.name = "stack";  // what kill/restart actions and events call it
  if (auto status = supervisor_->Start(spec); !status.ok()) {
    return absl::Status(status.code(),
                        absl::StrCat("nodes.", node.name(), " (ustack): ", status.message()));
  }
  return absl::OkStatus();
}

absl::Status LabRegistry::StartProcesses(const Lab& lab, events::ProgressReporter* counter) {
  events::ProgressReporter unreported(nullptr, lab.name(), nslab::v1::LAB_OPERATION_BUILD, 0, 0);
  events::ProgressReporter& progress = counter != nullptr ? *counter : unreported;
  uint32_t processes = 0;
  for (const auto& node : lab.topology().nodes()) {
    processes += (node.kind() == nslab::v1::NODE_KIND_USTACK ? 1 : 0) + node.run_size();
  }
  if (processes == 0) {
    return absl::OkStatus();
  }
  // Each start waits for the process's ready condition: this phase can be the long one.
  progress.BeginPhase(nslab::v1::LAB_PHASE_PROCESSES, processes);
  for (const auto& node : lab.topology().nodes()) {
    if (node.kind() != nslab::v1::NODE_KIND_USTACK) {
      continue;
    }
    if (auto status = StartStack(lab.name(), lab.topology(), node); !status.ok()) {
      supervisor_->StopLab(lab.name());
      return status;
    }
    progress.StepDone();
  }
  for (const auto& node : lab.topology().nodes()) {
    for (int i = 0; i < node.run_size(); ++i) {
      if (auto status = supervisor_->Start(RunProcessSpec(lab.name(), node, node.run(i)));
          !status.ok()) {
        supervisor_->StopLab(lab.name());
        return absl::Status(status.code(),
                            absl::StrCat("run.", node.name(), "[", i, "]: ", status.message()));
      }
      progress.StepDone();
    }
  }
  progress.EndPhase();
  return absl::OkStatus();
}

LabRegistry::~LabRegistry() {
  absl::MutexLock lock(&mutex_);
  wires_.clear();  // stops every wire, keeping its TAPs for the next daemon
}

absl::Status LabRegistry::RemoveKernelObjects(const Lab& lab, events::ProgressReporter* counter) {
  events::ProgressReporter unreported(nullptr, lab.name(), nslab::v1::LAB_OPERATION_REMOVE, 0, 0);
  events::ProgressReporter& counted = counter != nullptr ? *counter : unreported;
  counted.BeginPhase(nslab::v1::LAB_PHASE_STOPPING, 0);
  const absl::Time started = absl::Now();
  std::shared_ptr<LabWires> wires;
  {
    absl::MutexLock lock(&mutex_);
    if (auto it = wires_.find(lab.name()); it != wires_.end()) {
      wires = it->second;
      wires_.erase(it);
    }
  }
  if (wires) {
    wires->StopAll(wire::StopMode::kDeleteDevices);
  }
  supervisor_->StopLab(lab.name());
  processes_->KillAll(lab.name());
  for (const auto& node : lab.topology().nodes()) {
    if (node.kind() == nslab::v1::NODE_KIND_USTACK) {
      ::unlink(UstackControlSocket(lab.name(), node.name()).c_str());
    }
  }
  // Only what is still the lab's: a namespace someone put under a recorded name, with
  // whatever runs in it, is theirs.
  const absl::Time stopped = absl::Now();
  const NamespaceOwnership ownership = OwnNamespaces(lab);
  const absl::Time checked = absl::Now();
  for (const auto& line : ownership.foreign) {
    NSLAB_LOG(Warning) << "lab " << lab.name() << ": " << line;
  }
  // Anything else still inside (a command's background child) would keep the
  // namespace and its links alive after the bind mount is gone.
  exec::KillProcessesIn(ownership.own);
  counted.EndPhase();
  counted.BeginPhase(nslab::v1::LAB_PHASE_NAMESPACE_REMOVAL,
                     static_cast<uint32_t>(lab.nodes_size()));
  const absl::Time emptied = absl::Now();
  NSLAB_RETURN_IF_ERROR(DeleteLabNamespaces(lab, ownership.own, counted));
  counted.EndPhase();
  NSLAB_LOG(Debug) << "lab " << lab.name() << ": wires and processes stopped in "
                   << absl::ToDoubleSeconds(stopped - started) << " s, namespaces checked in "
                   << absl::ToDoubleSeconds(checked - stopped) << " s and emptied in "
                   << absl::ToDoubleSeconds(emptied - checked) << " s, removed in "
                   << absl::ToDoubleSeconds(absl::Now() - emptied) << " s";
  return absl::OkStatus();
}

absl::StatusOr<nslab::v1::Topology> LabRegistry::Prepare(nslab::v1::Topology topology,
                                                         const std::string& name) {
  if (!name.empty()) {
    topology.set_name(name);
  }
  if (topology.name().empty()) {
    return absl::InvalidArgumentError(
        "name: the lab has no name; set name: in the topology or pass --name");
  }
  if (auto error = topology::ValidateTopology(topology)) {
    return error->ToStatus();
  }
  if (topology.routing() == nslab::v1::ROUTING_MODE_AUTO) {
    topology::AddAutoRoutes(&topology);
  }
  return topology;
}

absl::StatusOr<Lab> LabRegistry::Create(nslab::v1::Topology requested, const std::string& name,
                                        View view) {
  const absl::Time started = absl::Now();
  auto prepared = Prepare(std::move(requested), name);
  if (!prepared.ok()) {
    return prepared.status();
  }
  nslab::v1::Topology& topology = *prepared;
  const std::string lab_name = topology.name();

  Lab lab;
  lab.set_name(lab_name);
  lab.set_state(nslab::v1::LAB_STATE_CREATING);
  *lab.mutable_created() = google::protobuf::util::TimeUtil::GetCurrentTime();
  *lab.mutable_topology() = topology;
  for (const auto& node : topology.nodes()) {
    auto* status = lab.add_nodes();
    status->set_name(node.name());
    status->set_kind(node.kind());
    status->set_netns(topology::NamespaceOf(lab_name, node.name()));
  }
  LinkModes modes;
  for (int i = 0; i < topology.links_size(); ++i) {
    const nslab::v1::Link& link = topology.links(i);
    const LinkModeChoice choice = ChooseLinkMode(link, features_);
    if (choice.mode == nslab::v1::LINK_MODE_VETH) {
      // Flows this kernel cannot play are refused before anything is built.
      if (absl::Status status = CheckKernelFlows(link, features_); !status.ok()) {
        return absl::Status(status.code(), absl::StrCat("links[", i, "].", status.message()));
      }
    }
    modes.push_back(choice.mode);
    auto* status = lab.add_links();
    status->set_name(LinkLabel(link));
    status->set_mode(choice.mode);
    status->set_mode_reason(choice.reason);
    const auto impairments = RequestedImpairments(link);
    *status->mutable_a_to_b() = impairments[0];
    *status->mutable_b_to_a() = impairments[1];
    const auto flows = RequestedFlows(link);
    status->mutable_a_to_b_flows()->Assign(flows[0].begin(), flows[0].end());
    status->mutable_b_to_a_flows()->Assign(flows[1].begin(), flows[1].end());
  }
  // Refused before anything is recorded or built: a lab that cannot fit would otherwise
  // fail thousands of steps in, and take as long again to roll back.
  const int wire_links =
      static_cast<int>(std::count(modes.begin(), modes.end(), nslab::v1::LINK_MODE_WIRE));
  if (auto limits = ReadHostLimits(); limits.ok()) {
    NSLAB_RETURN_IF_ERROR(
        CheckLabFits(lab_name, FootprintOf(topology, wire_links, events_ != nullptr), *limits));
  } else {
    NSLAB_LOG(Warning) << "lab " << lab_name << ": cannot read this host's limits ("
                       << limits.status().message() << "); building without checking them";
  }
  auto wires = std::make_shared<LabWires>(wire_runtime_.get());
  {
    absl::MutexLock lock(&mutex_);
    if (labs_.count(lab_name) != 0) {
      return absl::AlreadyExistsError(absl::StrCat("lab ", lab_name, " already exists"));
    }
    // Refuse before recording anything: these namespaces belong to someone else.
    for (const auto& node : lab.nodes()) {
      if (netns::Exists(node.netns())) {
        return absl::AlreadyExistsError(
            absl::StrCat("namespace ", node.netns(),
                         " already exists and was not made by this lab; choose another name"));
      }
    }
    labs_[lab_name] = lab;  // reserves the name while building
    wires_[lab_name] = wires;
  }
  Announce(lab_name, nslab::v1::LAB_EVENT_KIND_LAB_CREATED,
           absl::StrCat("building lab ", lab_name));
  events::ProgressReporter progress(events_, lab_name, nslab::v1::LAB_OPERATION_BUILD,
                                    static_cast<uint32_t>(topology.nodes_size()),
                                    static_cast<uint32_t>(topology.links_size()), progress_after_);
  // A failed build leaves nothing: its watchers hear LAB_DELETED, their last event.
  auto forget = [&] {
    progress.Stop();
    {
      absl::MutexLock lock(&mutex_);
      labs_.erase(lab_name);
      wires_.erase(lab_name);
    }
    Announce(lab_name, nslab::v1::LAB_EVENT_KIND_LAB_DELETED,
             absl::StrCat("lab ", lab_name, " was not built"));
  };
  if (auto status = store_.Save(lab); !status.ok()) {
    forget();
    return status;
  }
  // Recorded before any link exists, so that from here on teardown (now or after a crash)
  // removes these namespaces and never one put under their names by someone else.
  auto record_namespaces = [&](const std::vector<netns::Identity>& identities) {
    for (size_t i = 0; i < identities.size() && i < static_cast<size_t>(lab.nodes_size()); ++i) {
      *lab.mutable_nodes(static_cast<int>(i))->mutable_netns_identity() = ToProto(identities[i]);
    }
    return store_.Save(lab);
  };
  const absl::Time build_started = absl::Now();
  if (auto status =
          BuildLab(topology, lab_name, features_, modes, wires.get(), record_namespaces, &progress);
      !status.ok()) {
    (void)store_.Remove(lab_name);
    forget();
    return status;
  }
  const absl::Time built = absl::Now();
  if (auto status = StartProcesses(lab, &progress); !status.ok()) {
    (void)RemoveKernelObjects(lab);
    (void)store_.Remove(lab_name);
    forget();
    return absl::Status(status.code(),
                        absl::StrCat("building lab ", lab_name, " failed at ", status.message(),
                                     " (everything built so far was removed)"));
  }
  lab.set_state(nslab::v1::LAB_STATE_READY);
  if (auto status = store_.Save(lab); !status.ok()) {
    (void)RemoveKernelObjects(lab);
    (void)store_.Remove(lab_name);
    forget();
    return status;
  }
  {
    absl::MutexLock lock(&mutex_);
    labs_[lab_name] = lab;
  }
  const absl::Time recorded = absl::Now();
  link_watches_.Start(lab);
  NSLAB_LOG(Debug) << "lab " << lab_name << ": checked and recorded in "
                   << absl::ToDoubleSeconds(build_started - started) << " s, built in "
                   << absl::ToDoubleSeconds(built - build_started)
                   << " s, processes started and recorded in "
                   << absl::ToDoubleSeconds(recorded - built) << " s, link events armed in "
                   << absl::ToDoubleSeconds(absl::Now() - recorded) << " s";
  progress.Stop();
  Announce(lab_name, nslab::v1::LAB_EVENT_KIND_LAB_READY,
           absl::StrCat("lab ", lab_name, " is ready"));
  return Get(lab_name, view);
}

absl::StatusOr<Lab> LabRegistry::Find(const std::string& name) const {
  auto it = labs_.find(name);
  if (it == labs_.end()) {
    return absl::NotFoundError(absl::StrCat("lab ", name, " does not exist (nslab ls lists labs)"));
  }
  return it->second;
}

absl::StatusOr<Lab> LabRegistry::FindReady(const std::string& name) const {
  auto found = Find(name);
  if (found.ok() && found->state() != nslab::v1::LAB_STATE_READY) {
    return absl::FailedPreconditionError(absl::StrCat("lab ", name, " is not ready"));
  }
  return found;
}

absl::StatusOr<Lab> LabRegistry::Get(const std::string& name, View view) const {
  Lab lab;
  {
    absl::ReaderMutexLock lock(&mutex_);
    auto found = Find(name);
    if (!found.ok()) {
      return found.status();
    }
    lab = std::move(*found);
  }
  if (lab.state() != nslab::v1::LAB_STATE_READY) {
    return lab;
  }
  if (view == View::kBasic) {
    FillLinkCounters(name, &lab);
    return lab;
  }
  const auto& nodes = lab.topology().nodes();
  std::vector<nslab::v1::NodeStatus> statuses(nodes.size());
  // One namespace visit per node; in parallel, since a big lab has hundreds.
  (void)ParallelFor(nodes.size(), 4, [&](size_t i) {
    auto status = ReadNodeStatus(lab.topology(), name, nodes[i]);
    if (status.ok()) {
      statuses[i] = std::move(*status);
    } else {
      // Gone from the kernel (deleted by hand?): shown without interfaces.
      statuses[i].set_name(nodes[i].name());
      statuses[i].set_kind(nodes[i].kind());
      statuses[i].set_netns(topology::NamespaceOf(name, nodes[i].name()));
    }
    return absl::OkStatus();
  });
  for (auto& status : statuses) {
    // A stack without a MAC in the topology picks one each run: its ready line says which.
    if (status.has_stack() && status.stack().mac().empty()) {
      for (const exec::ProcessReport& report : supervisor_->Report(name, status.name())) {
        if (auto mac = MacFromReadyLine(report.output)) {
          status.mutable_stack()->set_mac(*mac);
        }
      }
    }
  }
  for (size_t i = 0; i < statuses.size() && i < static_cast<size_t>(lab.nodes_size()); ++i) {
    *statuses[i].mutable_netns_identity() = lab.nodes(static_cast<int>(i)).netns_identity();
  }
  lab.clear_nodes();
  for (auto& status : statuses) {
    *lab.add_nodes() = std::move(status);
  }
  FillLinkCounters(name, &lab);
  return lab;
}

void LabRegistry::FillLinkCounters(const std::string& name, Lab* lab) const {
  std::vector<nslab::v1::LinkStatus> links(lab->links().begin(), lab->links().end());
  FillWireCounters(name, &links);
  lab->clear_links();
  for (auto& link : links) {
    *lab->add_links() = std::move(link);
  }
}

std::vector<Lab> LabRegistry::List() const {
  absl::ReaderMutexLock lock(&mutex_);
  std::vector<Lab> result;
  for (const auto& [name, lab] : labs_) {
    result.push_back(lab);
  }
  return result;
}

absl::Status LabRegistry::Exists(const std::string& name) const {
  absl::ReaderMutexLock lock(&mutex_);
  return Find(name).status();
}

absl::Status LabRegistry::Delete(const std::string& name) {
  Lab lab;
  {
    // An apply in progress ends first (it holds impair_mutex_ until it has recorded the lab),
    // so the lab taken apart here is the one it left, and no apply starts on it afterwards.
    absl::MutexLock serial(&impair_mutex_);
    absl::MutexLock lock(&mutex_);
    auto found = Find(name);
    if (!found.ok()) {
      return found.status();
    }
    if (found->state() != nslab::v1::LAB_STATE_READY) {
      return absl::FailedPreconditionError(
          absl::StrCat("lab ", name, " is being built or deleted; try again in a moment"));
    }
    lab = std::move(*found);
    lab.set_state(nslab::v1::LAB_STATE_DELETING);
    labs_[name] = lab;
  }
  // Links going down as the lab is taken apart are not news.
  link_watches_.Stop(name);
  events::ProgressReporter progress(events_, name, nslab::v1::LAB_OPERATION_REMOVE,
                                    static_cast<uint32_t>(lab.nodes_size()),
                                    static_cast<uint32_t>(lab.links_size()), progress_after_);
  absl::Status status = store_.Save(lab);
  if (status.ok()) {
    status = RemoveKernelObjects(lab, &progress);
  }
  if (status.ok()) {
    status = store_.Remove(name);
  }
  progress.Stop();
  if (!status.ok()) {
    lab.set_state(nslab::v1::LAB_STATE_READY);  // still there; deleting again may work
    {
      absl::MutexLock lock(&mutex_);
      labs_[name] = lab;
    }
    link_watches_.Start(lab);
    return status;
  }
  {
    absl::MutexLock lock(&mutex_);
    labs_.erase(name);
  }
  Announce(name, nslab::v1::LAB_EVENT_KIND_LAB_DELETED, absl::StrCat("lab ", name, " was deleted"));
  return absl::OkStatus();
}

absl::StatusOr<std::string> LabRegistry::NodeNamespace(const std::string& lab,
                                                       const std::string& node) const {
  absl::ReaderMutexLock lock(&mutex_);
  auto found = FindReady(lab);
  if (!found.ok()) {
    return found.status();
  }
  for (const auto& status : found->nodes()) {
    if (status.name() == node) {
      return status.netns();
    }
  }
  return absl::NotFoundError(absl::StrCat("lab ", lab, " has no node \"", node, "\""));
}

absl::StatusOr<nslab::v1::Topology> LabRegistry::TopologyOf(const std::string& lab) const {
  absl::ReaderMutexLock lock(&mutex_);
  auto found = FindReady(lab);
  if (!found.ok()) {
    return found.status();
  }
  return found->topology();
}

absl::StatusOr<std::vector<exec::ProcessReport>> LabRegistry::Logs(const std::string& lab,
                                                                   const std::string& node) const {
  if (auto netns = NodeNamespace(lab, node); !netns.ok()) {
    return netns.status();
  }
  return supervisor_->Report(lab, node);
}

std::vector<std::string> LabRegistry::ExpireLabs(absl::Time now) {
  std::vector<std::string> expired;
  {
    absl::ReaderMutexLock lock(&mutex_);
    for (const auto& [name, lab] : labs_) {
      const uint32_t ttl = lab.topology().ttl_seconds();
      if (ttl != 0 && lab.state() == nslab::v1::LAB_STATE_READY &&
          CreatedAt(lab) + absl::Seconds(ttl) <= now) {
        expired.push_back(name);
      }
    }
  }
  std::vector<std::string> deleted;
  for (const auto& name : expired) {
    if (Delete(name).ok()) {
      deleted.push_back(name);
    }
  }
  return deleted;
}

}  // namespace nslab::lab
