#include "daemon/impair/fate.h"

#include <utility>

#include "daemon/impair/distribution.h"

namespace nslab::impair {

FateEngine::FateEngine(ImpairmentSpec spec, uint64_t seed) : spec_(std::move(spec)), rng_(seed) {
  ApplySpec();
}

void FateEngine::Reconfigure(ImpairmentSpec spec) {
  spec_ = std::move(spec);
  ApplySpec();
}

void FateEngine::ApplySpec() {
  loss_ = LossModel(spec_.loss, rng_);
  // The proto carries correlation for delay and loss only; the others are netem's with rho 0.
  delay_source_.Reset(spec_.delay_correlation, rng_);
  duplicate_source_.Reset(0, rng_);
  reorder_source_.Reset(0, rng_);
  corrupt_source_.Reset(0, rng_);
  counter_ = 0;
  bucket_.Reconfigure(spec_.trace ? 0 : spec_.rate_bps, spec_.burst_bytes);
  // A new trace starts (its 0 ms) at the next frame; the same trace keeps running.
  if (spec_.trace == nullptr) {
    trace_ = TraceShaper();
  } else if (!trace_.enabled() || trace_.trace() != spec_.trace) {
    trace_ = TraceShaper(spec_.trace);
  }
}

void FateEngine::ResetLink() {
  bucket_.Reset();
  trace_.Reset();
}

Fate FateEngine::Decide(size_t frame_bytes, TimePoint now, size_t queue_len) {
  const int64_t now_ns = ToNanos(now);
  trace_.Start(now_ns);
  Fate fate;

  int copies = 1;
  if (spec_.duplicate != 0 && spec_.duplicate >= duplicate_source_.Next(rng_)) {
    ++copies;
  }
  if (loss_.Lost(rng_)) {
    --copies;
  }
  if (copies == 0) {
    fate.original.kind = FateKind::kLost;
    return fate;
  }
  fate.original.corrupt_bit = MaybeCorrupt(frame_bytes);
  if (queue_len >= spec_.limit_packets) {
    fate.original.kind = FateKind::kQueueFull;
    return fate;
  }
  if (copies > 1) {
    fate.duplicated = true;
    fate.duplicate = DecideDuplicate(frame_bytes, now_ns, queue_len);
  }
  Schedule(fate.original, frame_bytes, now_ns);
  return fate;
}

// netem re-enqueues the copy at the root qdisc, marked so that it is not duplicated again.
CopyFate FateEngine::DecideDuplicate(size_t frame_bytes, int64_t now_ns, size_t queue_len) {
  CopyFate copy;
  if (loss_.Lost(rng_)) {
    copy.kind = FateKind::kLost;
    return copy;
  }
  copy.corrupt_bit = MaybeCorrupt(frame_bytes);
  if (queue_len >= spec_.limit_packets) {
    copy.kind = FateKind::kQueueFull;
    return copy;
  }
  Schedule(copy, frame_bytes, now_ns);
  return copy;
}

// netem flips one random bit of the linear data (skb->data[below(headlen)] ^= 1 << below(8));
// the position comes from the seeded stream here, so it replays.
std::optional<uint32_t> FateEngine::MaybeCorrupt(size_t frame_bytes) {
  if (spec_.corrupt == 0 || spec_.corrupt < corrupt_source_.Next(rng_) || frame_bytes == 0) {
    return std::nullopt;
  }
  const uint32_t byte = rng_.Below(static_cast<uint32_t>(frame_bytes));
  const uint32_t bit = rng_.Below(8);
  return byte * 8 + bit;
}

void FateEngine::Schedule(CopyFate& fate, size_t frame_bytes, int64_t now_ns) {
  fate.kind = FateKind::kScheduled;
  const bool delayed = spec_.reorder_gap == 0 || counter_ < spec_.reorder_gap - 1 ||
                       spec_.reorder < reorder_source_.Next(rng_);
  if (!delayed) {
    fate.reordered = true;
    fate.deliver_at = FromNanos(now_ns);
    counter_ = 0;
    return;
  }
  int64_t t = now_ns + TableDist(spec_.delay_ns, spec_.jitter_ns, delay_source_, rng_,
                                 spec_.distribution.get());
  if (trace_.enabled()) {
    t = trace_.Depart(t, frame_bytes);
  } else if (bucket_.enabled()) {
    t = bucket_.Depart(t, frame_bytes);
  }
  fate.deliver_at = FromNanos(t);
  ++counter_;
}

}  // namespace nslab::impair
