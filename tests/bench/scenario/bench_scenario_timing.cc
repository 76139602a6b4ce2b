// Timing fidelity of the scenario engine (issue 14: "actual vs planned step offsets over a
// 100-step scenario — median and p99 lateness printed; aim p99 <= 5 ms"). A scenario of 100
// no-op actions, one every `spacing` ms, is played on the RealClock; each action notes when
// Apply was entered, and its lateness is that minus (the scenario's start + planned offset).
// The baseline is the least a scheduler must do: one thread in a plain loop of absl::SleepFor
// to the same offsets. `vs_sleep_for` is the engine's p99 over the baseline's, measured in the
// same process just before. Each iteration plays the whole scenario (1 s at 10 ms spacing).
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "benchmark/benchmark.h"
#include "daemon/scenario/engine/executor.h"

namespace nslab::scenario {
namespace {

constexpr int kSteps = 100;

struct Lateness {
  double median_us = 0;
  double p99_us = 0;
  double max_us = 0;
};

std::map<std::string, Lateness>& Results() {
  static auto* results = new std::map<std::string, Lateness>();
  return *results;
}

Lateness Summarize(std::vector<double> late_us) {
  std::sort(late_us.begin(), late_us.end());
  auto rank = [&](double q) {
    const size_t index = static_cast<size_t>(q * static_cast<double>(late_us.size() - 1) + 0.5);
    return late_us[std::min(index, late_us.size() - 1)];
  };
  return {.median_us = rank(0.5), .p99_us = rank(0.99), .max_us = late_us.back()};
}

void Report(benchmark::State& state, const std::string& name, std::vector<double> late_us) {
  const Lateness lateness = Summarize(std::move(late_us));
  Results()[name] = lateness;
  state.counters["median_us"] = lateness.median_us;
  state.counters["p99_us"] = lateness.p99_us;
  state.counters["max_us"] = lateness.max_us;
  if (name != "sleep_for" && Results().count("sleep_for") != 0) {
    state.counters["vs_sleep_for"] = lateness.p99_us / Results()["sleep_for"].p99_us;
  }
}

double Microseconds(absl::Duration d) { return absl::ToDoubleMicroseconds(d); }

// The baseline: one thread sleeping to each offset with absl::SleepFor.
void BM_SleepForLoop(benchmark::State& state) {
  const absl::Duration spacing = absl::Milliseconds(state.range(0));
  std::vector<double> late_us;
  for (auto _ : state) {
    const absl::Time start = absl::Now();
    for (int i = 0; i < kSteps; ++i) {
      const absl::Time planned = start + i * spacing;
      absl::SleepFor(planned - absl::Now());
      late_us.push_back(Microseconds(absl::Now() - planned));
    }
  }
  Report(state, "sleep_for", std::move(late_us));
}

// Notes when each action was entered; leaves nothing to undo.
class NoopActions final : public ActionRunner {
 public:
  absl::StatusOr<AppliedResult> Apply(const nslab::v1::Action& action,
                                      const ActionContext& /*context*/) override {
    const absl::Time now = absl::Now();
    absl::MutexLock lock(&mu_);
    applied_[action.exec().node()] = now;
    return AppliedResult{};
  }
  std::map<std::string, absl::Time> applied() {
    absl::MutexLock lock(&mu_);
    return applied_;
  }

 private:
  absl::Mutex mu_;
  std::map<std::string, absl::Time> applied_;
};

class NoProbes final : public ProbeFactory {
 public:
  absl::StatusOr<std::unique_ptr<Probe>> Make(const nslab::v1::Check&) override {
    return absl::UnimplementedError("the timing scenario has no checks");
  }
};

void BM_ScenarioRealClock(benchmark::State& state) {
  const uint32_t spacing_ms = static_cast<uint32_t>(state.range(0));
  nslab::v1::Scenario scenario;
  scenario.set_name("timing");
  for (int i = 0; i < kSteps; ++i) {
    nslab::v1::Step* step = scenario.add_steps();
    step->set_at_ms(static_cast<uint32_t>(i) * spacing_ms);
    step->mutable_action()->mutable_exec()->set_node(absl::StrCat("n", i));
  }
  std::vector<double> late_us;
  for (auto _ : state) {
    RealClock clock;
    NoopActions actions;
    NoProbes probes;
    Cancel cancel;
    Environment env{.clock = clock, .actions = actions, .probes = probes, .cancel = cancel};
    const nslab::v1::ScenarioReport report = RunScenario(scenario, 1, env);
    const std::map<std::string, absl::Time> applied = actions.applied();
    if (!report.passed() || applied.size() != kSteps) {
      state.SkipWithError(absl::StrCat("the scenario failed: ", report.error(), "; ",
                                       applied.size(), " of ", kSteps, " actions applied")
                              .c_str());
      return;
    }
    // The report's start is the instant every planned offset counts from.
    const absl::Time started = absl::FromUnixSeconds(report.started().seconds()) +
                               absl::Nanoseconds(report.started().nanos());
    for (const auto& step : report.steps()) {
      const absl::Time planned = started + absl::Milliseconds(step.planned().planned_ms());
      const std::string node = absl::StrCat("n", step.planned().planned_ms() / spacing_ms);
      late_us.push_back(Microseconds(applied.at(node) - planned));
    }
  }
  Report(state, "scenario", std::move(late_us));
}

// Each iteration plays 100 steps at the given spacing (ms): 1 s at 10 ms.
BENCHMARK(BM_SleepForLoop)->Arg(10)->Iterations(3)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_ScenarioRealClock)
    ->Arg(10)
    ->Iterations(3)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
// The smoke run (ctest): shorter spacing, one iteration each.
BENCHMARK(BM_SleepForLoop)->Name("smoke/sleep_for")->Arg(1)->Iterations(1);
BENCHMARK(BM_ScenarioRealClock)->Name("smoke/scenario")->Arg(1)->Iterations(1);

}  // namespace
}  // namespace nslab::scenario

int main(int argc, char** argv) {
  // --smoke: only the short runs, proving the program works (ctest); never figures to quote.
  bool smoke = false;
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    if (std::strcmp(argv[i], "--smoke") == 0) {
      smoke = true;
    } else {
      args.push_back(argv[i]);
    }
  }
  std::string filter = smoke ? "--benchmark_filter=^smoke/" : "--benchmark_filter=^BM_";
  args.push_back(filter.data());
  int count = static_cast<int>(args.size());
  benchmark::Initialize(&count, args.data());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  const auto& results = nslab::scenario::Results();
  if (results.count("scenario") != 0 && results.count("sleep_for") != 0) {
    const auto& engine = results.at("scenario");
    const auto& baseline = results.at("sleep_for");
    std::printf(
        "scenario step lateness (%d steps): median %.0f us, p99 %.0f us, max %.0f us "
        "(aim: p99 <= 5000 us)\n"
        "absl::SleepFor loop baseline:     median %.0f us, p99 %.0f us, max %.0f us; "
        "engine/baseline p99 ratio %.2f\n",
        nslab::scenario::kSteps, engine.median_us, engine.p99_us, engine.max_us, baseline.median_us,
        baseline.p99_us, baseline.max_us, engine.p99_us / std::max(baseline.p99_us, 1.0));
  }
  return 0;
}
