#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace nslab::impair {

// A Mahimahi delivery trace (mm-link): one integer per line, a time in milliseconds at which
// the link can deliver one 1500-byte packet. Several lines may carry the same time (several
// opportunities in that millisecond). When the trace runs out it starts again, shifted by its
// last timestamp, so it must be non-decreasing and end after 0 ms (mahimahi's own checks).
class DeliveryTrace {
 public:
  static constexpr size_t kBytesPerOpportunity = 1500;

  static absl::StatusOr<DeliveryTrace> Parse(std::string_view text);

  std::span<const uint32_t> opportunities_ms() const { return opportunities_ms_; }
  size_t size() const { return opportunities_ms_.size(); }
  // The length of one pass; pass k starts at k * period.
  int64_t period_ns() const { return static_cast<int64_t>(opportunities_ms_.back()) * 1'000'000; }

 private:
  explicit DeliveryTrace(std::vector<uint32_t> opportunities_ms)
      : opportunities_ms_(std::move(opportunities_ms)) {}

  std::vector<uint32_t> opportunities_ms_;
};

// Trace-driven bandwidth for one link direction, replacing the token bucket. Mahimahi's link
// queue: at each opportunity up to 1500 bytes leave; a frame leaves at the opportunity that
// carries its last byte (small frames share one; a frame over 1500 bytes, which mahimahi
// refuses, spans several here); an opportunity only serves frames that arrived before it, and
// whatever it could have carried beyond them is lost. The trace's 0 ms is the arrival time of
// the first frame after the shaper was (re)configured.
class TraceShaper {
 public:
  TraceShaper() = default;
  explicit TraceShaper(std::shared_ptr<const DeliveryTrace> trace) : trace_(std::move(trace)) {}

  bool enabled() const { return trace_ != nullptr; }
  const std::shared_ptr<const DeliveryTrace>& trace() const { return trace_; }

  // Pins the trace's 0 ms to `origin_ns`; the first call wins. The engine calls it with the
  // arrival time of the first frame.
  void Start(int64_t origin_ns) {
    if (!started_) {
      origin_ns_ = origin_ns;
      started_ = true;
    }
  }

  // The link was flushed (link down): frames that had claimed future opportunities are gone.
  void Reset() { have_cursor_ = false; }

  // When a frame of `bytes` ready at `ready_ns` is delivered. Frames are handed in the order
  // they are to leave; Start() has been called.
  int64_t Depart(int64_t ready_ns, size_t bytes);

 private:
  int64_t TimeOf(uint64_t opportunity) const;
  uint64_t FirstAfter(int64_t t_ns) const;

  std::shared_ptr<const DeliveryTrace> trace_;
  int64_t origin_ns_ = 0;
  bool started_ = false;
  // The opportunity in use (a global index over all passes) and what is left of it.
  bool have_cursor_ = false;
  uint64_t cursor_ = 0;
  size_t bytes_left_ = 0;
};

}  // namespace nslab::impair
