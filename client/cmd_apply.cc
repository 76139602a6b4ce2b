#include <iostream>

#include "client/commands.h"
#include "client/output.h"
#include "client/topology_file.h"
#include "nslab/v1/labs.grpc.pb.h"

namespace nslab::client {

void AddApplyCommand(CLI::App& app, const GlobalOptions& options, int& exit_code) {
  auto* cmd = app.add_subcommand(
      "apply", "Change a running lab to a topology file, touching only what differs");
  static std::string lab;
  static std::string file;
  static bool dry_run = false;
  cmd->add_option("lab", lab, "Lab name")->required();
  cmd->add_option("-t,--topology", file, "Topology file (YAML)")->required();
  cmd->add_flag("--dry-run", dry_run,
                "Print what would change (+ add, - remove, ~ change, ! "
                "make again); change nothing");
  cmd->callback([&options, &exit_code] {
    auto create = RequestFromFile(file);
    if (!create) {
      exit_code = 2;
      return;
    }
    nslab::v1::ApplyLabRequest request;
    request.set_name(lab);
    *request.mutable_topology_yaml() = create->topology_yaml();
    *request.mutable_files() = create->files();
    request.set_dry_run(dry_run);
    request.set_view(options.output == "table" ? nslab::v1::LAB_VIEW_BASIC
                                               : nslab::v1::LAB_VIEW_FULL);
    auto stub = nslab::v1::LabsService::NewStub(Connect(options));
    nslab::v1::ApplyLabResponse response;
    auto status =
        ExplainSizeRefusal(stub->ApplyLab(NewContext(options).get(), request, &response), file);
    if (!status.ok()) {
      exit_code = ReportError(status, options);
      return;
    }
    if (PrintStructured(response, options.output)) {
      return;
    }
    for (const auto& change : response.changes()) {
      std::cout << change.text() << "\n";
    }
    if (response.changes().empty()) {
      std::cout << "lab " << lab << " already matches " << file << "\n";
    } else if (dry_run) {
      std::cout << response.changes_size() << " changes (dry run, nothing changed)\n";
    } else {
      std::cout << response.changes_size() << " changes applied to lab " << lab << "\n";
    }
  });
}

}  // namespace nslab::client
