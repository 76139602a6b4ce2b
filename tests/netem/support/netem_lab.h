#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nslab/v1/chaos.grpc.pb.h"
#include "nslab/v1/topology.pb.h"
#include "tests/integration/support/test_daemon.h"
#include "tests/netem/support/link_probe.h"
#include "tests/netem/support/probe_stats.h"

namespace nslab::netem {

// The two-node lab every netem-tier test probes: a:eth0 (10.0.0.1) <-> b:eth0 (10.0.0.2), one
// link of `mode` (veth or wire), with `impair_yaml` (an impairment line, e.g.
// "a_to_b: {delay: 40ms}", or empty) and `seed`.
std::string TwoNodeTopology(const std::string& mode, const std::string& impair_yaml, uint64_t seed);

struct ProbeRun {
  ProbeRecords records;
  ProbeStats stats;
};

// A lab built from TwoNodeTopology, made quiet (QuietLink), deleted when this goes.
class ProbedLab {
 public:
  ProbedLab(nslab::testing::TestDaemon* daemon, const std::string& prefix, const std::string& yaml);
  ~ProbedLab();
  ProbedLab(const ProbedLab&) = delete;
  ProbedLab& operator=(const ProbedLab&) = delete;

  // Whether the lab was built and made quiet; `error()` says why not.
  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  const std::string& name() const { return name_; }
  const LinkEnd& a() const { return a_; }
  const LinkEnd& b() const { return b_; }

  // ChaosService.SetImpairment on the link; an empty `impairment` clears the direction.
  absl::Status Impair(nslab::v1::Direction direction, const nslab::v1::Impairment& impairment);

  // Probes a -> b (or b -> a): what the receiver saw, and its statistics.
  absl::StatusOr<ProbeRun> ProbeAToB(const ProbeOptions& options);
  absl::StatusOr<ProbeRun> ProbeBToA(const ProbeOptions& options);

  // A wire link's counters for a -> b (ListImpairments); zeros for a veth link.
  nslab::v1::WireCounters WireCountersAToB();

  // The qdiscs on `node`'s eth0 as `tc qdisc show` lists them, one "kind(where)" per qdisc:
  // "netem(root)", "netem(root) tbf(parent netem)", "noqueue(root)".
  std::string Qdiscs(const std::string& node);

 private:
  nslab::testing::TestDaemon* daemon_;
  std::string name_;
  std::string error_;
  LinkEnd a_;
  LinkEnd b_;
};

// The table a fidelity test prints: one row per check, with what the model expects beside
// what was measured.
class FidelityTable {
 public:
  explicit FidelityTable(std::string title) : title_(std::move(title)) {}
  void Add(std::string parameter, std::string spec, std::string expected, std::string measured,
           bool pass);
  void Print() const;

 private:
  struct Row {
    std::string parameter, spec, expected, measured;
    bool pass;
  };
  std::string title_;
  std::vector<Row> rows_;
};

}  // namespace nslab::netem
