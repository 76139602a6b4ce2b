#include <iostream>

#include "client/commands.h"
#include "client/progress_watch.h"
#include "nslab/v1/labs.grpc.pb.h"

namespace nslab::client {

void AddDownCommand(CLI::App& app, const GlobalOptions& options, int& exit_code) {
  auto* cmd = app.add_subcommand("down", "Delete a lab and everything it made");
  static std::vector<std::string> names;
  static bool no_progress = false;
  cmd->add_option("lab", names, "Lab name(s)")->required();
  cmd->add_flag("--no-progress", no_progress,
                "Print no progress on stderr (shown for removals that take over half a second)");
  cmd->callback([&options, &exit_code] {
    auto channel = Connect(options);
    auto stub = nslab::v1::LabsService::NewStub(channel);
    for (const auto& name : names) {
      nslab::v1::DeleteLabRequest request;
      request.set_name(name);
      nslab::v1::DeleteLabResponse response;
      auto status = CallWithProgress(
          channel, name, ProgressWatch::Operation::kRemove, !no_progress,
          [&] { return stub->DeleteLab(NewContext(options).get(), request, &response); });
      if (!status.ok()) {
        exit_code = ReportError(status, options);
      }
    }
  });
}

}  // namespace nslab::client
