#include "daemon/topology/yaml_style.h"

#include <algorithm>
#include <cstdint>
#include <iterator>

#include "daemon/topology/yaml_limits.h"

namespace nslab::topology {
namespace {

// Decodes the UTF-8 code point at text[*i] and moves past it; the text is known to be valid.
uint32_t NextCodePoint(absl::string_view text, size_t* i) {
  const auto lead = static_cast<uint8_t>(text[*i]);
  const int length = lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
  uint32_t code_point = length == 1 ? lead : lead & (0x7F >> length);
  for (int k = 1; k < length; ++k) {
    code_point = (code_point << 6) | (static_cast<uint8_t>(text[*i + k]) & 0x3F);
  }
  *i += length;
  return code_point;
}

// Characters a YAML parser may read as something else when they stand unquoted (a raw CR
// ends a plain scalar early in yaml-cpp), or that only an escape can carry.
bool IsDelicate(uint32_t c) {
  return c < 0x20 || (c >= 0x7F && c <= 0xA0) || c == 0xFEFF || c == 0x2028 || c == 0x2029;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

bool NeedsDoubleQuotes(absl::string_view text) {
  for (size_t i = 0; i < text.size();) {
    if (IsDelicate(NextCodePoint(text, &i))) {
      return true;
    }
  }
  return false;
}

bool ResolvesToNonString(absl::string_view s) {
  static constexpr absl::string_view kWords[] = {
      "~",  "null", "Null", "NULL", "true", "True", "TRUE", "false", "False", "FALSE",
      "y",  "Y",    "yes",  "Yes",  "YES",  "n",    "N",    "no",    "No",    "NO",
      "on", "On",   "ON",   "off",  "Off",  "OFF",  ".nan", ".NaN",  ".NAN"};
  if (std::find(std::begin(kWords), std::end(kWords), s) != std::end(kWords)) {
    return true;
  }
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    s.remove_prefix(1);
  }
  if (s == ".inf" || s == ".Inf" || s == ".INF") {
    return true;
  }
  const auto all_of = [&](absl::string_view rest, absl::string_view allowed) {
    return !rest.empty() && rest.find_first_not_of(allowed) == absl::string_view::npos;
  };
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'o' || s[1] == 'b')) {
    return all_of(s.substr(2), s[1] == 'x'   ? "0123456789abcdefABCDEF_"
                               : s[1] == 'o' ? "01234567_"
                                             : "01_");
  }
  size_t i = 0;
  const auto skip = [&](absl::string_view allowed) {
    const size_t start = i;
    while (i < s.size() && allowed.find(s[i]) != absl::string_view::npos) {
      ++i;
    }
    return i - start;
  };
  if (i < s.size() && IsDigit(s[i])) {
    skip("0123456789_");
    while (i < s.size() && s[i] == ':') {  // YAML 1.1's base 60: 1:30
      ++i;
      if (skip("0123456789") == 0) {
        return false;
      }
    }
    if (i < s.size() && s[i] == '.') {
      ++i;
      skip("0123456789_");
    }
  } else if (i < s.size() && s[i] == '.') {
    ++i;
    if (skip("0123456789_") == 0) {
      return false;
    }
  } else {
    return false;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    skip("+-");
    if (skip("0123456789") == 0) {
      return false;
    }
  }
  return i == s.size();
}

bool PrintsAsLiteral(absl::string_view text) {
  if (text.size() < 2 || text.back() != '\n' || text[text.size() - 2] == '\n' ||
      text.front() == ' ' || text.front() == '\t' || text.front() == '\n') {
    return false;
  }
  int leading = 0;
  bool line_start = true;
  for (size_t i = 0; i < text.size();) {
    const uint32_t c = NextCodePoint(text, &i);
    if (c == '\n') {
      leading = 0;
      line_start = true;
      continue;
    }
    if (c != '\t' && IsDelicate(c)) {
      return false;
    }
    if (line_start && (c == ' ' || c == '-') && ++leading > 2 * kMaxNesting) {
      return false;
    }
    line_start = line_start && (c == ' ' || c == '-');
  }
  return true;
}

}  // namespace nslab::topology
