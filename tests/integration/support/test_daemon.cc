#include "tests/integration/support/test_daemon.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"

namespace nslab::testing {

TestDaemon::TestDaemon() {
  char tmpl[] = "/tmp/nslab-it-XXXXXX";
  dir_ = mkdtemp(tmpl);
  socket_ = dir_ + "/nslabd.sock";
  state_dir_ = dir_ + "/state";
  Start();
}

TestDaemon::~TestDaemon() {
  Stop(SIGTERM);
  std::error_code error;
  std::filesystem::remove_all(dir_, error);
}

void TestDaemon::Start() {
  const std::string log = dir_ + "/nslabd.log";
  pid_ = fork();
  if (pid_ == 0) {
    freopen(log.c_str(), "a", stderr);
    execl(NSLABD_PATH, NSLABD_PATH, "--socket", socket_.c_str(), "--state-dir", state_dir_.c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  // A private subchannel pool: after a restart, no connection to the old daemon is reused.
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  channel_ = grpc::CreateCustomChannel("unix:" + socket_, grpc::InsecureChannelCredentials(), args);
  const auto deadline = std::chrono::system_clock::now() + std::chrono::seconds(20);
  if (!channel_->WaitForConnected(deadline)) {
    std::ifstream in(log);
    std::stringstream text;
    text << in.rdbuf();
    ADD_FAILURE() << "nslabd did not start; its log:\n" << text.str();
  }
  labs_ = nslab::v1::Labs::NewStub(channel_);
  exec_ = nslab::v1::Exec::NewStub(channel_);
  system_ = nslab::v1::System::NewStub(channel_);
}

void TestDaemon::Stop(int signal) {
  if (pid_ <= 0) {
    return;
  }
  kill(pid_, signal);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

void TestDaemon::Restart() { Start(); }

TestDaemon::ExecResult TestDaemon::Exec(const std::string& lab, const std::string& node,
                                        const std::vector<std::string>& argv,
                                        const std::string& stdin_data, uint32_t timeout_ms) {
  nslab::v1::RunRequest request;
  request.set_lab(lab);
  request.set_node(node);
  for (const auto& arg : argv) {
    request.add_argv(arg);
  }
  request.set_stdin(stdin_data);
  request.set_timeout_ms(timeout_ms);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(120));
  auto reader = exec_->Run(&context, request);
  ExecResult result;
  nslab::v1::RunOutput output;
  while (reader->Read(&output)) {
    if (output.has_exit()) {
      result.code = output.exit().code();
    } else if (output.output_case() == nslab::v1::RunOutput::kStdout) {
      result.out += output.stdout();
    } else if (output.output_case() == nslab::v1::RunOutput::kStderr) {
      result.err += output.stderr();
    }
  }
  result.status = reader->Finish();
  return result;
}

grpc::Status TestDaemon::CreateFromYaml(const std::string& yaml, const std::string& name,
                                        nslab::v1::Lab* lab,
                                        const std::map<std::string, std::string>& files) {
  nslab::v1::CreateLabRequest request;
  request.set_topology_yaml(yaml);
  request.set_name(name);
  request.mutable_files()->insert(files.begin(), files.end());
  nslab::v1::Lab ignored;
  grpc::ClientContext context;
  return labs_->CreateLab(&context, request, lab != nullptr ? lab : &ignored);
}

grpc::Status TestDaemon::UstackStats(const std::string& lab, const std::string& node,
                                     nslab::v1::UstackStats* out) {
  nslab::v1::UstackNodeRequest request;
  request.set_lab(lab);
  request.set_node(node);
  nslab::v1::UstackStats ignored;
  grpc::ClientContext context;
  return nslab::v1::Participants::NewStub(channel_)->GetUstackStats(&context, request,
                                                                    out ? out : &ignored);
}

grpc::Status TestDaemon::Delete(const std::string& name) {
  nslab::v1::DeleteLabRequest request;
  request.set_name(name);
  nslab::v1::DeleteLabResponse response;
  grpc::ClientContext context;
  return labs_->DeleteLab(&context, request, &response);
}

std::string UniqueLabName(const std::string& prefix) {
  static std::atomic<int> counter{0};
  return absl::StrCat(prefix, "-", getpid(), "-", counter++);
}

std::string ReadSourceFile(const std::string& relative) {
  std::ifstream in(std::string(NSLAB_SOURCE_DIR) + "/" + relative);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace nslab::testing
