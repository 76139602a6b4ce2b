#pragma once

// The memory of one split virtqueue: descriptor table, available ring and used ring in a
// single allocation. It only lays the rings out; DriverQueue and DeviceQueue give each side its
// operations.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>

#include "daemon/ustack/ring/virtq_layout.h"

namespace nslab::ustack::ring {

// Typed pointers into a Virtqueue's memory. Both sides copy them, so moving the Virtqueue
// object does not invalidate a side; destroying it does.
struct RingPointers {
  std::uint16_t size = 0;
  VirtqDesc* desc = nullptr;
  // avail[0] = flags, avail[1] = idx, avail[2 + i] = ring[i], avail[2 + size] = used_event.
  std::uint16_t* avail = nullptr;
  // used_header[0] = flags, used_header[1] = idx; used_event follows used_ring[size - 1].
  std::uint16_t* used_header = nullptr;
  VirtqUsedElem* used_ring = nullptr;
  std::uint16_t* avail_event = nullptr;

  std::uint16_t& avail_flags() const { return avail[0]; }
  std::uint16_t& avail_idx() const { return avail[1]; }
  std::uint16_t& avail_ring(std::uint16_t slot) const { return avail[2 + slot]; }
  std::uint16_t& used_event() const { return avail[2 + size]; }
  std::uint16_t& used_flags() const { return used_header[0]; }
  std::uint16_t& used_idx() const { return used_header[1]; }
};

class Virtqueue {
 public:
  // Byte offsets of the three parts for a queue of `size` entries. The used ring starts on its
  // own cache line: the driver writes the available ring and the device the used ring.
  struct Layout {
    std::size_t avail_offset;
    std::size_t used_offset;
    std::size_t total_size;
  };
  static constexpr std::size_t kAlignment = 4096;
  static constexpr std::size_t kUsedAlignment = 64;

  // nullopt unless `size` is a power of two in [1, 32768].
  static std::optional<Virtqueue> create(std::uint32_t size);
  static Layout layout(std::uint16_t size);

  std::uint16_t size() const { return rings_.size; }
  const RingPointers& rings() const { return rings_; }
  std::span<std::byte> memory() const { return {memory_.get(), layout(size()).total_size}; }

 private:
  struct FreeDeleter {
    void operator()(std::byte* p) const;
  };

  Virtqueue(std::unique_ptr<std::byte, FreeDeleter> memory, std::uint16_t size);

  std::unique_ptr<std::byte, FreeDeleter> memory_;
  RingPointers rings_;
};

}  // namespace nslab::ustack::ring
