// nslab: the command-line client of nslabd. gRPC only; no netlink here.
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <utility>

#include "client/commands.h"
#include "daemon/common/version.h"

int main(int argc, char** argv) {
  CLI::App app{"nslab — build, break and inspect network-namespace labs (client of nslabd)"};
  app.require_subcommand(1);
  nslab::client::GlobalOptions options;
  // Environment first, so that a flag overrides it.
  const std::pair<const char*, std::string*> from_environment[] = {
      {"NSLAB_SOCKET", &options.socket},        {"NSLAB_ADDRESS", &options.address},
      {"NSLAB_TLS_CA", &options.tls.ca_file},   {"NSLAB_TLS_CERT", &options.tls.cert_file},
      {"NSLAB_TLS_KEY", &options.tls.key_file},
  };
  for (const auto& [name, value] : from_environment) {
    if (const char* text = std::getenv(name); text != nullptr && *text != '\0') {
      *value = text;
    }
  }
  auto* socket_flag =
      app.add_option("--socket", options.socket, "nslabd's unix socket (env NSLAB_SOCKET)")
          ->capture_default_str();
  auto* address_flag = app.add_option(
      "--address", options.address,
      "nslabd over TCP host:port instead of the socket, with mutual TLS (env NSLAB_ADDRESS)");
  app.add_option("--tls-ca", options.tls.ca_file,
                 "For --address: CA certificate that signed nslabd's (env NSLAB_TLS_CA)");
  app.add_option("--tls-cert", options.tls.cert_file,
                 "For --address: this client's certificate, from the CA nslabd trusts "
                 "(env NSLAB_TLS_CERT)");
  app.add_option("--tls-key", options.tls.key_file,
                 "For --address: the private key of --tls-cert (env NSLAB_TLS_KEY)");
  app.add_option("--tls-server-name", options.tls.server_name,
                 "For --address: the name to expect in nslabd's certificate, when the address "
                 "is not one of its names");
  app.add_option("-o,--output", options.output, "Output format")
      ->check(CLI::IsMember({"table", "json", "yaml"}))
      ->capture_default_str();
  app.add_option("--timeout", options.timeout_seconds, "Seconds to wait for the daemon's answer")
      ->capture_default_str();
  app.set_version_flag("--version", nslab::kVersion);

  int exit_code = 0;
  nslab::client::AddCapsCommand(app, options, exit_code);
  nslab::client::AddUpCommand(app, options, exit_code);
  nslab::client::AddApplyCommand(app, options, exit_code);
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
  // After the options are parsed and before any verb runs: an explicit --socket wins over
  // NSLAB_ADDRESS, and TLS files are read (and a missing one named) before anything is sent.
  app.parse_complete_callback([&] {
    if (socket_flag->count() > 0 && address_flag->count() == 0) {
      options.address.clear();
    }
    if (auto status = nslab::client::PrepareConnection(&options); !status.ok()) {
      std::fprintf(stderr, "nslab: %s\n", std::string(status.message()).c_str());
      throw CLI::RuntimeError(2);
    }
    // `nslab health` reports NOT_SERVING as it is; every other verb waits it out.
    if (!app.get_subcommands().empty() && !app.got_subcommand("health")) {
      nslab::client::AwaitServing(options);
    }
  });
  CLI11_PARSE(app, argc, argv);
  return exit_code;
}
