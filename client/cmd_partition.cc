#include <iostream>

#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "client/commands.h"
#include "nslab/v1/chaos.grpc.pb.h"

namespace nslab::client {

void AddPartitionCommands(CLI::App& app, const GlobalOptions& options, int& exit_code) {
  auto* cmd = app.add_subcommand(
      "partition", "Stop traffic between groups of nodes (drop: timeouts; reject: refused)");
  static std::string lab, mode = "drop";
  static std::vector<std::string> groups;
  cmd->add_option("lab", lab, "Lab name")->required();
  cmd->add_option("--groups", groups, "Comma-separated nodes of one group; give it twice or more")
      ->required();
  cmd->add_option("--mode", mode, "drop or reject")
      ->check(CLI::IsMember({"drop", "reject"}))
      ->capture_default_str();
  cmd->footer("Example: nslab partition mylab --groups a,b --groups c,d --mode reject");
  cmd->callback([&options, &exit_code] {
    nslab::v1::PartitionRequest request;
    request.set_lab(lab);
    request.set_mode(mode == "reject" ? nslab::v1::PARTITION_MODE_REJECT
                                      : nslab::v1::PARTITION_MODE_DROP);
    for (const auto& group : groups) {
      auto* out = request.add_groups();
      for (absl::string_view node : absl::StrSplit(group, ',', absl::SkipEmpty())) {
        out->add_nodes(std::string(node));
      }
    }
    nslab::v1::PartitionResponse response;
    auto stub = nslab::v1::ChaosService::NewStub(Connect(options));
    auto status = stub->Partition(NewContext(options).get(), request, &response);
    if (!status.ok()) {
      exit_code = ReportError(status, options);
      return;
    }
    std::cout << "partitioned: " << absl::StrJoin(response.nodes(), " ") << "\n";
  });

  auto* heal = app.add_subcommand("heal", "Remove every partition from a lab");
  static std::string heal_lab;
  heal->add_option("lab", heal_lab, "Lab name")->required();
  heal->callback([&options, &exit_code] {
    nslab::v1::HealRequest request;
    request.set_lab(heal_lab);
    nslab::v1::HealResponse response;
    auto stub = nslab::v1::ChaosService::NewStub(Connect(options));
    auto status = stub->Heal(NewContext(options).get(), request, &response);
    if (!status.ok()) {
      exit_code = ReportError(status, options);
      return;
    }
    std::cout << "healed: " << absl::StrJoin(response.nodes(), " ") << "\n";
  });
}

}  // namespace nslab::client
