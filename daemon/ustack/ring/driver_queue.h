#pragma once

// The driver's side of a split virtqueue: it offers buffer chains to the device and takes them
// back once used. Single-threaded: one driver thread owns this object; it meets the device
// thread only through the ring memory.

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "daemon/ustack/ring/virtq_layout.h"
#include "daemon/ustack/ring/virtqueue.h"

namespace nslab::ustack::ring {

class alignas(64) DriverQueue {
 public:
  // Whatever the caller wants back with a used chain (a buffer index, a pointer's bits).
  using Token = std::uint64_t;

  struct Used {
    Token token;
    // Bytes the device says it wrote into the chain's writable segments. Reported as is: the
    // caller checks it against the buffers it offered.
    std::uint32_t len;
  };

  // `vq` must outlive this object. A queue has one DriverQueue at a time.
  DriverQueue(const Virtqueue& vq, Suppression suppression);

  // Offers one chain: `out` segments the device reads, then `in` segments it may write. The
  // chain is visible to the device when this returns. False when the chain is empty or more
  // descriptors are needed than are free.
  bool add(std::span<const Segment> out, std::span<const Segment> in, Token token);

  // Call after a batch of add(): true when the device asked to be notified of it (its
  // avail_event was crossed, or VIRTQ_USED_F_NO_NOTIFY is clear). Starts the next batch. Call it
  // at least once every 65535 adds so that the event comparison cannot wrap.
  bool kick_needed();

  // Takes back the next used chain, in the order the device used them.
  std::optional<Used> get_used();
  bool has_used();

  // Interrupt suppression. With kEventIdx an armed interrupt fires once (used_event is not moved
  // on by get_used), so disable_interrupts() has nothing to write; with kFlags it sets
  // VIRTQ_AVAIL_F_NO_INTERRUPT until enable_interrupts().
  void disable_interrupts();
  // Asks for an interrupt at the next used chain. Returns false when used chains arrived
  // meanwhile: poll again instead of sleeping, or the interrupt for them may never come.
  bool enable_interrupts();

  std::uint16_t size() const { return rings_.size; }
  std::uint16_t num_free() const { return num_free_; }
  // The device returned a chain that was never offered, or moved the used index too far: the
  // queue needs a reset. get_used() returns nothing from then on.
  bool broken() const { return broken_; }

 private:
  // Per head descriptor: what the driver needs back when the chain returns. Kept outside the
  // ring so that the device cannot change it.
  struct ChainState {
    Token token = 0;
    std::uint16_t tail = 0;
    std::uint16_t count = 0;  // descriptors in the chain; 0 while the head is not in flight
  };

  RingPointers rings_;
  Suppression suppression_;
  std::vector<ChainState> chains_;
  std::uint16_t free_head_ = 0;
  std::uint16_t num_free_;
  std::uint16_t avail_idx_shadow_ = 0;
  std::uint16_t num_added_ = 0;  // since the last kick_needed()
  std::uint16_t last_used_idx_ = 0;
  std::uint16_t used_idx_cache_ = 0;  // the device's used idx as last read
  bool broken_ = false;
};

}  // namespace nslab::ustack::ring
