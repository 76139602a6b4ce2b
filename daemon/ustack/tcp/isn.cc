#include "daemon/ustack/tcp/isn.h"

#include <chrono>

namespace nslab::ustack::tcp {

namespace {
// SplitMix64's finaliser: a cheap keyed mix. Not a cryptographic PRF; the secret comes from the
// node's configuration, and nslab labs are not a hostile network.
std::uint64_t mix(std::uint64_t value) {
  value ^= value >> 30;
  value *= 0xbf58476d1ce4e5b9ULL;
  value ^= value >> 27;
  value *= 0x94d049bb133111ebULL;
  value ^= value >> 31;
  return value;
}
}  // namespace

std::uint32_t initial_sequence_number(const FourTuple& connection, Instant now,
                                      std::uint64_t secret) {
  const std::uint64_t addresses =
      std::uint64_t{connection.local.address.to_u32()} << 32 | connection.remote.address.to_u32();
  const std::uint64_t ports = std::uint64_t{connection.local.port} << 16 | connection.remote.port;
  const std::uint64_t hash = mix(mix(addresses ^ secret) ^ ports);
  const auto ticks =
      std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count() / 4;
  return static_cast<std::uint32_t>(hash) + static_cast<std::uint32_t>(ticks);
}

}  // namespace nslab::ustack::tcp
