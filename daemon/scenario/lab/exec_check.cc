#include <chrono>
#include <memory>

#include "absl/strings/str_cat.h"
#include "daemon/exec/run.h"
#include "daemon/lab/lab_registry.h"
#include "daemon/scenario/lab/lab_targets.h"
#include "daemon/scenario/lab/probes.h"

namespace nslab::scenario {
namespace {

class ExecProbe : public Probe {
 public:
  ExecProbe(exec::SpawnSpec spec, int expected_exit, exec::ProcessRegistry* processes,
            std::string lab)
      : spec_(std::move(spec)),
        expected_exit_(expected_exit),
        processes_(processes),
        lab_(std::move(lab)) {}

  ProbeOutcome Attempt(absl::Duration timeout) override {
    exec::RunOptions options;
    options.timeout = std::chrono::milliseconds(absl::ToInt64Milliseconds(timeout));
    options.registry = processes_;
    options.owner = lab_;
    std::string output;
    options.on_output = [&output](exec::Stream, absl::string_view chunk) {
      if (output.size() < 200) {
        absl::StrAppend(&output, chunk.substr(0, 200 - output.size()));
      }
      return true;
    };
    auto exit = exec::Run(spec_, options);
    if (!exit.ok()) {
      return {false, std::string(exit.status().message())};
    }
    if (exit->timed_out) {
      return {false, absl::StrCat("killed after ", absl::FormatDuration(timeout))};
    }
    std::string observed = absl::StrCat("exit ", exit->code);
    if (!output.empty()) {
      absl::StrAppend(&observed, ": ", output);
    }
    return {exit->code == expected_exit_, observed};
  }

 private:
  exec::SpawnSpec spec_;
  int expected_exit_;
  exec::ProcessRegistry* processes_;
  std::string lab_;
};

}  // namespace

ProbeHandler ExecProbeHandler() {
  return {[](const nslab::v1::Topology& topology, const nslab::v1::Check& check) {
            if (check.from().empty()) {
              return absl::InvalidArgumentError(
                  absl::StrCat("check ", check.name(), ": from: names the node to run in"));
            }
            return RequireNode(topology, check.from());
          },
          [](LabContext& context,
             const nslab::v1::Check& check) -> absl::StatusOr<std::unique_ptr<Probe>> {
            auto netns = context.labs->NodeNamespace(context.lab, check.from());
            if (!netns.ok()) {
              return netns.status();
            }
            exec::SpawnSpec spec;
            spec.netns = *netns;
            spec.argv.assign(check.exec().argv().begin(), check.exec().argv().end());
            return std::make_unique<ExecProbe>(std::move(spec), check.exec().exit(),
                                               context.processes, context.lab);
          }};
}

}  // namespace nslab::scenario
