#include "tests/integration/ustack/ustack_lab.h"

#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace nslab::ustack::testing {
namespace {

std::string UniqueBase() {
  static std::atomic<int> counter{0};
  return absl::StrCat("nslab-ust-", ::getpid(), "-", counter++);
}

absl::Status ErrnoError(const std::string& what) {
  return absl::InternalError(absl::StrCat(what, ": ", std::strerror(errno)));
}

}  // namespace

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void Fd::reset() {
  if (fd_ >= 0) {
    ::close(fd_);
  }
  fd_ = -1;
}

absl::StatusOr<std::string> Shell(const std::string& command) {
  FILE* pipe = ::popen(absl::StrCat(command, " 2>&1").c_str(), "r");
  if (pipe == nullptr) {
    return ErrnoError(absl::StrCat("popen ", command));
  }
  std::string output;
  char buffer[4096];
  std::size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0) {
    output.append(buffer, n);
  }
  const int status = ::pclose(pipe);
  if (status != 0) {
    return absl::InternalError(absl::StrCat("`", command, "` failed (", status, "): ", output));
  }
  return output;
}

absl::StatusOr<std::unique_ptr<ChildProcess>> ChildProcess::Start(
    const std::string& netns, const std::vector<std::string>& argv, const std::string& log_path) {
  const int ns_fd = ::open(absl::StrCat("/run/netns/", netns).c_str(), O_RDONLY | O_CLOEXEC);
  if (ns_fd < 0) {
    return ErrnoError(absl::StrCat("open namespace ", netns));
  }
  const int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (log_fd < 0) {
    ::close(ns_fd);
    return ErrnoError(absl::StrCat("open ", log_path));
  }
  std::vector<char*> args;
  for (const std::string& arg : argv) {
    args.push_back(const_cast<char*>(arg.c_str()));
  }
  args.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    // Only async-signal-safe calls until exec: this process has other threads.
    if (::setns(ns_fd, CLONE_NEWNET) != 0 || ::dup2(log_fd, 1) < 0 || ::dup2(log_fd, 2) < 0) {
      ::_exit(126);
    }
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  ::close(ns_fd);
  ::close(log_fd);
  if (pid < 0) {
    return ErrnoError("fork");
  }
  return std::unique_ptr<ChildProcess>(new ChildProcess(pid));
}

bool ChildProcess::Running() {
  if (reaped_) {
    return false;
  }
  if (::waitpid(pid_, &status_, WNOHANG) == pid_) {
    reaped_ = true;
    return false;
  }
  return true;
}

int ChildProcess::Stop(int timeout_ms) {
  if (!reaped_) {
    ::kill(pid_, SIGTERM);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (Running() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (Running()) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status_, 0);
      reaped_ = true;
      return -1;
    }
  }
  return WIFEXITED(status_) ? WEXITSTATUS(status_) : -1;
}

ChildProcess::~ChildProcess() { Stop(); }

absl::StatusOr<std::unique_ptr<UstackLab>> UstackLab::Create(const std::string& ustack_binary,
                                                             const std::vector<std::string>& args,
                                                             const BeforeStart& before_start) {
  std::unique_ptr<UstackLab> lab(new UstackLab());
  if (absl::Status status = lab->Build(ustack_binary, args, before_start); !status.ok()) {
    return status;
  }
  return lab;
}

absl::Status UstackLab::Build(const std::string& ustack_binary,
                              const std::vector<std::string>& args,
                              const BeforeStart& before_start) {
  const std::string base = UniqueBase();
  ns_a_ = base + "-a";
  ns_b_ = base + "-b";
  ns_k_ = base + "-k";
  char dir_template[] = "/tmp/nslab-ust-XXXXXX";
  if (::mkdtemp(dir_template) == nullptr) {
    return ErrnoError("mkdtemp");
  }
  dir_ = dir_template;
  for (const std::string& ns : {ns_a_, ns_b_, ns_k_}) {
    if (absl::StatusOr<std::string> made = Shell("ip netns add " + ns); !made.ok()) {
      return made.status();
    }
    made_.push_back(ns);
  }
  const std::vector<std::string> commands = {
      // IPv6 off: the links carry only the traffic the tests send.
      "ip netns exec " + ns_a_ + " sysctl -qw net.ipv6.conf.all.disable_ipv6=1",
      "ip netns exec " + ns_b_ + " sysctl -qw net.ipv6.conf.all.disable_ipv6=1",
      "ip netns exec " + ns_k_ + " sysctl -qw net.ipv6.conf.all.disable_ipv6=1",
      "ip -n " + ns_a_ + " link add br0 type bridge",
      "ip -n " + ns_a_ + " link set br0 up",
      "ip -n " + ns_a_ + " link add vA type veth peer name vB netns " + ns_b_,
      "ip -n " + ns_a_ + " link set vA master br0 up",
      "ip -n " + ns_a_ + " link add vKa type veth peer name vK netns " + ns_k_,
      "ip -n " + ns_a_ + " link set vKa master br0 up",
      "ip -n " + ns_a_ + " tuntap add dev ust0 mode tap",
      "ip -n " + ns_a_ + " link set ust0 master br0 up",
      "ip -n " + ns_b_ + " addr add " + kPeerIp + "/24 dev vB",
      "ip -n " + ns_b_ + " link set vB up",
      "ip -n " + ns_b_ + " link set lo up",
      "ip -n " + ns_k_ + " addr add " + kKernelNodeIp + "/24 dev vK",
      "ip -n " + ns_k_ + " link set vK up",
      "ip -n " + ns_k_ + " link set lo up",
  };
  for (const std::string& command : commands) {
    if (absl::StatusOr<std::string> done = Shell(command); !done.ok()) {
      return done.status();
    }
  }
  if (before_start) {
    if (absl::Status status = before_start(*this); !status.ok()) {
      return status;
    }
  }
  const std::string socket_path = dir_ + "/control.sock";
  std::vector<std::string> argv = {
      ustack_binary, "--tap",    "ust0",      "--addr",   std::string(kUstackIp) + "/24",
      "--mac",       kUstackMac, "--control", socket_path};
  argv.insert(argv.end(), args.begin(), args.end());
  absl::StatusOr<std::unique_ptr<ChildProcess>> ustack =
      ChildProcess::Start(ns_a_, argv, ustack_log());
  if (!ustack.ok()) {
    return ustack.status();
  }
  ustack_ = *std::move(ustack);
  // The socket appears a moment after the process starts: reconnect quickly rather than with
  // gRPC's default backoff of a second and more, which made every lab take seconds to start.
  grpc::ChannelArguments channel_args;
  channel_args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 20);
  channel_args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 20);
  channel_args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 100);
  stub_ = v1::UstackControlService::NewStub(grpc::CreateCustomChannel(
      "unix:" + socket_path, grpc::InsecureChannelCredentials(), channel_args));
  // Ready when the control socket answers.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    if (!ustack_->Running()) {
      return absl::InternalError(absl::StrCat("nslab-ustack exited: ", ustack_log()));
    }
    if (std::filesystem::exists(socket_path) && Stats().ok()) {
      return absl::OkStatus();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return absl::DeadlineExceededError("nslab-ustack did not answer on its control socket");
}

UstackLab::~UstackLab() {
  if (ustack_) {
    ustack_->Stop();
  }
  for (const std::string& ns : made_) {
    (void)Shell("ip netns delete " + ns);
  }
  if (!dir_.empty()) {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
}

std::string UstackLab::ustack_log() const { return dir_ + "/ustack.log"; }

absl::StatusOr<int> UstackLab::SocketIn(const std::string& ns, int family, int type, int protocol) {
  absl::StatusOr<int> result = absl::InternalError("not run");
  // A fresh thread enters the namespace, so this thread never switches.
  std::thread([&] {
    const int ns_fd = ::open(absl::StrCat("/run/netns/", ns).c_str(), O_RDONLY | O_CLOEXEC);
    if (ns_fd < 0 || ::setns(ns_fd, CLONE_NEWNET) != 0) {
      result = ErrnoError("enter " + ns);
    } else {
      const int fd = ::socket(family, type | SOCK_CLOEXEC, protocol);
      result = fd >= 0 ? absl::StatusOr<int>(fd) : ErrnoError("socket");
    }
    if (ns_fd >= 0) {
      ::close(ns_fd);
    }
  }).join();
  return result;
}

absl::StatusOr<std::string> UstackLab::InPeer(const std::string& command) {
  return Shell("ip netns exec " + ns_b_ + " " + command);
}

absl::StatusOr<v1::UstackStats> UstackLab::Stats() {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
  v1::UstackControlServiceGetStatsResponse response;
  const grpc::Status status =
      stub_->GetStats(&context, v1::UstackControlServiceGetStatsRequest(), &response);
  if (!status.ok()) {
    return absl::UnavailableError(absl::StrCat("GetStats: ", status.error_message()));
  }
  return response.stats();
}

absl::StatusOr<v1::UstackNicSettings> UstackLab::SetNic(
    const v1::UstackControlServiceSetNicRequest& request) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  v1::UstackControlServiceSetNicResponse response;
  const grpc::Status status = stub_->SetNic(&context, request, &response);
  if (!status.ok()) {
    return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                        absl::StrCat("SetNic: ", status.error_message()));
  }
  return response.nic();
}

}  // namespace nslab::ustack::testing
