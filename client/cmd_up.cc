#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "client/commands.h"
#include "client/output.h"
#include "nslab/v1/labs.grpc.pb.h"

namespace nslab::client {

void AddUpCommand(CLI::App& app, const GlobalOptions& options, int& exit_code) {
  auto* cmd = app.add_subcommand("up", "Build a lab from a topology file; prints its name");
  static std::string file;
  static std::string name;
  cmd->add_option("-t,--topology", file, "Topology file (YAML)")->required();
  cmd->add_option("--name", name, "Lab name (overrides the file's name:)");
  cmd->callback([&options, &exit_code] {
    std::ifstream in(file);
    if (!in) {
      std::cerr << "nslab: cannot read topology file " << file << "\n";
      exit_code = 2;
      return;
    }
    std::stringstream text;
    text << in.rdbuf();
    nslab::v1::CreateLabRequest request;
    request.set_topology_yaml(text.str());
    request.set_name(name);
    std::error_code error;
    request.set_base_dir(std::filesystem::absolute(file, error).parent_path().string());

    auto stub = nslab::v1::Labs::NewStub(Connect(options));
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
