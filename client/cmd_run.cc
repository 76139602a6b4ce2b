// `nslab run`: one command for a CI job — build the lab, play the scenario and/or run the
// command inside a node, snapshot the diagnostics if anything failed, tear down, and exit with
// the verdict.

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <iostream>
#include <optional>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "client/commands.h"
#include "client/output.h"
#include "client/progress_watch.h"
#include "client/run_report.h"
#include "client/scenario_play.h"
#include "client/topology_file.h"
#include "nslab/v1/diag.grpc.pb.h"
#include "nslab/v1/exec.grpc.pb.h"
#include "nslab/v1/labs.grpc.pb.h"
#include "nslab/v1/scenario.grpc.pb.h"

namespace nslab::client {
namespace {

constexpr size_t kOutputKept = 64 * 1024;

struct RunArgs {
  std::string topology;
  std::string scenario;
  std::string name;
  std::optional<uint64_t> seed;
  std::string junit;
  std::string json;
  bool keep = false;
  bool no_progress = false;
  std::string in_node;
  std::vector<std::string> command;
};

bool IsBadInput(const grpc::Status& status) {
  return status.error_code() == grpc::StatusCode::INVALID_ARGUMENT ||
         status.error_code() == grpc::StatusCode::FAILED_PRECONDITION;
}

// Bytes of a command's output as UTF-8 text for the reports (an invalid byte becomes U+FFFD).
void AppendUtf8(std::string* out, absl::string_view bytes) {
  size_t i = 0;
  while (i < bytes.size()) {
    const unsigned char c = bytes[i];
    size_t length = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    bool valid = length != 0 && i + length <= bytes.size();
    for (size_t k = 1; valid && k < length; ++k) {
      valid = (static_cast<unsigned char>(bytes[i + k]) >> 6) == 2;
    }
    if (valid) {
      out->append(bytes.data() + i, length);
      i += length;
    } else {
      out->append("\xEF\xBF\xBD");
      ++i;
    }
  }
}

// SIGINT and SIGTERM (a cancelled CI job) stop the scenario and the command instead of killing
// nslab run, so the lab is still torn down and the reports still written. Blocked in every
// thread from construction; one thread of its own waits for them.
class Interruption {
 public:
  Interruption() {
    sigemptyset(&signals_);
    sigaddset(&signals_, SIGINT);
    sigaddset(&signals_, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals_, &previous_);
    thread_ = std::thread([this] {
      const timespec poll{0, 100'000'000};
      while (!done_.load()) {
        const int signal = sigtimedwait(&signals_, nullptr, &poll);
        if (signal > 0) {
          Fire(signal);
        }
      }
    });
  }
  ~Interruption() {
    done_.store(true);
    thread_.join();
    pthread_sigmask(SIG_SETMASK, &previous_, nullptr);
  }

  // Cancels `context` when a signal comes (at once if one came already); Forget before it dies.
  void Watch(grpc::ClientContext* context) {
    absl::MutexLock lock(&mutex_);
    contexts_.push_back(context);
    if (signal_ != 0) {
      context->TryCancel();
    }
  }
  void Forget(grpc::ClientContext* context) {
    absl::MutexLock lock(&mutex_);
    std::erase(contexts_, context);
  }
  int signal() const {
    absl::MutexLock lock(&mutex_);
    return signal_;
  }

 private:
  void Fire(int signal) {
    absl::MutexLock lock(&mutex_);
    std::cerr << "nslab run: " << (signal == SIGINT ? "SIGINT" : "SIGTERM")
              << ": stopping; the lab is removed before exiting\n";
    signal_ = signal;
    for (grpc::ClientContext* context : contexts_) {
      context->TryCancel();
    }
  }

  sigset_t signals_;
  sigset_t previous_;
  std::atomic<bool> done_{false};
  mutable absl::Mutex mutex_;
  std::vector<grpc::ClientContext*> contexts_ ABSL_GUARDED_BY(mutex_);
  int signal_ ABSL_GUARDED_BY(mutex_) = 0;
  std::thread thread_;
};

// Runs the command in its node, streaming its output here; keeps the last bytes for the report.
CommandOutcome RunCommand(const std::shared_ptr<grpc::Channel>& channel, const std::string& lab,
                          const RunArgs& args, Interruption& interruption) {
  CommandOutcome outcome;
  outcome.node = args.in_node;
  outcome.argv = args.command;
  const absl::Time start = absl::Now();
  auto stub = nslab::v1::ExecService::NewStub(channel);
  nslab::v1::RunRequest request;
  request.set_lab(lab);
  request.set_node(args.in_node);
  for (const auto& arg : args.command) {
    request.add_argv(arg);
  }
  grpc::ClientContext context;
  interruption.Watch(&context);
  auto reader = stub->Run(&context, request);
  nslab::v1::RunResponse response;
  std::string raw;
  while (reader->Read(&response)) {
    const std::string* chunk = nullptr;
    int fd = STDOUT_FILENO;
    if (response.has_exit()) {
      outcome.exit_code = response.exit().code();
      continue;
    }
    if (response.output_case() == nslab::v1::RunResponse::kStdout) {
      chunk = &response.stdout();
    } else if (response.output_case() == nslab::v1::RunResponse::kStderr) {
      chunk = &response.stderr();
      fd = STDERR_FILENO;
    }
    if (chunk == nullptr) {
      continue;
    }
    WriteAll(fd, *chunk);
    raw += *chunk;
    if (raw.size() > 2 * kOutputKept) {
      raw.erase(0, raw.size() - kOutputKept);
    }
  }
  const grpc::Status status = reader->Finish();
  interruption.Forget(&context);
  if (!status.ok()) {
    outcome.exit_code = -1;
    outcome.error = status.error_message();
  }
  if (raw.size() > kOutputKept) {
    raw.erase(0, raw.size() - kOutputKept);
  }
  AppendUtf8(&outcome.output, raw);
  outcome.seconds = absl::ToDoubleSeconds(absl::Now() - start);
  return outcome;
}

// Prints the lab's events (links, processes, scenario steps) on stderr until cancelled.
class EventFollower {
 public:
  EventFollower(const std::shared_ptr<grpc::Channel>& channel, const std::string& lab)
      : stub_(nslab::v1::LabsService::NewStub(channel)) {
    nslab::v1::WatchEventsRequest request;
    request.set_lab(lab);
    thread_ = std::thread([this, request] {
      auto reader = stub_->WatchEvents(&context_, request);
      nslab::v1::WatchEventsResponse response;
      while (reader->Read(&response)) {
        if (response.event().kind() != nslab::v1::LAB_EVENT_KIND_UNSPECIFIED) {
          std::cerr << FormatEvent(response.event()) << "\n";
        }
      }
      (void)reader->Finish();
    });
  }
  ~EventFollower() {
    context_.TryCancel();
    thread_.join();
  }

 private:
  std::unique_ptr<nslab::v1::LabsService::Stub> stub_;
  grpc::ClientContext context_;
  std::thread thread_;
};

int Run(const GlobalOptions& options, const RunArgs& args) {
  const absl::Time start = absl::Now();
  Interruption interruption;
  // Everything the user wrote is checked before anything is built.
  auto request = RequestFromFile(args.topology);
  if (!request) {
    return kExitBadInput;
  }
  request->set_name(args.name);
  std::optional<std::string> scenario;
  if (!args.scenario.empty()) {
    scenario = ReadScenarioFile(args.scenario);
    if (!scenario) {
      return kExitBadInput;
    }
  }
  auto channel = Connect(options);
  auto labs = nslab::v1::LabsService::NewStub(channel);
  nslab::v1::PlanLabResponse plan;
  if (auto status = ExplainSizeRefusal(
          labs->PlanLab(NewContext(options).get(), PlanRequestOf(*request), &plan), args.topology);
      !status.ok()) {
    ReportError(status, options);
    return IsBadInput(status) ? kExitBadInput : kExitInfrastructure;
  }
  if (scenario) {
    auto scenarios = nslab::v1::ScenarioService::NewStub(channel);
    nslab::v1::PlanScenarioRequest check;
    check.set_scenario_yaml(*scenario);
    *check.mutable_topology() = plan.topology();
    if (args.seed) {
      check.set_seed(*args.seed);
    }
    nslab::v1::PlanScenarioResponse planned;
    if (auto status = NameScenarioFile(
            scenarios->PlanScenario(NewContext(options).get(), check, &planned), args.scenario);
        !status.ok()) {
      ReportError(status, options);
      return IsBadInput(status) ? kExitBadInput : kExitInfrastructure;
    }
  }
  const std::string lab = plan.topology().name();

  RunOutcome outcome;
  outcome.lab = lab;
  outcome.topology = args.topology;
  nslab::v1::CreateLabResponse created;
  std::cerr << "nslab run: building lab " << lab << "\n";
  bool built = true;
  // The reports name the lab; its nodes' live status is not read for them.
  request->set_view(nslab::v1::LAB_VIEW_BASIC);
  if (auto status = CallWithProgress(
          channel, lab, ProgressWatch::Operation::kBuild, !args.no_progress,
          [&] {
            return ExplainSizeRefusal(
                labs->CreateLab(NewContext(options).get(), *request, &created), args.topology);
          });
      !status.ok()) {
    ReportError(status, options);
    if (status.error_code() == grpc::StatusCode::INVALID_ARGUMENT) {
      return kExitBadInput;
    }
    outcome.infrastructure_error = absl::StrCat("building the lab: ", status.error_message());
    // Only a wait_for that did not hold leaves the lab up (for inspection); any other failure
    // removed what was built.
    built = status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED;
  }
  if (outcome.infrastructure_error.empty() && interruption.signal() == 0) {
    auto events = std::make_unique<EventFollower>(channel, lab);
    std::optional<PlayResult> played;
    std::thread scenario_thread;
    grpc::ClientContext scenario_context;
    if (scenario) {
      interruption.Watch(&scenario_context);
      scenario_thread = std::thread([&] {
        played = PlayScenario(channel, lab, *scenario, args.seed, /*print_events=*/false,
                              &scenario_context);
      });
    }
    if (!args.command.empty()) {
      outcome.command = RunCommand(channel, lab, args, interruption);
    }
    if (scenario_thread.joinable()) {
      scenario_thread.join();
      interruption.Forget(&scenario_context);
    }
    events.reset();
    if (played) {
      outcome.scenario = played->report;
      if (!played->status.ok()) {
        outcome.infrastructure_error =
            absl::StrCat("playing the scenario: ", played->status.error_message());
      }
    }
  }
  if (interruption.signal() != 0) {
    outcome.infrastructure_error =
        absl::StrCat("interrupted by ", interruption.signal() == SIGINT ? "SIGINT" : "SIGTERM");
  }
  if (!outcome.passed() && built) {
    auto diagnostics = nslab::v1::DiagnosticsService::NewStub(channel);
    nslab::v1::SnapshotRequest snap;
    snap.set_lab(lab);
    nslab::v1::SnapshotResponse snapshot;
    if (diagnostics->Snapshot(NewContext(options).get(), snap, &snapshot).ok()) {
      outcome.snapshot = std::move(snapshot);
    }
  }
  if (built && !args.keep) {
    nslab::v1::DeleteLabRequest down;
    down.set_name(lab);
    nslab::v1::DeleteLabResponse deleted;
    if (auto status = CallWithProgress(
            channel, lab, ProgressWatch::Operation::kRemove, !args.no_progress,
            [&] { return labs->DeleteLab(NewContext(options).get(), down, &deleted); });
        !status.ok()) {
      ReportError(status, options);
      if (outcome.infrastructure_error.empty()) {
        outcome.infrastructure_error = absl::StrCat("removing the lab: ", status.error_message());
      }
    }
  } else if (built) {
    std::cerr << "nslab run: lab " << lab << " kept (--keep); remove it with nslab down " << lab
              << "\n";
  }
  outcome.seconds = absl::ToDoubleSeconds(absl::Now() - start);
  if (outcome.scenario) {
    PrintReportSummary(*outcome.scenario);
  }
  if (outcome.command) {
    std::cout << "command " << absl::StrJoin(outcome.command->argv, " ") << " in "
              << outcome.command->node << ": "
              << (outcome.command->exit_code < 0
                      ? absl::StrCat("could not run: ", outcome.command->error)
                      : absl::StrCat("exit ", outcome.command->exit_code))
              << "\n";
  }
  bool written = true;
  if (!args.junit.empty()) {
    written = WriteReportFile(args.junit, JunitXml(outcome)) && written;
  }
  if (!args.json.empty()) {
    written = WriteReportFile(args.json, JsonReport(outcome)) && written;
  }
  if (!outcome.infrastructure_error.empty()) {
    std::cerr << "nslab run: " << outcome.infrastructure_error << "\n";
    return kExitInfrastructure;
  }
  if (!written) {
    return kExitInfrastructure;
  }
  std::cout << (outcome.passed() ? "PASSED" : "FAILED") << "\n";
  return outcome.passed() ? kExitPassed : kExitFailed;
}

}  // namespace

void AddRunCommand(CLI::App& app, const GlobalOptions& options, int& exit_code) {
  auto* cmd = app.add_subcommand(
      "run", "Build a lab, play a scenario and/or run a command in a node, report, tear down");
  static RunArgs args;
  cmd->add_option("-t,--topology", args.topology, "Topology file (YAML)")->required();
  cmd->add_option("-s,--scenario", args.scenario, "Scenario file (YAML)");
  cmd->add_option("--name", args.name, "Lab name (overrides the topology's name:)");
  cmd->add_option("--seed", args.seed, "Scenario seed (overrides the file's seed:)");
  cmd->add_option("--junit", args.junit, "Write a JUnit XML report here");
  cmd->add_option("--json", args.json, "Write a JSON report here");
  cmd->add_flag("--keep", args.keep, "Leave the lab up afterwards");
  cmd->add_flag("--no-progress", args.no_progress,
                "Print no build or removal progress on stderr (shown for work over half a second)");
  cmd->add_option("--in", args.in_node, "Node to run the command in (the command after --)");
  cmd->add_option("command", args.command, "Command and arguments (after --)");
  cmd->footer(
      "Exit codes: 0 every check held and the command succeeded, 1 a check or the command "
      "failed, 2 bad input (nothing built), 3 infrastructure error.\n"
      "Example: nslab run -t topologies/web.yaml -s scenarios/partition-failover.yaml "
      "--junit report.xml --in client -- curl -sf http://10.0.0.2/");
  cmd->callback([&options, &exit_code] {
    if (args.scenario.empty() && args.command.empty()) {
      std::cerr << "nslab run: give a scenario (-s FILE), a command (--in NODE -- CMD), or both\n";
      exit_code = kExitBadInput;
      return;
    }
    if (args.command.empty() != args.in_node.empty()) {
      std::cerr << "nslab run: --in NODE and a command after -- go together\n";
      exit_code = kExitBadInput;
      return;
    }
    exit_code = Run(options, args);
  });
}

}  // namespace nslab::client
