#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "daemon/impair/correlated.h"
#include "daemon/impair/rng.h"

namespace nslab::impair {

// NETEM_DIST_SCALE from linux/pkt_sched.h: table entries are deviations in units of sigma/8192.
inline constexpr int64_t kNetemDistScale = 8192;
// NETEM_DIST_MAX: the kernel refuses larger tables.
inline constexpr size_t kNetemDistMax = 16384;

// A netem delay distribution: an inverse CDF sampled at equal steps, as signed 16-bit values
// scaled by kNetemDistScale (the iproute2 tables have 4096 entries). Immutable once built; shared
// between pipelines.
class DistributionTable {
 public:
  // iproute2's text format (/usr/lib/x86_64-linux-gnu/tc/*.dist): lines starting with '#' are
  // comments, the rest are whitespace-separated integers.
  static absl::StatusOr<DistributionTable> Parse(std::string_view text);
  static absl::StatusOr<DistributionTable> LoadFile(const std::string& path);

  // The tables iproute2 builds at compile time (netem/normal.c, pareto.c, paretonormal.c),
  // generated here by the same arithmetic so that nothing depends on files being installed.
  static DistributionTable GenerateNormal();
  static DistributionTable GeneratePareto();
  static DistributionTable GenerateParetoNormal();

  explicit DistributionTable(std::vector<int16_t> values) : values_(std::move(values)) {}

  std::span<const int16_t> values() const { return values_; }
  size_t size() const { return values_.size(); }

 private:
  std::vector<int16_t> values_;
};

// Generated once per process on first use, then shared.
const std::shared_ptr<const DistributionTable>& NormalTable();
const std::shared_ptr<const DistributionTable>& ParetoTable();
const std::shared_ptr<const DistributionTable>& ParetoNormalTable();

// tabledist() from net/sched/sch_netem.c: a value with mean ~mu and deviation ~sigma (both in
// ns). Without a table the value is uniform in [mu - sigma, mu + sigma). One correlated draw,
// none when sigma is 0. The result may be negative (jitter larger than the delay); netem then
// sends at once, and so do we.
//
// Faithful to a netem flaw on purpose: the correlated value is reduced modulo 2*sigma or the
// table size, which keeps only its low bits, and those carry no correlation. So netem's delay
// correlation changes the draws but gives no visibly correlated delays, and the wire agrees
// with the kernel backend on that (loss correlation, compared on all 32 bits, does work).
int64_t TableDist(int64_t mu, int32_t sigma, CorrelatedUniform& source, Rng& rng,
                  const DistributionTable* table);

}  // namespace nslab::impair
