#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "daemon/impair/fate.h"
#include "daemon/impair/flow_match.h"
#include "daemon/impair/spec.h"
#include "daemon/impair/time.h"
#include "daemon/wire/delay_queue.h"
#include "daemon/wire/frame_pool.h"
#include "nslab/v1/topology.pb.h"

namespace nslab::wire {

using impair::TimePoint;

struct PipelineOptions {
  // The largest frame a pipeline holds; larger frames are dropped and counted. 2048 covers an
  // MTU of 1500 plus Ethernet header and VLAN tag with room to spare, which is all a TAP without
  // offloads (no IFF_VNET_HDR / GSO) hands over. Jumbo links need MTU + 18; GSO would need
  // 65536 + headers. Each held frame takes one slot of this size.
  size_t max_frame_bytes = 2048;
  // Slots allocated up front; more are added as the queue deepens, up to limit_packets + 1.
  uint32_t initial_slots = 64;
};

enum class Outcome : uint8_t {
  kScheduled,
  kDroppedLoss,
  kDroppedQueueFull,
  kDroppedLinkDown,
  kDroppedOversize,
};

struct CopyVerdict {
  Outcome outcome = Outcome::kDroppedLoss;
  TimePoint deliver_at{};                 // when scheduled
  bool reordered = false;                 // sent ahead of delayed frames (netem reorder)
  std::optional<uint32_t> corrupted_bit;  // flipped in the held copy: byte bit/8, bit bit%8
};

struct Verdict {
  CopyVerdict frame;
  // Present when the frame was duplicated; the copy has a fate of its own.
  std::optional<CopyVerdict> duplicate;
};

struct PipelineCounters {
  uint64_t offered = 0;
  uint64_t forwarded = 0;  // frames handed over by PopDue, duplicates included
  uint64_t bytes = 0;      // bytes of the forwarded frames
  uint64_t dropped_loss = 0;
  uint64_t dropped_queue_full = 0;
  uint64_t dropped_link_down = 0;  // offered while down, or in flight when the link went down
  uint64_t dropped_oversize = 0;
  uint64_t duplicated = 0;
  uint64_t corrupted = 0;
  uint64_t reordered = 0;
  uint64_t queue_depth = 0;  // frames held now
};

// One flow of a direction: the frames its match selects take its impairment instead of the
// direction's own.
struct FlowRule {
  nslab::v1::FlowMatch match;
  nslab::v1::Impairment impairment;
};

// What a flow is now and what it did.
struct FlowState {
  nslab::v1::FlowMatch match;
  impair::ImpairmentSpec spec;
  PipelineCounters counters;  // the frames this flow took; queue_depth: those held now
};

// More flows than a person would write by hand; a bound on the linear match per frame.
inline constexpr size_t kMaxFlows = 64;

// One direction of a userspace wire: frames go in with Offer(), wait for their time, and come
// out of PopDue(). The caller owns time and I/O (later: a TAP fd and an Asio timer armed at
// NextDeadline()); the pipeline never reads a clock, so a seed and a sequence of
// (frame, time) replays the same fates, deliveries and counters. The frame's bytes choose its
// traffic class, and each class has a random stream of its own (impair::FateEngine): a
// class's fates do not depend on the frames of other classes. Not thread-safe: one
// direction belongs to one strand.
//
// Flows (SetFlows): a frame takes the first flow whose match it fits, else the direction's own
// impairment. Each flow is a netem of its own, as a leaf of a kernel qdisc tree is: its own
// random streams (seeded from the direction's seed and the match, so the order of the flows
// and the other flows' traffic do not change its fates), its own rate limiter and its own
// queue limit. All share one delay queue, so frames leave in time order whatever flow took them.
//
// Offer copies the frame into a preallocated slot (see FramePool) and never allocates once
// the queue has been as deep before.
class ImpairmentPipeline {
 public:
  using DeliverFn = absl::FunctionRef<void(std::span<const std::byte> frame, TimePoint due)>;

  // Validates and compiles `impairment` (loading its trace file, if any).
  static absl::StatusOr<ImpairmentPipeline> Create(const nslab::v1::Impairment& impairment,
                                                   uint64_t seed, PipelineOptions options = {});
  ImpairmentPipeline(impair::ImpairmentSpec spec, uint64_t seed, PipelineOptions options = {});

  ImpairmentPipeline(ImpairmentPipeline&&) = default;
  ImpairmentPipeline& operator=(ImpairmentPipeline&&) = default;

  // Decides the fate of one frame arriving at `now`; times passed in must not decrease.
  Verdict Offer(std::span<const std::byte> frame, TimePoint now);

  // Hands over, in delivery order, every held frame due at or before `now`, then frees its
  // slot: the span is valid during the call only. Returns the number delivered. `deliver`
  // must not call back into this pipeline.
  size_t PopDue(TimePoint now, DeliverFn deliver);

  // When the next held frame is due; nullopt when none is held.
  std::optional<TimePoint> NextDeadline() const;

  // Runtime change (validated first; on error nothing changes). Frames already held keep
  // their times; new frames follow the new impairment.
  absl::Status SetImpairment(const nslab::v1::Impairment& impairment);
  void SetSpec(impair::ImpairmentSpec spec);

  // Replaces the flows, in the order they are tried (validated first; on error nothing
  // changes). A flow whose match was there before keeps its streams and counters, and takes a
  // changed impairment as SetImpairment does; frames held keep their times.
  absl::Status SetFlows(std::span<const FlowRule> flows);
  std::vector<FlowState> flows() const;
  // Each flow's counters, in flow order, into `out` (its storage reused: no allocation once
  // it has held as many).
  void CopyFlowCounters(std::vector<PipelineCounters>* out) const;

  // A link going down loses what is in flight (as a veth going down purges its qdisc) and
  // drops whatever is offered until it comes back up.
  void SetLinkUp(bool up);
  bool link_up() const { return link_up_; }

  // Whether a frame offered now would come out at once and unchanged: the link is up, nothing
  // is held, and the impairment is empty (impair::IsUnimpaired). The caller may then forward
  // frames itself, including TSO/GSO super-frames no slot can hold, and only count them here,
  // which keeps offered/forwarded/bytes whole and the fates of later frames as they would be.
  bool passes_through() const {
    return link_up_ && unimpaired_ && flows_.empty() && queue_.empty();
  }
  void CountPassedThrough(size_t frame_bytes) {
    ++counters_.offered;
    ++counters_.forwarded;
    counters_.bytes += frame_bytes;
  }

  const PipelineCounters& counters() const { return counters_; }
  const impair::ImpairmentSpec& spec() const { return engine_.spec(); }

 private:
  struct Flow {
    uint32_t id;  // in the delay queue's entries; never reused
    nslab::v1::FlowMatch match;
    uint64_t key;  // impair::FlowMatchKey(match)
    impair::FlowMatcher matcher;
    impair::FateEngine engine;
    PipelineCounters counters;
  };

  CopyVerdict Hold(const impair::CopyFate& fate, std::span<const std::byte> frame, Flow* flow);
  Flow* FlowById(uint32_t id);
  void SizeStorage();

  uint64_t seed_;
  impair::FateEngine engine_;
  uint64_t own_depth_ = 0;  // frames held that no flow took
  std::vector<Flow> flows_;
  uint32_t next_flow_id_ = 1;
  FramePool pool_;
  DelayQueue queue_;
  bool link_up_ = true;
  bool unimpaired_ = false;
  PipelineCounters counters_;
};

}  // namespace nslab::wire
