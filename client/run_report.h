#pragma once

// The verdict of `nslab run` / `nslab scenario` as files CI systems read: JUnit XML (GitHub's
// test reporters, Jenkins) and a JSON report with every step, attempt and, on failure, the
// lab's diagnostics snapshot.

#include <optional>
#include <string>
#include <vector>

#include "nslab/v1/diag.pb.h"
#include "nslab/v1/scenario.pb.h"

namespace nslab::client {

// `--in NODE -- CMD`: the command run inside a node while the scenario plays.
struct CommandOutcome {
  std::string node;
  std::vector<std::string> argv;
  int exit_code = -1;  // -1: it could not be run (see error)
  std::string error;
  double seconds = 0;
  std::string output;  // the last bytes of its stdout and stderr, interleaved
};

struct RunOutcome {
  std::string lab;
  std::string topology;  // the file's path, as given
  std::optional<nslab::v1::ScenarioReport> scenario;
  std::optional<CommandOutcome> command;
  // Set when something failed: the lab's every layer at that moment.
  std::optional<nslab::v1::SnapshotResponse> snapshot;
  // Set when the run could not be carried out (the daemon, the kernel), not a verdict.
  std::string infrastructure_error;
  double seconds = 0;

  // Every check held, every action applied, and the command exited 0.
  bool passed() const;
};

// One <testsuite> per scenario (and one for the command): a <testcase> per check with its
// time, <failure> saying what was expected and seen; an action that failed is an <error>
// testcase; the command's output is in <system-out>.
std::string JunitXml(const RunOutcome& outcome);

// {"lab", "passed", "seconds", "scenario": ScenarioReport, "command": {...}, "snapshot": ...,
// "infrastructure_error"} with the proto's JSON field names.
std::string JsonReport(const RunOutcome& outcome);

// Writes `text` to `path` (replacing it); prints why not on failure.
bool WriteReportFile(const std::string& path, const std::string& text);

}  // namespace nslab::client
