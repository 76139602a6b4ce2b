#include "daemon/tap/vnet_header.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <vector>

namespace nslab::tap {
namespace {

std::vector<std::byte> Bytes(std::initializer_list<int> values) {
  std::vector<std::byte> out;
  for (int v : values) {
    out.push_back(std::byte{static_cast<std::uint8_t>(v)});
  }
  return out;
}

// Written by hand in the shape the kernel gives them.
// tx: NEEDS_CSUM, GSO_TCPV4, hdr_len 66, gso_size 1448, csum_start 34, csum_offset 16
const std::vector<std::byte> kGsoHeader =
    Bytes({0x01, 0x01, 0x42, 0x00, 0xa8, 0x05, 0x22, 0x00, 0x10, 0x00});
// rx, 12-byte layout: DATA_VALID, no GSO, num_buffers 1
const std::vector<std::byte> kRx12Header =
    Bytes({0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00});

// The reference: a plain RFC 1071 sum, folded, written independently of the code under test.
std::uint16_t Fold(std::uint64_t sum) {
  while (sum >> 16) {
    sum = (sum & 0xffff) + (sum >> 16);
  }
  return static_cast<std::uint16_t>(sum);
}
std::uint64_t Sum(const std::vector<std::byte>& bytes, std::size_t from) {
  std::uint64_t sum = 0;
  for (std::size_t i = from; i < bytes.size(); ++i) {
    sum += std::to_integer<std::uint64_t>(bytes[i]) << ((i - from) % 2 == 0 ? 8 : 0);
  }
  return sum;
}

TEST(VnetHeaderTest, ParsesGsoHeaderLittleEndian) {
  const auto view = VnetHeaderView<ConstBytes>::Checked(kGsoHeader, VnetHeaderSize::kBasic);
  ASSERT_TRUE(view.has_value());
  EXPECT_EQ(view->flags(), vnet_flag::kNeedsChecksum);
  EXPECT_EQ(view->gso_type(), vnet_gso::kTcpV4);
  EXPECT_EQ(view->hdr_len(), 66);
  EXPECT_EQ(view->gso_size(), 1448);
  EXPECT_EQ(view->csum_start(), 34);
  EXPECT_EQ(view->csum_offset(), 16);
  EXPECT_FALSE(view->num_buffers().has_value());
  EXPECT_TRUE(view->payload().empty());
  const auto repr = VnetHeaderRepr::Parse(*view);
  ASSERT_TRUE(repr.has_value());
  EXPECT_EQ(repr->buffer_len(), 10u);
  EXPECT_TRUE(repr->ChecksumInBounds(66));
  EXPECT_FALSE(repr->ChecksumInBounds(51));
  std::vector<std::byte> out(repr->buffer_len());
  repr->Emit(out);
  EXPECT_EQ(out, kGsoHeader);
}

TEST(VnetHeaderTest, SaysWhetherAFrameNeedsItsChecksumOrIsASuperFrame) {
  const std::vector<std::byte> raw =
      Bytes({vnet_flag::kNeedsChecksum, vnet_gso::kTcpV4 | vnet_gso::kEcn, 66, 0, 0xa8, 0x05, 34, 0,
             16, 0});
  const auto header = VnetHeaderView<ConstBytes>::Checked(raw, VnetHeaderSize::kBasic);
  ASSERT_TRUE(header.has_value());
  EXPECT_TRUE(header->needs_checksum());
  EXPECT_TRUE(header->is_gso());

  const std::vector<std::byte> zeros(static_cast<std::size_t>(VnetHeaderSize::kBasic));
  const auto plain = VnetHeaderView<ConstBytes>::Checked(zeros, VnetHeaderSize::kBasic);
  ASSERT_TRUE(plain.has_value());
  EXPECT_FALSE(plain->needs_checksum());
  EXPECT_FALSE(plain->is_gso());
  // ECN alone is no GSO type.
  const std::vector<std::byte> ecn_only = Bytes({0, vnet_gso::kEcn, 0, 0, 0, 0, 0, 0, 0, 0});
  EXPECT_FALSE(VnetHeaderView<ConstBytes>::Checked(ecn_only, VnetHeaderSize::kBasic)->is_gso());
}

TEST(VnetHeaderTest, TwelveByteLayoutCarriesNumBuffers) {
  const ConstBytes bytes = kRx12Header;
  EXPECT_FALSE(VnetHeaderView<ConstBytes>::Checked(bytes.first(11), VnetHeaderSize::kWithNumBuffers)
                   .has_value());
  const auto view = VnetHeaderView<ConstBytes>::Checked(bytes, VnetHeaderSize::kWithNumBuffers);
  ASSERT_TRUE(view.has_value());
  EXPECT_EQ(view->num_buffers(), 1);
  EXPECT_EQ(view->flags(), vnet_flag::kDataValid);
  const auto repr = VnetHeaderRepr::Parse(*view);
  ASSERT_TRUE(repr.has_value());
  EXPECT_EQ(repr->size(), VnetHeaderSize::kWithNumBuffers);
  std::vector<std::byte> out(repr->buffer_len());
  repr->Emit(out);
  EXPECT_TRUE(std::ranges::equal(out, bytes));
  // Read as the 10-byte layout, the same bytes are a header followed by two frame bytes.
  const auto basic = VnetHeaderView<ConstBytes>::Checked(bytes, VnetHeaderSize::kBasic);
  EXPECT_EQ(basic->payload().size(), 2u);
}

TEST(VnetHeaderTest, RejectsShortAndUnknown) {
  for (std::size_t len = 0; len < 10; ++len) {
    // An exactly sized heap copy, so that AddressSanitizer catches any read past its end.
    const std::vector<std::byte> copy(kGsoHeader.begin(), kGsoHeader.begin() + len);
    EXPECT_FALSE(VnetHeaderView<ConstBytes>::Checked(copy, VnetHeaderSize::kBasic));
  }
  auto parse = [](const std::vector<std::byte>& bytes) {
    return VnetHeaderRepr::Parse(
        *VnetHeaderView<ConstBytes>::Checked(bytes, VnetHeaderSize::kBasic));
  };
  auto bad = kGsoHeader;
  bad[vnet_field::kFlags] = std::byte{0x08};
  EXPECT_FALSE(parse(bad).has_value());
  bad = kGsoHeader;
  bad[vnet_field::kGsoType] = std::byte{2};
  EXPECT_FALSE(parse(bad).has_value());
  bad = kGsoHeader;
  bad[vnet_field::kGsoType] = std::byte{vnet_gso::kTcpV4 | vnet_gso::kEcn};
  EXPECT_TRUE(parse(bad).has_value());
  VnetHeaderView<MutableBytes>::Unchecked(bad, VnetHeaderSize::kBasic).set_gso_size(0);
  EXPECT_FALSE(parse(bad).has_value());
}

TEST(VnetHeaderTest, CompletesAPartialUdpChecksumAsTheKernelWould) {
  // 14 bytes of Ethernet, 20 of IPv4 (10.0.0.1 -> 10.0.0.2, UDP), then UDP 1000 -> 2000 with
  // 5 payload bytes: an odd length, so the padding rule is exercised too.
  std::vector<std::byte> frame(14 + 20 + 8 + 5);
  const std::array<int, 4> source{10, 0, 0, 1};
  const std::array<int, 4> destination{10, 0, 0, 2};
  for (int i = 0; i < 4; ++i) {
    frame[14 + 12 + i] = std::byte{static_cast<std::uint8_t>(source[i])};
    frame[14 + 16 + i] = std::byte{static_cast<std::uint8_t>(destination[i])};
  }
  const std::size_t udp = 34;
  const std::uint16_t udp_length = 13;
  frame[udp + 0] = std::byte{0x03};
  frame[udp + 1] = std::byte{0xe8};
  frame[udp + 2] = std::byte{0x07};
  frame[udp + 3] = std::byte{0xd0};
  frame[udp + 5] = std::byte{udp_length};
  for (int i = 0; i < 5; ++i) {
    frame[udp + 8 + i] = std::byte{static_cast<std::uint8_t>(0x41 + i)};
  }
  // What a NEEDS_CSUM sender leaves in the field: the folded pseudo-header sum.
  const std::uint64_t pseudo = 0x0a00 + 0x0001 + 0x0a00 + 0x0002 + 17 + udp_length;
  const std::uint16_t partial = Fold(pseudo);
  frame[udp + 6] = std::byte{static_cast<std::uint8_t>(partial >> 8)};
  frame[udp + 7] = std::byte{static_cast<std::uint8_t>(partial)};

  ASSERT_TRUE(CompleteChecksum(frame, /*csum_start=*/udp, /*csum_offset=*/6));

  // A receiver's check: pseudo-header plus the whole datagram sums to 0xffff.
  EXPECT_EQ(Fold(pseudo + Sum(frame, udp)), 0xffff);
  EXPECT_NE(std::to_integer<int>(frame[udp + 6]) | std::to_integer<int>(frame[udp + 7]), 0);
}

TEST(VnetHeaderTest, RefusesOffsetsOutsideTheFrame) {
  std::vector<std::byte> frame(40, std::byte{0x5a});
  const std::vector<std::byte> before = frame;
  EXPECT_FALSE(CompleteChecksum(frame, /*csum_start=*/40, /*csum_offset=*/0));
  // The field's second byte would be frame[40].
  EXPECT_FALSE(CompleteChecksum(frame, /*csum_start=*/30, /*csum_offset=*/9));
  EXPECT_EQ(frame, before);
}

}  // namespace
}  // namespace nslab::tap
