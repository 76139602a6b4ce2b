#include "daemon/ustack/tcp/receive_buffer.h"

#include <algorithm>
#include <cstring>

namespace nslab::ustack::tcp {

ReceiveBuffer::ReceiveBuffer(std::size_t capacity)
    : capacity_(std::max<std::size_t>(capacity, 1)) {}

void ReceiveBuffer::reset(SeqNumber rcv_nxt) {
  rcv_nxt_ = rcv_nxt;
  head_ = 0;
  readable_ = 0;
  ranges_.clear();
}

std::size_t ReceiveBuffer::position_of(SeqNumber seq) const {
  return (head_ + readable_ + (seq - rcv_nxt_)) % storage_size_;
}

void ReceiveBuffer::copy_in(SeqNumber seq, packet::ConstBytes data) {
  reserve(readable_ + (seq - rcv_nxt_) + data.size());
  const std::size_t at = position_of(seq);
  const std::size_t first = std::min(data.size(), storage_size_ - at);
  std::memcpy(storage_.get() + at, data.data(), first);
  std::memcpy(storage_.get(), data.data() + first, data.size() - first);
}

std::size_t ReceiveBuffer::in_use() const {
  return readable_ + (ranges_.empty() ? 0 : ranges_.back().right - rcv_nxt_);
}

void ReceiveBuffer::reserve(std::size_t needed) {
  if (needed <= storage_size_) {
    return;
  }
  std::size_t grown = std::max(kInitialStorage, storage_size_);
  while (grown < needed) {
    grown *= 2;
  }
  // The window never reaches past the capacity, but set_capacity may have shrunk it below
  // what a range already holds.
  reallocate(std::max(std::min(grown, capacity_), needed));
}

void ReceiveBuffer::reallocate(std::size_t size) {
  const std::size_t used = in_use();
  // Not value-initialized: pages the data never reaches stay untouched (and out of the RSS).
  auto resized = std::make_unique_for_overwrite<std::byte[]>(size);
  if (used > 0) {
    const std::size_t first = std::min(used, storage_size_ - head_);
    std::memcpy(resized.get(), storage_.get() + head_, first);
    std::memcpy(resized.get() + first, storage_.get(), used - first);
  }
  storage_ = std::move(resized);
  storage_size_ = size;
  head_ = 0;
}

void ReceiveBuffer::add_range(SeqNumber left, SeqNumber right) {
  // Merge with every range it overlaps or touches.
  auto it = ranges_.begin();
  while (it != ranges_.end() && it->right < left) {
    ++it;
  }
  auto last = it;
  while (last != ranges_.end() && last->left <= right) {
    left = seq_min(left, last->left);
    right = seq_max(right, last->right);
    ++last;
  }
  it = ranges_.erase(it, last);
  ranges_.insert(it, Range{left, right});
  latest_left_ = left;
}

ReceiveOutcome ReceiveBuffer::receive(SeqNumber seq, packet::ConstBytes data) {
  ReceiveOutcome outcome;
  // Clip to the window: the front below RCV.NXT is a duplicate, the back past it has no room.
  if (seq < rcv_nxt_) {
    const std::uint32_t old = rcv_nxt_ - seq;
    if (old >= data.size()) {
      return outcome;
    }
    data = data.subspan(old);
    seq = rcv_nxt_;
  }
  const std::uint32_t offset = seq - rcv_nxt_;
  if (offset >= window()) {
    return outcome;
  }
  data = data.first(std::min<std::size_t>(data.size(), window() - offset));
  if (data.empty()) {
    return outcome;
  }
  copy_in(seq, data);
  if (offset > 0) {
    outcome.out_of_order = true;
    add_range(seq, seq + static_cast<std::uint32_t>(data.size()));
    return outcome;
  }
  SeqNumber new_nxt = seq + static_cast<std::uint32_t>(data.size());
  // Swallow the ranges the new bytes reach.
  while (!ranges_.empty() && ranges_.front().left <= new_nxt) {
    new_nxt = seq_max(new_nxt, ranges_.front().right);
    ranges_.erase(ranges_.begin());
    outcome.filled_hole = true;
  }
  outcome.in_order_bytes = new_nxt - rcv_nxt_;
  readable_ += outcome.in_order_bytes;
  rcv_nxt_ = new_nxt;
  return outcome;
}

std::size_t ReceiveBuffer::read(packet::MutableBytes out) {
  const std::size_t len = std::min(out.size(), readable_);
  if (len == 0) {
    return 0;  // `out` may be empty with no storage behind it: memcpy must not see it
  }
  const std::size_t first = std::min(len, storage_size_ - head_);
  std::memcpy(out.data(), storage_.get() + head_, first);
  std::memcpy(out.data() + first, storage_.get(), len - first);
  head_ = (head_ + len) % storage_size_;
  readable_ -= len;
  return len;
}

std::size_t ReceiveBuffer::sack_blocks(std::span<packet::TcpSackBlock> out) const {
  std::size_t count = 0;
  const auto latest = std::find_if(ranges_.begin(), ranges_.end(), [&](const Range& range) {
    return range.left <= latest_left_ && latest_left_ < range.right;
  });
  if (latest != ranges_.end() && count < out.size()) {
    out[count++] = {latest->left.value(), latest->right.value()};
  }
  for (auto it = ranges_.begin(); it != ranges_.end() && count < out.size(); ++it) {
    if (it != latest) {
      out[count++] = {it->left.value(), it->right.value()};
    }
  }
  return count;
}

void ReceiveBuffer::set_capacity(std::size_t capacity) {
  capacity_ = std::max({capacity, in_use(), std::size_t{1}});
  if (storage_size_ > capacity_) {
    reallocate(capacity_);
  }
}

void ReceiveBuffer::release_if_empty() {
  if (in_use() == 0) {
    storage_.reset();
    storage_size_ = 0;
    head_ = 0;
  }
}

}  // namespace nslab::ustack::tcp
