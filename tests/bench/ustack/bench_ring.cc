// Virtqueue hand-off throughput against the obvious alternative, a mutex-protected std::deque
// moving the same items, on one thread and across two; plus IPv4+TCP parse throughput. Prints
// the ring/deque ratios after the table.

#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include "daemon/ustack/packet/ipv4.h"
#include "daemon/ustack/packet/tcp.h"
#include "daemon/ustack/ring/device_queue.h"
#include "daemon/ustack/ring/driver_queue.h"
#include "daemon/ustack/ring/virtqueue.h"
// The fixtures are the unit tests' real Linux frames.
#include "tests/unit/ustack/packet/fixtures.h"

namespace nslab::ustack {
namespace {

constexpr std::uint32_t kQueueSize = 256;
constexpr ring::Segment kFrame{0x10000, 1514};

// Spins briefly, then lets the other thread have the core: this machine may have fewer cores
// than busy threads.
class Backoff {
 public:
  void idle() {
    if (++spins_ > 64) {
      std::this_thread::yield();
      spins_ = 0;
    }
  }
  void reset() { spins_ = 0; }

 private:
  int spins_ = 0;
};

void BM_RingSingleThread(benchmark::State& state) {
  ring::Virtqueue vq = *ring::Virtqueue::create(kQueueSize);
  ring::DriverQueue driver(vq, ring::Suppression::kEventIdx);
  ring::DeviceQueue device(vq, ring::Suppression::kEventIdx);
  std::vector<ring::Segment> scratch(kQueueSize);
  std::uint64_t token = 0;
  for (auto _ : state) {
    driver.add({&kFrame, 1}, {}, token++);
    const auto chain = device.pop(scratch);
    device.push_used(chain->head, chain->readable[0].len);
    benchmark::DoNotOptimize(driver.get_used());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_RingSingleThread)->UseRealTime();

// The same four steps with a lock each: request in, request out, response in, response out.
void BM_DequeSingleThread(benchmark::State& state) {
  std::mutex request_mutex;
  std::deque<std::uint64_t> requests;
  std::mutex response_mutex;
  std::deque<std::uint64_t> responses;
  std::uint64_t token = 0;
  for (auto _ : state) {
    {
      std::lock_guard lock(request_mutex);
      requests.push_back(token++);
    }
    std::uint64_t item;
    {
      std::lock_guard lock(request_mutex);
      item = requests.front();
      requests.pop_front();
    }
    {
      std::lock_guard lock(response_mutex);
      responses.push_back(item);
    }
    {
      std::lock_guard lock(response_mutex);
      benchmark::DoNotOptimize(responses.front());
      responses.pop_front();
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_DequeSingleThread)->UseRealTime();

// The benchmark thread is the driver; a device thread polls, uses each chain and returns it.
// The driver keeps up to kQueueSize chains in flight and reclaims when half are out.
void BM_RingTwoThreads(benchmark::State& state) {
  ring::Virtqueue vq = *ring::Virtqueue::create(kQueueSize);
  ring::DriverQueue driver(vq, ring::Suppression::kEventIdx);
  ring::DeviceQueue device(vq, ring::Suppression::kEventIdx);
  std::atomic<bool> stop{false};
  std::thread device_thread([&] {
    std::vector<ring::Segment> scratch(kQueueSize);
    Backoff backoff;
    while (!stop.load(std::memory_order_relaxed)) {
      if (const auto chain = device.pop(scratch)) {
        device.push_used(chain->head, chain->readable[0].len);
        backoff.reset();
      } else {
        backoff.idle();
      }
    }
  });
  std::uint64_t token = 0;
  Backoff backoff;
  auto reclaim = [&] {
    bool any = false;
    while (const auto used = driver.get_used()) {
      benchmark::DoNotOptimize(used->token);
      any = true;
    }
    if (any) {
      backoff.reset();
    } else {
      backoff.idle();
    }
  };
  for (auto _ : state) {
    while (driver.num_free() < kQueueSize / 2) {
      reclaim();
    }
    driver.add({&kFrame, 1}, {}, token++);
  }
  while (driver.num_free() != kQueueSize) {
    reclaim();
  }
  stop = true;
  device_thread.join();
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_RingTwoThreads)->UseRealTime();

// The same hand-off shape through two locked deques.
void BM_DequeTwoThreads(benchmark::State& state) {
  std::mutex request_mutex;
  std::deque<std::uint64_t> requests;
  std::mutex response_mutex;
  std::deque<std::uint64_t> responses;
  std::atomic<bool> stop{false};
  std::thread device_thread([&] {
    Backoff backoff;
    while (!stop.load(std::memory_order_relaxed)) {
      std::optional<std::uint64_t> item;
      {
        std::lock_guard lock(request_mutex);
        if (!requests.empty()) {
          item = requests.front();
          requests.pop_front();
        }
      }
      if (item) {
        std::lock_guard lock(response_mutex);
        responses.push_back(*item);
        backoff.reset();
      } else {
        backoff.idle();
      }
    }
  });
  std::uint64_t token = 0;
  std::uint32_t in_flight = 0;
  Backoff backoff;
  auto reclaim = [&] {
    bool any = false;
    while (true) {
      std::lock_guard lock(response_mutex);
      if (responses.empty()) {
        break;
      }
      benchmark::DoNotOptimize(responses.front());
      responses.pop_front();
      --in_flight;
      any = true;
    }
    if (any) {
      backoff.reset();
    } else {
      backoff.idle();
    }
  };
  for (auto _ : state) {
    while (in_flight > kQueueSize / 2) {
      reclaim();
    }
    {
      std::lock_guard lock(request_mutex);
      requests.push_back(token++);
    }
    ++in_flight;
  }
  while (in_flight != 0) {
    reclaim();
  }
  stop = true;
  device_thread.join();
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_DequeTwoThreads)->UseRealTime();

// Ipv4View/Repr and TcpView/Repr (options and full checksum included) over a captured Linux
// data segment with timestamps.
void BM_ParseIpv4Tcp(benchmark::State& state) {
  using namespace packet;
  const ConstBytes ip_packet = fixtures::bytes(fixtures::kTcpDataTs).subspan(14);
  for (auto _ : state) {
    const auto ip_view = Ipv4View<ConstBytes>::checked(ip_packet);
    const auto ip = Ipv4Repr::parse(*ip_view);
    const auto tcp_view = TcpView<ConstBytes>::checked(ip_view->payload());
    auto tcp = TcpRepr::parse(*tcp_view, ip->source, ip->destination);
    benchmark::DoNotOptimize(tcp);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * ip_packet.size()));
}
BENCHMARK(BM_ParseIpv4Tcp);

// Keeps items/s per benchmark so that main() can print the ratios.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  // Colour only on a terminal, as the default reporter does.
  RatioReporter() : ConsoleReporter(isatty(STDOUT_FILENO) != 0 ? OO_ColorTabular : OO_Tabular) {}

  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& run : runs) {
      const auto rate = run.counters.find("items_per_second");
      if (run.run_type == Run::RT_Iteration && rate != run.counters.end()) {
        rates_[run.run_name.function_name] = rate->second.value;
      }
    }
    ConsoleReporter::ReportRuns(runs);
  }

  void print_ratio(const char* what, const std::string& ring, const std::string& deque) const {
    const auto r = rates_.find(ring);
    const auto d = rates_.find(deque);
    if (r != rates_.end() && d != rates_.end() && d->second > 0) {
      std::printf("%s: ring %.1f M items/s, deque %.1f M items/s, ring/deque %.2fx\n", what,
                  r->second / 1e6, d->second / 1e6, r->second / d->second);
    }
  }

 private:
  std::map<std::string, double> rates_;
};

}  // namespace
}  // namespace nslab::ustack

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) {
    return 1;
  }
  nslab::ustack::RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  reporter.print_ratio("single thread", "BM_RingSingleThread", "BM_DequeSingleThread");
  reporter.print_ratio("two threads", "BM_RingTwoThreads", "BM_DequeTwoThreads");
  benchmark::Shutdown();
  return 0;
}
