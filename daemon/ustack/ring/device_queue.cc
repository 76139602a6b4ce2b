#include "daemon/ustack/ring/device_queue.h"

#include <algorithm>

#include "daemon/ustack/ring/shared_index.h"

namespace nslab::ustack::ring {

DeviceQueue::DeviceQueue(const Virtqueue& vq, Suppression suppression)
    : rings_(vq.rings()), suppression_(suppression) {
  last_avail_idx_ = load_acquire(rings_.avail_idx());
  avail_idx_cache_ = last_avail_idx_;
  used_idx_shadow_ = load_relaxed(rings_.used_idx());
  signalled_used_idx_ = used_idx_shadow_;
}

std::uint16_t DeviceQueue::pending() {
  if (last_avail_idx_ == avail_idx_cache_) {
    avail_idx_cache_ = load_acquire(rings_.avail_idx());
  }
  return static_cast<std::uint16_t>(avail_idx_cache_ - last_avail_idx_);
}

std::optional<Chain> DeviceQueue::pop(std::span<Segment> scratch) {
  if (broken_) {
    return std::nullopt;
  }
  const std::uint16_t available = pending();
  if (available == 0) {
    return std::nullopt;
  }
  if (available > size()) {
    broken_ = true;
    return std::nullopt;
  }
  const std::uint16_t head = rings_.avail_ring(last_avail_idx_ & (size() - 1));
  if (head >= size()) {
    broken_ = true;
    return std::nullopt;
  }
  // A chain can hold each descriptor once, so a longer walk is a loop.
  const std::size_t limit = std::min<std::size_t>(scratch.size(), size());
  std::size_t count = 0;
  std::size_t readable = 0;
  std::uint16_t index = head;
  while (true) {
    if (count == limit) {
      broken_ = true;
      return std::nullopt;
    }
    const VirtqDesc desc = rings_.desc[index];
    const bool writable = (desc.flags & kDescFlagWrite) != 0;
    if ((desc.flags & kDescFlagIndirect) != 0 || (!writable && readable != count)) {
      broken_ = true;
      return std::nullopt;
    }
    scratch[count++] = Segment{desc.addr, desc.len};
    if (!writable) {
      ++readable;
    }
    if ((desc.flags & kDescFlagNext) == 0) {
      break;
    }
    index = desc.next;
    if (index >= size()) {
      broken_ = true;
      return std::nullopt;
    }
  }
  ++last_avail_idx_;
  return Chain{head, scratch.first(readable), scratch.subspan(readable, count - readable)};
}

void DeviceQueue::push_used(std::uint16_t head, std::uint32_t written_len) {
  rings_.used_ring[used_idx_shadow_ & (size() - 1)] = VirtqUsedElem{head, written_len};
  ++used_idx_shadow_;
  // Release: the driver that sees the new idx also sees the element, and everything this
  // thread wrote into the chain's buffers.
  store_release(rings_.used_idx(), used_idx_shadow_);
}

bool DeviceQueue::interrupt_needed() {
  const std::uint16_t new_idx = used_idx_shadow_;
  const std::uint16_t old_idx = signalled_used_idx_;
  if (new_idx == old_idx) {
    return false;
  }
  signalled_used_idx_ = new_idx;
  // Pairs with the fence in DriverQueue::enable_interrupts().
  full_fence();
  if (suppression_ == Suppression::kEventIdx) {
    return need_event(load_relaxed(rings_.used_event()), new_idx, old_idx);
  }
  return (load_relaxed(rings_.avail_flags()) & kAvailFlagNoInterrupt) == 0;
}

void DeviceQueue::disable_notifications() {
  if (suppression_ == Suppression::kFlags) {
    store_relaxed(rings_.used_flags(), kUsedFlagNoNotify);
  }
}

bool DeviceQueue::enable_notifications() {
  if (suppression_ == Suppression::kEventIdx) {
    store_relaxed(*rings_.avail_event, last_avail_idx_);
  } else {
    store_relaxed(rings_.used_flags(), 0);
  }
  // Pairs with the fence in DriverQueue::kick_needed().
  full_fence();
  avail_idx_cache_ = load_acquire(rings_.avail_idx());
  return avail_idx_cache_ == last_avail_idx_;
}

}  // namespace nslab::ustack::ring
