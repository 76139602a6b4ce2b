#include "daemon/server/exec_service.h"

#include "absl/strings/str_cat.h"
#include "daemon/exec/run.h"
#include "daemon/server/status_mapping.h"

namespace nslab::server {

grpc::Status ExecService::Run(grpc::ServerContext* context, const nslab::v1::RunRequest* request,
                              grpc::ServerWriter<nslab::v1::RunResponse>* writer) {
  if (request->argv().empty()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "argv: give the command to run");
  }
  auto netns = labs_->NodeNamespace(request->lab(), request->node());
  if (!netns.ok()) {
    return ToGrpc(netns.status());
  }
  exec::SpawnSpec spec;
  spec.netns = *netns;
  spec.argv.assign(request->argv().begin(), request->argv().end());
  spec.extra_env.assign(request->env().begin(), request->env().end());
  spec.extra_env.push_back(absl::StrCat("NSLAB_LAB=", request->lab()));
  spec.extra_env.push_back(absl::StrCat("NSLAB_NODE=", request->node()));

  exec::RunOptions options;
  options.stdin_data = request->stdin();
  options.timeout = std::chrono::milliseconds(request->timeout_ms());
  options.registry = processes_;
  options.owner = request->lab();
  options.cancelled = [context] { return context->IsCancelled(); };
  options.on_output = [writer](exec::Stream stream, absl::string_view chunk) {
    nslab::v1::RunResponse output;
    if (stream == exec::Stream::kStdout) {
      output.set_stdout(chunk.data(), chunk.size());
    } else {
      output.set_stderr(chunk.data(), chunk.size());
    }
    return writer->Write(output);
  };
  const std::string program = spec.argv[0];
  auto exit = exec::Run(std::move(spec), options);
  if (absl::IsNotFound(exit.status())) {
    // As a shell reports it, so scripts and CI steps read one convention: a line on stderr
    // and exit status 127, the call itself OK.
    nslab::v1::RunResponse error;
    error.set_stderr(absl::StrCat(program, ": command not found\n"));
    writer->Write(error);
    exit = exec::ExitInfo{.code = 127};
  }
  if (!exit.ok()) {
    return ToGrpc(exit.status());
  }
  nslab::v1::RunResponse last;
  last.mutable_exit()->set_code(exit->code);
  last.mutable_exit()->set_signal(exit->signal);
  last.mutable_exit()->set_timed_out(exit->timed_out);
  writer->Write(last);
  return grpc::Status::OK;
}

}  // namespace nslab::server
