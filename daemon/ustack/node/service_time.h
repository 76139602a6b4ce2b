#pragma once

// How long the node takes to answer: histograms of the time from taking frames off the rx ring
// to handing the answer to the device, for the turns of its loop that answered a SYN and those
// that answered a request. The wire and the wake-up are not in it: this is the stack's own time,
// the part a faster host would shave (issue 27).

#include <array>
#include <bit>
#include <chrono>
#include <cstddef>
#include <cstdint>

namespace nslab::ustack::node {

// Power-of-two buckets from 1 µs to 2^20 µs (about a second), and one above them all. Bucket k
// counts the samples in (bound(k-1), bound(k)], as Prometheus' `le` buckets (not cumulative).
class LatencyHistogram {
 public:
  static constexpr std::size_t kBoundedBuckets = 21;

  static constexpr std::uint64_t bound_ns(std::size_t bucket) {
    return std::uint64_t{1000} << bucket;
  }
  // The bucket of a sample of `ns` nanoseconds; kBoundedBuckets when above every bound.
  static constexpr std::size_t bucket_of(std::uint64_t ns) {
    const std::size_t bucket =
        ns == 0 ? 0 : static_cast<std::size_t>(std::bit_width((ns - 1) / 1000));
    return bucket < kBoundedBuckets ? bucket : kBoundedBuckets;
  }

  void record(std::chrono::nanoseconds duration) {
    const std::uint64_t ns =
        duration.count() > 0 ? static_cast<std::uint64_t>(duration.count()) : 0;
    ++counts_[bucket_of(ns)];
    ++count_;
    sum_ns_ += ns;
    max_ns_ = ns > max_ns_ ? ns : max_ns_;
  }

  std::uint64_t count() const { return count_; }
  std::uint64_t sum_ns() const { return sum_ns_; }
  std::uint64_t max_ns() const { return max_ns_; }
  // Index kBoundedBuckets: the samples above bound_ns(kBoundedBuckets - 1).
  std::uint64_t bucket_count(std::size_t bucket) const { return counts_[bucket]; }

 private:
  std::array<std::uint64_t, kBoundedBuckets + 1> counts_{};
  std::uint64_t count_ = 0;
  std::uint64_t sum_ns_ = 0;
  std::uint64_t max_ns_ = 0;
};

struct ServiceTimes {
  // Turns in which a SYN was answered with a SYN-ACK (a listener's passive open).
  LatencyHistogram handshake;
  // Turns in which arriving data made data leave: a request answered by its response.
  LatencyHistogram answer;
};

}  // namespace nslab::ustack::node
