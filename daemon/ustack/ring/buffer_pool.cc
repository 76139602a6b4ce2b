#include "daemon/ustack/ring/buffer_pool.h"

#include <cstdlib>
#include <cstring>
#include <utility>

namespace nslab::ustack::ring {

void BufferPool::FreeDeleter::operator()(std::byte* p) const { std::free(p); }

std::optional<BufferPool> BufferPool::create(std::uint32_t count, std::uint32_t buffer_size) {
  if (count == 0 || buffer_size == 0) {
    return std::nullopt;
  }
  const std::size_t stride =
      (std::size_t{buffer_size} + kBufferAlignment - 1) / kBufferAlignment * kBufferAlignment;
  const std::size_t total = stride * count;
  auto* raw = static_cast<std::byte*>(std::aligned_alloc(kBufferAlignment, total));
  if (raw == nullptr) {
    return std::nullopt;
  }
  std::memset(raw, 0, total);
  return BufferPool(std::unique_ptr<std::byte, FreeDeleter>(raw), count, buffer_size, stride);
}

BufferPool::BufferPool(std::unique_ptr<std::byte, FreeDeleter> memory, std::uint32_t count,
                       std::uint32_t buffer_size, std::size_t stride)
    : memory_(std::move(memory)),
      region_(std::span<std::byte>(memory_.get(), stride * count)),
      count_(count),
      buffer_size_(buffer_size),
      stride_(stride),
      in_use_(count, 0) {
  free_.reserve(count);
  for (std::uint32_t i = count; i > 0; --i) {
    free_.push_back(i - 1);
  }
}

std::optional<std::uint32_t> BufferPool::acquire() {
  if (free_.empty()) {
    return std::nullopt;
  }
  const std::uint32_t index = free_.back();
  free_.pop_back();
  in_use_[index] = 1;
  return index;
}

bool BufferPool::release(std::uint32_t index) {
  if (index >= count_ || in_use_[index] == 0) {
    return false;
  }
  in_use_[index] = 0;
  free_.push_back(index);  // never reallocates: capacity is count_
  return true;
}

std::span<std::byte> BufferPool::buffer(std::uint32_t index) const {
  return region_.memory().subspan(index * stride_, buffer_size_);
}

Segment BufferPool::segment(std::uint32_t index) const {
  return Segment{MemoryRegion::address_of(buffer(index).data()), buffer_size_};
}

std::optional<std::uint32_t> BufferPool::index_of(std::uint64_t addr) const {
  const std::uint64_t base = MemoryRegion::address_of(region_.memory().data());
  if (addr < base || addr - base >= region_.memory().size()) {
    return std::nullopt;
  }
  return static_cast<std::uint32_t>((addr - base) / stride_);
}

}  // namespace nslab::ustack::ring
