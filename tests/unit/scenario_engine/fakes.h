#pragma once

// Fakes for the scenario engine's tests: an action runner and probes that record what they
// were asked, with virtual timestamps, and take virtual time by sleeping on the clock.

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "daemon/scenario/engine/action_runner.h"
#include "daemon/scenario/engine/probe.h"
#include "daemon/scenario/engine/virtual_clock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "nslab/v1/scenario.pb.h"

namespace nslab::scenario::testing {

// Milliseconds since the VirtualClock's start.
inline int64_t VirtualMs(Clock& clock) {
  return absl::ToInt64Milliseconds(clock.Now() - VirtualClock::kDefaultStart);
}

inline nslab::v1::Scenario ParseScenario(const std::string& text) {
  nslab::v1::Scenario scenario;
  if (!google::protobuf::TextFormat::ParseFromString(text, &scenario)) {
    ADD_FAILURE() << "not a Scenario in text format:\n" << text;
  }
  return scenario;
}

// One call a fake saw: "apply a", "undo a", "attempt web", "baseline web"; at virtual ms.
struct Call {
  std::string what;
  int64_t at_ms;
  bool operator==(const Call&) const = default;
};
inline std::ostream& operator<<(std::ostream& out, const Call& call) {
  return out << "{" << call.what << " @" << call.at_ms << "}";
}

class CallLog {
 public:
  void Add(std::string what, int64_t at_ms) {
    absl::MutexLock lock(&mu_);
    calls_.push_back({std::move(what), at_ms});
  }
  std::vector<Call> calls() const {
    absl::MutexLock lock(&mu_);
    return calls_;
  }
  // The calls whose text starts with `prefix`.
  std::vector<Call> Matching(const std::string& prefix) const {
    std::vector<Call> out;
    for (const Call& call : calls()) {
      if (call.what.rfind(prefix, 0) == 0) {
        out.push_back(call);
      }
    }
    return out;
  }

 private:
  mutable absl::Mutex mu_;
  std::vector<Call> calls_;
};

// Actions are named by exec.node ("exec { node: 'a' }"): "fail*" fail, "cancel" requests the
// scenario's cancel, "slow*" take 700 ms; the others succeed at once and leave an undo.
class FakeActions final : public ActionRunner {
 public:
  FakeActions(Clock& clock, CallLog& log, Cancel* cancel = nullptr)
      : clock_(clock), log_(log), cancel_(cancel) {}

  absl::StatusOr<AppliedResult> Apply(const nslab::v1::Action& action,
                                      const ActionContext& /*context*/) override {
    const std::string name = action.exec().node();
    log_.Add("apply " + name, VirtualMs(clock_));
    if (name.rfind("fail", 0) == 0) {
      return absl::UnavailableError("the fake was told to fail");
    }
    if (name == "cancel" && cancel_ != nullptr) {
      cancel_->Request();
      return AppliedResult{.detail = "cancel requested", .undo = nullptr};
    }
    if (name.rfind("slow", 0) == 0) {
      Cancel never;
      clock_.SleepUntil(clock_.Now() + absl::Milliseconds(700), never);
    }
    return AppliedResult{.detail = "did " + name, .undo = std::make_unique<FakeUndo>(*this, name)};
  }

 private:
  class FakeUndo final : public AppliedAction {
   public:
    FakeUndo(FakeActions& actions, std::string name) : actions_(actions), name_(std::move(name)) {}
    absl::Status Undo() override {
      actions_.log_.Add("undo " + name_, VirtualMs(actions_.clock_));
      return absl::OkStatus();
    }

   private:
    FakeActions& actions_;
    std::string name_;
  };

  Clock& clock_;
  CallLog& log_;
  Cancel* cancel_;
};

// How a fake probe answers: attempt i gets outcomes[min(i, size - 1)] after `takes` of virtual
// time (cut to the attempt's timeout).
struct ProbeScript {
  std::vector<bool> outcomes = {true};
  absl::Duration takes = absl::ZeroDuration();
};

class FakeProbes final : public ProbeFactory {
 public:
  FakeProbes(Clock& clock, CallLog& log) : clock_(clock), log_(log) {}

  void Script(const std::string& check, ProbeScript script) { scripts_[check] = script; }

  absl::StatusOr<std::unique_ptr<Probe>> Make(const nslab::v1::Check& check) override {
    if (check.from() == "missing") {
      return absl::NotFoundError("the lab has no node \"missing\"");
    }
    auto it = scripts_.find(check.name());
    return std::make_unique<FakeProbe>(clock_, log_, check.name(),
                                       it == scripts_.end() ? ProbeScript{} : it->second);
  }

 private:
  class FakeProbe final : public Probe {
   public:
    FakeProbe(Clock& clock, CallLog& log, std::string name, ProbeScript script)
        : clock_(clock), log_(log), name_(std::move(name)), script_(std::move(script)) {}
    absl::Status Baseline() override {
      log_.Add("baseline " + name_, VirtualMs(clock_));
      return absl::OkStatus();
    }
    ProbeOutcome Attempt(absl::Duration timeout) override {
      log_.Add("attempt " + name_, VirtualMs(clock_));
      const bool ok = script_.outcomes[std::min(attempts_++, script_.outcomes.size() - 1)];
      if (script_.takes > absl::ZeroDuration()) {
        Cancel never;
        clock_.SleepUntil(clock_.Now() + std::min(script_.takes, timeout), never);
        if (script_.takes > timeout) {
          return {.ok = false, .observed = "timed out"};
        }
      }
      return {.ok = ok, .observed = ok ? "connected" : "refused"};
    }

   private:
    Clock& clock_;
    CallLog& log_;
    std::string name_;
    ProbeScript script_;
    size_t attempts_ = 0;
  };

  Clock& clock_;
  CallLog& log_;
  std::map<std::string, ProbeScript> scripts_;
};

// Runs `body` on its own thread and aborts the test program, loudly, if it has not returned
// after `wall_limit` of real time: a bug in the engine or the virtual clock then fails the
// test instead of hanging it. Not a timing assertion: virtual runs take milliseconds.
template <typename T>
T WithinWallLimit(std::function<T()> body, absl::Duration wall_limit = absl::Seconds(20)) {
  absl::Notification done;
  T result;
  std::thread thread([&] {
    result = body();
    done.Notify();
  });
  if (!done.WaitForNotificationWithTimeout(wall_limit)) {
    std::fprintf(stderr, "the scenario did not end within %s of real time: it hangs\n",
                 absl::FormatDuration(wall_limit).c_str());
    std::abort();
  }
  thread.join();
  return result;
}

}  // namespace nslab::scenario::testing
