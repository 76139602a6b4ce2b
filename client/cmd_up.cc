#include <iostream>

#include "client/commands.h"
#include "client/output.h"
#include "client/topology_file.h"
#include "nslab/v1/labs.grpc.pb.h"

namespace nslab::client {

void AddUpCommand(CLI::App& app, const GlobalOptions& options, int& exit_code) {
  auto* cmd = app.add_subcommand("up", "Build a lab from a topology file; prints its name");
  static std::string file;
  static std::string name;
  static bool dry_run = false;
  cmd->add_option("-t,--topology", file, "Topology file (YAML)")->required();
  cmd->add_flag("--dry-run", dry_run, "Validate and print what would be built; build nothing");
  cmd->add_option("--name", name, "Lab name (overrides the file's name:)");
  cmd->callback([&options, &exit_code] {
    auto request_or = RequestFromFile(file);
    if (!request_or) {
      exit_code = 2;
      return;
    }
    nslab::v1::CreateLabRequest request = std::move(*request_or);
    request.set_name(name);

    auto stub = nslab::v1::Labs::NewStub(Connect(options));
    if (dry_run) {
      nslab::v1::LabPlan plan;
      auto status = stub->PlanLab(NewContext(options).get(), request, &plan);
      if (!status.ok()) {
        exit_code = ReportError(status, options);
        return;
      }
      if (!PrintStructured(plan, options.output)) {
        std::cout << "lab " << plan.topology().name() << ": " << plan.steps_size()
                  << " steps (dry run, nothing built)\n";
        for (const auto& step : plan.steps()) {
          std::cout << "  " << step << "\n";
        }
      }
      return;
    }
    nslab::v1::Lab lab;
    auto status = stub->CreateLab(NewContext(options).get(), request, &lab);
    if (!status.ok()) {
      exit_code = ReportError(status, options);
      return;
    }
    if (!PrintStructured(lab, options.output)) {
      std::cout << lab.name() << "\n";
    }
  });
}

}  // namespace nslab::client
