#include "daemon/ustack/tcp/receive_buffer.h"

#include <algorithm>
#include <cstring>

namespace nslab::ustack::tcp {

ReceiveBuffer::ReceiveBuffer(std::size_t capacity) : storage_(std::max<std::size_t>(capacity, 1)) {}

void ReceiveBuffer::reset(SeqNumber rcv_nxt) {
  rcv_nxt_ = rcv_nxt;
  head_ = 0;
  readable_ = 0;
  ranges_.clear();
}

std::size_t ReceiveBuffer::position_of(SeqNumber seq) const {
  return (head_ + readable_ + (seq - rcv_nxt_)) % storage_.size();
}

void ReceiveBuffer::copy_in(SeqNumber seq, packet::ConstBytes data) {
  const std::size_t at = position_of(seq);
  const std::size_t first = std::min(data.size(), storage_.size() - at);
  std::memcpy(storage_.data() + at, data.data(), first);
  std::memcpy(storage_.data(), data.data() + first, data.size() - first);
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
  const std::size_t first = std::min(len, storage_.size() - head_);
  std::memcpy(out.data(), storage_.data() + head_, first);
  std::memcpy(out.data() + first, storage_.data(), len - first);
  head_ = (head_ + len) % storage_.size();
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
  const std::size_t in_use = readable_ + (ranges_.empty() ? 0 : ranges_.back().right - rcv_nxt_);
  capacity = std::max({capacity, in_use, std::size_t{1}});
  std::vector<std::byte> resized(capacity);
  for (std::size_t i = 0; i < in_use; ++i) {
    resized[i] = storage_[(head_ + i) % storage_.size()];
  }
  storage_ = std::move(resized);
  head_ = 0;
}

}  // namespace nslab::ustack::tcp
