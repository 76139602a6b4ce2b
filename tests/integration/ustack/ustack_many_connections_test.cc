// Thousands of kernel TCP connections held by one ustack node at once (root): a client in the
// peer namespace opens 2,000 connections to the ustack's echo service, 100 connects in flight
// at a time as a load generator would, and all are established, accepted and held; each then
// echoes a message, 100 at a time. The node's resident memory per connection is printed, idle and
// after the echo (the buffers grow on demand), and no frame is lost for want of an rx descriptor
// with the default ring. tests/bench/ustack/bench_ustack_connections measures 10,000 the same way.

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <thread>

#include "absl/strings/str_cat.h"
#include "tests/integration/ustack/many_connections.h"
#include "tests/integration/ustack/ustack_lab.h"

namespace nslab::ustack::testing {
namespace {

constexpr std::uint16_t kEchoPort = 7;
constexpr std::size_t kConnections = 2000;
// What the old stack cost before the buffers grew on demand was 512 KiB a connection (two
// 256 KiB buffers, allocated and zeroed up front); a connection that has echoed a message now
// holds two first allocations of 4 KiB and its control block.
constexpr std::uint64_t kMaxBytesPerConnection = 16 * 1024;

TEST(UstackManyConnectionsTest, HoldsThousandsOfConnectionsEstablishedAtOnce) {
  ASSERT_TRUE(RaiseOpenFilesLimit(kConnections + 256).ok());
  absl::StatusOr<std::unique_ptr<UstackLab>> lab = UstackLab::Create(
      NSLAB_USTACK_BINARY, {"--service", absl::StrCat("tcp:", kEchoPort, ":echo")});
  ASSERT_TRUE(lab.ok()) << lab.status();
  // One connection first, so that the ARP entries, the allocator's first arenas and the
  // stack's first table nodes count in the baseline rather than against the thousands.
  {
    absl::StatusOr<std::vector<Fd>> warm =
        OpenConnections((*lab)->peer_ns(), kUstackIp, kEchoPort, {.count = 1});
    ASSERT_TRUE(warm.ok()) << warm.status();
    ASSERT_TRUE(EchoOnEach(*warm, "warm", std::chrono::seconds(5)).ok());
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const absl::StatusOr<std::uint64_t> before = ResidentBytes((*lab)->ustack().pid());
  ASSERT_TRUE(before.ok()) << before.status();
  const std::uint64_t missed_before = (*lab)->Stats()->nic().rx_missed_errors();

  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<std::vector<Fd>> held = OpenConnections((*lab)->peer_ns(), kUstackIp, kEchoPort,
                                                         {.count = kConnections, .wave = 100});
  ASSERT_TRUE(held.ok()) << held.status();
  const double connect_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  // Every one is established and accepted on the node's side too, and stays so.
  absl::StatusOr<v1::UstackStats> stats;
  for (int attempt = 0; attempt < 50; ++attempt) {
    stats = (*lab)->Stats();
    ASSERT_TRUE(stats.ok()) << stats.status();
    if (stats->tcp().curr_estab() == kConnections) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(stats->tcp().curr_estab(), kConnections);
  EXPECT_EQ(stats->tcp().listen_drops(), 0u);
  std::size_t accepted_on_echo = 0;
  for (const v1::UstackTcpSocket& socket : stats->tcp_sockets()) {
    accepted_on_echo += socket.state() == "ESTAB" && socket.local().ends_with(":7");
  }
  EXPECT_EQ(accepted_on_echo, kConnections);
  const absl::StatusOr<std::uint64_t> idle = ResidentBytes((*lab)->ustack().pid());
  ASSERT_TRUE(idle.ok()) << idle.status();

  ASSERT_TRUE(EchoOnEach(*held, "still here", std::chrono::seconds(20)).ok());
  const absl::StatusOr<std::uint64_t> served = ResidentBytes((*lab)->ustack().pid());
  ASSERT_TRUE(served.ok()) << served.status();
  stats = (*lab)->Stats();
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->tcp().curr_estab(), kConnections);
  EXPECT_EQ(stats->nic().rx_missed_errors() - missed_before, 0u);

  const auto per_connection = [&](std::uint64_t after) {
    return after > *before ? (after - *before) / kConnections : 0;
  };
  std::printf(
      "%zu connections established in %.2f s and held; node RSS %.1f MiB -> %.1f MiB idle -> "
      "%.1f MiB after one echo each: %llu bytes per idle connection, %llu after the echo; "
      "rx_missed_errors %llu\n",
      kConnections, connect_seconds, *before / 1048576.0, *idle / 1048576.0, *served / 1048576.0,
      static_cast<unsigned long long>(per_connection(*idle)),
      static_cast<unsigned long long>(per_connection(*served)),
      static_cast<unsigned long long>(stats->nic().rx_missed_errors() - missed_before));
  EXPECT_LE(per_connection(*served), kMaxBytesPerConnection);
}

}  // namespace
}  // namespace nslab::ustack::testing
