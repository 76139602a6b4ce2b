#include "daemon/ustack/packet/tcp.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <initializer_list>
#include <vector>

#include "daemon/ustack/packet/ipv4.h"
#include "tests/unit/ustack/packet/fixtures.h"
#include "tests/unit/ustack/packet/test_util.h"

namespace nslab::ustack::packet {
namespace {

using testing::heap_copy;
using testing::view_of;

const Ipv4Address kLo(127, 0, 0, 1);

ConstBytes segment_of(ConstBytes frame) {
  return Ipv4View<ConstBytes>::checked(frame.subspan(14))->payload();
}

std::optional<TcpRepr> parse(ConstBytes segment, Checksum mode = Checksum::kCompute) {
  const auto view = TcpView<ConstBytes>::checked(segment);
  if (!view) {
    return std::nullopt;
  }
  return TcpRepr::parse(*view, kLo, kLo, mode);
}

// A segment with the given option bytes (padded with EOL) and a correct checksum.
std::vector<std::byte> segment_with_options(std::initializer_list<std::uint8_t> options) {
  const std::size_t options_len = (options.size() + 3) / 4 * 4;
  std::vector<std::byte> segment(20 + options_len);
  auto view = TcpView<MutableBytes>::unchecked(segment);
  view.set_source_port(1000);
  view.set_destination_port(2000);
  view.set_header_len_and_flags(segment.size(), tcp_flag::kAck);
  std::ranges::transform(options, segment.begin() + 20,
                         [](std::uint8_t b) { return std::byte{b}; });
  view.fill_checksum(kLo, kLo);
  return segment;
}

TEST(TcpTest, ParsesLinuxSyn) {
  const auto view = TcpView<ConstBytes>::checked(segment_of(fixtures::bytes(fixtures::kTcpSyn)));
  ASSERT_TRUE(view.has_value());
  EXPECT_EQ(view->source_port(), 60838);
  EXPECT_EQ(view->destination_port(), 36631);
  EXPECT_EQ(view->header_len(), 40u);
  EXPECT_EQ(view->flags(), tcp_flag::kSyn);
  EXPECT_TRUE(view->verify_checksum(kLo, kLo));
  const auto syn = TcpRepr::parse(*view, kLo, kLo);
  ASSERT_TRUE(syn.has_value());
  EXPECT_EQ(syn->seq_number, 0x00823c8eu);
  EXPECT_EQ(syn->window_len, 65495);
  EXPECT_EQ(syn->max_segment_size, 65495);
  EXPECT_TRUE(syn->sack_permitted);
  ASSERT_TRUE(syn->timestamps.has_value());
  EXPECT_EQ(syn->timestamps->value, 0x3b648866u);
  EXPECT_EQ(syn->timestamps->echo_reply, 0u);
  EXPECT_EQ(syn->window_scale, 10);
  EXPECT_EQ(syn->sack_block_count, 0);
  EXPECT_TRUE(syn->payload.empty());
}

TEST(TcpTest, LinuxSegmentsRoundTripByteForByte) {
  for (const ConstBytes frame :
       {fixtures::bytes(fixtures::kTcpSyn), fixtures::bytes(fixtures::kTcpSynAck),
        fixtures::bytes(fixtures::kTcpDataTs), fixtures::bytes(fixtures::kTcpRst),
        fixtures::bytes(fixtures::kTcpSackAck)}) {
    const ConstBytes segment = segment_of(frame);
    const auto repr = parse(segment);
    ASSERT_TRUE(repr.has_value());
    ASSERT_EQ(repr->buffer_len(), segment.size());
    std::vector<std::byte> out(repr->buffer_len());
    repr->emit(out, kLo, kLo);
    EXPECT_TRUE(std::ranges::equal(out, segment));
  }
}

TEST(TcpTest, ReadsDataAndSack) {
  const auto data = parse(segment_of(fixtures::bytes(fixtures::kTcpDataTs)));
  ASSERT_TRUE(data.has_value());
  EXPECT_EQ(data->flags, tcp_flag::kPsh | tcp_flag::kAck);
  EXPECT_EQ(data->payload.size(), 29u);
  EXPECT_FALSE(data->max_segment_size.has_value());
  const auto sack = parse(segment_of(fixtures::bytes(fixtures::kTcpSackAck)));
  ASSERT_TRUE(sack.has_value());
  ASSERT_EQ(sack->sacks().size(), 2u);
  EXPECT_EQ(sack->sacks()[0], (TcpSackBlock{0x00823cc0, 0x00823d00}));
  EXPECT_EQ(sack->sacks()[1], (TcpSackBlock{0x00823e00, 0x00823e40}));
  EXPECT_TRUE(sack->timestamps.has_value());
  const auto rst = parse(segment_of(fixtures::bytes(fixtures::kTcpRst)));
  ASSERT_TRUE(rst.has_value());
  EXPECT_EQ(rst->flags, tcp_flag::kRst | tcp_flag::kAck);
  EXPECT_EQ(rst->window_len, 0);
}

TEST(TcpTest, OffloadEmitsWhatLinuxLeavesForNeedsCsum) {
  const auto syn = parse(segment_of(fixtures::bytes(fixtures::kTcpSyn)));
  std::vector<std::byte> out(syn->buffer_len());
  syn->emit(out, kLo, kLo, Checksum::kOffload);
  EXPECT_TRUE(std::ranges::equal(out, segment_of(fixtures::bytes(fixtures::kTcpSynPartial))));
  EXPECT_FALSE(parse(view_of(out)).has_value());
  EXPECT_EQ(parse(view_of(out), Checksum::kOffload), syn);
}

TEST(TcpTest, OptionsThatOverflowLinuxLayoutArePacked) {
  // MSS + timestamps + three SACK blocks: 40 bytes packed, 44 with Linux's NOPs.
  TcpRepr repr;
  repr.source_port = 1;
  repr.destination_port = 2;
  repr.max_segment_size = 1460;
  repr.timestamps = TcpTimestamps{1, 2};
  repr.sack_blocks = {{{10, 20}, {30, 40}, {50, 60}, {}}};
  repr.sack_block_count = 3;
  EXPECT_EQ(repr.header_len(), 60u);
  std::vector<std::byte> out(repr.buffer_len());
  repr.emit(out, kLo, kLo);
  EXPECT_EQ(parse(view_of(out)), repr);
  // Four blocks cannot fit beside MSS and timestamps in any layout: the last one is dropped.
  repr.sack_blocks[3] = {70, 80};
  repr.sack_block_count = 4;
  std::vector<std::byte> out4(repr.buffer_len());
  repr.emit(out4, kLo, kLo);
  const auto parsed = parse(view_of(out4));
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->sacks().size(), 3u);
  EXPECT_LE(repr.header_len(), 60u);
}

TEST(TcpTest, OptionReaderWalksNopsAndStopsAtEnd) {
  const auto segment = segment_with_options({1, 1, 2, 4, 0x05, 0xb4, 0, 2, 4, 0x01, 0x00});
  TcpOptionReader reader(TcpView<ConstBytes>::checked(view_of(segment))->options());
  std::vector<std::uint8_t> kinds;
  while (auto option = reader.next()) {
    kinds.push_back(option->kind);
  }
  EXPECT_FALSE(reader.malformed());
  EXPECT_EQ(kinds, (std::vector<std::uint8_t>{1, 1, 2}));
  // Whatever follows EOL is not read.
  EXPECT_EQ(parse(view_of(segment))->max_segment_size, 1460);
}

TEST(TcpTest, SkipsUnknownOptions) {
  // Kind 30 (MPTCP) with 4 bytes, then window scale.
  const auto repr = parse(view_of(segment_with_options({30, 6, 0, 0, 0, 0, 1, 3, 3, 7})));
  ASSERT_TRUE(repr.has_value());
  EXPECT_EQ(repr->window_scale, 7);
}

TEST(TcpTest, RejectsMalformedOptions) {
  const std::initializer_list<std::uint8_t> cases[] = {
      {2, 0, 0, 0},        // length 0
      {2, 1, 0, 0},        // length 1
      {1, 1, 1, 2},        // MSS kind in the last byte, no length
      {1, 2, 4, 5},        // MSS running past the area
      {30, 12, 0, 0},      // unknown option longer than the area
      {2, 3, 5, 0},        // MSS of length 3
      {3, 4, 7, 0},        // window scale of length 4
      {4, 3, 0, 0},        // SACK-permitted of length 3
      {8, 6, 0, 0, 0, 0},  // timestamps of length 6
      {5, 2, 0, 0},        // SACK without a block
      {5, 6, 0, 0, 0, 0},  // SACK with half a block
  };
  for (const auto& options : cases) {
    const auto segment = segment_with_options(options);
    EXPECT_FALSE(parse(view_of(segment)).has_value())
        << "first bytes " << int{options.begin()[0]} << " " << int{options.begin()[1]};
  }
  // Sanity: the same helper builds acceptable segments.
  EXPECT_TRUE(parse(view_of(segment_with_options({2, 4, 5, 0xb4}))).has_value());
}

TEST(TcpTest, RejectsBadHeaderLengths) {
  const ConstBytes good = segment_of(fixtures::bytes(fixtures::kTcpSyn));
  for (std::size_t len = 0; len < 40; ++len) {  // the header is 40 bytes
    const auto copy = heap_copy(good.first(len));
    EXPECT_FALSE(TcpView<ConstBytes>::checked(view_of(copy)).has_value()) << len;
  }
  for (const std::uint8_t offset : {0, 4}) {
    auto bad = heap_copy(good);
    bad[tcp_field::kOffsetFlags] = std::byte(offset << 4);
    EXPECT_FALSE(TcpView<ConstBytes>::checked(view_of(bad)).has_value());
  }
  auto bad = heap_copy(good);
  bad[tcp_field::kOffsetFlags] = std::byte{0xf0};  // 60 bytes of header in a 40-byte segment
  EXPECT_FALSE(TcpView<ConstBytes>::checked(view_of(bad)).has_value());
}

TEST(TcpTest, RejectsBadChecksumAndPortZero) {
  auto bad = heap_copy(segment_of(fixtures::bytes(fixtures::kTcpDataTs)));
  bad.back() ^= std::byte{1};
  EXPECT_FALSE(parse(view_of(bad)).has_value());
  EXPECT_TRUE(parse(view_of(bad), Checksum::kOffload).has_value());
  auto zero = heap_copy(segment_of(fixtures::bytes(fixtures::kTcpDataTs)));
  auto view = *TcpView<MutableBytes>::checked(zero);
  view.set_destination_port(0);
  view.fill_checksum(kLo, kLo);
  EXPECT_FALSE(parse(view_of(zero)).has_value());
}

}  // namespace
}  // namespace nslab::ustack::packet
