#include "daemon/impair/rng.h"

namespace nslab::impair {
namespace {

constexpr uint64_t RotateLeft(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

// Distinct constants per direction so that a->b and b->a never share a stream.
constexpr uint64_t kDirectionSalt[2] = {0x243f6a8885a308d3ULL, 0x13198a2e03707344ULL};

}  // namespace

uint64_t SplitMix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

uint64_t Fnv1a64(std::string_view bytes) {
  uint64_t hash = 0xcbf29ce484222325ULL;
  for (char c : bytes) {
    hash ^= static_cast<uint8_t>(c);
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

uint64_t SeedFor(uint64_t lab_seed, std::string_view link_name, Direction direction) {
  uint64_t state = lab_seed;
  state = SplitMix64(state) ^ Fnv1a64(link_name);
  state = SplitMix64(state) ^ kDirectionSalt[static_cast<int>(direction)];
  return SplitMix64(state);
}

Rng::Rng(uint64_t seed) {
  // splitmix64 expansion, as the xoshiro authors recommend; it never yields an all-zero state.
  uint64_t state = seed;
  for (uint64_t& word : s_) {
    word = SplitMix64(state);
  }
}

uint64_t Rng::Next64() {
  const uint64_t result = RotateLeft(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = RotateLeft(s_[3], 45);
  return result;
}

}  // namespace nslab::impair
