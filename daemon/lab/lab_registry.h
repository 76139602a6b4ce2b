#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "daemon/events/progress.h"
#include "daemon/exec/process_registry.h"
#include "daemon/exec/supervisor.h"
#include "daemon/impair/kernel/kernel_plan.h"
#include "daemon/lab/lab_diff.h"
#include "daemon/lab/lab_wires.h"
#include "daemon/lab/link_events.h"
#include "daemon/lab/state_store.h"
#include "nslab/v1/labs.pb.h"

namespace nslab::lab {

// The labs of this daemon: creation (validate whole, record, build, roll back on
// failure), lookup, deletion, crash recovery from state files and TTL expiry.
// Thread-safe; builds of different labs run concurrently.
class LabRegistry {
 public:
  // `events` (may be null) hears LAB_CREATED, LAB_READY, LAB_DELETED, the PROGRESS of long
  // builds and removals, and the LINK_STATE of every ready lab's interfaces; it must outlive
  // the registry.
  LabRegistry(StateStore store, exec::ProcessRegistry* processes, exec::Supervisor* supervisor,
              impair::kernel::KernelFeatures features = {}, events::EventBus* events = nullptr);
  ~LabRegistry();

  const impair::kernel::KernelFeatures& features() const { return features_; }
  // Where the lab events go (null when nobody listens): services beside the registry
  // publish theirs (scenario steps and checks) here too.
  events::EventBus* events() const { return events_; }

  // The nslab-ustack executable that ustack nodes run.
  void set_ustack_binary(std::string path) { ustack_binary_ = std::move(path); }
  // How long a build or removal runs before its PROGRESS events start.
  void set_progress_after(absl::Duration quiet) { progress_after_ = quiet; }
  // The control socket of a ustack node's process.
  std::string UstackControlSocket(const std::string& lab, const std::string& node) const;

  // At daemon start: re-adopts labs that were ready, removes half-built or half-deleted
  // ones. Each action is described in `log`.
  absl::Status Recover(std::vector<std::string>* log);

  // Names, validates and completes (routing: auto) a topology without building it.
  static absl::StatusOr<nslab::v1::Topology> Prepare(nslab::v1::Topology topology,
                                                     const std::string& name);

  // How much of a lab Get and Create return. kFull reads every node's live status
  // (interfaces, addresses, stack) from its namespace, which a lab of thousands of nodes takes
  // a while to answer; kBasic is the lab as recorded — its nodes' names, kinds and namespaces —
  // with its links' counters.
  enum class View { kBasic, kFull };

  // `name` overrides the topology's. Files it names must come inline (InlineClientFiles).
  absl::StatusOr<nslab::v1::Lab> Create(nslab::v1::Topology topology, const std::string& name,
                                        View view = View::kFull);
  absl::StatusOr<nslab::v1::Lab> Get(const std::string& name, View view = View::kFull) const;
  std::vector<nslab::v1::Lab> List() const;
  // OK if a lab of that name exists (being built, ready or being deleted); else NOT_FOUND.
  absl::Status Exists(const std::string& name) const;
  absl::Status Delete(const std::string& name);

  // What an apply changed (or, dry, would change), and the lab after it (unset when dry).
  struct Applied {
    std::vector<PlannedChange> changes;
    std::optional<nslab::v1::Lab> lab;
  };
  // Changes ready lab `name` to `topology` (its own name ignored), touching only what differs
  // (DiffTopologies); with `dry_run`, changes nothing. The whole topology is validated
  // first. A step that fails puts the lab back as it was and names itself in the error.
  absl::StatusOr<Applied> Apply(const std::string& name, nslab::v1::Topology topology, bool dry_run,
                                View view = View::kFull);

  // The namespace of `node` in `lab`, for running commands there.
  absl::StatusOr<std::string> NodeNamespace(const std::string& lab, const std::string& node) const;

  // The topology of a ready lab (as built, with auto routes).
  absl::StatusOr<nslab::v1::Topology> TopologyOf(const std::string& lab) const;

  // The supervised processes of a node.
  absl::StatusOr<std::vector<exec::ProcessReport>> Logs(const std::string& lab,
                                                        const std::string& node) const;

  // Sets (or, with an empty impairment, clears) directions of link `index` ({0} a->b,
  // {1} b->a) through the link's backend, and records it in the lab's state so it
  // survives a daemon restart. A refused change changes nothing.
  absl::Status SetLinkImpairment(const std::string& lab, int index,
                                 const std::vector<int>& directions,
                                 const nslab::v1::Impairment& impairment);
  // Sets (`impairment` given) or removes (nullopt) the flow with `match` in `directions` of
  // wire link `index`: an equal match is replaced where it stands, else the flow goes last.
  // FAILED_PRECONDITION on a veth link; a refused change changes nothing.
  absl::Status SetLinkFlow(const std::string& lab, int index, const std::vector<int>& directions,
                           const nslab::v1::FlowMatch& match,
                           const std::optional<nslab::v1::Impairment>& impairment);

  // Every link of a ready lab: mode, impairments in force, wire counters.
  absl::StatusOr<std::vector<nslab::v1::LinkStatus>> Links(const std::string& lab) const;

  // The running wire of link `index`, or nullptr if that link is a veth.
  absl::StatusOr<std::shared_ptr<wire::WireLink>> WireOf(const std::string& lab, int index) const;

  // Deletes labs whose TTL has passed; returns their names.
  std::vector<std::string> ExpireLabs(absl::Time now);

 private:
  // A copy of `lab` when it is ready and has link `index`; the impairment changes start there.
  absl::StatusOr<nslab::v1::Lab> ReadyLabWithLink(const std::string& lab, int index) const
      ABSL_LOCKS_EXCLUDED(mutex_);
  // Records link `index`'s new status and saves the lab.
  absl::Status RecordLink(const std::string& lab, int index, const nslab::v1::LinkStatus& status)
      ABSL_LOCKS_EXCLUDED(mutex_);
  absl::StatusOr<nslab::v1::Lab> Find(const std::string& name) const
      ABSL_SHARED_LOCKS_REQUIRED(mutex_);
  // Find, and FAILED_PRECONDITION unless the lab is ready.
  absl::StatusOr<nslab::v1::Lab> FindReady(const std::string& name) const
      ABSL_SHARED_LOCKS_REQUIRED(mutex_);
  friend class LabApplier;

  // Starts the stack of ustack node `node` of `topology` and waits for it to be ready.
  absl::Status StartStack(const std::string& lab, const nslab::v1::Topology& topology,
                          const nslab::v1::Node& node);
  // Starts every `run:` process of the lab; on failure stops those already started.
  // `progress` (may be null) counts them.
  absl::Status StartProcesses(const nslab::v1::Lab& lab,
                              events::ProgressReporter* progress = nullptr);
  // Stops everything running inside the lab's namespaces and deletes them; `progress` (may
  // be null) counts it.
  absl::Status RemoveKernelObjects(const nslab::v1::Lab& lab,
                                   events::ProgressReporter* progress = nullptr);
  // After a restart: opens the TAPs of the lab's wire links again.
  absl::Status ReattachWires(const nslab::v1::Lab& lab);
  void Announce(const std::string& lab, nslab::v1::LabEventKind kind, const std::string& message);
  // Live wire counters into `links`.
  void FillWireCounters(const std::string& lab, std::vector<nslab::v1::LinkStatus>* links) const;
  void FillLinkCounters(const std::string& name, nslab::v1::Lab* lab) const;

  StateStore store_;
  exec::ProcessRegistry* processes_;
  exec::Supervisor* supervisor_;
  const impair::kernel::KernelFeatures features_;
  events::EventBus* const events_;
  LabLinkWatches link_watches_;
  std::string ustack_binary_;
  absl::Duration progress_after_ = events::ProgressThrottle::kQuiet;
  // Declared before wires_ so that it outlives every link it runs.
  std::unique_ptr<WireRuntime> wire_runtime_;
  mutable absl::Mutex mutex_;
  std::map<std::string, nslab::v1::Lab> labs_ ABSL_GUARDED_BY(mutex_);
  std::map<std::string, std::shared_ptr<LabWires>> wires_ ABSL_GUARDED_BY(mutex_);
  // One impairment change or apply at a time: change, then record. Delete takes it to mark
  // the lab DELETING, so it waits for an apply in progress. Taken before mutex_.
  absl::Mutex impair_mutex_ ABSL_ACQUIRED_BEFORE(mutex_);
};

}  // namespace nslab::lab
