#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "absl/status/statusor.h"
#include "nslab/v1/topology.pb.h"
#include "tests/netem/support/probe_stats.h"

namespace nslab::netem {

// What the impairment model (daemon/impair's FateEngine, netem_enqueue()'s decisions) predicts
// for a statistic of a probe run: the statistic over `runs` simulated runs of `count` probes,
// `interval_ns` apart, each frame `frame_bytes` long, with no latency of its own. The mean is
// the expectation; the standard deviation is how much one run of that size varies, which is
// what a bound on a single measured run needs when no closed form is at hand (correlated
// loss, Gilbert-Elliott bursts, reordering, correlated delay).
struct ModelPrediction {
  double mean = 0;
  double stddev = 0;
};

// A statistic of one run, from its records (arrival order) and their summary.
using StatisticOf = std::function<double(const ProbeRecords&, const ProbeStats&)>;

// The records the model gives one run (arrival order by delivery time; corrupted copies
// counted, not delivered). `seed` picks the run.
absl::StatusOr<ProbeRecords> SimulateRun(const nslab::v1::Impairment& impairment, uint32_t count,
                                         int64_t interval_ns, uint32_t frame_bytes, uint64_t seed);

absl::StatusOr<ModelPrediction> Predict(const nslab::v1::Impairment& impairment, uint32_t count,
                                        int64_t interval_ns, uint32_t frame_bytes, int runs,
                                        const StatisticOf& statistic);

// Several statistics of the same simulated runs, in the order given.
absl::StatusOr<std::vector<ModelPrediction>> PredictAll(const nslab::v1::Impairment& impairment,
                                                        uint32_t count, int64_t interval_ns,
                                                        uint32_t frame_bytes, int runs,
                                                        const std::vector<StatisticOf>& statistics);

}  // namespace nslab::netem
