#include "daemon/scenario/spec/signals.h"

#include <csignal>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"

namespace nslab::scenario {
namespace {

struct SignalName {
  absl::string_view name;
  int number;
};

// Only signals that mean something to a supervised process: stop it, make it reload, pause
// and resume it. Others (SEGV, PIPE, ...) would fake a crash more confusingly than KILL.
constexpr SignalName kSignals[] = {{"TERM", SIGTERM}, {"KILL", SIGKILL}, {"INT", SIGINT},
                                   {"HUP", SIGHUP},   {"QUIT", SIGQUIT}, {"USR1", SIGUSR1},
                                   {"USR2", SIGUSR2}, {"STOP", SIGSTOP}, {"CONT", SIGCONT}};

}  // namespace

std::string KnownSignalNames() {
  return absl::StrJoin(kSignals, ", ", [](std::string* out, const SignalName& signal) {
    absl::StrAppend(out, signal.name);
  });
}

absl::StatusOr<int> SignalNumber(absl::string_view name) {
  if (name.empty()) {
    return SIGKILL;
  }
  std::string upper = absl::AsciiStrToUpper(name);
  absl::string_view bare = upper;
  absl::ConsumePrefix(&bare, "SIG");
  for (const SignalName& signal : kSignals) {
    if (signal.name == bare) {
      return signal.number;
    }
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown signal \"", name, "\" (known: ", KnownSignalNames(), ", with or without SIG)"));
}

}  // namespace nslab::scenario
