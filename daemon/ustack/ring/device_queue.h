#pragma once

// The device's side of a split virtqueue: it takes the chains the driver made available and
// returns them as used. Single-threaded: one device thread owns this object. Nothing read from
// the ring is trusted: a chain that loops, points outside the table, puts a readable segment
// after a writable one or uses indirect descriptors marks the queue broken.

#include <cstdint>
#include <optional>
#include <span>

#include "daemon/ustack/ring/virtq_layout.h"
#include "daemon/ustack/ring/virtqueue.h"

namespace nslab::ustack::ring {

// One available chain. The segments live in the scratch span given to DeviceQueue::pop().
struct Chain {
  std::uint16_t head = 0;  // give it back to DeviceQueue::push_used()
  std::span<const Segment> readable;
  std::span<const Segment> writable;
};

class alignas(64) DeviceQueue {
 public:
  // `vq` must outlive this object. A queue has one DeviceQueue at a time.
  DeviceQueue(const Virtqueue& vq, Suppression suppression);

  // Takes the next available chain, its segments copied into `scratch`; the longest chain
  // accepted is min(scratch.size(), size()). nullopt when nothing is available or the queue is
  // broken (see broken()).
  std::optional<Chain> pop(std::span<Segment> scratch);

  // Returns a popped chain with the number of bytes written into its writable segments. The
  // driver sees it when this returns. Chains may be returned in any order.
  void push_used(std::uint16_t head, std::uint32_t written_len);

  // Call after a batch of push_used(): true when the driver asked to be interrupted for it
  // (its used_event was crossed, or VIRTQ_AVAIL_F_NO_INTERRUPT is clear).
  bool interrupt_needed();

  // Kick suppression, the mirror of DriverQueue's interrupt suppression: with kEventIdx an
  // armed avail_event fires once; with kFlags VIRTQ_USED_F_NO_NOTIFY is set until enabled.
  void disable_notifications();
  // Asks for a kick at the next available chain. Returns false when chains arrived meanwhile:
  // poll again instead of sleeping.
  bool enable_notifications();

  // Chains made available and not yet popped.
  std::uint16_t pending();
  std::uint16_t size() const { return rings_.size; }
  bool broken() const { return broken_; }

 private:
  RingPointers rings_;
  Suppression suppression_;
  std::uint16_t last_avail_idx_ = 0;
  std::uint16_t avail_idx_cache_ = 0;  // the driver's avail idx as last read
  std::uint16_t used_idx_shadow_ = 0;
  std::uint16_t signalled_used_idx_ = 0;  // used idx at the last interrupt_needed()
  bool broken_ = false;
};

}  // namespace nslab::ustack::ring
