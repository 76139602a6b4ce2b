#include <iostream>
#include <optional>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"

#include "client/commands.h"
#include "client/output.h"
#include "client/progress_watch.h"
#include "client/topology_file.h"
#include "nslab/v1/labs.grpc.pb.h"

namespace nslab::client {
namespace {

// NODE:PROTO:PORT, or NODE:PORT meaning tcp.
std::optional<nslab::v1::WaitFor> ParseWaitFor(const std::string& text) {
  std::vector<std::string> parts = absl::StrSplit(text, ':');
  if (parts.size() == 2) {
    parts.insert(parts.begin() + 1, "tcp");
  }
  uint32_t port = 0;
  if (parts.size() != 3 || parts[0].empty() || (parts[1] != "tcp" && parts[1] != "udp") ||
      !absl::SimpleAtoi(parts[2], &port) || port == 0 || port > 65535) {
    return std::nullopt;
  }
  nslab::v1::WaitFor wait;
  wait.set_node(parts[0]);
  wait.set_protocol(parts[1]);
  wait.set_port(port);
  return wait;
}

}  // namespace

void AddUpCommand(CLI::App& app, const GlobalOptions& options, int& exit_code) {
  auto* cmd = app.add_subcommand("up", "Build a lab from a topology file; prints its name");
  static std::string file;
  static std::string name;
  static bool dry_run = false;
  static std::vector<std::string> wait_for;
  static int wait_timeout = 60;
  static bool no_progress = false;
  cmd->add_option("-t,--topology", file, "Topology file (YAML)")->required();
  cmd->add_flag("--dry-run", dry_run, "Validate and print what would be built; build nothing");
  cmd->add_option("--wait-for", wait_for,
                  "Return once NODE:tcp:PORT listens (or NODE:udp:PORT is bound); repeatable");
  cmd->add_option("--wait-timeout", wait_timeout, "Seconds to wait for --wait-for")
      ->capture_default_str();
  cmd->add_option("--name", name, "Lab name (overrides the file's name:)");
  cmd->add_flag("--no-progress", no_progress,
                "Print no progress on stderr (shown for builds that take over half a second)");
  cmd->callback([&options, &exit_code] {
    auto request_or = RequestFromFile(file);
    if (!request_or) {
      exit_code = 2;
      return;
    }
    nslab::v1::CreateLabRequest request = std::move(*request_or);
    request.set_name(name);
    for (const auto& condition : wait_for) {
      auto parsed = ParseWaitFor(condition);
      if (!parsed) {
        std::cerr << "nslab: --wait-for " << condition
                  << ": write NODE:tcp:PORT or NODE:udp:PORT\n";
        exit_code = 2;
        return;
      }
      *request.add_wait_for() = *parsed;
    }
    request.set_wait_timeout_seconds(wait_timeout);

    auto channel = Connect(options);
    auto stub = nslab::v1::LabsService::NewStub(channel);
    if (dry_run) {
      nslab::v1::PlanLabResponse plan;
      auto status = ExplainSizeRefusal(
          stub->PlanLab(NewContext(options).get(), PlanRequestOf(request), &plan), file);
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
    // The table output is the lab's name alone: no need to have every node's status read.
    request.set_view(options.output == "table" ? nslab::v1::LAB_VIEW_BASIC
                                               : nslab::v1::LAB_VIEW_FULL);
    nslab::v1::CreateLabResponse response;
    auto status = CallWithProgress(
        channel, LabNameOf(request), ProgressWatch::Operation::kBuild, !no_progress, [&] {
          return ExplainSizeRefusal(stub->CreateLab(NewContext(options).get(), request, &response),
                                    file);
        });
    if (!status.ok()) {
      exit_code = ReportError(status, options);
      return;
    }
    const nslab::v1::Lab& lab = response.lab();
    if (!PrintStructured(lab, options.output)) {
      std::cout << lab.name() << "\n";
    }
  });
}

}  // namespace nslab::client
