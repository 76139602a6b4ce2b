#include <iostream>

#include "client/commands.h"
#include "client/topology_file.h"
#include "nslab/v1/labs.grpc.pb.h"

namespace nslab::client {

void AddGraphCommand(CLI::App& app, const GlobalOptions& options, int& exit_code) {
  auto* cmd = app.add_subcommand("graph", "A lab or topology file as Graphviz DOT or Mermaid");
  static std::string lab;
  static std::string file;
  static std::string format = "dot";
  cmd->add_option("lab", lab, "A running lab");
  cmd->add_option("-t,--topology", file, "Or a topology file");
  cmd->add_option("--format", format, "dot or mermaid")
      ->check(CLI::IsMember({"dot", "mermaid"}))
      ->capture_default_str();
  cmd->footer("Example: nslab graph -t topologies/quickstart.yaml | dot -Tsvg > lab.svg");
  cmd->callback([&options, &exit_code] {
    auto stub = nslab::v1::LabsService::NewStub(Connect(options));
    nslab::v1::CreateLabRequest request;
    if (!file.empty()) {
      auto from_file = RequestFromFile(file);
      if (!from_file) {
        exit_code = 2;
        return;
      }
      request = std::move(*from_file);
    } else if (!lab.empty()) {
      nslab::v1::GetLabRequest get;
      get.set_name(lab);
      nslab::v1::GetLabResponse running;
      auto status = stub->GetLab(NewContext(options).get(), get, &running);
      if (!status.ok()) {
        exit_code = ReportError(status, options);
        return;
      }
      *request.mutable_topology() = running.lab().topology();
    } else {
      std::cerr << "nslab graph: give a lab name or -t FILE\n";
      exit_code = 2;
      return;
    }
    nslab::v1::PlanLabResponse plan;
    auto status = ExplainSizeRefusal(
        stub->PlanLab(NewContext(options).get(), PlanRequestOf(request), &plan), file);
    if (!status.ok()) {
      exit_code = ReportError(status, options);
      return;
    }
    std::cout << (format == "dot" ? plan.dot() : plan.mermaid());
  });
}

}  // namespace nslab::client
