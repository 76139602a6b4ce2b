#pragma once

// The bytes the application wrote and the peer has not acknowledged, from SND.UNA (or ISS+1)
// on: sent-but-unacknowledged first, then unsent. Kept contiguous so that any segment's payload
// is one span the emitter copies once.
//
// The capacity (SO_SNDBUF) is a limit, not an allocation: the storage starts empty and grows
// (doubling, at least kInitialStorage) as writes need it, so a connection that holds no data
// costs no buffer memory however large its SO_SNDBUF. Growth keeps the storage at least twice
// what it holds (up to the capacity), so that the data slides to the front only after as many
// bytes were appended as it moves. Nothing is allocated per segment: only a write that outgrows
// the storage allocates, and at most log2(capacity / kInitialStorage) + 1 times.

#include <cstddef>
#include <memory>
#include <span>

#include "daemon/ustack/packet/bytes.h"

namespace nslab::ustack::tcp {

class SendBuffer {
 public:
  // The first allocation: a response or request of a few segments fits without regrowing.
  static constexpr std::size_t kInitialStorage = 4096;

  explicit SendBuffer(std::size_t capacity) : capacity_(capacity) {}

  // Copies as much of `data` as fits; returns how much.
  std::size_t append(packet::ConstBytes data);
  // `len` bytes from `offset` (counted from the first unacknowledged byte), clipped to size().
  // Valid until the next append().
  packet::ConstBytes peek(std::size_t offset, std::size_t len) const;
  // Drops the first `len` bytes (acknowledged).
  void consume(std::size_t len);
  // SO_SNDBUF; never below what is stored now.
  void set_capacity(std::size_t capacity);
  // Gives the storage back when nothing is stored (a connection that will send no more).
  void release_if_empty();

  std::size_t size() const { return end_ - begin_; }
  std::size_t capacity() const { return capacity_; }
  std::size_t free_space() const { return capacity_ - size(); }
  // Bytes allocated now (at most capacity(), or size() when that is larger).
  std::size_t allocated() const { return storage_size_; }

 private:
  // Moves the stored bytes to the front of fresh storage of `size` bytes (>= size()).
  void reallocate(std::size_t size);

  std::unique_ptr<std::byte[]> storage_;
  std::size_t storage_size_ = 0;
  std::size_t capacity_;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
};

}  // namespace nslab::ustack::tcp
