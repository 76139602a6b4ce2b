#include "tests/netem/support/probe_stats.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace nslab::netem {

int64_t NearestRank(const std::vector<int64_t>& sorted, double fraction) {
  const double rank = std::ceil(fraction * static_cast<double>(sorted.size()));
  const size_t index = rank < 1 ? 0 : static_cast<size_t>(rank) - 1;
  return sorted[std::min(index, sorted.size() - 1)];
}

double Lag1Autocorrelation(const std::vector<double>& series) {
  // Pearson's correlation of the pairs (x_i, x_i+1) where both are present: each side with its
  // own mean and spread, so that gaps (lost probes) neither shrink nor inflate the estimate.
  double sum_x = 0, sum_y = 0, sum_xx = 0, sum_yy = 0, sum_xy = 0;
  size_t pairs = 0;
  for (size_t i = 0; i + 1 < series.size(); ++i) {
    const double x = series[i];
    const double y = series[i + 1];
    if (std::isnan(x) || std::isnan(y)) {
      continue;
    }
    sum_x += x;
    sum_y += y;
    sum_xx += x * x;
    sum_yy += y * y;
    sum_xy += x * y;
    ++pairs;
  }
  if (pairs < 3) {
    return 0;
  }
  const double n = static_cast<double>(pairs);
  const double covariance = sum_xy - sum_x * sum_y / n;
  const double variance_x = sum_xx - sum_x * sum_x / n;
  const double variance_y = sum_yy - sum_y * sum_y / n;
  if (variance_x <= 0 || variance_y <= 0) {
    return 0;
  }
  return covariance / std::sqrt(variance_x * variance_y);
}

std::map<uint32_t, uint32_t> RunLengths(const std::vector<bool>& lost) {
  std::map<uint32_t, uint32_t> runs;
  uint32_t run = 0;
  for (bool is_lost : lost) {
    if (is_lost) {
      ++run;
    } else if (run > 0) {
      ++runs[run];
      run = 0;
    }
  }
  if (run > 0) {
    ++runs[run];
  }
  return runs;
}

namespace {

DelayStats DescribeDelays(const std::vector<int64_t>& delay_by_seq, const std::vector<bool>& seen) {
  DelayStats stats;
  std::vector<int64_t> sorted;
  std::vector<double> series(delay_by_seq.size(), std::numeric_limits<double>::quiet_NaN());
  double sum = 0;
  for (size_t seq = 0; seq < delay_by_seq.size(); ++seq) {
    if (seen[seq]) {
      sorted.push_back(delay_by_seq[seq]);
      series[seq] = static_cast<double>(delay_by_seq[seq]);
      sum += static_cast<double>(delay_by_seq[seq]);
    }
  }
  stats.count = sorted.size();
  if (sorted.empty()) {
    return stats;
  }
  std::sort(sorted.begin(), sorted.end());
  stats.mean_ns = sum / static_cast<double>(sorted.size());
  double squares = 0;
  for (int64_t delay : sorted) {
    squares +=
        (static_cast<double>(delay) - stats.mean_ns) * (static_cast<double>(delay) - stats.mean_ns);
  }
  stats.stddev_ns =
      sorted.size() > 1 ? std::sqrt(squares / static_cast<double>(sorted.size() - 1)) : 0;
  stats.min_ns = sorted.front();
  stats.p10_ns = NearestRank(sorted, 0.10);
  stats.p25_ns = NearestRank(sorted, 0.25);
  stats.p50_ns = NearestRank(sorted, 0.50);
  stats.p75_ns = NearestRank(sorted, 0.75);
  stats.p90_ns = NearestRank(sorted, 0.90);
  stats.p99_ns = NearestRank(sorted, 0.99);
  stats.max_ns = sorted.back();
  stats.lag1_autocorrelation = Lag1Autocorrelation(series);
  return stats;
}

}  // namespace

ProbeStats Summarize(const ProbeRecords& records) {
  ProbeStats stats;
  stats.sent = records.sent;
  stats.corrupted = records.corrupted;
  stats.foreign = records.foreign;
  stats.capture_drops = records.capture_drops;
  std::vector<bool> seen(records.sent, false);
  std::vector<int64_t> delay(records.sent, 0);
  int64_t highest = -1;
  int64_t first_ns = 0;
  int64_t last_ns = 0;
  uint64_t span_bits = 0;
  for (const ProbeArrival& arrival : records.arrivals) {
    if (arrival.seq >= records.sent) {
      continue;  // not a probe of this run (a checksum that happened to hold)
    }
    if (seen[arrival.seq]) {
      ++stats.duplicates;
      continue;
    }
    seen[arrival.seq] = true;
    delay[arrival.seq] = arrival.received_ns - arrival.sent_ns;
    if (static_cast<int64_t>(arrival.seq) < highest) {
      ++stats.reordered;
    }
    highest = std::max<int64_t>(highest, arrival.seq);
    if (stats.delivered == 0) {
      first_ns = arrival.received_ns;
    } else {
      span_bits += uint64_t{arrival.frame_bytes} * 8;
    }
    last_ns = arrival.received_ns;
    ++stats.delivered;
  }
  stats.lost = stats.sent - stats.delivered;
  stats.loss_rate = stats.sent == 0 ? 0 : static_cast<double>(stats.lost) / stats.sent;
  std::vector<bool> lost(records.sent);
  for (size_t seq = 0; seq < lost.size(); ++seq) {
    lost[seq] = !seen[seq];
  }
  stats.loss_bursts = RunLengths(lost);
  uint64_t lost_in_runs = 0;
  for (const auto& [length, count] : stats.loss_bursts) {
    stats.loss_burst_count += count;
    lost_in_runs += uint64_t{length} * count;
  }
  stats.mean_loss_burst =
      stats.loss_burst_count == 0 ? 0 : static_cast<double>(lost_in_runs) / stats.loss_burst_count;
  stats.delay = DescribeDelays(delay, seen);
  if (last_ns > first_ns) {
    stats.throughput_bps =
        static_cast<double>(span_bits) * 1e9 / static_cast<double>(last_ns - first_ns);
  }
  return stats;
}

std::vector<double> WindowThroughputs(const ProbeRecords& records, uint32_t frames) {
  std::vector<const ProbeArrival*> firsts;
  std::vector<bool> seen(records.sent, false);
  for (const ProbeArrival& arrival : records.arrivals) {
    if (arrival.seq < records.sent && !seen[arrival.seq]) {
      seen[arrival.seq] = true;
      firsts.push_back(&arrival);
    }
  }
  std::vector<double> rates;
  if (frames == 0) {
    return rates;
  }
  for (size_t start = 0; start + frames < firsts.size(); start += frames) {
    uint64_t bits = 0;
    for (size_t i = start + 1; i <= start + frames; ++i) {
      bits += uint64_t{firsts[i]->frame_bytes} * 8;
    }
    const int64_t span = firsts[start + frames]->received_ns - firsts[start]->received_ns;
    if (span > 0) {
      rates.push_back(static_cast<double>(bits) * 1e9 / static_cast<double>(span));
    }
  }
  return rates;
}

double Median(std::vector<double> values) {
  if (values.empty()) {
    return 0;
  }
  const size_t middle = (values.size() - 1) / 2;
  std::nth_element(values.begin(), values.begin() + static_cast<long>(middle), values.end());
  return values[middle];
}

}  // namespace nslab::netem
