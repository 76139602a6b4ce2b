// How many connections one ustack node holds, and what each costs (root; a manual measurement,
// not a ctest): a kernel client in the peer namespace (tests/integration/ustack/ustack_lab.h)
// opens N connections to the node's echo service, `--wave` connects in flight at a time, holds
// them all, checks that each echoes (`--wave` at a time again), and prints the node's resident
// memory per connection (RSS after minus RSS before, over N), idle and after the echo, with the
// time it took and the NIC's rx_missed_errors and the TCP listen drops.
//
//   sudo build/release/tests/bench/ustack/bench_ustack_connections
//       [--connections 10000] [--wave 100] [--hold 10] [--ustack PATH]
//
// --ustack runs another build's nslab-ustack (to compare with an older one).

#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "tests/integration/ustack/many_connections.h"
#include "tests/integration/ustack/ustack_lab.h"

namespace nslab::ustack::testing {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::uint16_t kEchoPort = 7;

struct Options {
  std::size_t connections = 10'000;
  std::size_t wave = 100;
  int hold_seconds = 10;
  std::string ustack = NSLAB_USTACK_BINARY;
};

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

double MiB(std::uint64_t bytes) { return static_cast<double>(bytes) / 1048576.0; }

std::uint64_t PerConnection(std::uint64_t before, std::uint64_t after, std::size_t count) {
  return after > before ? (after - before) / count : 0;
}

int Run(const Options& options) {
  if (absl::Status status = RaiseOpenFilesLimit(options.connections + 256); !status.ok()) {
    std::fprintf(stderr, "%s\n", status.ToString().c_str());
    return 1;
  }
  absl::StatusOr<std::unique_ptr<UstackLab>> lab =
      UstackLab::Create(options.ustack, {"--service", absl::StrCat("tcp:", kEchoPort, ":echo")});
  if (!lab.ok()) {
    std::fprintf(stderr, "lab: %s\n", lab.status().ToString().c_str());
    return 1;
  }
  UstackLab& node = **lab;
  {
    absl::StatusOr<std::vector<Fd>> warm =
        OpenConnections(node.peer_ns(), kUstackIp, kEchoPort, {.count = 1});
    if (!warm.ok() || !EchoOnEach(*warm, "warm", std::chrono::seconds(5)).ok()) {
      std::fprintf(stderr, "the echo service does not answer\n");
      return 1;
    }
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const std::uint64_t before = ResidentBytes(node.ustack().pid()).value_or(0);
  const absl::StatusOr<v1::UstackStats> start_stats = node.Stats();
  if (!start_stats.ok()) {
    std::fprintf(stderr, "stats: %s\n", start_stats.status().ToString().c_str());
    return 1;
  }

  const Clock::time_point start = Clock::now();
  absl::StatusOr<std::vector<Fd>> held =
      OpenConnections(node.peer_ns(), kUstackIp, kEchoPort,
                      {.count = options.connections,
                       .wave = options.wave,
                       .timeout = std::chrono::milliseconds(30'000)});
  if (!held.ok()) {
    std::fprintf(stderr, "after %.2f s: %s\n", Seconds(start), held.status().ToString().c_str());
    return 1;
  }
  const double connect_seconds = Seconds(start);
  std::printf("%zu connections established in %.2f s (%zu connects in flight at a time)\n",
              options.connections, connect_seconds, options.wave);

  std::this_thread::sleep_for(std::chrono::seconds(options.hold_seconds));
  const absl::StatusOr<v1::UstackStats> idle_stats = node.Stats();
  const std::uint64_t idle = ResidentBytes(node.ustack().pid()).value_or(0);
  if (idle_stats.ok()) {
    std::printf("held %d s: CurrEstab %llu\n", options.hold_seconds,
                static_cast<unsigned long long>(idle_stats->tcp().curr_estab()));
  }

  const Clock::time_point echo_start = Clock::now();
  if (absl::Status status = EchoOnEach(*held, "still here", std::chrono::seconds(60), options.wave);
      !status.ok()) {
    std::fprintf(stderr, "echo: %s\n", status.ToString().c_str());
    return 1;
  }
  const double echo_seconds = Seconds(echo_start);
  const std::uint64_t served = ResidentBytes(node.ustack().pid()).value_or(0);
  const absl::StatusOr<v1::UstackStats> end_stats = node.Stats();
  if (!end_stats.ok()) {
    std::fprintf(stderr, "stats: %s\n", end_stats.status().ToString().c_str());
    return 1;
  }
  std::printf("every connection echoed in %.2f s; CurrEstab %llu\n", echo_seconds,
              static_cast<unsigned long long>(end_stats->tcp().curr_estab()));
  std::printf(
      "node RSS: %.1f MiB before, %.1f MiB with the connections idle, %.1f MiB after "
      "one echo each\n",
      MiB(before), MiB(idle), MiB(served));
  std::printf("memory per connection: %llu bytes idle, %llu bytes after the echo\n",
              static_cast<unsigned long long>(PerConnection(before, idle, options.connections)),
              static_cast<unsigned long long>(PerConnection(before, served, options.connections)));
  std::printf(
      "rx_missed_errors %llu, rx_packets %llu, listen_overflows %llu, listen_drops %llu, "
      "syn_queue_overflows %llu, retrans_segs %llu\n",
      static_cast<unsigned long long>(end_stats->nic().rx_missed_errors() -
                                      start_stats->nic().rx_missed_errors()),
      static_cast<unsigned long long>(end_stats->nic().rx_packets() -
                                      start_stats->nic().rx_packets()),
      static_cast<unsigned long long>(end_stats->tcp().listen_overflows()),
      static_cast<unsigned long long>(end_stats->tcp().listen_drops()),
      static_cast<unsigned long long>(end_stats->tcp().syn_queue_overflows()),
      static_cast<unsigned long long>(end_stats->tcp().retrans_segs()));
  return end_stats->tcp().curr_estab() == options.connections ? 0 : 1;
}

}  // namespace
}  // namespace nslab::ustack::testing

int main(int argc, char** argv) {
  nslab::ustack::testing::Options options;
  CLI::App app{"How many connections one ustack node holds, and what each costs in memory"};
  app.add_option("--connections", options.connections, "Connections to hold")
      ->check(CLI::Range(1, 1 << 30));
  app.add_option("--wave", options.wave, "Connects in flight at once")
      ->check(CLI::Range(1, 1 << 30));
  app.add_option("--hold", options.hold_seconds, "Seconds to hold them")
      ->check(CLI::Range(0, 1 << 30));
  app.add_option("--ustack", options.ustack, "The nslab-ustack binary to measure");
  CLI11_PARSE(app, argc, argv);
  return nslab::ustack::testing::Run(options);
}
