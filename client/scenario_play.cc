#include "client/scenario_play.h"

#include <iostream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "daemon/common/file_text.h"
#include "nslab/v1/scenario.grpc.pb.h"

namespace nslab::client {
namespace {

const char* KindWord(nslab::v1::LabEventKind kind) {
  switch (kind) {
    case nslab::v1::LAB_EVENT_KIND_LAB_CREATED:
      return "lab created";
    case nslab::v1::LAB_EVENT_KIND_LAB_READY:
      return "lab ready";
    case nslab::v1::LAB_EVENT_KIND_LAB_DELETED:
      return "lab deleted";
    case nslab::v1::LAB_EVENT_KIND_STEP_APPLIED:
      return "step applied";
    case nslab::v1::LAB_EVENT_KIND_STEP_UNDONE:
      return "step undone";
    case nslab::v1::LAB_EVENT_KIND_STEP_FAILED:
      return "step FAILED";
    case nslab::v1::LAB_EVENT_KIND_CHECK_PASSED:
      return "check passed";
    case nslab::v1::LAB_EVENT_KIND_CHECK_FAILED:
      return "check FAILED";
    case nslab::v1::LAB_EVENT_KIND_LINK_STATE:
      return "link";
    case nslab::v1::LAB_EVENT_KIND_PROCESS_EXITED:
      return "process exited";
    case nslab::v1::LAB_EVENT_KIND_PROCESS_RESTARTED:
      return "process restarted";
    case nslab::v1::LAB_EVENT_KIND_SCENARIO_STARTED:
      return "scenario started";
    case nslab::v1::LAB_EVENT_KIND_SCENARIO_ENDED:
      return "scenario ended";
    default:
      return "event";
  }
}

}  // namespace

std::optional<std::string> ReadScenarioFile(const std::string& path) {
  auto text = ReadTextFile(path);
  if (!text.ok()) {
    std::cerr << "nslab: cannot read scenario file: " << text.status().message() << "\n";
    return std::nullopt;
  }
  if (text->empty()) {
    std::cerr << "nslab: " << path << ": the scenario file is empty\n";
    return std::nullopt;
  }
  return *text;
}

grpc::Status NameScenarioFile(const grpc::Status& status, const std::string& path) {
  if (status.error_code() != grpc::StatusCode::INVALID_ARGUMENT) {
    return status;
  }
  return grpc::Status(status.error_code(), absl::StrCat(path, ": ", status.error_message()));
}

std::string FormatEvent(const nslab::v1::LabEvent& event) {
  std::string when;
  if (event.kind() >= nslab::v1::LAB_EVENT_KIND_STEP_APPLIED &&
      event.kind() <= nslab::v1::LAB_EVENT_KIND_CHECK_FAILED) {
    when = absl::StrFormat("%8.3fs", event.scenario_ms() / 1000.0);
  } else {
    when = absl::StrFormat("%9s", "");
  }
  std::string subject = event.subject();
  if (!event.node().empty() && !absl::StartsWith(subject, event.node())) {
    subject = subject.empty() ? event.node() : absl::StrCat(event.node(), ":", subject);
  }
  return absl::StrFormat("%s  %-17s %-22s %s", when, KindWord(event.kind()), subject,
                         event.message());
}

PlayResult PlayScenario(const std::shared_ptr<grpc::Channel>& channel, const std::string& lab,
                        const std::string& scenario_yaml, std::optional<uint64_t> seed,
                        bool print_events, grpc::ClientContext* context) {
  auto stub = nslab::v1::ScenarioService::NewStub(channel);
  nslab::v1::RunScenarioRequest request;
  request.set_lab(lab);
  request.set_scenario_yaml(scenario_yaml);
  if (seed) {
    request.set_seed(*seed);
  }
  auto reader = stub->RunScenario(context, request);
  PlayResult result;
  nslab::v1::RunScenarioResponse response;
  while (reader->Read(&response)) {
    if (response.has_report()) {
      result.report = response.report();
    } else if (response.has_event() && print_events) {
      std::cerr << FormatEvent(response.event()) << "\n";
    }
  }
  result.status = reader->Finish();
  return result;
}

void PrintReportSummary(const nslab::v1::ScenarioReport& report) {
  int passed = 0;
  std::cout << "scenario " << report.name() << " on lab " << report.lab() << " (seed "
            << report.seed() << ", " << absl::StrFormat("%.3fs", report.duration_ms() / 1000.0)
            << ")\n";
  for (const auto& check : report.checks()) {
    passed += check.passed() ? 1 : 0;
    std::cout << "  " << (check.passed() ? "PASS" : "FAIL") << "  " << check.name() << ": "
              << check.expected();
    if (!check.passed()) {
      std::cout << "; seen " << check.seen();
    }
    std::cout << "\n";
  }
  for (const auto& step : report.steps()) {
    if (!step.ok()) {
      std::cout << "  ERROR " << step.planned().path() << " " << step.planned().description()
                << ": " << step.error() << "\n";
    }
  }
  if (!report.error().empty()) {
    std::cout << "  ERROR " << report.error() << "\n";
  }
  std::cout << passed << "/" << report.checks_size() << " checks passed"
            << (report.passed() ? "" : " — scenario FAILED") << "\n";
}

}  // namespace nslab::client
