// Frames per second through one ImpairmentPipeline direction (Offer + PopDue), against the
// least a userspace wire must do per frame: copy it into a ring of buffers and hand it on.
// Each pipeline benchmark reports `vs_memcpy`, its rate as a fraction of the memcpy ring's
// for the same frame size, measured in the same process just before. Rates are per second of
// this thread's CPU time, so that a busy machine (other builds) does not skew the ratio.
#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <vector>

#include "benchmark/benchmark.h"
#include "daemon/wire/pipeline.h"

namespace nslab::wire {
namespace {

// This thread's CPU time, as Google Benchmark's "CPU" column counts it.
struct ThreadCpuClock {
  using duration = std::chrono::nanoseconds;
  using time_point = std::chrono::time_point<ThreadCpuClock>;
  static time_point now() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return time_point(std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec));
  }
};
using Clock = ThreadCpuClock;

constexpr size_t kRingSlots = 1024;
constexpr size_t kSlotBytes = 2048;

struct Result {
  double frames_per_second = 0;
};
std::map<std::string, std::map<int64_t, Result>>& Results() {
  static auto* results = new std::map<std::string, std::map<int64_t, Result>>();
  return *results;
}

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

void Report(benchmark::State& state, const std::string& name, Clock::duration elapsed) {
  const int64_t frame_bytes = state.range(0);
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * frame_bytes);
  const double fps = state.iterations() / Seconds(elapsed);
  Results()[name][frame_bytes].frames_per_second = fps;
  const auto& baseline = Results()["memcpy_ring"];
  if (name != "memcpy_ring" && baseline.count(frame_bytes) != 0) {
    state.counters["vs_memcpy"] = fps / baseline.at(frame_bytes).frames_per_second;
  }
}

// The baseline: copy each frame into the next buffer of a ring and hand it to a consumer.
void BM_MemcpyRing(benchmark::State& state) {
  const size_t frame_bytes = static_cast<size_t>(state.range(0));
  std::vector<std::byte> ring(kRingSlots * kSlotBytes);
  const std::vector<std::byte> frame(frame_bytes, std::byte{0x5a});
  size_t next = 0;
  uint64_t consumed = 0;
  const Clock::time_point start = Clock::now();
  for (auto _ : state) {
    std::byte* slot = ring.data() + (next++ % kRingSlots) * kSlotBytes;
    std::memcpy(slot, frame.data(), frame_bytes);
    benchmark::DoNotOptimize(slot);
    consumed += static_cast<uint8_t>(slot[frame_bytes - 1]);
    benchmark::ClobberMemory();
  }
  const Clock::duration elapsed = Clock::now() - start;
  benchmark::DoNotOptimize(consumed);
  Report(state, "memcpy_ring", elapsed);
}

// `flows` IPv4/UDP frames of `frame_bytes` (at least 42) that differ in their destination
// port; flows = 0 gives one frame of filler bytes, which is not IP.
std::vector<std::vector<std::byte>> Frames(size_t frame_bytes, int flows) {
  if (flows == 0) {
    return {std::vector<std::byte>(frame_bytes, std::byte{0x5a})};
  }
  std::vector<std::vector<std::byte>> frames;
  for (int flow = 0; flow < flows; ++flow) {
    std::vector<std::byte> frame(frame_bytes, std::byte{0x5a});
    const uint8_t header[] = {2,
                              0,
                              0,
                              0,
                              0,
                              2,
                              2,
                              0,
                              0,
                              0,
                              0,
                              1,
                              0x08,
                              0x00,  // Ethernet: IPv4
                              0x45,
                              0,
                              0,
                              0,
                              0,
                              0,
                              0,
                              0,
                              64,
                              17,
                              0,
                              0,  // IPv4: UDP, not fragmented
                              10,
                              0,
                              0,
                              1,
                              10,
                              0,
                              0,
                              2,  // 10.0.0.1 -> 10.0.0.2
                              0x9c,
                              0x40,
                              static_cast<uint8_t>(0x10 + flow / 256),
                              static_cast<uint8_t>(flow % 256)};
    std::memcpy(frame.data(), header, sizeof(header));
    frames.push_back(std::move(frame));
  }
  return frames;
}

// One frame offered every `step_ns` of simulated time, then everything due is popped. The
// frames go round `flows` UDP flows (see Frames).
void RunPipeline(benchmark::State& state, const std::string& name,
                 const nslab::v1::Impairment& impairment, int64_t step_ns, int flows = 0) {
  const size_t frame_bytes = static_cast<size_t>(state.range(0));
  absl::StatusOr<ImpairmentPipeline> pipeline = ImpairmentPipeline::Create(impairment, 42);
  if (!pipeline.ok()) {
    state.SkipWithError(std::string(pipeline.status().message()).c_str());
    return;
  }
  const std::vector<std::vector<std::byte>> frames = Frames(frame_bytes, flows);
  size_t next = 0;
  uint64_t consumed = 0;
  int64_t now_ns = 0;
  const Clock::time_point start = Clock::now();
  for (auto _ : state) {
    now_ns += step_ns;
    const TimePoint now = impair::FromNanos(now_ns);
    benchmark::DoNotOptimize(pipeline->Offer(frames[next], now));
    next = next + 1 == frames.size() ? 0 : next + 1;
    pipeline->PopDue(now, [&](std::span<const std::byte> out, TimePoint) {
      consumed += static_cast<uint8_t>(out.back());
    });
  }
  const Clock::duration elapsed = Clock::now() - start;
  benchmark::DoNotOptimize(consumed);
  const PipelineCounters& counters = pipeline->counters();
  state.counters["queue_depth"] = static_cast<double>(counters.queue_depth);
  state.counters["loss_pct"] =
      counters.offered == 0 ? 0 : 100.0 * counters.dropped_loss / counters.offered;
  state.counters["tail_drop_pct"] =
      counters.offered == 0 ? 0 : 100.0 * counters.dropped_queue_full / counters.offered;
  Report(state, name, elapsed);
}

void BM_PipelineNoImpairment(benchmark::State& state) {
  RunPipeline(state, "pipeline_none", nslab::v1::Impairment(), 1'000);
}

// 10 ms delay, 1% loss, 1 Gbit/s, frames offered at 90% of the rate: the delay queue holds
// about 10 ms of frames (~750 at 1500 bytes, ~17,500 at 64 bytes).
constexpr uint64_t kDelayLossRateBps = 1'000'000'000;

nslab::v1::Impairment DelayLossRate() {
  nslab::v1::Impairment impairment;
  impairment.set_delay_us(10'000);
  impairment.set_loss(1);
  impairment.set_rate_bps(kDelayLossRateBps);
  impairment.set_limit_packets(100'000);
  return impairment;
}

// Frames of state.range(0) bytes at 90% of DelayLossRate's rate.
int64_t DelayLossRateGapNs(const benchmark::State& state) {
  const int64_t serialization_ns = state.range(0) * 8 * 1'000'000'000LL / kDelayLossRateBps;
  return serialization_ns * 10 / 9;
}

void BM_PipelineDelayLossRate(benchmark::State& state) {
  RunPipeline(state, "pipeline_delay_loss_rate", DelayLossRate(), DelayLossRateGapNs(state));
}

// The same over 64 UDP flows taking turns: every frame is of another traffic class than
// the one before.
void BM_PipelineDelayLossRate64Flows(benchmark::State& state) {
  RunPipeline(state, "pipeline_delay_loss_rate_64_flows", DelayLossRate(),
              DelayLossRateGapNs(state), 64);
}

BENCHMARK(BM_MemcpyRing)->Arg(64)->Arg(1500);
BENCHMARK(BM_PipelineNoImpairment)->Arg(64)->Arg(1500);
BENCHMARK(BM_PipelineDelayLossRate)->Arg(64)->Arg(1500);
BENCHMARK(BM_PipelineDelayLossRate64Flows)->Arg(64)->Arg(1500);

void PrintSummary() {
  const auto& results = Results();
  if (results.count("memcpy_ring") == 0) {
    return;
  }
  std::printf("\nframes/s relative to the memcpy ring (same process):\n");
  for (const auto& [name, by_size] : results) {
    for (const auto& [bytes, result] : by_size) {
      const auto& baseline = results.at("memcpy_ring");
      if (baseline.count(bytes) == 0) {
        continue;
      }
      std::printf("  %-26s %5lld B  %8.2f Mframes/s  ratio %.3f\n", name.c_str(),
                  static_cast<long long>(bytes), result.frames_per_second / 1e6,
                  result.frames_per_second / baseline.at(bytes).frames_per_second);
    }
  }
}

}  // namespace
}  // namespace nslab::wire

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) {
    return 1;
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  nslab::wire::PrintSummary();
  return 0;
}
