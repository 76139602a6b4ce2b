#pragma once

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "nslab/v1/scenario.pb.h"

namespace nslab::scenario {

struct ProbeOutcome {
  bool ok = false;       // the probe succeeded (before `expect` is applied)
  std::string observed;  // "connected", "refused", "timed out", "status 503", "loss 40%"
};

// One check's probe, made once per scenario. Attempts of one probe never overlap; attempts of
// different probes run on different threads at once.
class Probe {
 public:
  virtual ~Probe() = default;

  // Called for every probe, in file order, just before the scenario's first step: counter
  // checks with `increase` read their starting value here. An error stops the scenario before
  // its first step.
  virtual absl::Status Baseline() { return absl::OkStatus(); }

  // One try, ending within about `timeout` (a connect that is not answered gives up). Takes
  // real time; under a VirtualClock a fake takes time by sleeping on that clock.
  virtual ProbeOutcome Attempt(absl::Duration timeout) = 0;
};

// Makes probes for a lab. An error (a node the lab does not have, an unreadable counter name)
// stops the scenario before its first step; say what to fix.
class ProbeFactory {
 public:
  virtual ~ProbeFactory() = default;
  virtual absl::StatusOr<std::unique_ptr<Probe>> Make(const nslab::v1::Check& check) = 0;
};

}  // namespace nslab::scenario
