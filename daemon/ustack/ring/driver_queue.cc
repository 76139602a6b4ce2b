#include "daemon/ustack/ring/driver_queue.h"

#include "daemon/ustack/ring/shared_index.h"

namespace nslab::ustack::ring {

DriverQueue::DriverQueue(const Virtqueue& vq, Suppression suppression)
    : rings_(vq.rings()), suppression_(suppression), chains_(vq.size()), num_free_(vq.size()) {
  // The free list is threaded through the descriptors' next fields, as the spec's example
  // driver does: descriptor i links to i + 1.
  for (std::uint16_t i = 0; i + 1 < size(); ++i) {
    rings_.desc[i].next = static_cast<std::uint16_t>(i + 1);
  }
  avail_idx_shadow_ = load_relaxed(rings_.avail_idx());
  last_used_idx_ = load_acquire(rings_.used_idx());
  used_idx_cache_ = last_used_idx_;
}

bool DriverQueue::add(std::span<const Segment> out, std::span<const Segment> in, Token token) {
  const std::size_t count = out.size() + in.size();
  if (count == 0 || count > num_free_ || broken_) {
    return false;
  }
  const std::uint16_t head = free_head_;
  std::uint16_t index = head;
  std::uint16_t tail = head;
  std::size_t written = 0;
  auto fill = [&](std::span<const Segment> segments, std::uint16_t flags) {
    for (const Segment& segment : segments) {
      VirtqDesc& desc = rings_.desc[index];
      ++written;
      desc.addr = segment.addr;
      desc.len = segment.len;
      desc.flags = written < count ? static_cast<std::uint16_t>(flags | kDescFlagNext) : flags;
      tail = index;
      // For all but the last descriptor, next already names the following free one; the last
      // one's next is the new free head.
      index = desc.next;
    }
  };
  fill(out, 0);
  fill(in, kDescFlagWrite);
  free_head_ = index;
  num_free_ = static_cast<std::uint16_t>(num_free_ - count);
  chains_[head] = {token, tail, static_cast<std::uint16_t>(count)};

  rings_.avail_ring(avail_idx_shadow_ & (size() - 1)) = head;
  ++avail_idx_shadow_;
  ++num_added_;
  // Release: the device that sees the new idx also sees the descriptors and the ring entry.
  store_release(rings_.avail_idx(), avail_idx_shadow_);
  return true;
}

bool DriverQueue::kick_needed() {
  const std::uint16_t new_idx = avail_idx_shadow_;
  const std::uint16_t old_idx = static_cast<std::uint16_t>(new_idx - num_added_);
  if (num_added_ == 0) {
    return false;
  }
  num_added_ = 0;
  // Our idx store must be visible before we read the device's wish; the device writes its wish
  // and then re-reads our idx (DeviceQueue::enable_notifications).
  full_fence();
  if (suppression_ == Suppression::kEventIdx) {
    return need_event(load_relaxed(*rings_.avail_event), new_idx, old_idx);
  }
  return (load_relaxed(rings_.used_flags()) & kUsedFlagNoNotify) == 0;
}

bool DriverQueue::has_used() {
  if (last_used_idx_ == used_idx_cache_) {
    used_idx_cache_ = load_acquire(rings_.used_idx());
  }
  return last_used_idx_ != used_idx_cache_;
}

std::optional<DriverQueue::Used> DriverQueue::get_used() {
  if (broken_ || !has_used()) {
    return std::nullopt;
  }
  if (static_cast<std::uint16_t>(used_idx_cache_ - last_used_idx_) > size()) {
    broken_ = true;
    return std::nullopt;
  }
  const VirtqUsedElem elem = rings_.used_ring[last_used_idx_ & (size() - 1)];
  if (elem.id >= size() || chains_[elem.id].count == 0) {
    broken_ = true;
    return std::nullopt;
  }
  ++last_used_idx_;
  ChainState& chain = chains_[elem.id];
  // The chain's own next links are still in place, so returning it to the free list is one
  // link at its tail.
  rings_.desc[chain.tail].next = free_head_;
  free_head_ = static_cast<std::uint16_t>(elem.id);
  num_free_ = static_cast<std::uint16_t>(num_free_ + chain.count);
  chain.count = 0;
  return Used{chain.token, elem.len};
}

void DriverQueue::disable_interrupts() {
  if (suppression_ == Suppression::kFlags) {
    store_relaxed(rings_.avail_flags(), kAvailFlagNoInterrupt);
  }
}

bool DriverQueue::enable_interrupts() {
  if (suppression_ == Suppression::kEventIdx) {
    store_relaxed(rings_.used_event(), last_used_idx_);
  } else {
    store_relaxed(rings_.avail_flags(), 0);
  }
  // Pairs with the fence in DeviceQueue::interrupt_needed(): either the device sees our wish,
  // or we see its new used idx here.
  full_fence();
  used_idx_cache_ = load_acquire(rings_.used_idx());
  return used_idx_cache_ == last_used_idx_;
}

}  // namespace nslab::ustack::ring
