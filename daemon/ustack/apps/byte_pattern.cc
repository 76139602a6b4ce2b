#include "daemon/ustack/apps/byte_pattern.h"

#include <algorithm>
#include <array>

namespace nslab::ustack::apps {

std::span<const std::byte> pattern_block() {
  // Whole periods, so that the block read from any offset within the first period continues
  // the stream for kPatternChunk bytes.
  static constexpr std::size_t kPeriods = kPatternChunk / kPatternPeriod + 2;
  static const std::array<std::byte, kPeriods* kPatternPeriod> block = [] {
    std::array<std::byte, kPeriods * kPatternPeriod> bytes{};
    for (std::size_t i = 0; i < bytes.size(); ++i) {
      bytes[i] = generated_byte(i);
    }
    return bytes;
  }();
  return block;
}

std::span<const std::byte> pattern_from(std::uint64_t offset) {
  return pattern_block().subspan(static_cast<std::size_t>(offset % kPatternPeriod));
}

bool follows_pattern(std::span<const std::byte> bytes, std::uint64_t offset) {
  while (!bytes.empty()) {
    const std::span<const std::byte> expected = pattern_from(offset);
    const std::size_t n = std::min(bytes.size(), expected.size());
    if (!std::equal(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(n),
                    expected.begin())) {
      return false;
    }
    bytes = bytes.subspan(n);
    offset += n;
  }
  return true;
}

}  // namespace nslab::ustack::apps
