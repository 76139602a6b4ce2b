#include "client/duration.h"

#include <cmath>

#include "absl/strings/numbers.h"

namespace nslab::client {

std::optional<uint32_t> ParseMilliseconds(const std::string& text) {
  size_t end = 0;
  while (end < text.size() &&
         (std::isdigit(static_cast<unsigned char>(text[end])) || text[end] == '.')) {
    ++end;
  }
  double value = 0;
  if (end == 0 || !absl::SimpleAtod(text.substr(0, end), &value)) {
    return std::nullopt;
  }
  const std::string unit = text.substr(end);
  double factor = 0;
  if (unit.empty() || unit == "ms") {
    factor = 1;
  } else if (unit == "s") {
    factor = 1000;
  } else if (unit == "m") {
    factor = 60000;
  } else {
    return std::nullopt;
  }
  const double ms = std::round(value * factor);
  if (ms > 4e9) {
    return std::nullopt;
  }
  return static_cast<uint32_t>(ms);
}

}  // namespace nslab::client
