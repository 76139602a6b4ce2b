#pragma once

// TCP sequence numbers as a type: 32-bit values on a circle, compared by the signed distance
// between them (RFC 9293 3.4; gVisor seqnum). Two numbers more than 2^31 apart have no order,
// which no window allowed by RFC 7323 (at most 2^30) can produce.

#include <cstdint>

namespace nslab::ustack::tcp {

class SeqNumber {
 public:
  constexpr SeqNumber() = default;
  constexpr explicit SeqNumber(std::uint32_t value) : value_(value) {}

  constexpr std::uint32_t value() const { return value_; }

  // How far `this` lies after `earlier`, modulo 2^32, as a signed number.
  constexpr std::int32_t distance_from(SeqNumber earlier) const {
    return static_cast<std::int32_t>(value_ - earlier.value_);
  }

  constexpr SeqNumber operator+(std::uint32_t n) const { return SeqNumber(value_ + n); }
  constexpr SeqNumber operator-(std::uint32_t n) const { return SeqNumber(value_ - n); }
  constexpr SeqNumber& operator+=(std::uint32_t n) {
    value_ += n;
    return *this;
  }
  // The byte count from `earlier` to this; the caller knows this is not before `earlier`.
  constexpr std::uint32_t operator-(SeqNumber earlier) const { return value_ - earlier.value_; }

  friend constexpr bool operator==(SeqNumber a, SeqNumber b) = default;
  friend constexpr bool operator<(SeqNumber a, SeqNumber b) { return a.distance_from(b) < 0; }
  friend constexpr bool operator>(SeqNumber a, SeqNumber b) { return b < a; }
  friend constexpr bool operator<=(SeqNumber a, SeqNumber b) { return !(b < a); }
  friend constexpr bool operator>=(SeqNumber a, SeqNumber b) { return !(a < b); }

 private:
  std::uint32_t value_ = 0;
};

constexpr SeqNumber seq_max(SeqNumber a, SeqNumber b) { return a < b ? b : a; }
constexpr SeqNumber seq_min(SeqNumber a, SeqNumber b) { return a < b ? a : b; }

// first <= value < first + len, on the circle.
constexpr bool seq_in_range(SeqNumber value, SeqNumber first, std::uint32_t len) {
  return value - first < len;
}

}  // namespace nslab::ustack::tcp
