#include "daemon/ustack/net/arp_cache.h"

#include <gtest/gtest.h>

#include <cstring>

namespace nslab::ustack::net {
namespace {

using packet::Ipv4Address;
using packet::MacAddress;

const Ipv4Address kIp(10, 0, 0, 1);
const MacAddress kMac({0x02, 0, 0, 0, 0, 1});

void fill_with(packet::MutableBytes out, std::uint8_t value) {
  std::memset(out.data(), value, out.size());
}

TEST(ArpCacheTest, QueueKeepsTheNewestPackets) {
  ArpCache cache;
  const Instant now{};
  ASSERT_TRUE(cache.resolve(kIp, now).send_request);
  for (std::uint8_t i = 0; i < 5; ++i) {
    ASSERT_TRUE(
        cache.enqueue(kIp, 10 + i, {}, [&](packet::MutableBytes out) { fill_with(out, i); }));
  }
  EXPECT_EQ(cache.counters().pending_dropped, 2u);
  EXPECT_TRUE(cache.learn(kIp, kMac, now, /*create=*/false));
  std::vector<std::size_t> lengths;
  cache.drain(kIp, [&](packet::ConstBytes packet, const QueuedPacketInfo&) {
    lengths.push_back(packet.size());
    EXPECT_EQ(std::to_integer<int>(packet[0]), static_cast<int>(packet.size()) - 10);
  });
  EXPECT_EQ(lengths, (std::vector<std::size_t>{12, 13, 14}));
  EXPECT_EQ(cache.lookup(kIp), kMac);
}

TEST(ArpCacheTest, MergeFlagOnlyUpdatesKnownEntries) {
  ArpCache cache;
  EXPECT_FALSE(cache.learn(kIp, kMac, Instant{}, /*create=*/false));
  EXPECT_FALSE(cache.lookup(kIp));
  cache.learn(kIp, kMac, Instant{}, /*create=*/true);
  const MacAddress moved({0x02, 0, 0, 0, 0, 9});
  cache.learn(kIp, moved, Instant{}, /*create=*/false);
  EXPECT_EQ(cache.lookup(kIp), moved);
}

TEST(ArpCacheTest, PendingSlotsAreShared) {
  ArpLimits limits;
  limits.pending_slots = 2;
  limits.max_packet_len = 64;
  ArpCache cache({}, limits);
  const Ipv4Address other(10, 0, 0, 2);
  cache.resolve(kIp, Instant{});
  cache.resolve(other, Instant{});
  auto fill = [](packet::MutableBytes) {};
  EXPECT_TRUE(cache.enqueue(kIp, 64, {}, fill));
  EXPECT_TRUE(cache.enqueue(kIp, 64, {}, fill));
  EXPECT_FALSE(cache.enqueue(other, 64, {}, fill));
  EXPECT_FALSE(cache.enqueue(kIp, 65, {}, fill));                      // longer than a slot
  EXPECT_FALSE(cache.enqueue(Ipv4Address(10, 0, 0, 3), 1, {}, fill));  // no entry
}

TEST(ArpCacheTest, TableFullEvictsTheOldestResolvedEntry) {
  ArpLimits limits;
  limits.max_entries = 2;
  ArpCache cache({}, limits);
  cache.learn(Ipv4Address(10, 0, 0, 1), kMac, Instant{} + std::chrono::seconds(1), true);
  cache.learn(Ipv4Address(10, 0, 0, 2), kMac, Instant{} + std::chrono::seconds(2), true);
  cache.learn(Ipv4Address(10, 0, 0, 3), kMac, Instant{} + std::chrono::seconds(3), true);
  EXPECT_FALSE(cache.lookup(Ipv4Address(10, 0, 0, 1)));
  EXPECT_TRUE(cache.lookup(Ipv4Address(10, 0, 0, 3)));
}

TEST(ArpCacheTest, NextDeadlineFollowsTheTimers) {
  ArpCache cache;
  EXPECT_FALSE(cache.next_deadline());
  const Instant now = Instant{} + std::chrono::seconds(10);
  cache.resolve(kIp, now);
  EXPECT_EQ(cache.next_deadline(), now + std::chrono::seconds(1));
}

}  // namespace
}  // namespace nslab::ustack::net
