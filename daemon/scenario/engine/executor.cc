#include "daemon/scenario/engine/executor.h"

#include <algorithm>
#include <atomic>
#include <list>
#include <optional>
#include <thread>
#include <tuple>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "daemon/common/status_macros.h"
#include "daemon/scenario/engine/check_run.h"

namespace nslab::scenario {
namespace {

using nslab::v1::LabEvent;
using nslab::v1::LabEventKind;
using nslab::v1::PlannedStep;
using nslab::v1::ScenarioReport;
using nslab::v1::StepResult;

// Top-level steps get their thread this long before their start, so that starting a thread
// never makes a step late and idle threads do not pile up for steps far in the future.
constexpr absl::Duration kThreadLead = absl::Milliseconds(20);

void SetTimestamp(absl::Time time, google::protobuf::Timestamp& out) {
  const int64_t nanos = absl::ToUnixNanos(time);
  const int64_t seconds = nanos >= 0 ? nanos / 1'000'000'000 : (nanos + 1) / 1'000'000'000 - 1;
  out.set_seconds(seconds);
  out.set_nanos(static_cast<int32_t>(nanos - seconds * 1'000'000'000));
}

absl::Status PrefixStatus(const absl::Status& status, const TimedStep& step) {
  std::string where = step.path;
  if (step.kind == TimedStep::Kind::kCheck) {
    absl::StrAppend(&where, " (check ", step.check.name(), ")");
  }
  return absl::Status(status.code(), absl::StrCat(where, ": ", status.message()));
}

absl::Status PrepareSteps(const std::vector<TimedStep>& steps, ActionRunner& actions,
                          ProbeFactory& factory, std::vector<std::unique_ptr<Probe>>& probes) {
  for (const TimedStep& step : steps) {
    switch (step.kind) {
      case TimedStep::Kind::kAction:
        if (absl::Status status = actions.Prepare(step.action); !status.ok()) {
          return PrefixStatus(status, step);
        }
        break;
      case TimedStep::Kind::kCheck: {
        absl::StatusOr<std::unique_ptr<Probe>> probe = factory.Make(step.check);
        if (!probe.ok()) {
          return PrefixStatus(probe.status(), step);
        }
        if (*probe == nullptr) {
          return absl::InternalError(absl::StrCat(step.path, ": the probe factory made no probe"));
        }
        probes[step.check_index] = std::move(*probe);
        break;
      }
      case TimedStep::Kind::kParallel:
      case TimedStep::Kind::kSerial:
        NSLAB_RETURN_IF_ERROR(PrepareSteps(step.members, actions, factory, probes));
        break;
    }
  }
  return absl::OkStatus();
}

// The checks in file order (their check_index order).
void CollectChecks(const std::vector<TimedStep>& steps, std::vector<const TimedStep*>& out) {
  for (const TimedStep& step : steps) {
    if (step.kind == TimedStep::Kind::kCheck) {
      out.push_back(&step);
    } else {
      CollectChecks(step.members, out);
    }
  }
}

// One play of a prepared scenario: the threads' shared record of what happened.
class Player {
 public:
  Player(PreparedScenario& prepared, Environment& env) : prepared_(prepared), env_(env) {}

  ScenarioReport Play();

 private:
  struct Applied {
    const TimedStep* step;
    std::unique_ptr<AppliedAction> undo;
  };
  struct Recorded {
    absl::Time actual;
    StepResult result;
  };

  void ScheduleTopLevel();
  absl::Time RunStep(const TimedStep& step, absl::Time scheduled);
  void RunAction(const TimedStep& step, absl::Time scheduled);
  void RunCheck(const TimedStep& step, absl::Time scheduled);
  void RunParallel(const TimedStep& step, absl::Time scheduled);
  absl::Time RunSerial(const TimedStep& step, absl::Time scheduled);
  // Takes `step`'s applied action off the stack, if the final sweep did not take it already.
  std::optional<Applied> TakeApplied(const TimedStep& step);
  void Undo(Applied applied, uint32_t planned_ms);
  void UndoEverything();

  PlannedStep Planned(const TimedStep& step, nslab::v1::StepKind kind, uint32_t planned_ms) const;
  void Record(Recorded recorded);
  void Emit(LabEventKind kind, const std::string& subject, const std::string& message,
            absl::Time at, const std::string& node = "");
  absl::Time Scheduled(const TimedStep& step) const {
    return start_ + absl::Milliseconds(step.start_ms);
  }

  PreparedScenario& prepared_;
  Environment& env_;
  absl::Time start_;

  absl::Mutex events_mu_;
  absl::Mutex mu_;
  std::vector<Recorded> steps_ ABSL_GUARDED_BY(mu_);
  std::vector<nslab::v1::CheckResult> checks_ ABSL_GUARDED_BY(mu_);
  std::list<Applied> applied_ ABSL_GUARDED_BY(mu_);  // in the order they were applied
  bool step_failed_ ABSL_GUARDED_BY(mu_) = false;
};

ScenarioReport Player::Play() {
  ScenarioReport report;
  report.set_name(prepared_.name);
  report.set_lab(env_.lab);
  report.set_seed(prepared_.seed);
  std::vector<const TimedStep*> checks;
  CollectChecks(prepared_.timeline, checks);
  for (const TimedStep* check : checks) {
    absl::Status status = prepared_.probes[check->check_index]->Baseline();
    if (!status.ok()) {
      report.set_error(absl::StrCat(PrefixStatus(status, *check).message(), " (its baseline)"));
      return report;
    }
  }
  {
    // What a check that never started (the scenario was cancelled first) reports.
    absl::MutexLock lock(&mu_);
    for (const TimedStep* check : checks) {
      nslab::v1::CheckResult& result = checks_.emplace_back();
      result.set_name(check->check.name());
      result.set_path(check->path);
      result.set_expected(env_.text.Expectation(check->check, check->for_ms));
      result.set_seen("not run: the scenario ended before its start");
      result.set_started_ms(static_cast<uint32_t>(check->start_ms));
    }
  }
  start_ = env_.clock.Now();
  SetTimestamp(start_, *report.mutable_started());
  Emit(nslab::v1::LAB_EVENT_KIND_SCENARIO_STARTED, prepared_.name,
       absl::StrCat("scenario ", prepared_.name, " started (seed ", prepared_.seed, ")"), start_);

  ScheduleTopLevel();
  UndoEverything();

  const absl::Time end = env_.clock.Now();
  absl::MutexLock lock(&mu_);
  std::sort(steps_.begin(), steps_.end(), [](const Recorded& a, const Recorded& b) {
    return std::forward_as_tuple(a.actual, a.result.planned().planned_ms(),
                                 a.result.planned().path(), a.result.planned().kind()) <
           std::forward_as_tuple(b.actual, b.result.planned().planned_ms(),
                                 b.result.planned().path(), b.result.planned().kind());
  });
  for (Recorded& recorded : steps_) {
    *report.add_steps() = std::move(recorded.result);
  }
  bool passed = !step_failed_;
  for (nslab::v1::CheckResult& check : checks_) {
    passed = passed && check.passed();
    *report.add_checks() = std::move(check);
  }
  if (env_.cancel.requested()) {
    report.set_error(absl::StrCat("cancelled; every applied action was undone by ",
                                  OffsetMs(start_, end), " ms"));
    passed = false;
  }
  report.set_passed(passed);
  report.set_duration_ms(OffsetMs(start_, end));
  Emit(nslab::v1::LAB_EVENT_KIND_SCENARIO_ENDED, prepared_.name,
       absl::StrCat("scenario ", prepared_.name, passed ? " passed" : " failed",
                    report.error().empty() ? "" : ": ", report.error()),
       end);
  return report;
}

void Player::ScheduleTopLevel() {
  std::vector<const TimedStep*> order;
  for (const TimedStep& step : prepared_.timeline) {
    order.push_back(&step);
  }
  std::stable_sort(order.begin(), order.end(), [](const TimedStep* a, const TimedStep* b) {
    return a->start_ms < b->start_ms;
  });
  struct Running {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };
  std::vector<Running> running;
  auto join_finished = [&](bool all) {
    for (auto it = running.begin(); it != running.end();) {
      if (all || it->done->load()) {
        env_.clock.JoinThread(it->thread);
        it = running.erase(it);
      } else {
        ++it;
      }
    }
  };
  for (const TimedStep* step : order) {
    join_finished(false);
    if (!env_.clock.SleepUntil(Scheduled(*step) - kThreadLead, env_.cancel)) {
      break;
    }
    auto done = std::make_shared<std::atomic<bool>>(false);
    running.push_back({env_.clock.StartThread([this, step, done] {
                         RunStep(*step, Scheduled(*step));
                         done->store(true);
                       }),
                       done});
  }
  join_finished(true);
}

absl::Time Player::RunStep(const TimedStep& step, absl::Time scheduled) {
  if (!env_.clock.SleepUntil(scheduled, env_.cancel)) {
    return env_.clock.Now();
  }
  switch (step.kind) {
    case TimedStep::Kind::kAction:
      RunAction(step, scheduled);
      break;
    case TimedStep::Kind::kCheck:
      RunCheck(step, scheduled);
      break;
    case TimedStep::Kind::kParallel:
      RunParallel(step, scheduled);
      break;
    case TimedStep::Kind::kSerial:
      return RunSerial(step, scheduled);
  }
  return env_.clock.Now();
}

void Player::RunAction(const TimedStep& step, absl::Time scheduled) {
  // Nothing before Apply but reading the clock: the step's start is what timing measures.
  const absl::Time actual = env_.clock.Now();
  absl::StatusOr<AppliedResult> applied = env_.actions.Apply(
      step.action, {.path = step.path, .seed = StepSeed(prepared_.seed, step.path)});
  const absl::Time ended = env_.clock.Now();
  const std::string description = env_.text.Action(step.action);

  Recorded recorded;
  recorded.actual = actual;
  *recorded.result.mutable_planned() =
      Planned(step, nslab::v1::STEP_KIND_ACTION, static_cast<uint32_t>(step.start_ms));
  recorded.result.set_actual_ms(OffsetMs(start_, actual));
  recorded.result.set_duration_ms(OffsetMs(actual, ended));
  recorded.result.set_ok(applied.ok());
  bool undo_pending = false;
  if (applied.ok()) {
    recorded.result.set_detail(applied->detail);
    if (applied->undo != nullptr) {
      absl::MutexLock lock(&mu_);
      applied_.push_back({.step = &step, .undo = std::move(applied->undo)});
      undo_pending = true;
    }
  } else {
    recorded.result.set_error(std::string(applied.status().message()));
  }
  const std::string message =
      applied.ok() ? (applied->detail.empty() ? description
                                              : absl::StrCat(description, ": ", applied->detail))
                   : absl::StrCat(description, " failed: ", applied.status().message());
  Record(std::move(recorded));
  Emit(
      applied.ok() ? nslab::v1::LAB_EVENT_KIND_STEP_APPLIED : nslab::v1::LAB_EVENT_KIND_STEP_FAILED,
      step.path, message, actual);

  // Waiting out `for` even after a failure keeps a serial group's later members on time.
  if (step.for_ms == 0 ||
      !env_.clock.SleepUntil(scheduled + absl::Milliseconds(step.for_ms), env_.cancel)) {
    return;  // on cancel, the final sweep undoes it in reverse order with the others
  }
  if (undo_pending) {
    if (std::optional<Applied> taken = TakeApplied(step)) {
      Undo(std::move(*taken), static_cast<uint32_t>(step.end_ms));
    }
  }
}

std::optional<Player::Applied> Player::TakeApplied(const TimedStep& step) {
  absl::MutexLock lock(&mu_);
  for (auto it = applied_.begin(); it != applied_.end(); ++it) {
    if (it->step == &step) {
      Applied taken = std::move(*it);
      applied_.erase(it);
      return taken;
    }
  }
  return std::nullopt;
}

void Player::Undo(Applied applied, uint32_t planned_ms) {
  const TimedStep& step = *applied.step;
  const std::string description = absl::StrCat("undo ", env_.text.Action(step.action));
  const absl::Time actual = env_.clock.Now();
  const absl::Status status = applied.undo->Undo();
  const absl::Time ended = env_.clock.Now();
  Recorded recorded;
  recorded.actual = actual;
  *recorded.result.mutable_planned() = Planned(step, nslab::v1::STEP_KIND_UNDO, planned_ms);
  recorded.result.set_actual_ms(OffsetMs(start_, actual));
  recorded.result.set_duration_ms(OffsetMs(actual, ended));
  recorded.result.set_ok(status.ok());
  recorded.result.set_error(std::string(status.message()));
  Record(std::move(recorded));
  Emit(status.ok() ? nslab::v1::LAB_EVENT_KIND_STEP_UNDONE : nslab::v1::LAB_EVENT_KIND_STEP_FAILED,
       step.path,
       status.ok() ? description : absl::StrCat(description, " failed: ", status.message()),
       actual);
}

void Player::UndoEverything() {
  const uint32_t scenario_end_ms = static_cast<uint32_t>(PlannedEndMs(prepared_.timeline));
  while (true) {
    std::optional<Applied> last;
    {
      absl::MutexLock lock(&mu_);
      if (applied_.empty()) {
        return;
      }
      last = std::move(applied_.back());
      applied_.pop_back();
    }
    const TimedStep& step = *last->step;
    Undo(std::move(*last), step.for_ms != 0 ? static_cast<uint32_t>(step.end_ms) : scenario_end_ms);
  }
}

void Player::RunCheck(const TimedStep& step, absl::Time scheduled) {
  Probe& probe = *prepared_.probes[step.check_index];
  CheckRun run =
      PlayCheck(step.check, step.for_ms, scheduled, start_, probe, env_.clock, env_.cancel);

  nslab::v1::CheckResult result;
  result.set_name(step.check.name());
  result.set_path(step.path);
  result.set_passed(run.passed);
  result.set_expected(env_.text.Expectation(step.check, step.for_ms));
  result.set_seen(run.seen);
  result.set_started_ms(OffsetMs(start_, scheduled));
  result.set_duration_ms(OffsetMs(scheduled, run.ended));
  for (nslab::v1::CheckAttempt& attempt : run.attempts.Kept()) {
    *result.add_attempts() = std::move(attempt);
  }

  Recorded recorded;
  recorded.actual = scheduled;
  *recorded.result.mutable_planned() =
      Planned(step, nslab::v1::STEP_KIND_CHECK, static_cast<uint32_t>(step.start_ms));
  recorded.result.set_actual_ms(OffsetMs(start_, scheduled));
  recorded.result.set_duration_ms(result.duration_ms());
  recorded.result.set_ok(run.passed);
  recorded.result.set_detail(run.seen);
  const std::string message = absl::StrCat(result.expected(), ": ", run.seen);
  {
    absl::MutexLock lock(&mu_);
    checks_[step.check_index] = std::move(result);
  }
  Record(std::move(recorded));
  Emit(run.passed ? nslab::v1::LAB_EVENT_KIND_CHECK_PASSED : nslab::v1::LAB_EVENT_KIND_CHECK_FAILED,
       step.check.name(), message, run.ended, step.check.from());
}

void Player::RunParallel(const TimedStep& step, absl::Time scheduled) {
  // Members keep their offsets from the group's start, also when the group starts late.
  const absl::Duration delay = scheduled - Scheduled(step);
  std::vector<std::thread> members;
  for (const TimedStep& member : step.members) {
    members.push_back(env_.clock.StartThread(
        [this, &member, delay] { RunStep(member, Scheduled(member) + delay); }));
  }
  for (std::thread& member : members) {
    env_.clock.JoinThread(member);
  }
}

absl::Time Player::RunSerial(const TimedStep& step, absl::Time scheduled) {
  const absl::Duration delay = scheduled - Scheduled(step);
  absl::Time previous_end = scheduled;
  for (const TimedStep& member : step.members) {
    if (env_.cancel.requested()) {
      break;
    }
    // Planned time, or later when the previous member ran past its planned end.
    const absl::Time member_start =
        std::max(Scheduled(member) + delay,
                 previous_end + absl::Milliseconds(member.at_ms + uint64_t{member.jitter_ms}));
    previous_end = RunStep(member, member_start);
  }
  return env_.clock.Now();
}

PlannedStep Player::Planned(const TimedStep& step, nslab::v1::StepKind kind,
                            uint32_t planned_ms) const {
  PlannedStep planned;
  planned.set_path(step.path);
  planned.set_kind(kind);
  planned.set_planned_ms(planned_ms);
  planned.set_jitter_ms(step.jitter_ms);
  switch (kind) {
    case nslab::v1::STEP_KIND_ACTION:
      planned.set_description(env_.text.Action(step.action));
      break;
    case nslab::v1::STEP_KIND_UNDO:
      planned.set_description(absl::StrCat("undo ", env_.text.Action(step.action)));
      break;
    default:
      planned.set_description(env_.text.Check(step.check));
      break;
  }
  return planned;
}

void Player::Record(Recorded recorded) {
  absl::MutexLock lock(&mu_);
  if (!recorded.result.ok() && recorded.result.planned().kind() != nslab::v1::STEP_KIND_CHECK) {
    step_failed_ = true;
  }
  steps_.push_back(std::move(recorded));
}

void Player::Emit(LabEventKind kind, const std::string& subject, const std::string& message,
                  absl::Time at, const std::string& node) {
  if (!env_.on_event) {
    return;
  }
  LabEvent event;
  SetTimestamp(env_.clock.Now(), *event.mutable_time());
  event.set_lab(env_.lab);
  event.set_kind(kind);
  event.set_node(node);
  event.set_subject(subject);
  event.set_message(message);
  event.set_scenario_ms(OffsetMs(start_, at));
  absl::MutexLock lock(&events_mu_);
  env_.on_event(event);
}

}  // namespace

absl::StatusOr<PreparedScenario> PrepareScenario(const nslab::v1::Scenario& scenario, uint64_t seed,
                                                 ActionRunner& actions, ProbeFactory& probes) {
  PreparedScenario prepared;
  prepared.name = scenario.name();
  prepared.seed = seed;
  NSLAB_ASSIGN_OR_RETURN(prepared.timeline, TimeScenario(scenario, seed));
  std::vector<const TimedStep*> checks;
  CollectChecks(prepared.timeline, checks);
  prepared.probes.resize(checks.size());
  NSLAB_RETURN_IF_ERROR(PrepareSteps(prepared.timeline, actions, probes, prepared.probes));
  return prepared;
}

ScenarioReport RunPrepared(PreparedScenario prepared, Environment& environment) {
  ScenarioReport report;
  Player player(prepared, environment);
  // Played on a thread of the clock's, so that a VirtualClock counts it among those that act.
  std::thread main = environment.clock.StartThread([&] { report = player.Play(); });
  environment.clock.JoinThread(main);
  return report;
}

ScenarioReport RunScenario(const nslab::v1::Scenario& scenario, uint64_t seed,
                           Environment& environment) {
  absl::StatusOr<PreparedScenario> prepared =
      PrepareScenario(scenario, seed, environment.actions, environment.probes);
  if (!prepared.ok()) {
    ScenarioReport report;
    report.set_name(scenario.name());
    report.set_lab(environment.lab);
    report.set_seed(seed);
    report.set_error(std::string(prepared.status().message()));
    return report;
  }
  return RunPrepared(std::move(*prepared), environment);
}

}  // namespace nslab::scenario
