#include "daemon/ustack/packet/tcp.h"

#include <algorithm>
#include <cstring>

#include "daemon/ustack/packet/emit_check.h"

namespace nslab::ustack::packet {
namespace {

constexpr std::size_t kMaxOptionsLen = TcpView<ConstBytes>::kMaxHeaderLen - tcp_field::kOptions;

struct OptionLayout {
  bool packed = false;  // no NOP alignment
  std::size_t sack_blocks = 0;
  std::size_t len = 0;  // padded to a multiple of 4
};

std::size_t aligned_options_len(const TcpRepr& repr, std::size_t sack_blocks) {
  std::size_t len = 0;
  len += repr.max_segment_size ? 4 : 0;
  len += repr.timestamps ? 12 : 0;  // NOP NOP TS, or SACK-permitted TS
  len += repr.sack_permitted && !repr.timestamps ? 4 : 0;
  len += repr.window_scale ? 4 : 0;
  len += sack_blocks > 0 ? 4 + tcp_option::kSackBlockLen * sack_blocks : 0;
  return len;
}

std::size_t packed_options_len(const TcpRepr& repr, std::size_t sack_blocks) {
  std::size_t len = 0;
  len += repr.max_segment_size ? tcp_option::kMaxSegmentSizeLen : 0;
  len += repr.sack_permitted ? tcp_option::kSackPermittedLen : 0;
  len += repr.timestamps ? tcp_option::kTimestampsLen : 0;
  len += repr.window_scale ? tcp_option::kWindowScaleLen : 0;
  len += sack_blocks > 0 ? tcp_option::kSackBaseLen + tcp_option::kSackBlockLen * sack_blocks : 0;
  return (len + 3) / 4 * 4;
}

OptionLayout option_layout(const TcpRepr& repr) {
  // Whatever parse() accepted fits one of the two layouts with all its blocks, since it came in
  // at most 40 bytes; only a Repr built by hand can lose SACK blocks here.
  std::size_t blocks = std::min<std::size_t>(repr.sack_block_count, tcp_option::kMaxSackBlocks);
  while (true) {
    if (const std::size_t len = aligned_options_len(repr, blocks); len <= kMaxOptionsLen) {
      return {false, blocks, len};
    }
    if (const std::size_t len = packed_options_len(repr, blocks); len <= kMaxOptionsLen) {
      return {true, blocks, len};
    }
    // Without SACK blocks the aligned layout takes at most 24 bytes, so this ends.
    --blocks;
  }
}

class OptionWriter {
 public:
  explicit OptionWriter(MutableBytes out) : out_(out) {}
  void u8(std::uint8_t value) { write_u8(out_, at_++, value); }
  void be16(std::uint16_t value) {
    write_be16(out_, at_, value);
    at_ += 2;
  }
  void be32(std::uint32_t value) {
    write_be32(out_, at_, value);
    at_ += 4;
  }
  void pad_with_end() {
    while (at_ < out_.size()) {
      u8(tcp_option::kEnd);
    }
  }

 private:
  MutableBytes out_;
  std::size_t at_ = 0;
};

void write_aligned(const TcpRepr& repr, std::size_t sack_blocks, OptionWriter& w) {
  if (repr.max_segment_size) {
    w.u8(tcp_option::kMaxSegmentSize);
    w.u8(tcp_option::kMaxSegmentSizeLen);
    w.be16(*repr.max_segment_size);
  }
  if (repr.timestamps) {
    if (repr.sack_permitted) {
      w.u8(tcp_option::kSackPermitted);
      w.u8(tcp_option::kSackPermittedLen);
    } else {
      w.u8(tcp_option::kNop);
      w.u8(tcp_option::kNop);
    }
    w.u8(tcp_option::kTimestamps);
    w.u8(tcp_option::kTimestampsLen);
    w.be32(repr.timestamps->value);
    w.be32(repr.timestamps->echo_reply);
  } else if (repr.sack_permitted) {
    w.u8(tcp_option::kNop);
    w.u8(tcp_option::kNop);
    w.u8(tcp_option::kSackPermitted);
    w.u8(tcp_option::kSackPermittedLen);
  }
  if (repr.window_scale) {
    w.u8(tcp_option::kNop);
    w.u8(tcp_option::kWindowScale);
    w.u8(tcp_option::kWindowScaleLen);
    w.u8(*repr.window_scale);
  }
  if (sack_blocks > 0) {
    w.u8(tcp_option::kNop);
    w.u8(tcp_option::kNop);
  }
}

void write_packed(const TcpRepr& repr, OptionWriter& w) {
  if (repr.max_segment_size) {
    w.u8(tcp_option::kMaxSegmentSize);
    w.u8(tcp_option::kMaxSegmentSizeLen);
    w.be16(*repr.max_segment_size);
  }
  if (repr.sack_permitted) {
    w.u8(tcp_option::kSackPermitted);
    w.u8(tcp_option::kSackPermittedLen);
  }
  if (repr.timestamps) {
    w.u8(tcp_option::kTimestamps);
    w.u8(tcp_option::kTimestampsLen);
    w.be32(repr.timestamps->value);
    w.be32(repr.timestamps->echo_reply);
  }
  if (repr.window_scale) {
    w.u8(tcp_option::kWindowScale);
    w.u8(tcp_option::kWindowScaleLen);
    w.u8(*repr.window_scale);
  }
}

}  // namespace

std::optional<TcpRepr> TcpRepr::parse(const TcpView<ConstBytes>& view, Ipv4Address source,
                                      Ipv4Address destination, Checksum mode) {
  if (view.source_port() == 0 || view.destination_port() == 0) {
    return std::nullopt;
  }
  if (mode == Checksum::kCompute && !view.verify_checksum(source, destination)) {
    return std::nullopt;
  }
  TcpRepr repr;
  repr.source_port = view.source_port();
  repr.destination_port = view.destination_port();
  repr.seq_number = view.seq_number();
  repr.ack_number = view.ack_number();
  repr.flags = view.flags();
  repr.window_len = view.window_len();
  repr.urgent_pointer = view.urgent_pointer();
  repr.payload = view.payload();

  TcpOptionReader reader(view.options());
  while (const std::optional<TcpOption> option = reader.next()) {
    const ConstBytes value = option->value;
    switch (option->kind) {
      case tcp_option::kMaxSegmentSize:
        repr.max_segment_size = read_be16(value, 0);
        break;
      case tcp_option::kWindowScale:
        repr.window_scale = read_u8(value, 0);
        break;
      case tcp_option::kSackPermitted:
        repr.sack_permitted = true;
        break;
      case tcp_option::kTimestamps:
        repr.timestamps = TcpTimestamps{read_be32(value, 0), read_be32(value, 4)};
        break;
      case tcp_option::kSack:
        repr.sack_block_count = static_cast<std::uint8_t>(value.size() / tcp_option::kSackBlockLen);
        for (std::size_t i = 0; i < repr.sack_block_count; ++i) {
          repr.sack_blocks[i] = TcpSackBlock{read_be32(value, i * tcp_option::kSackBlockLen),
                                             read_be32(value, i * tcp_option::kSackBlockLen + 4)};
        }
        break;
      default:
        break;
    }
  }
  if (reader.malformed()) {
    return std::nullopt;
  }
  return repr;
}

std::size_t TcpRepr::header_len() const {
  return TcpView<ConstBytes>::kMinHeaderLen + option_layout(*this).len;
}

void TcpRepr::emit(MutableBytes buffer, Ipv4Address source, Ipv4Address destination,
                   Checksum mode) const {
  const OptionLayout layout = option_layout(*this);
  const std::size_t header = TcpView<ConstBytes>::kMinHeaderLen + layout.len;
  check_emit_buffer(buffer, header + payload.size());
  auto view = TcpView<MutableBytes>::unchecked(buffer.first(header + payload.size()));
  view.set_source_port(source_port);
  view.set_destination_port(destination_port);
  view.set_seq_number(seq_number);
  view.set_ack_number(ack_number);
  view.set_header_len_and_flags(header, flags);
  view.set_window_len(window_len);
  view.set_urgent_pointer(urgent_pointer);

  OptionWriter w(buffer.subspan(tcp_field::kOptions, layout.len));
  if (layout.packed) {
    write_packed(*this, w);
  } else {
    write_aligned(*this, layout.sack_blocks, w);
  }
  if (layout.sack_blocks > 0) {
    w.u8(tcp_option::kSack);
    w.u8(static_cast<std::uint8_t>(tcp_option::kSackBaseLen +
                                   tcp_option::kSackBlockLen * layout.sack_blocks));
    for (std::size_t i = 0; i < layout.sack_blocks; ++i) {
      w.be32(sack_blocks[i].left);
      w.be32(sack_blocks[i].right);
    }
  }
  w.pad_with_end();

  if (!payload.empty()) {
    std::memmove(view.payload().data(), payload.data(), payload.size());
  }
  view.fill_checksum(source, destination, mode);
}

bool operator==(const TcpRepr& a, const TcpRepr& b) {
  return a.source_port == b.source_port && a.destination_port == b.destination_port &&
         a.seq_number == b.seq_number && a.ack_number == b.ack_number && a.flags == b.flags &&
         a.window_len == b.window_len && a.urgent_pointer == b.urgent_pointer &&
         a.max_segment_size == b.max_segment_size && a.window_scale == b.window_scale &&
         a.sack_permitted == b.sack_permitted && a.timestamps == b.timestamps &&
         std::ranges::equal(a.sacks(), b.sacks()) && std::ranges::equal(a.payload, b.payload);
}

}  // namespace nslab::ustack::packet
