#include "daemon/wire/pipeline.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "daemon/impair/flow_class.h"

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
    : seed_(seed),
      engine_(std::move(spec), seed),
      pool_(options.max_frame_bytes, options.initial_slots, SlotsFor(engine_.spec().limit_packets)),
      unimpaired_(impair::IsUnimpaired(engine_.spec())) {
  SizeStorage();
}

// Every path (the direction's own and each flow's) may hold up to its own limit at once.
void ImpairmentPipeline::SizeStorage() {
  uint64_t slots = SlotsFor(engine_.spec().limit_packets);
  for (const Flow& flow : flows_) {
    slots += SlotsFor(flow.engine.spec().limit_packets);
  }
  const auto bounded = static_cast<uint32_t>(std::min<uint64_t>(slots, UINT32_MAX - 1));
  pool_.set_max_slots(std::max(bounded, pool_.capacity()));
  queue_.Reserve(std::min<size_t>(bounded, kReservedEntries));
}

ImpairmentPipeline::Flow* ImpairmentPipeline::FlowById(uint32_t id) {
  for (Flow& flow : flows_) {
    if (flow.id == id) {
      return &flow;
    }
  }
  return nullptr;  // removed while its frames were held
}

Verdict ImpairmentPipeline::Offer(std::span<const std::byte> frame, TimePoint now) {
  Flow* flow = nullptr;
  for (Flow& candidate : flows_) {
    if (candidate.matcher.Matches(frame)) {
      flow = &candidate;
      break;
    }
  }
  const auto count = [&](uint64_t PipelineCounters::*field) {
    ++(counters_.*field);
    if (flow != nullptr) {
      ++(flow->counters.*field);
    }
  };
  count(&PipelineCounters::offered);
  Verdict verdict;
  if (!link_up_) {
    count(&PipelineCounters::dropped_link_down);
    verdict.frame.outcome = Outcome::kDroppedLinkDown;
    return verdict;
  }
  if (frame.size() > pool_.slot_bytes()) {
    count(&PipelineCounters::dropped_oversize);
    verdict.frame.outcome = Outcome::kDroppedOversize;
    return verdict;
  }
  const impair::Fate fate = flow != nullptr
                                ? flow->engine.Decide(frame, now, flow->counters.queue_depth)
                                : engine_.Decide(frame, now, own_depth_);
  // The copy is queued first, as netem enqueues it first; on equal times it leaves first.
  if (fate.duplicated) {
    count(&PipelineCounters::duplicated);
    verdict.duplicate = Hold(fate.duplicate, frame, flow);
  }
  verdict.frame = Hold(fate.original, frame, flow);
  counters_.queue_depth = queue_.size();
  return verdict;
}

CopyVerdict ImpairmentPipeline::Hold(const impair::CopyFate& fate, std::span<const std::byte> frame,
                                     Flow* flow) {
  const auto count = [&](uint64_t PipelineCounters::*field) {
    ++(counters_.*field);
    if (flow != nullptr) {
      ++(flow->counters.*field);
    }
  };
  CopyVerdict verdict;
  switch (fate.kind) {
    case impair::FateKind::kLost:
      count(&PipelineCounters::dropped_loss);
      verdict.outcome = Outcome::kDroppedLoss;
      return verdict;
    case impair::FateKind::kQueueFull:
      count(&PipelineCounters::dropped_queue_full);
      verdict.outcome = Outcome::kDroppedQueueFull;
      return verdict;
    case impair::FateKind::kScheduled:
      break;
  }
  const uint32_t slot = pool_.Acquire();
  if (slot == FramePool::kNoSlot) {  // not expected: the pool is sized for the limits
    count(&PipelineCounters::dropped_queue_full);
    verdict.outcome = Outcome::kDroppedQueueFull;
    return verdict;
  }
  const std::span<std::byte> held = pool_.Slot(slot);
  if (!frame.empty()) {
    std::memcpy(held.data(), frame.data(), frame.size());
  }
  if (fate.corrupt_bit) {
    held[*fate.corrupt_bit / 8] ^= std::byte{static_cast<uint8_t>(1u << (*fate.corrupt_bit % 8))};
    count(&PipelineCounters::corrupted);
    verdict.corrupted_bit = fate.corrupt_bit;
  }
  if (fate.reordered) {
    count(&PipelineCounters::reordered);
    verdict.reordered = true;
  }
  if (flow != nullptr) {
    ++flow->counters.queue_depth;
  } else {
    ++own_depth_;
  }
  queue_.Push(impair::ToNanos(fate.deliver_at), slot, static_cast<uint32_t>(frame.size()),
              flow != nullptr ? flow->id : 0);
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
    if (entry.flow == 0) {
      --own_depth_;
    } else if (Flow* flow = FlowById(entry.flow); flow != nullptr) {
      ++flow->counters.forwarded;
      flow->counters.bytes += entry.length;
      --flow->counters.queue_depth;
    }
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
  unimpaired_ = impair::IsUnimpaired(spec);
  engine_.Reconfigure(std::move(spec));
  SizeStorage();
}

absl::Status ImpairmentPipeline::SetFlows(std::span<const FlowRule> rules) {
  if (rules.size() > kMaxFlows) {
    return absl::InvalidArgumentError(absl::StrCat(rules.size(),
                                                   " flows in one direction; at most ", kMaxFlows,
                                                   " (merge matches, e.g. a port range)"));
  }
  struct Compiled {
    uint64_t key;
    impair::FlowMatcher matcher;
    impair::ImpairmentSpec spec;
  };
  std::vector<Compiled> compiled;
  compiled.reserve(rules.size());
  for (size_t i = 0; i < rules.size(); ++i) {
    absl::StatusOr<impair::FlowMatcher> matcher = impair::FlowMatcher::Compile(rules[i].match);
    if (!matcher.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("flow ", i + 1, ": ", matcher.status().message()));
    }
    absl::StatusOr<impair::ImpairmentSpec> spec = impair::CompileImpairment(rules[i].impairment);
    if (!spec.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("flow ", i + 1, " (",
                                                     impair::FlowMatchText(rules[i].match),
                                                     "): ", spec.status().message()));
    }
    const uint64_t key = impair::FlowMatchKey(rules[i].match);
    for (const Compiled& earlier : compiled) {
      if (earlier.key == key) {
        return absl::InvalidArgumentError(
            absl::StrCat("flow ", i + 1, ": the match \"", impair::FlowMatchText(rules[i].match),
                         "\" comes twice; the second would never be taken"));
      }
    }
    compiled.push_back({key, *std::move(matcher), *std::move(spec)});
  }
  std::vector<Flow> next;
  next.reserve(compiled.size());
  for (size_t i = 0; i < compiled.size(); ++i) {
    auto kept = std::find_if(flows_.begin(), flows_.end(),
                             [&](const Flow& flow) { return flow.key == compiled[i].key; });
    if (kept != flows_.end()) {
      kept->engine.Reconfigure(std::move(compiled[i].spec));
      next.push_back(std::move(*kept));
      continue;
    }
    next.push_back(Flow{
        next_flow_id_++,
        rules[i].match,
        compiled[i].key,
        std::move(compiled[i].matcher),
        impair::FateEngine(std::move(compiled[i].spec), impair::ClassSeed(seed_, compiled[i].key)),
        {}});
  }
  // Frames held by a removed flow still leave on time; they are counted as the direction's.
  flows_ = std::move(next);
  SizeStorage();
  return absl::OkStatus();
}

void ImpairmentPipeline::CopyFlowCounters(std::vector<PipelineCounters>* out) const {
  out->resize(flows_.size());
  for (size_t i = 0; i < flows_.size(); ++i) {
    (*out)[i] = flows_[i].counters;
  }
}

std::vector<FlowState> ImpairmentPipeline::flows() const {
  std::vector<FlowState> states;
  states.reserve(flows_.size());
  for (const Flow& flow : flows_) {
    states.push_back({flow.match, flow.engine.spec(), flow.counters});
  }
  return states;
}

void ImpairmentPipeline::SetLinkUp(bool up) {
  if (link_up_ && !up) {
    for (const DelayQueue::Entry& entry : queue_.entries()) {
      pool_.Release(entry.slot);
      ++counters_.dropped_link_down;
      if (Flow* flow = FlowById(entry.flow); flow != nullptr) {
        ++flow->counters.dropped_link_down;
      }
    }
    queue_.Clear();
    counters_.queue_depth = 0;
    own_depth_ = 0;
    engine_.ResetLink();
    for (Flow& flow : flows_) {
      flow.counters.queue_depth = 0;
      flow.engine.ResetLink();
    }
  }
  link_up_ = up;
}

}  // namespace nslab::wire
