#pragma once

// Shared by `nslab scenario` and `nslab run`: reading a scenario file, playing it against a
// lab while its events print, and the exit codes CI reads.

#include <grpcpp/grpcpp.h>

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "nslab/v1/events.pb.h"
#include "nslab/v1/scenario.pb.h"

namespace nslab::client {

// Exit codes of `nslab run` and `nslab scenario`.
inline constexpr int kExitPassed = 0;
inline constexpr int kExitFailed = 1;    // a check or the command failed
inline constexpr int kExitBadInput = 2;  // topology or scenario wrong; nothing built
inline constexpr int kExitInfrastructure = 3;

// The text of the scenario file at `path`; prints why not. nslabd reads and validates it (the
// same reader for every client), so a wrong scenario comes back as INVALID_ARGUMENT.
std::optional<std::string> ReadScenarioFile(const std::string& path);

// `status` with the scenario file's path before its message when it says the scenario is wrong
// (INVALID_ARGUMENT), as "scenario.yaml: steps[2].partition.mode: ... (line 7)".
grpc::Status NameScenarioFile(const grpc::Status& status, const std::string& path);

// One line: "  1.002s  step applied   steps[1]  partition [client] | [server] (drop)".
std::string FormatEvent(const nslab::v1::LabEvent& event);

// Plays the scenario (a file's text) on `lab` (ScenarioService.RunScenario), printing each event to
// stderr as it comes; the report, or the call's failure.
struct PlayResult {
  grpc::Status status;
  std::optional<nslab::v1::ScenarioReport> report;
};
// `context` (the caller's, so that it can cancel the call) has no deadline: a scenario runs
// as long as its timeline.
PlayResult PlayScenario(const std::shared_ptr<grpc::Channel>& channel, const std::string& lab,
                        const std::string& scenario_yaml, std::optional<uint64_t> seed,
                        bool print_events, grpc::ClientContext* context);

// A summary for the terminal: each check's verdict, then "3/4 checks passed".
void PrintReportSummary(const nslab::v1::ScenarioReport& report);

}  // namespace nslab::client
