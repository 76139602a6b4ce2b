#include "daemon/topology/units.h"

#include <cmath>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace nslab::topology {
namespace {

struct Unit {
  absl::string_view suffix;
  double factor;
};

// Splits "12.5ms" into 12.5 and "ms"; suffixes are matched longest first by the tables.
absl::StatusOr<std::pair<double, std::string>> SplitNumber(absl::string_view text,
                                                           absl::string_view what) {
  absl::string_view s = absl::StripAsciiWhitespace(text);
  size_t end = 0;
  while (end < s.size() && (absl::ascii_isdigit(s[end]) || s[end] == '.')) {
    ++end;
  }
  double value = 0;
  if (end == 0 || !absl::SimpleAtod(s.substr(0, end), &value) || !std::isfinite(value)) {
    return absl::InvalidArgumentError(absl::StrCat("\"", text, "\" is not a ", what));
  }
  return std::make_pair(value, absl::AsciiStrToLower(absl::StripAsciiWhitespace(s.substr(end))));
}

template <size_t N>
absl::StatusOr<uint64_t> Scale(absl::string_view text, absl::string_view what,
                               const Unit (&units)[N], absl::string_view examples) {
  auto split = SplitNumber(text, what);
  if (!split.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(split.status().message(), " (e.g. ", examples, ")"));
  }
  auto [value, suffix] = *split;
  for (const Unit& unit : units) {
    if (suffix == unit.suffix) {
      const double scaled = std::round(value * unit.factor);
      if (scaled > 1.8e19) {
        return absl::InvalidArgumentError(absl::StrCat("\"", text, "\" is too large"));
      }
      return static_cast<uint64_t>(scaled);
    }
  }
  return absl::InvalidArgumentError(absl::StrCat("\"", text, "\" has an unknown unit \"", suffix,
                                                 "\" for a ", what, " (e.g. ", examples, ")"));
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
  if (!split.ok() || !(split->second.empty() || split->second == "%")) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", text, "\" is not a percentage (e.g. 1%, 0.5%)"));
  }
  if (split->first > 100) {
    return absl::InvalidArgumentError(absl::StrCat("\"", text, "\" is above 100%"));
  }
  return split->first;
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

}  // namespace nslab::topology
