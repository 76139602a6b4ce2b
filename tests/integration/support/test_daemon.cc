#include "tests/integration/support/test_daemon.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "grpc/health/v1/health.grpc.pb.h"

namespace nslab::testing {
namespace {

// How a waited-for child ended, in words.
std::string DescribeWaitStatus(int status) {
  if (WIFEXITED(status)) {
    return absl::StrCat("exited with code ", WEXITSTATUS(status));
  }
  if (WIFSIGNALED(status)) {
    return absl::StrCat("was killed by signal ", WTERMSIG(status));
  }
  return absl::StrCat("ended with wait status ", status);
}

// Waits up to `timeout` for child `pid` to end; true (and its status) if it did.
bool WaitForExit(pid_t pid, std::chrono::milliseconds timeout, int* status) {
  const int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (pidfd >= 0) {
    pollfd ready{.fd = pidfd, .events = POLLIN, .revents = 0};
    const int polled = poll(&ready, 1, static_cast<int>(timeout.count()));
    close(pidfd);
    if (polled <= 0) {
      return false;
    }
  }
  // Without pidfd_open (a kernel older than 5.3) this blocks until the child ends.
  return waitpid(pid, status, 0) == pid;
}

}  // namespace

TestDaemon::TestDaemon(std::vector<std::string> extra_args) : extra_args_(std::move(extra_args)) {
  char tmpl[] = "/tmp/nslab-it-XXXXXX";
  dir_ = mkdtemp(tmpl);
  socket_ = dir_ + "/nslabd.sock";
  state_dir_ = dir_ + "/state";
  Start();
}

TestDaemon::TestDaemon(std::vector<std::string> extra_args, OpenFiles open_files)
    : extra_args_(std::move(extra_args)), open_files_(open_files) {
  char tmpl[] = "/tmp/nslab-it-XXXXXX";
  dir_ = mkdtemp(tmpl);
  socket_ = dir_ + "/nslabd.sock";
  state_dir_ = dir_ + "/state";
  Start();
}

TestDaemon::~TestDaemon() {
  // Labs outlive their daemon by design; remove the ones the tests left before the state
  // directory (their only record) goes. A daemon stopped and not restarted still has them there.
  if (pid_ <= 0) {
    Start();
  }
  DeleteLeakedLabs();
  Stop(SIGTERM);
  std::error_code error;
  std::filesystem::remove_all(dir_, error);
}

void TestDaemon::DeleteLeakedLabs() {
  nslab::v1::ListLabsResponse list;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  if (auto status = labs_->ListLabs(&context, {}, &list); !status.ok()) {
    ADD_FAILURE() << "nslabd at teardown: ListLabs failed (" << status.error_code() << " "
                  << status.error_message() << "); labs may be left on the host; its log:\n"
                  << LogText();
    return;
  }
  if (list.labs_size() == 0) {
    return;
  }
  std::vector<std::string> names;
  for (const auto& lab : list.labs()) {
    names.push_back(lab.name());
  }
  // A test that leaves a lab behind is a bug: with it, a failed run leaves the host dirty.
  ADD_FAILURE() << "labs left up by the tests, deleted at daemon teardown: "
                << absl::StrJoin(names, ", ");
  for (const auto& name : names) {
    if (auto status = Delete(name); !status.ok()) {
      ADD_FAILURE() << "could not delete leaked lab " << name << ": " << status.error_code() << " "
                    << status.error_message();
    }
  }
}

std::string TestDaemon::LogText() const {
  std::ifstream in(dir_ + "/nslabd.log");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void TestDaemon::Start() {
  const std::string log = dir_ + "/nslabd.log";
  std::vector<std::string> command = {NSLABD_PATH, "--socket", socket_, "--state-dir", state_dir_};
  command.insert(command.end(), extra_args_.begin(), extra_args_.end());
  std::vector<char*> argv;
  for (auto& arg : command) {
    argv.push_back(arg.data());
  }
  argv.push_back(nullptr);
  pid_ = fork();
  if (pid_ == 0) {
    freopen(log.c_str(), "a", stderr);
    if (open_files_) {
      const rlimit limit{.rlim_cur = open_files_->soft, .rlim_max = open_files_->hard};
      if (setrlimit(RLIMIT_NOFILE, &limit) != 0) {
        _exit(126);
      }
    }
    execv(NSLABD_PATH, argv.data());
    _exit(127);
  }
  // A private subchannel pool: after a restart, no connection to the old daemon is reused.
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  // The socket changes hands once, from the recovering daemon to the serving one: reconnect
  // at once rather than after gRPC's default backoff of a second.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 20);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 20);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 100);
  channel_ = grpc::CreateCustomChannel("unix:" + socket_, grpc::InsecureChannelCredentials(), args);
  const auto deadline = std::chrono::system_clock::now() + std::chrono::seconds(30);
  if (!WaitUntilServing(channel_, deadline)) {
    ADD_FAILURE() << "nslabd did not say SERVING; its log:\n" << LogText();
  }
  labs_ = nslab::v1::LabsService::NewStub(channel_);
  exec_ = nslab::v1::ExecService::NewStub(channel_);
  system_ = nslab::v1::SystemService::NewStub(channel_);
}

bool WaitUntilServing(const std::shared_ptr<grpc::Channel>& channel,
                      std::chrono::system_clock::time_point deadline) {
  // Watch streams each change of the daemon's health; the recovering daemon's stream ends
  // when it hands the socket over, and the next one starts at the serving daemon.
  auto health = grpc::health::v1::Health::NewStub(channel);
  while (std::chrono::system_clock::now() < deadline) {
    grpc::ClientContext context;
    context.set_deadline(deadline);
    context.set_wait_for_ready(true);
    auto stream = health->Watch(&context, grpc::health::v1::HealthCheckRequest());
    grpc::health::v1::HealthCheckResponse response;
    while (stream->Read(&response)) {
      if (response.status() == grpc::health::v1::HealthCheckResponse::SERVING) {
        context.TryCancel();
        (void)stream->Finish();
        return true;
      }
    }
    (void)stream->Finish();
  }
  return false;
}

void TestDaemon::Stop(int signal) {
  if (pid_ <= 0) {
    return;
  }
  const pid_t pid = pid_;
  pid_ = -1;
  kill(pid, signal);
  int status = 0;
  if (!WaitForExit(pid, std::chrono::seconds(30), &status)) {
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    ADD_FAILURE() << "nslabd (pid " << pid << ") did not stop within 30 s of signal " << signal
                  << "; killed it. Its log:\n"
                  << LogText();
    return;
  }
  // SIGKILL stands in for a crash; a SIGTERM stop must be clean.
  if (signal == SIGTERM && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
    ADD_FAILURE() << "nslabd (pid " << pid << ") " << DescribeWaitStatus(status)
                  << " on SIGTERM; expected exit code 0. Its log:\n"
                  << LogText();
  }
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
  nslab::v1::RunResponse output;
  while (reader->Read(&output)) {
    if (output.has_exit()) {
      result.code = output.exit().code();
    } else if (output.output_case() == nslab::v1::RunResponse::kStdout) {
      result.out += output.stdout();
    } else if (output.output_case() == nslab::v1::RunResponse::kStderr) {
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
  nslab::v1::CreateLabResponse response;
  grpc::ClientContext context;
  grpc::Status status = labs_->CreateLab(&context, request, &response);
  if (lab != nullptr) {
    *lab = response.lab();
  }
  return status;
}

grpc::Status TestDaemon::UstackStats(const std::string& lab, const std::string& node,
                                     nslab::v1::UstackStats* out) {
  nslab::v1::GetUstackStatsRequest request;
  request.set_lab(lab);
  request.set_node(node);
  nslab::v1::GetUstackStatsResponse response;
  grpc::ClientContext context;
  grpc::Status status = nslab::v1::ParticipantsService::NewStub(channel_)->GetUstackStats(
      &context, request, &response);
  if (out != nullptr) {
    *out = response.stats();
  }
  return status;
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
