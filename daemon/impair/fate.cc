#include "daemon/impair/fate.h"

#include <utility>
#include <variant>

#include "daemon/impair/distribution.h"
#include "daemon/impair/flow_class.h"

namespace nslab::impair {
namespace {

// Mirrors the draws Decide makes: loss (random loss P = 0 draws nothing), duplicate and
// corrupt when non-zero, the reorder chance once a gap is set, the delay when it has jitter.
bool DrawsFromStreams(const ImpairmentSpec& spec) {
  bool loss = !std::holds_alternative<std::monostate>(spec.loss);
  if (const auto* random = std::get_if<RandomLossParams>(&spec.loss)) {
    loss = random->probability != 0;
  }
  return loss || spec.duplicate != 0 || spec.corrupt != 0 || spec.reorder_gap != 0 ||
         spec.jitter_ns != 0;
}

}  // namespace

FateEngine::FateEngine(ImpairmentSpec spec, uint64_t seed, size_t max_classes)
    : spec_(std::move(spec)), seed_(seed), classes_(max_classes) {
  ApplySpec();
}

void FateEngine::Reconfigure(ImpairmentSpec spec) {
  spec_ = std::move(spec);
  ApplySpec();
}

void FateEngine::ApplySpec() {
  // Classes not seen yet are set up when their first frame comes.
  classes_.ForEach([this](ClassDraws& draws) { draws.Apply(spec_); });
  draws_ = DrawsFromStreams(spec_);
  unclassified_.Apply(spec_);
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

ClassDraws& FateEngine::Draws(uint64_t class_key) {
  if (ClassDraws* held = classes_.Find(class_key)) {
    return *held;
  }
  ClassDraws fresh(ClassSeed(seed_, class_key));
  fresh.Apply(spec_);
  return classes_.Insert(class_key, std::move(fresh));
}

Fate FateEngine::Decide(std::span<const std::byte> frame, TimePoint now, size_t queue_len) {
  if (!draws_) {
    return DecideWith(unclassified_, frame.size(), now, queue_len);
  }
  return DecideWith(Draws(FlowClassKey(ClassifyFrame(frame))), frame.size(), now, queue_len);
}

Fate FateEngine::Decide(uint64_t class_key, size_t frame_bytes, TimePoint now, size_t queue_len) {
  return DecideWith(draws_ ? Draws(class_key) : unclassified_, frame_bytes, now, queue_len);
}

Fate FateEngine::DecideWith(ClassDraws& draws, size_t frame_bytes, TimePoint now,
                            size_t queue_len) {
  const int64_t now_ns = ToNanos(now);
  trace_.Start(now_ns);
  Fate fate;

  int copies = 1;
  if (spec_.duplicate != 0 && spec_.duplicate >= draws.duplicate.Next(draws.rng)) {
    ++copies;
  }
  if (draws.loss.Lost(draws.rng)) {
    --copies;
  }
  if (copies == 0) {
    fate.original.kind = FateKind::kLost;
    return fate;
  }
  fate.original.corrupt_bit = MaybeCorrupt(draws, frame_bytes);
  if (queue_len >= spec_.limit_packets) {
    fate.original.kind = FateKind::kQueueFull;
    return fate;
  }
  if (copies > 1) {
    fate.duplicated = true;
    fate.duplicate = DecideDuplicate(draws, frame_bytes, now_ns, queue_len);
  }
  Schedule(draws, fate.original, frame_bytes, now_ns);
  return fate;
}

// netem re-enqueues the copy at the root qdisc, marked so that it is not duplicated again.
CopyFate FateEngine::DecideDuplicate(ClassDraws& draws, size_t frame_bytes, int64_t now_ns,
                                     size_t queue_len) {
  CopyFate copy;
  if (draws.loss.Lost(draws.rng)) {
    copy.kind = FateKind::kLost;
    return copy;
  }
  copy.corrupt_bit = MaybeCorrupt(draws, frame_bytes);
  if (queue_len >= spec_.limit_packets) {
    copy.kind = FateKind::kQueueFull;
    return copy;
  }
  Schedule(draws, copy, frame_bytes, now_ns);
  return copy;
}

// netem flips one random bit of the linear data (skb->data[below(headlen)] ^= 1 << below(8));
// the position comes from the seeded stream here, so it replays.
std::optional<uint32_t> FateEngine::MaybeCorrupt(ClassDraws& draws, size_t frame_bytes) {
  if (spec_.corrupt == 0 || spec_.corrupt < draws.corrupt.Next(draws.rng) || frame_bytes == 0) {
    return std::nullopt;
  }
  const uint32_t byte = draws.rng.Below(static_cast<uint32_t>(frame_bytes));
  const uint32_t bit = draws.rng.Below(8);
  return byte * 8 + bit;
}

void FateEngine::Schedule(ClassDraws& draws, CopyFate& fate, size_t frame_bytes, int64_t now_ns) {
  fate.kind = FateKind::kScheduled;
  const bool delayed = spec_.reorder_gap == 0 || draws.counter < spec_.reorder_gap - 1 ||
                       spec_.reorder < draws.reorder.Next(draws.rng);
  if (!delayed) {
    fate.reordered = true;
    fate.deliver_at = FromNanos(now_ns);
    draws.counter = 0;
    return;
  }
  int64_t t = now_ns + TableDist(spec_.delay_ns, spec_.jitter_ns, draws.delay, draws.rng,
                                 spec_.distribution.get());
  if (trace_.enabled()) {
    t = trace_.Depart(t, frame_bytes);
  } else if (bucket_.enabled()) {
    t = bucket_.Depart(t, frame_bytes);
  }
  fate.deliver_at = FromNanos(t);
  ++draws.counter;
}

}  // namespace nslab::impair
