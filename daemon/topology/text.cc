#include "daemon/topology/text.h"

#include <cstdint>

namespace nslab::topology {

std::optional<absl::string_view> TextProblem(absl::string_view text) {
  constexpr absl::string_view kNotUtf8 = "not valid UTF-8 text";
  size_t i = 0;
  while (i < text.size()) {
    const auto lead = static_cast<uint8_t>(text[i]);
    if (lead < 0x80) {
      ++i;
      continue;
    }
    int length = 0;
    uint32_t code_point = 0;
    uint32_t smallest = 0;  // below this, the same code point had a shorter form
    if ((lead & 0xE0) == 0xC0) {
      length = 2, code_point = lead & 0x1F, smallest = 0x80;
    } else if ((lead & 0xF0) == 0xE0) {
      length = 3, code_point = lead & 0x0F, smallest = 0x800;
    } else if ((lead & 0xF8) == 0xF0) {
      length = 4, code_point = lead & 0x07, smallest = 0x10000;
    } else {
      return kNotUtf8;
    }
    if (text.size() - i < static_cast<size_t>(length)) {
      return kNotUtf8;
    }
    for (int k = 1; k < length; ++k) {
      const auto next = static_cast<uint8_t>(text[i + k]);
      if ((next & 0xC0) != 0x80) {
        return kNotUtf8;
      }
      code_point = (code_point << 6) | (next & 0x3F);
    }
    if (code_point < smallest || code_point > 0x10FFFF ||
        (code_point >= 0xD800 && code_point <= 0xDFFF)) {
      return kNotUtf8;
    }
    if ((code_point >= 0xFDD0 && code_point <= 0xFDEF) || (code_point & 0xFFFE) == 0xFFFE) {
      return "holds a Unicode noncharacter (U+FDD0..U+FDEF, U+FFFE, U+FFFF...), which YAML "
             "printers replace";
    }
    i += length;
  }
  return std::nullopt;
}

}  // namespace nslab::topology
