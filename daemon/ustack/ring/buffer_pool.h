#pragma once

// Fixed-size frame buffers in one allocation, handed out by index. The driver owns the pool
// (single-threaded); the device reaches the buffers only through region().translate().
// The allocation is an anonymous mapping whose pages the kernel provides on first touch: a deep
// ring of 64 KiB buffers (TSO) costs what its frames have written, not count x 64 KiB.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "daemon/ustack/ring/memory_region.h"
#include "daemon/ustack/ring/virtq_layout.h"

namespace nslab::ustack::ring {

class BufferPool {
 public:
  // Buffers start on cache lines so that two threads working on neighbours do not share one.
  static constexpr std::size_t kBufferAlignment = 64;

  // nullopt when count or buffer_size is zero or the mapping fails. The buffers read as zeros.
  static std::optional<BufferPool> create(std::uint32_t count, std::uint32_t buffer_size);

  // An unused buffer's index, or nullopt when all are in use.
  std::optional<std::uint32_t> acquire();
  // False (and nothing changes) when `index` is out of range or not acquired.
  bool release(std::uint32_t index);

  // `index` < count().
  std::span<std::byte> buffer(std::uint32_t index) const;
  // The whole buffer as a descriptor segment.
  Segment segment(std::uint32_t index) const;
  // Which buffer a descriptor address points into, if any.
  std::optional<std::uint32_t> index_of(std::uint64_t addr) const;

  MemoryRegion region() const { return region_; }
  std::uint32_t count() const { return count_; }
  std::uint32_t buffer_size() const { return buffer_size_; }
  std::uint32_t available() const { return static_cast<std::uint32_t>(free_.size()); }

 private:
  struct Unmapper {
    std::size_t length = 0;
    void operator()(std::byte* p) const;
  };

  BufferPool(std::unique_ptr<std::byte, Unmapper> memory, std::uint32_t count,
             std::uint32_t buffer_size, std::size_t stride);

  std::unique_ptr<std::byte, Unmapper> memory_;
  MemoryRegion region_;
  std::uint32_t count_;
  std::uint32_t buffer_size_;
  std::size_t stride_;
  std::vector<std::uint32_t> free_;   // a stack: the most recently released buffer is warm
  std::vector<std::uint8_t> in_use_;  // catches double release
};

}  // namespace nslab::ustack::ring
