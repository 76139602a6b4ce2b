#pragma once

// Walking the TCP options area (RFC 9293 3.2, RFC 7323, RFC 2018) without trusting a length.

#include <cstddef>
#include <cstdint>
#include <optional>

#include "daemon/ustack/packet/bytes.h"

namespace nslab::ustack::packet {

namespace tcp_option {
inline constexpr std::uint8_t kEnd = 0;
inline constexpr std::uint8_t kNop = 1;
inline constexpr std::uint8_t kMaxSegmentSize = 2;
inline constexpr std::uint8_t kWindowScale = 3;
inline constexpr std::uint8_t kSackPermitted = 4;
inline constexpr std::uint8_t kSack = 5;
inline constexpr std::uint8_t kTimestamps = 8;

// Total lengths, kind and length bytes included.
inline constexpr std::size_t kMaxSegmentSizeLen = 4;
inline constexpr std::size_t kWindowScaleLen = 3;
inline constexpr std::size_t kSackPermittedLen = 2;
inline constexpr std::size_t kTimestampsLen = 10;
inline constexpr std::size_t kSackBaseLen = 2;
inline constexpr std::size_t kSackBlockLen = 8;
inline constexpr std::size_t kMaxSackBlocks = 4;  // 2 + 4 * 8 = 34 of the 40 option bytes
}  // namespace tcp_option

struct TcpOption {
  std::uint8_t kind = tcp_option::kNop;
  // The option's bytes after kind and length; empty for NOP.
  ConstBytes value;
};

class TcpOptionReader {
 public:
  explicit TcpOptionReader(ConstBytes options) : options_(options) {}

  // The next option, NOPs included. nullopt at the end of the area or of the list (EOL), and
  // for a malformed option, after which malformed() is true: a length byte missing, below 2 or
  // past the area, or a known kind with a length it cannot have.
  std::optional<TcpOption> next();
  bool malformed() const { return malformed_; }

 private:
  ConstBytes options_;
  std::size_t at_ = 0;
  bool malformed_ = false;
};

}  // namespace nslab::ustack::packet
