#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "daemon/impair/distribution.h"
#include "tests/netem/support/model_runs.h"
#include "tests/netem/support/netem_lab.h"
#include "tests/netem/support/probe_stats.h"

namespace nslab::netem {

// How a number is printed in a fidelity table.
enum class Unit { kMs, kPercent, kCount, kPlain, kMbit };

std::string Format(double value, Unit unit);

// An interval the measured value must fall in.
struct Band {
  double low = 0;
  double high = 0;
  bool Contains(double value) const { return value >= low && value <= high; }
  std::string Describe(Unit unit) const;
};

// The latency the probe path itself adds in this kernel, measured in the same program: an
// unimpaired run (the stack and veth alone) and a run with a fixed netem delay (its excess over
// the delay adds netem's hrtimer wake-up). Every delay bound allows [0, allowance_ns] on top of
// the model: netem never sends before time_to_send, and the path only adds.
struct PathLatency {
  ProbeStats unimpaired;
  int64_t excess_p50_ns = 0;
  int64_t excess_p90_ns = 0;
  int64_t excess_p99_ns = 0;
  // excess p99, plus 2 ms for what a busy host (ctest -j2 beside a heavy test) does to UML's one
  // CPU: a stall delays the probes it catches, and quantiles must not move by more. The shapes
  // the delay checks separate are 10 ms wide and more.
  int64_t allowance_ns = 0;
};

// Successes among n trials of probability p: n p +- 5 sqrt(n p (1 - p)), +-1 for the count's
// discreteness. Normal approximation: outside it with probability ~6e-7.
Band BinomialBand(uint64_t n, double p);

// A statistic the model predicts by simulation: mean +- 5.5 standard deviations of one run's
// value. 5 sigma of a near-normal statistic is ~6e-7; the extra 0.5 covers the standard
// deviation's own error over a few hundred simulated runs.
Band ModelBand(const ModelPrediction& prediction);

// The values tabledist() gives for sigma and mu, one per entry of `table` (each equally likely
// when the draw is uncorrelated: rnd % size), sorted; with no table, 4096 evenly spaced values
// of the uniform [mu - sigma, mu + sigma).
std::vector<int64_t> ModelDelays(int64_t mu_ns, int32_t sigma_ns,
                                 const impair::DistributionTable* table);

// The sample q-quantile of n draws from `model` (sorted) plus the path's latency: its rank among
// the draws is Binomial(n, q), so with probability 1 - 6e-7 it lies between the model's
// quantiles at q -+ 5 sqrt(q (1 - q) / n). The path adds at least 0, and at most the allowance
// to all but the 1% of probes beyond the excess's p99, which can lift the quantile to the
// model's at q + 0.01 at most.
Band QuantileBand(const std::vector<int64_t>& model, double q, uint64_t n,
                  const PathLatency& latency);

// The mean of n draws from `model`: its mean +- 5 standard errors, plus [0, allowance].
Band MeanBand(const std::vector<int64_t>& model, uint64_t n, const PathLatency& latency);

// Measures the probe path's latency on `lab` (a -> b): `count` probes unimpaired (whatever a -> b
// had is cleared first), then as many with a fixed 20 ms delay; leaves a -> b unimpaired.
// Failures are test failures.
PathLatency MeasurePathLatency(ProbedLab& lab, uint32_t count, int64_t interval_ns);

// Two backends side by side: one row per statistic, with the bound on their difference.
class ComparisonTable {
 public:
  explicit ComparisonTable(std::string title) : title_(std::move(title)) {}
  // Checks that wire - veth lies in `difference` (a gtest failure naming the row otherwise) and
  // adds the row.
  void Compare(const std::string& statistic, const std::string& spec, double veth, double wire,
               const Band& difference, Unit unit);
  // Checks that `value`, of one backend, lies in `band` (a one-sample row).
  void CheckOne(const std::string& statistic, const std::string& spec, double value,
                const Band& band, Unit unit);
  void Print() const;

 private:
  struct Row {
    std::string statistic, spec, veth, wire, bound;
    bool pass;
  };
  std::string title_;
  std::vector<Row> rows_;
};

// Checks `measured` against `expected` (a gtest failure naming the row when outside) and adds
// the row to `table`.
void CheckRow(FidelityTable& table, const std::string& parameter, const std::string& spec,
              const Band& expected, double measured, Unit unit);

}  // namespace nslab::netem
