#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>

namespace nslab::impair {

// Rate limiting of one link direction: a token bucket of `burst_bytes` filled at `rate_bps`,
// in front of a link that serializes one frame at a time.
//
//  - burst 0 (the default) is netem's `rate`: a frame of L bytes occupies the link for
//    8L/R seconds and frames queue behind each other, so back-to-back frames leave at
//    t0 + 8L/R, t0 + 2*8L/R, ... exactly (the remainder of each division is carried, not
//    rounded away per frame as netem's packet_time_ns() does).
//  - burst B > 0 is tbf's bucket: up to B bytes leave at once after an idle period; a frame
//    larger than the bucket waits until it has been refilled to the frame's size, never longer
//    (tbf would drop it).
//
// Tokens are counted in bit-nanoseconds (a byte is 8e9 of them and the bucket gains rate_bps
// per ns), so all arithmetic is exact integers.
class TokenBucket {
 public:
  TokenBucket() = default;
  TokenBucket(uint64_t rate_bps, uint32_t burst_bytes) { Reconfigure(rate_bps, burst_bytes); }

  // A runtime change: frames already scheduled keep their times, and the link stays busy
  // until the last of them has left, so new frames still queue behind old ones.
  void Reconfigure(uint64_t rate_bps, uint32_t burst_bytes);

  // The link was flushed (link down): forget the busy period and start with a full bucket.
  void Reset();

  bool enabled() const { return rate_bps_ != 0; }

  // When a frame of `bytes` that is ready at `ready_ns` has left the link. Frames must be
  // handed in the order they are to leave; each leaves no earlier than the previous one.
  int64_t Depart(int64_t ready_ns, size_t bytes);

 private:
  using Tokens = unsigned __int128;  // 2^64 bit-ns is only ~2.3 GB of burst at 1 bit/s

  uint64_t rate_bps_ = 0;
  Tokens capacity_ = 0;
  Tokens tokens_ = 0;
  // When the previous frame left; the bucket holds `tokens_` at that instant.
  int64_t last_ns_ = std::numeric_limits<int64_t>::min();
};

}  // namespace nslab::impair
