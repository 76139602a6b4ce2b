#include "daemon/ustack/ring/buffer_pool.h"

#include <sys/mman.h>

#include <utility>

namespace nslab::ustack::ring {

void BufferPool::Unmapper::operator()(std::byte* p) const { ::munmap(p, length); }

std::optional<BufferPool> BufferPool::create(std::uint32_t count, std::uint32_t buffer_size) {
  if (count == 0 || buffer_size == 0) {
    return std::nullopt;
  }
  const std::size_t stride =
      (std::size_t{buffer_size} + kBufferAlignment - 1) / kBufferAlignment * kBufferAlignment;
  const std::size_t total = stride * count;
  // Page-aligned, so every buffer starts on a cache line.
  void* mapped = ::mmap(nullptr, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mapped == MAP_FAILED) {
    return std::nullopt;
  }
  return BufferPool(
      std::unique_ptr<std::byte, Unmapper>(static_cast<std::byte*>(mapped), Unmapper{total}), count,
      buffer_size, stride);
}

BufferPool::BufferPool(std::unique_ptr<std::byte, Unmapper> memory, std::uint32_t count,
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
