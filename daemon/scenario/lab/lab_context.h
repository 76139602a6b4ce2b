#pragma once

// What the scenario's actions and probes reach in a running lab, and the shape each action
// and probe kind implements: a check of its names against the lab's topology (done for every
// step before anything runs), and the work itself. Adding an action or a probe kind is one new
// file with its handler, and one line in action_registry.cc or probe_registry.cc.

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "daemon/scenario/engine/probe.h"
#include "nslab/v1/scenario.pb.h"
#include "nslab/v1/topology.pb.h"

namespace nslab::lab {
class LabRegistry;
}
namespace nslab::chaos {
class ChaosEngine;
}
namespace nslab::exec {
class Supervisor;
class ProcessRegistry;
}  // namespace nslab::exec

namespace nslab::scenario {

struct LabContext {
  std::string lab;
  nslab::v1::Topology topology;  // as built
  lab::LabRegistry* labs = nullptr;
  chaos::ChaosEngine* chaos = nullptr;
  exec::Supervisor* supervisor = nullptr;
  exec::ProcessRegistry* processes = nullptr;
};

// An action that took effect: what it did, and how to take it back (empty: nothing to undo).
struct Applied {
  std::string detail;
  std::function<absl::Status()> undo;
};

struct ActionHandler {
  // FAILED_PRECONDITION naming what the topology lacks (a node, a link, a process).
  std::function<absl::Status(const nslab::v1::Topology&, const nslab::v1::Action&)> check;
  std::function<absl::StatusOr<Applied>(LabContext&, const nslab::v1::Action&)> apply;
};

struct ProbeHandler {
  std::function<absl::Status(const nslab::v1::Topology&, const nslab::v1::Check&)> check;
  std::function<absl::StatusOr<std::unique_ptr<Probe>>(LabContext&, const nslab::v1::Check&)> make;
};

}  // namespace nslab::scenario
