#include "daemon/wire/frame_pool.h"

#include <algorithm>

namespace nslab::wire {

FramePool::FramePool(size_t slot_bytes, uint32_t initial_slots, uint32_t max_slots)
    : slot_bytes_(slot_bytes), max_slots_(max_slots) {
  free_.reserve(max_slots_);
  while (capacity() < std::min(initial_slots, max_slots_)) {
    AddSlab();
  }
}

uint32_t FramePool::Acquire() {
  if (in_use() >= max_slots_) {
    return kNoSlot;
  }
  if (free_.empty()) {
    AddSlab();
  }
  const uint32_t slot = free_.back();
  free_.pop_back();
  return slot;
}

void FramePool::set_max_slots(uint32_t max_slots) {
  max_slots_ = max_slots;
  free_.reserve(std::max<size_t>(max_slots_, capacity()));
}

void FramePool::AddSlab() {
  const uint32_t first = capacity();
  // Not value-initialized: every byte of a slot is written before it is read.
  slabs_.push_back(std::make_unique_for_overwrite<std::byte[]>(slot_bytes_ * kSlotsPerSlab));
  // Lowest index on top of the free list, so slots are handed out in order.
  for (uint32_t i = kSlotsPerSlab; i > 0; --i) {
    free_.push_back(first + i - 1);
  }
}

}  // namespace nslab::wire
