#include "daemon/wire/pipeline.h"

#include <algorithm>
#include <cstring>
#include <utility>

namespace nslab::wire {
namespace {

// The engine may schedule both copies of a duplicated frame when the queue holds limit - 1.
uint32_t SlotsFor(uint32_t limit_packets) { return limit_packets + 1; }

// Heap entries are small; reserve them for typical queues and let deeper ones grow once.
constexpr size_t kReservedEntries = 4096;

}  // namespace

absl::StatusOr<ImpairmentPipeline> ImpairmentPipeline::Create(
    const nslab::v1::Impairment& impairment, uint64_t seed, PipelineOptions options) {
  absl::StatusOr<impair::ImpairmentSpec> spec = impair::CompileImpairment(impairment);
  if (!spec.ok()) {
    return spec.status();
  }
  return ImpairmentPipeline(*std::move(spec), seed, options);
}

ImpairmentPipeline::ImpairmentPipeline(impair::ImpairmentSpec spec, uint64_t seed,
                                       PipelineOptions options)
    : engine_(std::move(spec), seed),
      pool_(options.max_frame_bytes, options.initial_slots, SlotsFor(engine_.spec().limit_packets)),
      unimpaired_(impair::IsUnimpaired(engine_.spec())) {
  SizeStorage(engine_.spec().limit_packets);
}

void ImpairmentPipeline::SizeStorage(uint32_t limit_packets) {
  pool_.set_max_slots(std::max(SlotsFor(limit_packets), pool_.capacity()));
  queue_.Reserve(std::min<size_t>(SlotsFor(limit_packets), kReservedEntries));
}

Verdict ImpairmentPipeline::Offer(std::span<const std::byte> frame, TimePoint now) {
  ++counters_.offered;
  Verdict verdict;
  if (!link_up_) {
    ++counters_.dropped_link_down;
    verdict.frame.outcome = Outcome::kDroppedLinkDown;
    return verdict;
  }
  if (frame.size() > pool_.slot_bytes()) {
    ++counters_.dropped_oversize;
    verdict.frame.outcome = Outcome::kDroppedOversize;
    return verdict;
  }
  const impair::Fate fate = engine_.Decide(frame, now, queue_.size());
  // The copy is queued first, as netem enqueues it first; on equal times it leaves first.
  if (fate.duplicated) {
    ++counters_.duplicated;
    verdict.duplicate = Hold(fate.duplicate, frame);
  }
  verdict.frame = Hold(fate.original, frame);
  counters_.queue_depth = queue_.size();
  return verdict;
}

CopyVerdict ImpairmentPipeline::Hold(const impair::CopyFate& fate,
                                     std::span<const std::byte> frame) {
  CopyVerdict verdict;
  switch (fate.kind) {
    case impair::FateKind::kLost:
      ++counters_.dropped_loss;
      verdict.outcome = Outcome::kDroppedLoss;
      return verdict;
    case impair::FateKind::kQueueFull:
      ++counters_.dropped_queue_full;
      verdict.outcome = Outcome::kDroppedQueueFull;
      return verdict;
    case impair::FateKind::kScheduled:
      break;
  }
  const uint32_t slot = pool_.Acquire();
  if (slot == FramePool::kNoSlot) {  // not expected: the pool is sized for the limit
    ++counters_.dropped_queue_full;
    verdict.outcome = Outcome::kDroppedQueueFull;
    return verdict;
  }
  const std::span<std::byte> held = pool_.Slot(slot);
  if (!frame.empty()) {
    std::memcpy(held.data(), frame.data(), frame.size());
  }
  if (fate.corrupt_bit) {
    held[*fate.corrupt_bit / 8] ^= std::byte{static_cast<uint8_t>(1u << (*fate.corrupt_bit % 8))};
    ++counters_.corrupted;
    verdict.corrupted_bit = fate.corrupt_bit;
  }
  if (fate.reordered) {
    ++counters_.reordered;
    verdict.reordered = true;
  }
  queue_.Push(impair::ToNanos(fate.deliver_at), slot, static_cast<uint32_t>(frame.size()));
  verdict.outcome = Outcome::kScheduled;
  verdict.deliver_at = fate.deliver_at;
  return verdict;
}

size_t ImpairmentPipeline::PopDue(TimePoint now, DeliverFn deliver) {
  const int64_t now_ns = impair::ToNanos(now);
  size_t delivered = 0;
  while (!queue_.empty() && queue_.Top().due_ns <= now_ns) {
    const DelayQueue::Entry entry = queue_.Top();
    queue_.Pop();
    ++counters_.forwarded;
    counters_.bytes += entry.length;
    counters_.queue_depth = queue_.size();
    deliver(pool_.Slot(entry.slot).first(entry.length), impair::FromNanos(entry.due_ns));
    pool_.Release(entry.slot);
    ++delivered;
  }
  return delivered;
}

std::optional<TimePoint> ImpairmentPipeline::NextDeadline() const {
  if (queue_.empty()) {
    return std::nullopt;
  }
  return impair::FromNanos(queue_.Top().due_ns);
}

absl::Status ImpairmentPipeline::SetImpairment(const nslab::v1::Impairment& impairment) {
  absl::StatusOr<impair::ImpairmentSpec> spec = impair::CompileImpairment(impairment);
  if (!spec.ok()) {
    return spec.status();
  }
  SetSpec(*std::move(spec));
  return absl::OkStatus();
}

void ImpairmentPipeline::SetSpec(impair::ImpairmentSpec spec) {
  const uint32_t limit = spec.limit_packets;
  unimpaired_ = impair::IsUnimpaired(spec);
  engine_.Reconfigure(std::move(spec));
  SizeStorage(limit);
}

void ImpairmentPipeline::SetLinkUp(bool up) {
  if (link_up_ && !up) {
    for (const DelayQueue::Entry& entry : queue_.entries()) {
      pool_.Release(entry.slot);
      ++counters_.dropped_link_down;
    }
    queue_.Clear();
    counters_.queue_depth = 0;
    engine_.ResetLink();
  }
  link_up_ = up;
}

}  // namespace nslab::wire
