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

}  // namespace
}  // namespace nslab::ustack::tcp
