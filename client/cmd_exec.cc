#include <unistd.h>

#include <iostream>

#include "client/commands.h"
#include "client/output.h"
#include "nslab/v1/exec.grpc.pb.h"

namespace nslab::client {

void AddExecCommand(CLI::App& app, const GlobalOptions& options, int& exit_code) {
  auto* cmd =
      app.add_subcommand("exec", "Run a command inside a node; exits with the command's exit code");
  static std::string lab;
  static std::string node;
  static std::vector<std::string> argv;
  static std::vector<std::string> env;
  static int timeout_seconds = 0;
  cmd->add_option("lab", lab, "Lab name")->required();
  cmd->add_option("node", node, "Node name")->required();
  cmd->add_option("command", argv, "Command and arguments (after --)")->required();
  cmd->add_option("-e,--env", env, "Extra environment KEY=VALUE");
  cmd->add_option("--kill-after", timeout_seconds, "Kill the command after this many seconds");
  cmd->footer("Example: nslab exec mylab client -- ping -c1 10.0.0.2");
  cmd->callback([&options, &exit_code] {
    auto stub = nslab::v1::ExecService::NewStub(Connect(options));
    nslab::v1::RunRequest request;
    request.set_lab(lab);
    request.set_node(node);
    for (const auto& arg : argv) {
      request.add_argv(arg);
    }
    for (const auto& entry : env) {
      request.add_env(entry);
    }
    request.set_timeout_ms(timeout_seconds * 1000);
    grpc::ClientContext context;  // no deadline: commands may run as long as they like
    auto reader = stub->Run(&context, request);
    nslab::v1::RunResponse output;
    int code = -1;
    while (reader->Read(&output)) {
      switch (output.output_case()) {
        case nslab::v1::RunResponse::kStdout:
          WriteAll(STDOUT_FILENO, output.stdout());
          break;
        case nslab::v1::RunResponse::kStderr:
          WriteAll(STDERR_FILENO, output.stderr());
          break;
        case nslab::v1::RunResponse::kExit:
          code = output.exit().code();
          if (output.exit().timed_out()) {
            std::cerr << "nslab: command killed after " << timeout_seconds << "s\n";
          }
          break;
        default:
          break;
      }
    }
    auto status = reader->Finish();
    if (!status.ok()) {
      exit_code = ReportError(status, options);
      return;
    }
    exit_code = code < 0 ? 1 : code;
  });
}

}  // namespace nslab::client
