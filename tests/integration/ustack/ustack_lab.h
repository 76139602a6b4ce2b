#pragma once

// A lab for the ustack integration test and benchmark, in namespaces this process makes and
// deletes by their exact names ("nslab-ust-<pid>-<n>-a" ...):
//
//   ns B (kernel peer)           ns A (switch)                 the ustack
//   vB 10.77.0.1/24 ---veth--- vA -- br0 -- ust0 (TAP) ---- nslab-ustack 10.77.0.2/24
//                                       \-- vK ---veth--- vK ns K (kernel node) 10.77.0.3/24
//
// so the kernel in B reaches the ustack node and, for comparison, a kernel node through the
// same bridge. Child processes (nslab-ustack, tcpdump) are killed by their exact pids.

#include <sys/socket.h>
#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "nslab/v1/ustack.grpc.pb.h"

namespace nslab::ustack::testing {

inline constexpr char kPeerIp[] = "10.77.0.1";
inline constexpr char kUstackIp[] = "10.77.0.2";
inline constexpr char kKernelNodeIp[] = "10.77.0.3";
inline constexpr char kUstackMac[] = "02:00:5e:77:00:02";

// The whole file, as bytes; "" when it cannot be read.
std::string ReadFile(const std::string& path);

// A file descriptor the test owns: closed when it goes.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  Fd& operator=(Fd&& other) noexcept {
    reset();
    fd_ = other.fd_;
    other.fd_ = -1;
    return *this;
  }
  ~Fd() { reset(); }
  int get() const { return fd_; }
  void reset();

 private:
  int fd_;
};

// Runs a command through /bin/sh; its output (stdout and stderr), or an error with both when
// it exits non-zero.
absl::StatusOr<std::string> Shell(const std::string& command);

// A child process started inside a namespace; SIGTERM and reaped on destruction.
class ChildProcess {
 public:
  static absl::StatusOr<std::unique_ptr<ChildProcess>> Start(const std::string& netns,
                                                             const std::vector<std::string>& argv,
                                                             const std::string& log_path);
  ~ChildProcess();
  // SIGTERM, then waits up to `timeout_ms`, then SIGKILL. The exit status (-1 if killed).
  int Stop(int timeout_ms = 5000);
  bool Running();
  pid_t pid() const { return pid_; }

 private:
  explicit ChildProcess(pid_t pid) : pid_(pid) {}
  pid_t pid_;
  bool reaped_ = false;
  int status_ = 0;
};

class UstackLab {
 public:
  // Runs once the namespaces and links are up, before nslab-ustack starts: a test whose
  // ustack connects out starts its kernel server and its nftables rules here.
  using BeforeStart = std::function<absl::Status(UstackLab&)>;

  // `ustack_args` are appended to the fixed ones (--tap, --addr, --mac, --control).
  static absl::StatusOr<std::unique_ptr<UstackLab>> Create(
      const std::string& ustack_binary, const std::vector<std::string>& ustack_args = {},
      const BeforeStart& before_start = nullptr);
  ~UstackLab();

  const std::string& peer_ns() const { return ns_b_; }
  const std::string& kernel_node_ns() const { return ns_k_; }
  const std::string& dir() const { return dir_; }
  std::string ustack_log() const;

  // A socket created inside the peer namespace B (it stays there).
  absl::StatusOr<int> PeerSocket(int type) { return SocketIn(ns_b_, type); }
  // A socket created inside namespace `ns`.
  static absl::StatusOr<int> SocketIn(const std::string& ns, int type) {
    return SocketIn(ns, AF_INET, type, 0);
  }
  // Any family: an AF_PACKET socket made here captures the namespace's frames.
  static absl::StatusOr<int> SocketIn(const std::string& ns, int family, int type, int protocol);
  // `ip netns exec B <command>`.
  absl::StatusOr<std::string> InPeer(const std::string& command);

  absl::StatusOr<v1::UstackStats> Stats();
  absl::StatusOr<v1::UstackNicSettings> SetNic(
      const v1::UstackControlServiceSetNicRequest& request);

  ChildProcess& ustack() { return *ustack_; }

 private:
  UstackLab() = default;
  absl::Status Build(const std::string& ustack_binary, const std::vector<std::string>& args,
                     const BeforeStart& before_start);

  std::string ns_a_, ns_b_, ns_k_;
  std::vector<std::string> made_;  // namespaces created, deleted by these names
  std::string dir_;
  std::unique_ptr<ChildProcess> ustack_;
  std::unique_ptr<v1::UstackControlService::Stub> stub_;
};

}  // namespace nslab::ustack::testing
