#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "daemon/impair/class_streams.h"
#include "daemon/impair/spec.h"
#include "daemon/impair/time.h"
#include "daemon/impair/token_bucket.h"
#include "daemon/impair/trace.h"

namespace nslab::impair {

enum class FateKind : uint8_t {
  kScheduled,  // to be delivered at `deliver_at`
  kLost,       // dropped by the loss model
  kQueueFull,  // tail drop: the queue already held `limit_packets` frames
};

// The fate of one copy of a frame.
struct CopyFate {
  FateKind kind = FateKind::kLost;
  TimePoint deliver_at{};
  // netem reorder: this copy skipped the delay and leaves at once, ahead of delayed frames.
  bool reordered = false;
  // Bit to flip: byte bit / 8, mask 1 << (bit % 8).
  std::optional<uint32_t> corrupt_bit;
};

struct Fate {
  CopyFate original;
  // netem made a second copy; it went through loss, corruption and delay on its own.
  bool duplicated = false;
  CopyFate duplicate;
};

// The per-frame decisions of netem_enqueue() (net/sched/sch_netem.c), for one direction, with
// seeded generators and injected time. Decide() draws in netem's order:
//   1. duplicate?
//   2. lost? A loss cancels the duplicate rather than the frame: netem counts copies and drops
//      only when none is left.
//   3. corrupt one bit?
//   4. tail drop (of both copies) if the queue already holds `limit_packets` frames.
//   5. the duplicate goes first, through steps 2-6 on its own, never duplicated again.
//   6. reorder or delay (below), then rate or trace.
//
// Unlike netem, which has one random stream per qdisc, every traffic class (FlowClass) has its
// own: a stream seeded with ClassSeed(seed, class key), its own loss chain, correlations and
// reorder counter (ClassDraws). So the n-th frame of a class meets the same fate however many
// frames of other classes came in between, and when. The classes share what the link
// shares: the rate limiter or trace (frames of all classes queue behind each other), the
// queue limit, and netem's ordering reference (below). A direction holds at most
// `max_classes` classes; the least recently used one is then forgotten, and restarts its
// stream if it comes back.
//
// Reordering, as netem does it (per class here): `counter` counts frames delayed since the last
// reordered one. While counter < gap - 1 every frame is delayed. After that each frame is sent
// at once with probability `reorder` (and the counter restarts), else it is delayed and the
// next one gets the same chance. So gap 5, reorder 100% sends frames 5, 10, 15, ... ahead of
// 1-4, 6-9, ...; gap 1 (iproute2's default) gives every frame the `reorder` chance. Reordered
// frames skip the delay and the rate limit, and only overtake when there is a delay to
// overtake. netem puts them at the head of its queue; here they are due `now`, which is the
// same order whenever the queue is serviced on time and, unlike head insertion, does not
// depend on when it is.
//
// Delay is tabledist(delay, jitter, correlation, table). Jitter can reorder frames by itself
// unless a rate (or a trace) is set: then a frame never leaves before the one ahead of it, of
// whatever class, netem's rule "last packet in queue is reference point".
class FateEngine {
 public:
  FateEngine(ImpairmentSpec spec, uint64_t seed, size_t max_classes = kDefaultMaxClasses);

  // netem_change(), in every class: new frames follow `spec`; the loss chains and correlations
  // restart, the reorder counters reset, the random streams carry on, and frames already
  // scheduled keep their times (the rate limiter still queues new frames behind them).
  void Reconfigure(ImpairmentSpec spec);

  // The queue was flushed (link down): nothing is in flight any more.
  void ResetLink();

  // The fate of `frame`, of the class ClassifyFrame finds. `queue_len`: frames held now, for
  // the tail-drop limit.
  Fate Decide(std::span<const std::byte> frame, TimePoint now, size_t queue_len);

  // The same for a frame of `frame_bytes` of the class with key `class_key` (FlowClassKey).
  Fate Decide(uint64_t class_key, size_t frame_bytes, TimePoint now, size_t queue_len);

  const ImpairmentSpec& spec() const { return spec_; }
  const ClassTable& classes() const { return classes_; }

 private:
  ClassDraws& Draws(uint64_t class_key);
  Fate DecideWith(ClassDraws& draws, size_t frame_bytes, TimePoint now, size_t queue_len);
  CopyFate DecideDuplicate(ClassDraws& draws, size_t frame_bytes, int64_t now_ns, size_t queue_len);
  std::optional<uint32_t> MaybeCorrupt(ClassDraws& draws, size_t frame_bytes);
  void Schedule(ClassDraws& draws, CopyFate& fate, size_t frame_bytes, int64_t now_ns);
  void ApplySpec();

  ImpairmentSpec spec_;
  uint64_t seed_;
  ClassTable classes_;
  // Whether spec_ draws from the random streams at all. When it does not (delay, rate or
  // trace alone) frames are not classified, no class is made, and `unclassified_` stands in.
  bool draws_ = false;
  ClassDraws unclassified_{0};
  TokenBucket bucket_;
  TraceShaper trace_;
};

}  // namespace nslab::impair
