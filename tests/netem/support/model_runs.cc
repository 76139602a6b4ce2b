#include "tests/netem/support/model_runs.h"

#include <algorithm>
#include <cmath>

#include "daemon/impair/fate.h"
#include "daemon/impair/spec.h"

namespace nslab::netem {
namespace {

struct Delivery {
  int64_t at_ns;
  uint64_t order;  // enqueue order breaks ties, as netem's queue does
  ProbeArrival arrival;
};

}  // namespace

absl::StatusOr<ProbeRecords> SimulateRun(const nslab::v1::Impairment& impairment, uint32_t count,
                                         int64_t interval_ns, uint32_t frame_bytes, uint64_t seed) {
  absl::StatusOr<impair::ImpairmentSpec> spec = impair::CompileImpairment(impairment);
  if (!spec.ok()) {
    return spec.status();
  }
  impair::FateEngine engine(*std::move(spec), seed);
  ProbeRecords records;
  records.sent = count;
  std::vector<Delivery> deliveries;
  uint64_t order = 0;
  const auto keep = [&](const impair::CopyFate& copy, uint32_t seq, int64_t sent_ns) {
    if (copy.kind != impair::FateKind::kScheduled) {
      return;
    }
    if (copy.corrupt_bit) {
      ++records.corrupted;
      return;
    }
    const int64_t at = impair::ToNanos(copy.deliver_at);
    deliveries.push_back(Delivery{at, order++, ProbeArrival{seq, sent_ns, at, frame_bytes}});
  };
  for (uint32_t seq = 0; seq < count; ++seq) {
    // Starts a second in, so that no time is zero or negative.
    const int64_t sent_ns = 1'000'000'000 + int64_t{seq} * interval_ns;
    // One class: the probes are one flow (same addresses, protocol and port).
    const impair::Fate fate =
        engine.Decide(/*class_key=*/1, frame_bytes, impair::FromNanos(sent_ns), /*queue_len=*/0);
    if (fate.duplicated) {
      keep(fate.duplicate, seq, sent_ns);
    }
    keep(fate.original, seq, sent_ns);
  }
  std::stable_sort(deliveries.begin(), deliveries.end(), [](const Delivery& x, const Delivery& y) {
    return x.at_ns != y.at_ns ? x.at_ns < y.at_ns : x.order < y.order;
  });
  for (const Delivery& delivery : deliveries) {
    records.arrivals.push_back(delivery.arrival);
  }
  return records;
}

absl::StatusOr<std::vector<ModelPrediction>> PredictAll(
    const nslab::v1::Impairment& impairment, uint32_t count, int64_t interval_ns,
    uint32_t frame_bytes, int runs, const std::vector<StatisticOf>& statistics) {
  std::vector<std::vector<double>> samples(statistics.size());
  for (int run = 0; run < runs; ++run) {
    absl::StatusOr<ProbeRecords> records =
        SimulateRun(impairment, count, interval_ns, frame_bytes, 0x5eed0000u + run);
    if (!records.ok()) {
      return records.status();
    }
    const ProbeStats stats = Summarize(*records);
    for (size_t i = 0; i < statistics.size(); ++i) {
      samples[i].push_back(statistics[i](*records, stats));
    }
  }
  std::vector<ModelPrediction> predictions;
  for (const std::vector<double>& values : samples) {
    ModelPrediction prediction;
    for (double value : values) {
      prediction.mean += value;
    }
    prediction.mean /= static_cast<double>(values.size());
    double squares = 0;
    for (double value : values) {
      squares += (value - prediction.mean) * (value - prediction.mean);
    }
    prediction.stddev =
        values.size() > 1 ? std::sqrt(squares / static_cast<double>(values.size() - 1)) : 0;
    predictions.push_back(prediction);
  }
  return predictions;
}

absl::StatusOr<ModelPrediction> Predict(const nslab::v1::Impairment& impairment, uint32_t count,
                                        int64_t interval_ns, uint32_t frame_bytes, int runs,
                                        const StatisticOf& statistic) {
  absl::StatusOr<std::vector<ModelPrediction>> all =
      PredictAll(impairment, count, interval_ns, frame_bytes, runs, {statistic});
  if (!all.ok()) {
    return all.status();
  }
  return all->front();
}

}  // namespace nslab::netem
