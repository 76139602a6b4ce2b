#include <iostream>

#include "absl/strings/str_join.h"
#include "client/commands.h"
#include "client/output.h"
#include "nslab/v1/labs.grpc.pb.h"

namespace nslab::client {

void AddLogsCommand(CLI::App& app, const GlobalOptions& options, int& exit_code) {
  auto* cmd = app.add_subcommand("logs", "Output of a node's supervised processes (run:)");
  static std::string lab;
  static std::string node;
  cmd->add_option("lab", lab, "Lab name")->required();
  cmd->add_option("node", node, "Node name")->required();
  cmd->callback([&options, &exit_code] {
    auto stub = nslab::v1::LabsService::NewStub(Connect(options));
    nslab::v1::GetLogsRequest request;
    request.set_lab(lab);
    request.set_node(node);
    nslab::v1::GetLogsResponse response;
    auto status = stub->GetLogs(NewContext(options).get(), request, &response);
    if (!status.ok()) {
      exit_code = ReportError(status, options);
      return;
    }
    if (PrintStructured(response, options.output)) {
      return;
    }
    for (const auto& process : response.processes()) {
      std::cout << "==> " << absl::StrJoin(process.argv(), " ") << " ("
                << (process.running() ? "running, pid " + std::to_string(process.pid())
                                      : "exited " + std::to_string(process.last_exit_code()))
                << ", restarts " << process.restarts() << ")"
                << (process.truncated() ? " [older output dropped]" : "") << "\n"
                << process.output();
      if (!process.output().empty() && process.output().back() != '\n') {
        std::cout << "\n";
      }
    }
  });
}

}  // namespace nslab::client
