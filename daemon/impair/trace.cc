#include "daemon/impair/trace.h"

#include <algorithm>
#include <charconv>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace nslab::impair {

absl::StatusOr<DeliveryTrace> DeliveryTrace::Parse(std::string_view input) {
  // absl::string_view, not std's: this abseil build keeps its own type, which StrCat takes.
  absl::string_view text(input.data(), input.size());
  std::vector<uint32_t> opportunities;
  int line_number = 0;
  while (!text.empty()) {
    ++line_number;
    const size_t end = text.find('\n');
    absl::string_view line = text.substr(0, end);
    text = end == absl::string_view::npos ? absl::string_view() : text.substr(end + 1);
    line = absl::StripAsciiWhitespace(line);
    if (line.empty()) {
      continue;
    }
    uint32_t ms = 0;
    const auto [ptr, ec] = std::from_chars(line.data(), line.data() + line.size(), ms);
    if (ec != std::errc() || ptr != line.data() + line.size()) {
      return absl::InvalidArgumentError(
          absl::StrCat("delivery trace line ", line_number, ": \"", line,
                       "\" is not a millisecond timestamp (an integer 0..4294967295)"));
    }
    if (!opportunities.empty() && ms < opportunities.back()) {
      return absl::InvalidArgumentError(absl::StrCat("delivery trace line ", line_number, ": ", ms,
                                                     " ms comes before ", opportunities.back(),
                                                     " ms; timestamps must not decrease"));
    }
    opportunities.push_back(ms);
  }
  if (opportunities.empty()) {
    return absl::InvalidArgumentError("delivery trace has no timestamps");
  }
  if (opportunities.back() == 0) {
    return absl::InvalidArgumentError(
        "delivery trace ends at 0 ms; it must last longer than 0 ms to be repeated");
  }
  return DeliveryTrace(std::move(opportunities));
}

int64_t TraceShaper::TimeOf(uint64_t opportunity) const {
  const uint64_t n = trace_->size();
  const int64_t pass = static_cast<int64_t>(opportunity / n);
  const int64_t offset_ns =
      static_cast<int64_t>(trace_->opportunities_ms()[opportunity % n]) * 1'000'000;
  return origin_ns_ + pass * trace_->period_ns() + offset_ns;
}

uint64_t TraceShaper::FirstAfter(int64_t t_ns) const {
  if (t_ns < origin_ns_) {
    return 0;
  }
  const int64_t relative = t_ns - origin_ns_;
  const int64_t pass = relative / trace_->period_ns();
  const int64_t within_ns = relative - pass * trace_->period_ns();
  // First timestamp whose time (in ns) is > within_ns. Earlier passes end at or before
  // pass * period <= t; within_ns < period = the last timestamp, so `it` is never the end.
  const std::span<const uint32_t> ms = trace_->opportunities_ms();
  const auto it = std::upper_bound(ms.begin(), ms.end(), within_ns, [](int64_t a, uint32_t b) {
    return a < static_cast<int64_t>(b) * 1'000'000;
  });
  return static_cast<uint64_t>(pass) * ms.size() + static_cast<uint64_t>(it - ms.begin());
}

int64_t TraceShaper::Depart(int64_t ready_ns, size_t bytes) {
  Start(ready_ns);
  if (!have_cursor_ || TimeOf(cursor_) <= ready_ns) {
    // The queue was empty until ready_ns: opportunities up to then are wasted, including one
    // at ready_ns itself (mahimahi burns due opportunities before it queues an arrival).
    cursor_ = FirstAfter(ready_ns);
    bytes_left_ = DeliveryTrace::kBytesPerOpportunity;
    have_cursor_ = true;
  }
  size_t remaining = bytes;
  while (true) {
    if (bytes_left_ == 0) {
      ++cursor_;
      bytes_left_ = DeliveryTrace::kBytesPerOpportunity;
    }
    const size_t take = std::min(remaining, bytes_left_);
    bytes_left_ -= take;
    remaining -= take;
    if (remaining == 0) {
      return TimeOf(cursor_);
    }
  }
}

}  // namespace nslab::impair
