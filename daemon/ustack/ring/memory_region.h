#pragma once

// The memory a device may reach through descriptor addresses. Descriptors carry plain numbers;
// the device turns them into bytes only through translate(), which refuses anything outside
// the region.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace nslab::ustack::ring {

class MemoryRegion {
 public:
  MemoryRegion() = default;
  explicit MemoryRegion(std::span<std::byte> memory) : memory_(memory) {}

  // The number a descriptor carries for `p`: its address in this process.
  static std::uint64_t address_of(const std::byte* p) {
    return reinterpret_cast<std::uintptr_t>(p);
  }

  // The bytes [addr, addr + len), or nullopt when any of them lies outside the region.
  std::optional<std::span<std::byte>> translate(std::uint64_t addr, std::uint32_t len) const {
    const std::uint64_t base = address_of(memory_.data());
    if (addr < base || addr - base > memory_.size() || len > memory_.size() - (addr - base)) {
      return std::nullopt;
    }
    return memory_.subspan(static_cast<std::size_t>(addr - base), len);
  }

  std::span<std::byte> memory() const { return memory_; }

 private:
  std::span<std::byte> memory_;
};

}  // namespace nslab::ustack::ring
