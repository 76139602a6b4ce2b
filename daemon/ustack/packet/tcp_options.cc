#include "daemon/ustack/packet/tcp_options.h"

namespace nslab::ustack::packet {
namespace {

bool length_fits_kind(std::uint8_t kind, std::size_t len) {
  switch (kind) {
    case tcp_option::kMaxSegmentSize:
      return len == tcp_option::kMaxSegmentSizeLen;
    case tcp_option::kWindowScale:
      return len == tcp_option::kWindowScaleLen;
    case tcp_option::kSackPermitted:
      return len == tcp_option::kSackPermittedLen;
    case tcp_option::kTimestamps:
      return len == tcp_option::kTimestampsLen;
    case tcp_option::kSack: {
      const std::size_t blocks = (len - tcp_option::kSackBaseLen) / tcp_option::kSackBlockLen;
      return len > tcp_option::kSackBaseLen && blocks <= tcp_option::kMaxSackBlocks &&
             (len - tcp_option::kSackBaseLen) % tcp_option::kSackBlockLen == 0;
    }
    default:
      return true;  // unknown kinds are skipped by their length
  }
}

}  // namespace

std::optional<TcpOption> TcpOptionReader::next() {
  if (malformed_ || at_ >= options_.size()) {
    return std::nullopt;
  }
  const std::uint8_t kind = read_u8(options_, at_);
  if (kind == tcp_option::kEnd) {
    at_ = options_.size();
    return std::nullopt;
  }
  if (kind == tcp_option::kNop) {
    ++at_;
    return TcpOption{kind, {}};
  }
  const std::size_t remaining = options_.size() - at_;
  if (remaining < 2) {
    malformed_ = true;
    return std::nullopt;
  }
  const std::size_t len = read_u8(options_, at_ + 1);
  if (len < 2 || len > remaining || !length_fits_kind(kind, len)) {
    malformed_ = true;
    return std::nullopt;
  }
  TcpOption option{kind, options_.subspan(at_ + 2, len - 2)};
  at_ += len;
  return option;
}

}  // namespace nslab::ustack::packet
