#include "daemon/impair/token_bucket.h"

#include <algorithm>

namespace nslab::impair {
namespace {

constexpr uint64_t kBitNanosPerByte = 8ULL * 1000 * 1000 * 1000;

}  // namespace

void TokenBucket::Reconfigure(uint64_t rate_bps, uint32_t burst_bytes) {
  const bool first = rate_bps_ == 0;
  rate_bps_ = rate_bps;
  capacity_ = static_cast<Tokens>(burst_bytes) * kBitNanosPerByte;
  if (first) {
    tokens_ = capacity_;  // a new bucket starts full, as tbf's does
  } else {
    tokens_ = std::min(tokens_, capacity_);
  }
}

void TokenBucket::Reset() {
  tokens_ = capacity_;
  last_ns_ = std::numeric_limits<int64_t>::min();
}

int64_t TokenBucket::Depart(int64_t ready_ns, size_t bytes) {
  if (rate_bps_ == 0) {
    return ready_ns;
  }
  int64_t start = ready_ns;
  if (last_ns_ == std::numeric_limits<int64_t>::min()) {
    tokens_ = capacity_;
  } else if (start <= last_ns_) {
    start = last_ns_;  // the link is still busy: queue behind the previous frame
  } else {
    // Idle since the previous frame: refill, overflowing at the bucket size. This is also
    // where a burst-0 bucket drops the sub-nanosecond remainder of the previous busy period.
    const uint64_t idle_ns = static_cast<uint64_t>(start - last_ns_);
    const Tokens gained = static_cast<Tokens>(idle_ns) * rate_bps_;
    tokens_ = std::min(capacity_, tokens_ + gained);
  }
  const Tokens need = static_cast<Tokens>(bytes) * kBitNanosPerByte;
  int64_t depart = start;
  if (tokens_ >= need) {
    tokens_ -= need;
  } else {
    const Tokens deficit = need - tokens_;
    const Tokens wait_ns = (deficit + rate_bps_ - 1) / rate_bps_;
    tokens_ = tokens_ + wait_ns * rate_bps_ - need;  // < rate_bps_: carried to the next frame
    depart = start + static_cast<int64_t>(wait_ns);
  }
  last_ns_ = depart;
  return depart;
}

}  // namespace nslab::impair
