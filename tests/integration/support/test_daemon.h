#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "nslab/v1/exec.grpc.pb.h"
#include "nslab/v1/labs.grpc.pb.h"
#include "nslab/v1/participants.grpc.pb.h"
#include "nslab/v1/system.grpc.pb.h"

namespace nslab::testing {

// A real nslabd on a private socket and state directory, started for a test suite and
// stopped with SIGTERM at its end. Teardown fails the test program if labs are still up (it
// deletes and names them) or if the daemon does not exit 0 on SIGTERM.
class TestDaemon {
 public:
  // `extra_args` go to nslabd after --socket and --state-dir, at every start.
  explicit TestDaemon(std::vector<std::string> extra_args = {});
  // The open-files limits (RLIMIT_NOFILE) nslabd starts with, as a service manager sets them.
  struct OpenFiles {
    uint64_t soft = 0;
    uint64_t hard = 0;
  };
  TestDaemon(std::vector<std::string> extra_args, OpenFiles open_files);
  ~TestDaemon();

  // Stops the daemon with `signal` (SIGTERM, or SIGKILL to simulate a crash) and waits; a
  // test failure if a SIGTERM stop does not exit 0, or if the daemon does not stop in 30 s.
  void Stop(int signal);
  // Starts a daemon again on the same socket and state directory.
  void Restart();

  // What nslabd wrote to stderr, over all its starts.
  std::string LogText() const;

  // The running nslabd's process id (-1 while stopped).
  pid_t pid() const { return pid_; }
  const std::string& socket() const { return socket_; }
  const std::string& state_dir() const { return state_dir_; }
  std::shared_ptr<grpc::Channel> channel() const { return channel_; }
  nslab::v1::LabsService::Stub& labs() { return *labs_; }
  nslab::v1::SystemService::Stub& system() { return *system_; }

  struct ExecResult {
    int code = -1;
    std::string out;
    std::string err;
    grpc::Status status;
  };
  ExecResult Exec(const std::string& lab, const std::string& node,
                  const std::vector<std::string>& argv, const std::string& stdin_data = "",
                  uint32_t timeout_ms = 0);

  // Creates a lab from YAML text under `name`, sending `files` as the client's copies of the
  // files it names; returns the status.
  grpc::Status CreateFromYaml(const std::string& yaml, const std::string& name,
                              nslab::v1::Lab* lab = nullptr,
                              const std::map<std::string, std::string>& files = {});
  grpc::Status Delete(const std::string& name);
  // A ustack node's counters and tables (Participants.GetUstackStats); `out` may be null.
  grpc::Status UstackStats(const std::string& lab, const std::string& node,
                           nslab::v1::UstackStats* out = nullptr);

 private:
  void Start();
  // Deletes every lab the daemon still lists, reporting them as a test failure.
  void DeleteLeakedLabs();

  std::vector<std::string> extra_args_;
  std::optional<OpenFiles> open_files_;
  std::string dir_;
  std::string socket_;
  std::string state_dir_;
  pid_t pid_ = -1;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<nslab::v1::LabsService::Stub> labs_;
  std::unique_ptr<nslab::v1::ExecService::Stub> exec_;
  std::unique_ptr<nslab::v1::SystemService::Stub> system_;
};

// Follows a daemon's health (gRPC Watch) on `channel` until it says SERVING; false at the
// deadline. The channel should reconnect quickly (the socket changes hands once).
bool WaitUntilServing(const std::shared_ptr<grpc::Channel>& channel,
                      std::chrono::system_clock::time_point deadline);

// Deletes a lab when the test ends, however it ends (already gone is fine).
class LabGuard {
 public:
  LabGuard(TestDaemon* daemon, std::string name) : daemon_(daemon), name_(std::move(name)) {}
  ~LabGuard() { (void)daemon_->Delete(name_); }
  LabGuard(const LabGuard&) = delete;
  LabGuard& operator=(const LabGuard&) = delete;

 private:
  TestDaemon* daemon_;
  std::string name_;
};

// A lab name no other test (or parallel test process) uses: "<prefix>-<pid>-<n>".
std::string UniqueLabName(const std::string& prefix);

// The text of a file under the source tree (e.g. "topologies/quickstart.yaml").
std::string ReadSourceFile(const std::string& relative);

}  // namespace nslab::testing
