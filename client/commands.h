#pragma once

#include <CLI/CLI.hpp>

#include "client/connection.h"

namespace nslab::client {

// Each verb adds its subcommand to the app; the callback sets `exit_code`.
void AddCapsCommand(CLI::App& app, const GlobalOptions& options, int& exit_code);
void AddUpCommand(CLI::App& app, const GlobalOptions& options, int& exit_code);
void AddApplyCommand(CLI::App& app, const GlobalOptions& options, int& exit_code);
void AddDownCommand(CLI::App& app, const GlobalOptions& options, int& exit_code);
void AddLsCommand(CLI::App& app, const GlobalOptions& options, int& exit_code);
void AddShowCommand(CLI::App& app, const GlobalOptions& options, int& exit_code);
void AddExecCommand(CLI::App& app, const GlobalOptions& options, int& exit_code);
void AddLogsCommand(CLI::App& app, const GlobalOptions& options, int& exit_code);
void AddEventsCommand(CLI::App& app, const GlobalOptions& options, int& exit_code);
void AddGraphCommand(CLI::App& app, const GlobalOptions& options, int& exit_code);
void AddFwCommand(CLI::App& app, const GlobalOptions& options, int& exit_code);
void AddImpairCommand(CLI::App& app, const GlobalOptions& options, int& exit_code);
void AddLinkCommand(CLI::App& app, const GlobalOptions& options, int& exit_code);
void AddUstackCommand(CLI::App& app, const GlobalOptions& options, int& exit_code);
void AddPartitionCommands(CLI::App& app, const GlobalOptions& options, int& exit_code);
void AddDiagCommand(CLI::App& app, const GlobalOptions& options, int& exit_code);
void AddDiagSnapshotCommand(CLI::App& diag, const GlobalOptions& options, int& exit_code);
void AddCaptureCommand(CLI::App& app, const GlobalOptions& options, int& exit_code);
void AddTraceCommand(CLI::App& app, const GlobalOptions& options, int& exit_code);
void AddScenarioCommand(CLI::App& app, const GlobalOptions& options, int& exit_code);
void AddRunCommand(CLI::App& app, const GlobalOptions& options, int& exit_code);
void AddHealthCommand(CLI::App& app, const GlobalOptions& options, int& exit_code);

}  // namespace nslab::client
