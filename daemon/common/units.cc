#include "daemon/common/units.h"

#include <charconv>
#include <cmath>
#include <initializer_list>
#include <limits>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace nslab {
namespace {

struct Unit {
  absl::string_view suffix;
  double factor;
};

// A number as written and its unit: "12.5ms" is {"12.5", 12.5, "ms"}.
struct Number {
  absl::string_view digits;
  double value = 0;
  std::string suffix;
};

absl::StatusOr<Number> SplitNumber(absl::string_view text, absl::string_view what) {
  absl::string_view s = absl::StripAsciiWhitespace(text);
  size_t end = 0;
  while (end < s.size() && (absl::ascii_isdigit(s[end]) || s[end] == '.')) {
    ++end;
  }
  Number number{.digits = s.substr(0, end), .value = 0, .suffix = ""};
  if (end == 0 || !absl::SimpleAtod(number.digits, &number.value) || !std::isfinite(number.value)) {
    return absl::InvalidArgumentError(absl::StrCat("\"", text, "\" is not a ", what));
  }
  number.suffix = absl::AsciiStrToLower(absl::StripAsciiWhitespace(s.substr(end)));
  return number;
}

template <size_t N>
absl::StatusOr<uint64_t> Scale(absl::string_view text, absl::string_view what,
                               const Unit (&units)[N], absl::string_view examples) {
  auto number = SplitNumber(text, what);
  if (!number.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(number.status().message(), " (e.g. ", examples, ")"));
  }
  const auto too_large = [&] {
    return absl::InvalidArgumentError(absl::StrCat("\"", text, "\" is too large"));
  };
  for (const Unit& unit : units) {
    if (number->suffix != unit.suffix) {
      continue;
    }
    // A whole number is scaled in integers: through a double, a rate above 2^53 bit/s would
    // come back rounded, and a topology printed by nslab would not read back the same.
    uint64_t whole = 0;
    if (absl::SimpleAtoi(number->digits, &whole)) {
      const auto factor = static_cast<uint64_t>(unit.factor);
      if (whole > std::numeric_limits<uint64_t>::max() / factor) {
        return too_large();
      }
      return whole * factor;
    }
    if (number->digits.find('.') == absl::string_view::npos) {
      return too_large();  // all digits, yet not a uint64
    }
    const double scaled = std::round(number->value * unit.factor);
    if (scaled > 1.8e19) {
      return too_large();
    }
    return static_cast<uint64_t>(scaled);
  }
  return absl::InvalidArgumentError(absl::StrCat("\"", text, "\" has an unknown unit \"",
                                                 number->suffix, "\" for a ", what, " (e.g. ",
                                                 examples, ")"));
}

}  // namespace

absl::StatusOr<uint64_t> ParseDurationUs(absl::string_view text) {
  static constexpr Unit kUnits[] = {{"", 1e3},     {"us", 1},    {"usec", 1},  {"ms", 1e3},
                                    {"msec", 1e3}, {"s", 1e6},   {"sec", 1e6}, {"m", 60e6},
                                    {"min", 60e6}, {"h", 3600e6}};
  return Scale(text, "duration", kUnits, "40ms, 500us, 2s");
}

absl::StatusOr<double> ParsePercent(absl::string_view text) {
  auto split = SplitNumber(text, "percentage");
  if (!split.ok() || !(split->suffix.empty() || split->suffix == "%")) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", text, "\" is not a percentage (e.g. 1%, 0.5%)"));
  }
  if (split->value > 100) {
    return absl::InvalidArgumentError(absl::StrCat("\"", text, "\" is above 100%"));
  }
  return split->value;
}

absl::StatusOr<uint64_t> ParseRateBps(absl::string_view text) {
  static constexpr Unit kUnits[] = {
      {"", 1},       {"bit", 1},    {"kbit", 1e3}, {"mbit", 1e6},   {"gbit", 1e9},     {"bps", 8},
      {"kbps", 8e3}, {"mbps", 8e6}, {"gbps", 8e9}, {"kibit", 1024}, {"mibit", 1 << 20}};
  return Scale(text, "rate", kUnits, "20mbit, 512kbit, 1gbit");
}

absl::StatusOr<uint64_t> ParseSizeBytes(absl::string_view text) {
  static constexpr Unit kUnits[] = {
      {"", 1},        {"b", 1},        {"k", 1024},        {"kb", 1024},
      {"m", 1 << 20}, {"mb", 1 << 20}, {"kbit", 1024 / 8}, {"mbit", (1 << 20) / 8}};
  return Scale(text, "size", kUnits, "32kb, 1500b, 1mb");
}

namespace {

// The largest unit of `units` (ordered small to large) that divides `value`.
std::string WithLargestUnit(uint64_t value,
                            std::initializer_list<std::pair<uint64_t, absl::string_view>> units) {
  std::pair<uint64_t, absl::string_view> best = *units.begin();
  for (const auto& unit : units) {
    if (value % unit.first == 0) {
      best = unit;
    }
  }
  return absl::StrCat(value / best.first, best.second);
}

}  // namespace

std::string FormatDurationUs(uint64_t us) {
  return WithLargestUnit(us, {{1, "us"}, {1'000, "ms"}, {1'000'000, "s"}});
}

std::string FormatDurationSeconds(uint64_t s) {
  return WithLargestUnit(s, {{1, "s"}, {60, "m"}, {3600, "h"}});
}

std::string FormatRateBps(uint64_t bps) {
  return WithLargestUnit(
      bps, {{1, "bit"}, {1'000, "kbit"}, {1'000'000, "mbit"}, {1'000'000'000, "gbit"}});
}

std::string FormatSizeBytes(uint64_t bytes) {
  return WithLargestUnit(bytes, {{1, "b"}, {1024, "kb"}, {1 << 20, "mb"}});
}

std::string FormatPercent(double percent) {
  // Fixed notation with no precision given is the shortest form that reads back exactly.
  char buffer[400];  // the smallest denormal has 324 digits after the point
  const auto result =
      std::to_chars(buffer, buffer + sizeof(buffer), percent, std::chars_format::fixed);
  if (result.ec != std::errc()) {
    return absl::StrCat(percent, "%");  // far outside [0, 100]; validation refuses it anyway
  }
  return absl::StrCat(absl::string_view(buffer, result.ptr - buffer), "%");
}

}  // namespace nslab
