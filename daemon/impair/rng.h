#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace nslab::impair {

// Which way a frame crosses a link; each direction has its own random stream.
enum class Direction : uint8_t { kAToB = 0, kBToA = 1 };

// splitmix64 step: advances `state` and returns a well-mixed 64-bit value. Used to expand
// seeds, never as the main generator.
uint64_t SplitMix64(uint64_t& state);

// 64-bit FNV-1a over bytes. Defined here (not std::hash) so that seeds are the same on every
// platform, compiler and run.
uint64_t Fnv1a64(std::string_view bytes);

// The seed of one direction of one link, derived from the lab's seed. Stable across runs and
// platforms: a lab replays the same fates wherever it is built.
uint64_t SeedFor(uint64_t lab_seed, std::string_view link_name, Direction direction);

// xoshiro256** (Blackman & Vigna): small, fast, and good enough for fault injection. The
// models take their 32-bit draws from the upper half, like netem's prandom_u32_state().
class Rng {
 public:
  explicit Rng(uint64_t seed);
  // A raw state (not all zero), for checking against the reference implementation.
  explicit Rng(const std::array<uint64_t, 4>& state) : s_{state[0], state[1], state[2], state[3]} {}

  uint64_t Next64();
  uint32_t Next32() { return static_cast<uint32_t>(Next64() >> 32); }

  // A draw in [0, bound) by multiply-shift (bound > 0); the small bias is irrelevant here and
  // the result is the same everywhere.
  uint32_t Below(uint32_t bound) {
    return static_cast<uint32_t>((static_cast<uint64_t>(Next32()) * bound) >> 32);
  }

 private:
  uint64_t s_[4];
};

}  // namespace nslab::impair
