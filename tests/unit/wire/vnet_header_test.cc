#include "daemon/wire/vnet_header.h"

#include <array>
#include <cstdint>
#include <vector>

#include "gtest/gtest.h"

namespace nslab::wire {
namespace {

std::vector<std::byte> Bytes(std::initializer_list<int> values) {
  std::vector<std::byte> out;
  for (int v : values) {
    out.push_back(std::byte{static_cast<uint8_t>(v)});
  }
  return out;
}

// The reference: a plain RFC 1071 sum, folded, written independently of the code under test.
uint16_t Fold(uint64_t sum) {
  while (sum >> 16) {
    sum = (sum & 0xffff) + (sum >> 16);
  }
  return static_cast<uint16_t>(sum);
}
uint64_t Sum(const std::vector<std::byte>& bytes, size_t from) {
  uint64_t sum = 0;
  for (size_t i = from; i < bytes.size(); ++i) {
    sum += std::to_integer<uint64_t>(bytes[i]) << ((i - from) % 2 == 0 ? 8 : 0);
  }
  return sum;
}

TEST(VnetHeaderTest, ParsesFlagsGsoAndOffsets) {
  const std::vector<std::byte> raw =
      Bytes({kVnetNeedsChecksum, kVnetGsoTcpV4 | kVnetGsoEcn, 66, 0, 0xa8, 0x05, 34, 0, 16, 0});
  const std::optional<VnetHeader> header = ParseVnetHeader(raw);
  ASSERT_TRUE(header.has_value());
  EXPECT_TRUE(header->needs_checksum);
  EXPECT_TRUE(header->is_gso());
  EXPECT_EQ(header->gso_type, kVnetGsoTcpV4);
  EXPECT_EQ(header->header_length, 66);
  EXPECT_EQ(header->gso_size, 1448);
  EXPECT_EQ(header->checksum_start, 34);
  EXPECT_EQ(header->checksum_offset, 16);

  EXPECT_FALSE(ParseVnetHeader(std::vector<std::byte>(kVnetHeaderBytes - 1)).has_value());
  const std::optional<VnetHeader> plain = ParseVnetHeader(std::vector<std::byte>(kVnetHeaderBytes));
  ASSERT_TRUE(plain.has_value());
  EXPECT_FALSE(plain->needs_checksum);
  EXPECT_FALSE(plain->is_gso());
}

TEST(VnetHeaderTest, CompletesAPartialUdpChecksumAsTheKernelWould) {
  // 14 bytes of Ethernet, 20 of IPv4 (10.0.0.1 -> 10.0.0.2, UDP), then UDP 1000 -> 2000 with
  // 5 payload bytes: an odd length, so the padding rule is exercised too.
  std::vector<std::byte> frame(14 + 20 + 8 + 5);
  const std::array<int, 4> source{10, 0, 0, 1};
  const std::array<int, 4> destination{10, 0, 0, 2};
  for (int i = 0; i < 4; ++i) {
    frame[14 + 12 + i] = std::byte{static_cast<uint8_t>(source[i])};
    frame[14 + 16 + i] = std::byte{static_cast<uint8_t>(destination[i])};
  }
  const size_t udp = 34;
  const uint16_t udp_length = 13;
  frame[udp + 0] = std::byte{0x03};
  frame[udp + 1] = std::byte{0xe8};
  frame[udp + 2] = std::byte{0x07};
  frame[udp + 3] = std::byte{0xd0};
  frame[udp + 5] = std::byte{udp_length};
  for (int i = 0; i < 5; ++i) {
    frame[udp + 8 + i] = std::byte{static_cast<uint8_t>(0x41 + i)};
  }
  // What a NEEDS_CSUM sender leaves in the field: the folded pseudo-header sum.
  const uint64_t pseudo = 0x0a00 + 0x0001 + 0x0a00 + 0x0002 + 17 + udp_length;
  const uint16_t partial = Fold(pseudo);
  frame[udp + 6] = std::byte{static_cast<uint8_t>(partial >> 8)};
  frame[udp + 7] = std::byte{static_cast<uint8_t>(partial)};

  VnetHeader header;
  header.needs_checksum = true;
  header.checksum_start = udp;
  header.checksum_offset = 6;
  ASSERT_TRUE(CompleteChecksum(frame, header));

  // A receiver's check: pseudo-header plus the whole datagram sums to 0xffff.
  EXPECT_EQ(Fold(pseudo + Sum(frame, udp)), 0xffff);
  EXPECT_NE(std::to_integer<int>(frame[udp + 6]) | std::to_integer<int>(frame[udp + 7]), 0);
}

TEST(VnetHeaderTest, RefusesOffsetsOutsideTheFrame) {
  std::vector<std::byte> frame(40, std::byte{0x5a});
  const std::vector<std::byte> before = frame;
  VnetHeader header;
  header.needs_checksum = true;
  header.checksum_start = 40;
  EXPECT_FALSE(CompleteChecksum(frame, header));
  header.checksum_start = 30;
  header.checksum_offset = 9;  // the field's second byte would be frame[40]
  EXPECT_FALSE(CompleteChecksum(frame, header));
  EXPECT_EQ(frame, before);
}

}  // namespace
}  // namespace nslab::wire
