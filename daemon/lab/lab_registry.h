#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "daemon/exec/process_registry.h"
#include "daemon/exec/supervisor.h"
#include "daemon/impair/kernel/kernel_plan.h"
#include "daemon/lab/state_store.h"
#include "nslab/v1/labs.pb.h"

namespace nslab::lab {

// The labs of this daemon: creation (validate whole, record, build, roll back on
// failure), lookup, deletion, crash recovery from state files and TTL expiry.
// Thread-safe; builds of different labs run concurrently.
class LabRegistry {
 public:
  LabRegistry(StateStore store, exec::ProcessRegistry* processes, exec::Supervisor* supervisor,
              impair::kernel::KernelFeatures features = {})
      : store_(std::move(store)),
        processes_(processes),
        supervisor_(supervisor),
        features_(features) {}

  const impair::kernel::KernelFeatures& features() const { return features_; }

  // At daemon start: re-adopts labs that were ready, removes half-built or half-deleted
  // ones. Each action is described in `log`.
  absl::Status Recover(std::vector<std::string>* log);

  // Names, validates and completes (routing: auto) a topology without building it.
  static absl::StatusOr<nslab::v1::Topology> Prepare(nslab::v1::Topology topology,
                                                     const std::string& name);

  // `name` overrides the topology's; `base_dir` resolves relative paths in it.
  absl::StatusOr<nslab::v1::Lab> Create(nslab::v1::Topology topology, const std::string& name,
                                        const std::string& base_dir);
  // With the live status of every node.
  absl::StatusOr<nslab::v1::Lab> Get(const std::string& name) const;
  std::vector<nslab::v1::Lab> List() const;
  absl::Status Delete(const std::string& name);

  // The namespace of `node` in `lab`, for running commands there.
  absl::StatusOr<std::string> NodeNamespace(const std::string& lab, const std::string& node) const;

  // The topology of a ready lab (as built, with auto routes).
  absl::StatusOr<nslab::v1::Topology> TopologyOf(const std::string& lab) const;

  // The supervised processes of a node.
  absl::StatusOr<std::vector<exec::ProcessReport>> Logs(const std::string& lab,
                                                        const std::string& node) const;

  // Deletes labs whose TTL has passed; returns their names.
  std::vector<std::string> ExpireLabs(absl::Time now);

 private:
  absl::StatusOr<nslab::v1::Lab> Find(const std::string& name) const
      ABSL_SHARED_LOCKS_REQUIRED(mutex_);
  // Starts every `run:` process of the lab; on failure stops those already started.
  absl::Status StartProcesses(const nslab::v1::Lab& lab);
  // Stops everything running inside the lab's namespaces and deletes them.
  absl::Status RemoveKernelObjects(const nslab::v1::Lab& lab);

  StateStore store_;
  exec::ProcessRegistry* processes_;
  exec::Supervisor* supervisor_;
  const impair::kernel::KernelFeatures features_;
  mutable absl::Mutex mutex_;
  std::map<std::string, nslab::v1::Lab> labs_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace nslab::lab
