#include "daemon/ustack/ring/virtqueue.h"

#include <cstdlib>
#include <cstring>
#include <utility>

namespace nslab::ustack::ring {
namespace {

constexpr std::size_t align_up(std::size_t value, std::size_t alignment) {
  return (value + alignment - 1) / alignment * alignment;
}

}  // namespace

void Virtqueue::FreeDeleter::operator()(std::byte* p) const { std::free(p); }

Virtqueue::Layout Virtqueue::layout(std::uint16_t size) {
  const std::size_t n = size;
  const std::size_t avail_offset = sizeof(VirtqDesc) * n;
  // flags, idx, ring[n], used_event
  const std::size_t avail_end = avail_offset + sizeof(std::uint16_t) * (3 + n);
  const std::size_t used_offset = align_up(avail_end, kUsedAlignment);
  // flags, idx, ring[n], avail_event
  const std::size_t used_end =
      used_offset + 2 * sizeof(std::uint16_t) + sizeof(VirtqUsedElem) * n + sizeof(std::uint16_t);
  return {avail_offset, used_offset, align_up(used_end, kAlignment)};
}

std::optional<Virtqueue> Virtqueue::create(std::uint32_t size) {
  if (!is_valid_queue_size(size)) {
    return std::nullopt;
  }
  const Layout parts = layout(static_cast<std::uint16_t>(size));
  auto* raw = static_cast<std::byte*>(std::aligned_alloc(kAlignment, parts.total_size));
  if (raw == nullptr) {
    return std::nullopt;
  }
  // A fresh queue is all zeroes: no flags, both indices and both event indices at 0.
  std::memset(raw, 0, parts.total_size);
  return Virtqueue(std::unique_ptr<std::byte, FreeDeleter>(raw), static_cast<std::uint16_t>(size));
}

Virtqueue::Virtqueue(std::unique_ptr<std::byte, FreeDeleter> memory, std::uint16_t size)
    : memory_(std::move(memory)) {
  const Layout parts = layout(size);
  std::byte* base = memory_.get();
  rings_.size = size;
  rings_.desc = reinterpret_cast<VirtqDesc*>(base);
  rings_.avail = reinterpret_cast<std::uint16_t*>(base + parts.avail_offset);
  rings_.used_header = reinterpret_cast<std::uint16_t*>(base + parts.used_offset);
  rings_.used_ring =
      reinterpret_cast<VirtqUsedElem*>(base + parts.used_offset + 2 * sizeof(std::uint16_t));
  rings_.avail_event = reinterpret_cast<std::uint16_t*>(rings_.used_ring + size);
}

}  // namespace nslab::ustack::ring
