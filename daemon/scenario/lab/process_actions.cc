#include <csignal>

#include "absl/strings/str_cat.h"
#include "daemon/exec/supervisor.h"
#include "daemon/scenario/lab/actions.h"
#include "daemon/scenario/lab/lab_targets.h"
#include "daemon/scenario/spec/signals.h"

namespace nslab::scenario {
namespace {

absl::Status CheckProcess(const nslab::v1::Topology& topology, const nslab::v1::ProcessAction& a) {
  if (auto status = RequireProcess(topology, a.node(), a.process()); !status.ok()) {
    return status;
  }
  return SignalNumber(a.signal().empty() ? "KILL" : a.signal()).status();
}

std::string Target(const nslab::v1::ProcessAction& action) {
  return absl::StrCat(action.node(), action.process().empty() ? "" : ":", action.process());
}

}  // namespace

ActionHandler KillHandler() {
  return {[](const nslab::v1::Topology& topology, const nslab::v1::Action& action) {
            return CheckProcess(topology, action.kill());
          },
          [](LabContext& context, const nslab::v1::Action& action) -> absl::StatusOr<Applied> {
            const auto& kill = action.kill();
            const std::string name = kill.signal().empty() ? "KILL" : kill.signal();
            auto signal = SignalNumber(name);
            if (!signal.ok()) {
              return signal.status();
            }
            if (auto status =
                    context.supervisor->Signal(context.lab, kill.node(), kill.process(), *signal);
                !status.ok()) {
              return status;
            }
            return Applied{absl::StrCat("sent SIG", name, " to ", Target(kill)), nullptr};
          }};
}

ActionHandler RestartHandler() {
  return {[](const nslab::v1::Topology& topology, const nslab::v1::Action& action) {
            return CheckProcess(topology, action.restart());
          },
          [](LabContext& context, const nslab::v1::Action& action) -> absl::StatusOr<Applied> {
            const auto& restart = action.restart();
            const std::string name = restart.signal().empty() ? "TERM" : restart.signal();
            auto signal = SignalNumber(name);
            if (!signal.ok()) {
              return signal.status();
            }
            if (auto status = context.supervisor->Restart(context.lab, restart.node(),
                                                          restart.process(), *signal);
                !status.ok()) {
              return status;
            }
            return Applied{absl::StrCat("restarted ", Target(restart)), nullptr};
          }};
}

}  // namespace nslab::scenario
