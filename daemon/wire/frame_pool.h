#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace nslab::wire {

// Storage for frames held by a pipeline: fixed-size slots carved from slabs, recycled through a
// free list, so that holding a frame never allocates. Slabs are added 64 slots at a time when
// the queue reaches a new high-water mark, up to `max_slots`; memory thus follows the deepest
// queue a link has actually seen, not its limit, and once warm a link never allocates again.
class FramePool {
 public:
  static constexpr uint32_t kSlotsPerSlab = 64;
  static constexpr uint32_t kNoSlot = UINT32_MAX;

  FramePool(size_t slot_bytes, uint32_t initial_slots, uint32_t max_slots);

  FramePool(FramePool&&) = default;
  FramePool& operator=(FramePool&&) = default;

  // A free slot, or kNoSlot when `max_slots` are in use.
  uint32_t Acquire();
  void Release(uint32_t slot) { free_.push_back(slot); }

  std::span<std::byte> Slot(uint32_t slot) {
    return {slabs_[slot / kSlotsPerSlab].get() + (slot % kSlotsPerSlab) * slot_bytes_, slot_bytes_};
  }

  // Raising the bound is allowed at any time; lowering it only stops further growth.
  void set_max_slots(uint32_t max_slots);

  size_t slot_bytes() const { return slot_bytes_; }
  uint32_t capacity() const { return static_cast<uint32_t>(slabs_.size()) * kSlotsPerSlab; }
  uint32_t in_use() const { return capacity() - static_cast<uint32_t>(free_.size()); }

 private:
  void AddSlab();

  size_t slot_bytes_;
  uint32_t max_slots_;
  std::vector<std::unique_ptr<std::byte[]>> slabs_;
  std::vector<uint32_t> free_;
};

}  // namespace nslab::wire
