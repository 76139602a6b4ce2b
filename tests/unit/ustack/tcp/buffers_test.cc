#include <gtest/gtest.h>

#include <numeric>
#include <vector>

#include "daemon/ustack/tcp/receive_buffer.h"
#include "daemon/ustack/tcp/send_buffer.h"

namespace nslab::ustack::tcp {
namespace {

std::vector<std::byte> bytes(std::size_t size, int first) {
  std::vector<std::byte> data(size);
  for (std::size_t i = 0; i < size; ++i) {
    data[i] = static_cast<std::byte>(first + static_cast<int>(i));
  }
  return data;
}

TEST(SendBufferTest, KeepsBytesContiguousAcrossConsumeAndAppend) {
  SendBuffer buffer(10);
  EXPECT_EQ(buffer.append(bytes(8, 0)), 8u);
  EXPECT_EQ(buffer.append(bytes(8, 8)), 2u);  // full at 10
  EXPECT_EQ(buffer.free_space(), 0u);
  buffer.consume(6);
  // The tail has no room for 5 more: the data slides to the front, still one span.
  EXPECT_EQ(buffer.append(bytes(5, 10)), 5u);
  ASSERT_EQ(buffer.size(), 9u);
  const auto all = buffer.peek(0, 100);
  ASSERT_EQ(all.size(), 9u);
  for (std::size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i], static_cast<std::byte>(6 + i)) << i;
  }
  EXPECT_EQ(buffer.peek(7, 5).size(), 2u);
  EXPECT_TRUE(buffer.peek(9, 5).empty());
}

TEST(SendBufferTest, CapacityNeverDropsStoredBytes) {
  SendBuffer buffer(10);
  buffer.append(bytes(10, 0));
  buffer.set_capacity(4);
  EXPECT_EQ(buffer.capacity(), 10u);
  buffer.set_capacity(20);
  EXPECT_EQ(buffer.free_space(), 10u);
  EXPECT_EQ(buffer.peek(9, 1)[0], std::byte{9});
}

TEST(ReceiveBufferTest, ReassemblesOutOfOrderAndReportsSackBlocks) {
  ReceiveBuffer buffer(100);
  const SeqNumber start(0xfffffff0);  // across the wrap
  buffer.reset(start);
  const auto data = bytes(60, 0);
  const std::span<const std::byte> all(data);

  auto outcome = buffer.receive(start + 20, all.subspan(20, 10));
  EXPECT_TRUE(outcome.out_of_order);
  outcome = buffer.receive(start + 40, all.subspan(40, 20));
  EXPECT_TRUE(outcome.out_of_order);
  std::array<packet::TcpSackBlock, 4> blocks{};
  ASSERT_EQ(buffer.sack_blocks(blocks), 2u);
  // The latest segment's block first (RFC 2018 4).
  EXPECT_EQ(blocks[0].left, (start + 40).value());
  EXPECT_EQ(blocks[0].right, (start + 60).value());
  EXPECT_EQ(blocks[1].left, (start + 20).value());

  outcome = buffer.receive(start, all.subspan(0, 20));
  EXPECT_EQ(outcome.in_order_bytes, 30u);
  EXPECT_TRUE(outcome.filled_hole);
  outcome = buffer.receive(start + 25, all.subspan(25, 20));  // overlaps both sides
  EXPECT_EQ(outcome.in_order_bytes, 30u);
  EXPECT_FALSE(buffer.has_out_of_order());
  EXPECT_EQ(buffer.rcv_nxt(), start + 60);

  std::vector<std::byte> out(100);
  ASSERT_EQ(buffer.read(out), 60u);
  out.resize(60);
  EXPECT_EQ(out, data);
}

TEST(ReceiveBufferTest, DropsWhatLiesOutsideTheWindow) {
  ReceiveBuffer buffer(10);
  buffer.reset(SeqNumber(100));
  const auto data = bytes(20, 0);
  EXPECT_EQ(buffer.receive(SeqNumber(100), data).in_order_bytes, 10u);  // clipped to the window
  EXPECT_EQ(buffer.window(), 0u);
  EXPECT_EQ(buffer.receive(SeqNumber(110), data).in_order_bytes, 0u);
  EXPECT_EQ(buffer.receive(SeqNumber(90), data).in_order_bytes, 0u);  // all old or no room
  std::vector<std::byte> out(4);
  EXPECT_EQ(buffer.read(out), 4u);
  EXPECT_EQ(buffer.window(), 4u);
  // The ring wraps: the next bytes land where the first ones were read.
  EXPECT_EQ(buffer.receive(SeqNumber(110), std::span(data).subspan(10, 4)).in_order_bytes, 4u);
  std::vector<std::byte> rest(10);
  ASSERT_EQ(buffer.read(rest), 10u);
  for (std::size_t i = 0; i < rest.size(); ++i) {
    EXPECT_EQ(rest[i], static_cast<std::byte>(4 + i));
  }
}

TEST(SendBufferTest, StorageGrowsOnDemandUpToTheCapacityAndIsGivenBackWhenEmpty) {
  SendBuffer buffer(256 * 1024);
  EXPECT_EQ(buffer.allocated(), 0u);  // SO_SNDBUF is a limit, not an allocation
  EXPECT_EQ(buffer.free_space(), 256u * 1024);
  EXPECT_EQ(buffer.append(bytes(100, 0)), 100u);
  EXPECT_EQ(buffer.allocated(), SendBuffer::kInitialStorage);
  // Doubling, and never past the capacity.
  const auto big = bytes(100'000, 1);
  EXPECT_EQ(buffer.append(big), 100'000u);
  EXPECT_GE(buffer.allocated(), 2 * buffer.size());
  EXPECT_LE(buffer.allocated(), buffer.capacity());
  EXPECT_EQ(buffer.append(bytes(200'000, 2)), 256u * 1024 - 100'100);
  EXPECT_EQ(buffer.allocated(), buffer.capacity());
  // The bytes survived every move.
  EXPECT_EQ(buffer.peek(0, 1)[0], std::byte{0});
  EXPECT_EQ(buffer.peek(100, 1)[0], std::byte{1});
  EXPECT_EQ(buffer.peek(100'099, 1)[0], big.back());
  buffer.release_if_empty();  // not empty: kept
  EXPECT_EQ(buffer.allocated(), buffer.capacity());
  buffer.consume(buffer.size());
  buffer.release_if_empty();
  EXPECT_EQ(buffer.allocated(), 0u);
  EXPECT_EQ(buffer.append(bytes(10, 7)), 10u);
  EXPECT_EQ(buffer.peek(0, 10)[9], std::byte{16});
}

TEST(SendBufferTest, ShrinkingTheCapacityShrinksTheStorage) {
  SendBuffer buffer(64 * 1024);
  buffer.append(bytes(20'000, 0));
  ASSERT_GT(buffer.allocated(), 30'000u);
  buffer.consume(15'000);
  buffer.set_capacity(8'000);
  EXPECT_EQ(buffer.capacity(), 8'000u);
  EXPECT_EQ(buffer.allocated(), 8'000u);
  EXPECT_EQ(buffer.peek(0, 1)[0], static_cast<std::byte>(15'000 % 256));
}

TEST(ReceiveBufferTest, StorageGrowsOnDemandWhileTheWindowStaysFull) {
  ReceiveBuffer buffer(256 * 1024);
  const SeqNumber start(0xffff0000);  // the sequence space wraps while the ring grows
  buffer.reset(start);
  EXPECT_EQ(buffer.allocated(), 0u);
  EXPECT_EQ(buffer.window(), 256u * 1024);  // offered in full, allocated as data comes
  const auto data = bytes(200'000, 0);
  const std::span<const std::byte> all(data);
  // Out of order first, far into the window: the ring grows to hold it where it belongs.
  EXPECT_TRUE(buffer.receive(start + 150'000, all.subspan(150'000, 50'000)).out_of_order);
  EXPECT_GE(buffer.allocated(), 200'000u);
  EXPECT_LE(buffer.allocated(), buffer.capacity());
  // Then the front in pieces, read in smaller ones as it goes.
  std::vector<std::byte> out;
  std::vector<std::byte> piece(7'000);
  for (std::size_t at = 0; at < 150'000; at += 10'000) {
    buffer.receive(start + static_cast<std::uint32_t>(at), all.subspan(at, 10'000));
    const std::size_t n = buffer.read(piece);
    out.insert(out.end(), piece.begin(), piece.begin() + static_cast<std::ptrdiff_t>(n));
  }
  EXPECT_EQ(buffer.rcv_nxt(), start + 200'000);
  while (const std::size_t n = buffer.read(piece)) {
    out.insert(out.end(), piece.begin(), piece.begin() + static_cast<std::ptrdiff_t>(n));
  }
  EXPECT_EQ(out, data);
  buffer.release_if_empty();
  EXPECT_EQ(buffer.allocated(), 0u);
}

TEST(ReceiveBufferTest, GrowthKeepsUnreadAndOutOfOrderBytesAcrossTheWrap) {
  ReceiveBuffer buffer(64 * 1024);
  buffer.reset(SeqNumber(1000));
  const auto data = bytes(30'000, 3);
  const std::span<const std::byte> all(data);
  // Fill the first 4 KiB ring and read part of it, so that the next bytes wrap.
  ASSERT_EQ(buffer.receive(SeqNumber(1000), all.first(4'000)).in_order_bytes, 4'000u);
  ASSERT_EQ(buffer.allocated(), ReceiveBuffer::kInitialStorage);
  std::vector<std::byte> out(3'000);
  ASSERT_EQ(buffer.read(out), 3'000u);
  buffer.receive(SeqNumber(1000 + 4'000), all.subspan(4'000, 2'000));  // wraps
  buffer.receive(SeqNumber(1000 + 10'000), all.subspan(10'000, 500));  // grows, out of order
  EXPECT_GT(buffer.allocated(), ReceiveBuffer::kInitialStorage);
  buffer.receive(SeqNumber(1000 + 6'000), all.subspan(6'000, 4'000));  // fills the hole
  EXPECT_FALSE(buffer.has_out_of_order());
  std::vector<std::byte> rest(20'000);
  ASSERT_EQ(buffer.read(rest), 7'500u);
  rest.resize(7'500);
  EXPECT_TRUE(std::equal(rest.begin(), rest.end(), data.begin() + 3'000));
}

}  // namespace
}  // namespace nslab::ustack::tcp
