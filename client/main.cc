// nslab: the command-line client of nslabd. gRPC only; no netlink here.
#include <cstdlib>
#include <functional>

#include "client/commands.h"
#include "daemon/common/version.h"

int main(int argc, char** argv) {
  CLI::App app{"nslab — build, break and inspect network-namespace labs (client of nslabd)"};
  app.require_subcommand(1);
  nslab::client::GlobalOptions options;
  if (const char* socket = std::getenv("NSLAB_SOCKET"); socket != nullptr && *socket != '\0') {
    options.socket = socket;
  }
  app.add_option("--socket", options.socket, "nslabd's unix socket (env NSLAB_SOCKET)")
      ->capture_default_str();
  app.add_option("--address", options.address, "nslabd over TCP host:port instead of the socket");
  app.add_option("-o,--output", options.output, "Output format")
      ->check(CLI::IsMember({"table", "json", "yaml"}))
      ->capture_default_str();
  app.add_option("--timeout", options.timeout_seconds, "Seconds to wait for the daemon's answer")
      ->capture_default_str();
  app.set_version_flag("--version", nslab::kVersion);

  int exit_code = 0;
  nslab::client::AddCapsCommand(app, options, exit_code);
  nslab::client::AddUpCommand(app, options, exit_code);
  nslab::client::AddRunCommand(app, options, exit_code);
  nslab::client::AddScenarioCommand(app, options, exit_code);
  nslab::client::AddLsCommand(app, options, exit_code);
  nslab::client::AddShowCommand(app, options, exit_code);
  nslab::client::AddExecCommand(app, options, exit_code);
  nslab::client::AddLogsCommand(app, options, exit_code);
  nslab::client::AddEventsCommand(app, options, exit_code);
  nslab::client::AddGraphCommand(app, options, exit_code);
  nslab::client::AddImpairCommand(app, options, exit_code);
  nslab::client::AddFwCommand(app, options, exit_code);
  nslab::client::AddLinkCommand(app, options, exit_code);
  nslab::client::AddPartitionCommands(app, options, exit_code);
  nslab::client::AddDiagCommand(app, options, exit_code);
  nslab::client::AddCaptureCommand(app, options, exit_code);
  nslab::client::AddTraceCommand(app, options, exit_code);
  nslab::client::AddUstackCommand(app, options, exit_code);
  nslab::client::AddDownCommand(app, options, exit_code);
  nslab::client::AddHealthCommand(app, options, exit_code);
  // Global options may follow the verb too: `nslab show lab -o json`.
  std::function<void(CLI::App*)> fall_through = [&](CLI::App* parent) {
    for (auto* sub : parent->get_subcommands({})) {
      sub->fallthrough();
      fall_through(sub);
    }
  };
  fall_through(&app);
  CLI11_PARSE(app, argc, argv);
  return exit_code;
}
