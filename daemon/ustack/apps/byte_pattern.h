#pragma once

// The byte stream the built-in apps generate and check: byte i of a stream is i % 251, a period
// prime to every buffer and segment size, so that a lost, repeated or shifted chunk shows. And a
// running FNV-1a 64 digest, to compare a received stream with what the peer sent without keeping
// it.

#include <cstddef>
#include <cstdint>
#include <span>

namespace nslab::ustack::apps {

inline constexpr std::uint64_t kPatternPeriod = 251;

// Byte `i` of the generated stream.
inline std::byte generated_byte(std::uint64_t i) {
  return static_cast<std::byte>(i % kPatternPeriod);
}

// The pattern from byte 0, long enough that `pattern_from(offset)` serves a chunk of at least
// kPatternChunk bytes for any offset.
std::span<const std::byte> pattern_block();
inline constexpr std::size_t kPatternChunk = 64 * 1024;
// The generated stream from byte `offset` on, kPatternChunk bytes or more of it.
std::span<const std::byte> pattern_from(std::uint64_t offset);
// Whether `bytes` are the generated stream's bytes from `offset` on.
bool follows_pattern(std::span<const std::byte> bytes, std::uint64_t offset);

class Fnv1a64 {
 public:
  static constexpr std::uint64_t kOffsetBasis = 0xcbf29ce484222325;
  static constexpr std::uint64_t kPrime = 0x100000001b3;

  void update(std::span<const std::byte> bytes) {
    for (const std::byte byte : bytes) {
      hash_ = (hash_ ^ static_cast<std::uint64_t>(byte)) * kPrime;
    }
  }
  std::uint64_t digest() const { return hash_; }

 private:
  std::uint64_t hash_ = kOffsetBasis;
};

}  // namespace nslab::ustack::apps
