#include <chrono>

#include "absl/strings/str_cat.h"
#include "daemon/exec/run.h"
#include "daemon/lab/lab_registry.h"
#include "daemon/scenario/lab/actions.h"
#include "daemon/scenario/lab/lab_targets.h"

namespace nslab::scenario {

ActionHandler ExecActionHandler() {
  return {[](const nslab::v1::Topology& topology, const nslab::v1::Action& action) {
            return RequireNode(topology, action.exec().node());
          },
          [](LabContext& context, const nslab::v1::Action& action) -> absl::StatusOr<Applied> {
            const auto& exec = action.exec();
            auto netns = context.labs->NodeNamespace(context.lab, exec.node());
            if (!netns.ok()) {
              return netns.status();
            }
            exec::SpawnSpec spec;
            spec.netns = *netns;
            spec.argv.assign(exec.argv().begin(), exec.argv().end());
            exec::RunOptions options;
            options.timeout =
                std::chrono::milliseconds(exec.timeout_ms() == 0 ? 30000 : exec.timeout_ms());
            options.registry = context.processes;
            options.owner = context.lab;
            std::string output;
            options.on_output = [&output](exec::Stream, absl::string_view chunk) {
              if (output.size() < 4096) {
                absl::StrAppend(&output, chunk.substr(0, 4096 - output.size()));
              }
              return true;
            };
            auto exit = exec::Run(spec, options);
            if (!exit.ok()) {
              return exit.status();
            }
            std::string detail = exit->timed_out ? absl::StrCat("killed after its timeout")
                                                 : absl::StrCat("exit ", exit->code);
            if (!output.empty()) {
              absl::StrAppend(&detail, ": ", output);
            }
            return Applied{detail, nullptr};
          }};
}

}  // namespace nslab::scenario
