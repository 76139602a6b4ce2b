#include "daemon/ustack/packet/checksum.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

#include "tests/unit/ustack/packet/fixtures.h"

namespace nslab::ustack::packet {
namespace {

// RFC 1071 as written: 16-bit big-endian words into a 32-bit accumulator.
std::uint16_t reference_sum(ConstBytes data, std::uint16_t initial) {
  std::uint32_t sum = initial;
  for (std::size_t i = 0; i < data.size(); i += 2) {
    std::uint32_t word = std::to_integer<std::uint32_t>(data[i]) << 8;
    if (i + 1 < data.size()) {
      word |= std::to_integer<std::uint32_t>(data[i + 1]);
    }
    sum += word;
    sum = (sum & 0xffff) + (sum >> 16);
  }
  return static_cast<std::uint16_t>(sum);
}

TEST(ChecksumTest, Rfc1071Example) {
  const std::uint8_t data[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
  EXPECT_EQ(ones_complement_sum(std::as_bytes(std::span(data))), 0xddf2);
  EXPECT_EQ(internet_checksum(std::as_bytes(std::span(data))), 0x220d);
}

TEST(ChecksumTest, MatchesReferenceForEveryLengthAndAlignment) {
  std::mt19937 rng(1071);
  std::vector<std::byte> buffer(300);
  for (int round = 0; round < 20; ++round) {
    for (auto& b : buffer) {
      b = std::byte(rng() & 0xff);
    }
    if (round == 0) {
      std::fill(buffer.begin(), buffer.end(), std::byte{0xff});  // carries everywhere
    }
    for (std::size_t offset = 0; offset < 8; ++offset) {
      for (std::size_t len = 0; len + offset <= buffer.size(); len += 1 + len / 16) {
        const ConstBytes data = ConstBytes(buffer).subspan(offset, len);
        const auto initial = static_cast<std::uint16_t>(rng() & 0xffff);
        ASSERT_EQ(ones_complement_sum(data, initial), reference_sum(data, initial))
            << "offset " << offset << " len " << len;
      }
    }
  }
}

TEST(ChecksumTest, IncrementalUpdateMatchesRecompute) {
  std::mt19937 rng(1624);
  for (int round = 0; round < 1000; ++round) {
    std::vector<std::byte> data(40);
    for (auto& b : data) {
      b = std::byte(rng() & 0xff);
    }
    const std::uint16_t before = internet_checksum(data);
    const std::size_t at = 2 * (rng() % 18);
    const std::uint32_t old_value = read_be32(data, at);
    const std::uint32_t new_value = rng();
    write_be32(data, at, new_value);
    EXPECT_EQ(ones_complement_add(checksum_update32(before, old_value, new_value),
                                  ones_complement_sum(data)),
              0xffff);
  }
}

TEST(ChecksumTest, PseudoHeaderOfCapturedSyn) {
  // Linux leaves exactly this sum in a CHECKSUM_PARTIAL segment (fixture kTcpSynPartial).
  const Ipv4Address lo(127, 0, 0, 1);
  EXPECT_EQ(pseudo_header_sum(lo, lo, 6, 40), 0xfe30);
}

}  // namespace
}  // namespace nslab::ustack::packet
