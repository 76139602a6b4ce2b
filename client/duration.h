#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace nslab::client {

// "500ms", "2s", "1.5s", "1m", or bare milliseconds.
std::optional<uint32_t> ParseMilliseconds(const std::string& text);

}  // namespace nslab::client
