#pragma once

// The bytes the application wrote and the peer has not acknowledged, from SND.UNA (or ISS+1)
// on: sent-but-unacknowledged first, then unsent. Kept contiguous so that any segment's payload
// is one span the emitter copies once; the space is allocated once and the data slides to the
// front only when the tail runs out (each byte moves at most once per buffer length).

#include <cstddef>
#include <span>
#include <vector>

#include "daemon/ustack/packet/bytes.h"

namespace nslab::ustack::tcp {

class SendBuffer {
 public:
  explicit SendBuffer(std::size_t capacity);

  // Copies as much of `data` as fits; returns how much.
  std::size_t append(packet::ConstBytes data);
  // `len` bytes from `offset` (counted from the first unacknowledged byte), clipped to size().
  packet::ConstBytes peek(std::size_t offset, std::size_t len) const;
  // Drops the first `len` bytes (acknowledged).
  void consume(std::size_t len);
  // SO_SNDBUF; never below what is stored now.
  void set_capacity(std::size_t capacity);

  std::size_t size() const { return end_ - begin_; }
  std::size_t capacity() const { return capacity_; }
  std::size_t free_space() const { return capacity_ - size(); }

 private:
  std::vector<std::byte> storage_;
  std::size_t capacity_;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
};

}  // namespace nslab::ustack::tcp
