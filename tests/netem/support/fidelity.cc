#include "tests/netem/support/fidelity.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace nslab::netem {

std::string Format(double value, Unit unit) {
  switch (unit) {
    case Unit::kMs:
      return absl::StrFormat("%.3f ms", value / 1e6);
    case Unit::kPercent:
      return absl::StrFormat("%.2f%%", value * 100);
    case Unit::kCount:
      return absl::StrFormat("%.0f", value);
    case Unit::kMbit:
      return absl::StrFormat("%.4f Mbit/s", value / 1e6);
    case Unit::kPlain:
      break;
  }
  return absl::StrFormat("%.3f", value);
}

std::string Band::Describe(Unit unit) const {
  return absl::StrCat("[", Format(low, unit), ", ", Format(high, unit), "]");
}

Band BinomialBand(uint64_t n, double p) {
  const double mean = static_cast<double>(n) * p;
  const double spread = 5 * std::sqrt(mean * (1 - p)) + 1;
  return Band{std::max(0.0, mean - spread), mean + spread};
}

Band ModelBand(const ModelPrediction& prediction) {
  const double spread = 5.5 * prediction.stddev;
  return Band{prediction.mean - spread, prediction.mean + spread};
}

std::vector<int64_t> ModelDelays(int64_t mu_ns, int32_t sigma_ns,
                                 const impair::DistributionTable* table) {
  std::vector<int64_t> values;
  if (table == nullptr) {
    constexpr int kPoints = 4096;
    for (int i = 0; i < kPoints; ++i) {
      values.push_back(mu_ns - sigma_ns + (2 * int64_t{sigma_ns} * i + kPoints / 2) / kPoints);
    }
    return values;
  }
  // tabledist()'s arithmetic for one table entry t (net/sched/sch_netem.c).
  for (int16_t t : table->values()) {
    int64_t x = (sigma_ns % impair::kNetemDistScale) * t;
    x += x >= 0 ? impair::kNetemDistScale / 2 : -impair::kNetemDistScale / 2;
    values.push_back(x / impair::kNetemDistScale + (sigma_ns / impair::kNetemDistScale) * t +
                     mu_ns);
  }
  std::sort(values.begin(), values.end());
  return values;
}

Band QuantileBand(const std::vector<int64_t>& model, double q, uint64_t n,
                  const PathLatency& latency) {
  const double spread = 5 * std::sqrt(q * (1 - q) / static_cast<double>(n));
  const double low_q = std::max(q - spread, 1.0 / static_cast<double>(model.size()));
  const double high_q = std::min(q + spread + 0.01, 1.0);
  return Band{static_cast<double>(NearestRank(model, low_q)),
              static_cast<double>(NearestRank(model, high_q) + latency.allowance_ns)};
}

Band MeanBand(const std::vector<int64_t>& model, uint64_t n, const PathLatency& latency) {
  double sum = 0;
  for (int64_t value : model) {
    sum += static_cast<double>(value);
  }
  const double mean = sum / static_cast<double>(model.size());
  double squares = 0;
  for (int64_t value : model) {
    squares += (static_cast<double>(value) - mean) * (static_cast<double>(value) - mean);
  }
  const double standard_error =
      std::sqrt(squares / static_cast<double>(model.size())) / std::sqrt(static_cast<double>(n));
  return Band{mean - 5 * standard_error,
              mean + 5 * standard_error + static_cast<double>(latency.allowance_ns)};
}

PathLatency MeasurePathLatency(ProbedLab& lab, uint32_t count, int64_t interval_ns) {
  constexpr int64_t kFixedNs = 20'000'000;
  ProbeOptions options;
  options.count = count;
  options.interval = std::chrono::nanoseconds(interval_ns);
  options.settle = std::chrono::milliseconds(200);
  PathLatency latency;
  // Whatever the calling test set a -> b goes first: the first run is the bare path.
  EXPECT_TRUE(lab.Impair(nslab::v1::DIRECTION_A_TO_B, {}).ok());
  absl::StatusOr<ProbeRun> unimpaired = lab.ProbeAToB(options);
  EXPECT_TRUE(unimpaired.ok()) << unimpaired.status();
  nslab::v1::Impairment fixed_delay;
  fixed_delay.set_delay_us(kFixedNs / 1000);
  EXPECT_TRUE(lab.Impair(nslab::v1::DIRECTION_A_TO_B, fixed_delay).ok());
  absl::StatusOr<ProbeRun> fixed = lab.ProbeAToB(options);
  EXPECT_TRUE(fixed.ok()) << fixed.status();
  EXPECT_TRUE(lab.Impair(nslab::v1::DIRECTION_A_TO_B, {}).ok());
  if (unimpaired.ok() && fixed.ok()) {
    latency.unimpaired = unimpaired->stats;
    latency.excess_p50_ns = fixed->stats.delay.p50_ns - kFixedNs;
    latency.excess_p90_ns = fixed->stats.delay.p90_ns - kFixedNs;
    latency.excess_p99_ns = fixed->stats.delay.p99_ns - kFixedNs;
  }
  latency.allowance_ns = std::max<int64_t>(latency.excess_p99_ns, 0) + 2'000'000;
  std::printf(
      "probe path of %s: unimpaired p50 %.3f ms p99 %.3f ms; over a 20 ms delay p50 +%.3f ms "
      "p90 +%.3f ms p99 +%.3f ms; delay allowance %.3f ms\n",
      lab.name().c_str(), latency.unimpaired.delay.p50_ns / 1e6,
      latency.unimpaired.delay.p99_ns / 1e6, latency.excess_p50_ns / 1e6,
      latency.excess_p90_ns / 1e6, latency.excess_p99_ns / 1e6, latency.allowance_ns / 1e6);
  std::fflush(stdout);
  return latency;
}

void ComparisonTable::Compare(const std::string& statistic, const std::string& spec, double veth,
                              double wire, const Band& difference, Unit unit) {
  const bool pass = difference.Contains(wire - veth);
  EXPECT_TRUE(pass) << statistic << " (" << spec << "): veth " << Format(veth, unit) << ", wire "
                    << Format(wire, unit) << ", wire - veth outside " << difference.Describe(unit);
  rows_.push_back(Row{statistic, spec, Format(veth, unit), Format(wire, unit),
                      absl::StrCat("wire-veth in ", difference.Describe(unit)), pass});
}

void ComparisonTable::CheckOne(const std::string& statistic, const std::string& spec, double value,
                               const Band& band, Unit unit) {
  const bool pass = band.Contains(value);
  EXPECT_TRUE(pass) << statistic << " (" << spec << "): " << Format(value, unit) << ", expected "
                    << band.Describe(unit);
  const bool wire = statistic.find("wire") != std::string::npos;
  rows_.push_back(Row{statistic, spec, wire ? "" : Format(value, unit),
                      wire ? Format(value, unit) : "", absl::StrCat("in ", band.Describe(unit)),
                      pass});
}

void ComparisonTable::Print() const {
  size_t widths[5] = {9, 4, 4, 4, 12};
  for (const Row& row : rows_) {
    widths[0] = std::max(widths[0], row.statistic.size());
    widths[1] = std::max(widths[1], row.spec.size());
    widths[2] = std::max(widths[2], row.veth.size());
    widths[3] = std::max(widths[3], row.wire.size());
    widths[4] = std::max(widths[4], row.bound.size());
  }
  std::printf("\n%s\n", title_.c_str());
  const auto line = [&](const Row& row, const char* verdict) {
    std::printf("%-*s | %-*s | %-*s | %-*s | %-*s | %s\n", static_cast<int>(widths[0]),
                row.statistic.c_str(), static_cast<int>(widths[1]), row.spec.c_str(),
                static_cast<int>(widths[2]), row.veth.c_str(), static_cast<int>(widths[3]),
                row.wire.c_str(), static_cast<int>(widths[4]), row.bound.c_str(), verdict);
  };
  line(Row{"statistic", "spec", "veth", "wire", "bound", true}, "");
  for (const Row& row : rows_) {
    line(row, row.pass ? "ok" : "FAIL");
  }
  std::fflush(stdout);
}

void CheckRow(FidelityTable& table, const std::string& parameter, const std::string& spec,
              const Band& expected, double measured, Unit unit) {
  const bool pass = expected.Contains(measured);
  EXPECT_TRUE(pass) << parameter << " (" << spec << "): measured " << Format(measured, unit)
                    << ", expected " << expected.Describe(unit);
  table.Add(parameter, spec, expected.Describe(unit), Format(measured, unit), pass);
}

}  // namespace nslab::netem
