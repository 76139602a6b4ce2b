#include <iostream>
#include <optional>

#include "absl/time/clock.h"
#include "client/commands.h"
#include "client/output.h"
#include "client/run_report.h"
#include "client/scenario_play.h"

namespace nslab::client {

void AddScenarioCommand(CLI::App& app, const GlobalOptions& options, int& exit_code) {
  auto* cmd = app.add_subcommand(
      "scenario", "Play a scenario file against a running lab; exits 0 if every check held");
  static std::string lab;
  static std::string file;
  static std::optional<uint64_t> seed;
  static std::string junit;
  static std::string json;
  cmd->add_option("lab", lab, "Lab name")->required();
  cmd->add_option("-f,--file", file, "Scenario file (YAML)")->required();
  cmd->add_option("--seed", seed, "Seed (overrides the file's seed:)");
  cmd->add_option("--junit", junit, "Write a JUnit XML report here");
  cmd->add_option("--json", json, "Write a JSON report here");
  cmd->footer(
      "Exit codes: 0 every check held, 1 a check failed, 2 the scenario is wrong (nothing "
      "done), 3 the run could not be carried out.\n"
      "Example: nslab scenario web -f scenarios/partition-failover.yaml --junit report.xml");
  cmd->callback([&options, &exit_code] {
    auto scenario = ReadScenarioFile(file);
    if (!scenario) {
      exit_code = kExitBadInput;
      return;
    }
    const absl::Time start = absl::Now();
    grpc::ClientContext context;
    PlayResult played =
        PlayScenario(Connect(options), lab, *scenario, seed, options.output == "table", &context);
    played.status = NameScenarioFile(played.status, file);
    RunOutcome outcome;
    outcome.lab = lab;
    outcome.seconds = absl::ToDoubleSeconds(absl::Now() - start);
    if (!played.status.ok()) {
      const auto code = played.status.error_code();
      if (code == grpc::StatusCode::INVALID_ARGUMENT ||
          code == grpc::StatusCode::FAILED_PRECONDITION || code == grpc::StatusCode::NOT_FOUND) {
        ReportError(played.status, options);
        exit_code = kExitBadInput;
        return;
      }
      outcome.infrastructure_error = played.status.error_message();
    }
    outcome.scenario = played.report;
    if (outcome.scenario && !PrintStructured(*outcome.scenario, options.output)) {
      PrintReportSummary(*outcome.scenario);
    }
    if (!junit.empty() && !WriteReportFile(junit, JunitXml(outcome))) {
      exit_code = kExitInfrastructure;
      return;
    }
    if (!json.empty() && !WriteReportFile(json, JsonReport(outcome))) {
      exit_code = kExitInfrastructure;
      return;
    }
    if (!outcome.infrastructure_error.empty()) {
      ReportError(played.status, options);
      exit_code = kExitInfrastructure;
      return;
    }
    exit_code = outcome.passed() ? kExitPassed : kExitFailed;
  });
}

}  // namespace nslab::client
