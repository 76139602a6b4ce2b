#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/notification.h"
#include "daemon/chaos/chaos_engine.h"
#include "daemon/common/dir_lock.h"
#include "daemon/diag/diagnostics.h"
#include "daemon/events/event_bus.h"
#include "daemon/exec/process_registry.h"
#include "daemon/exec/supervisor.h"
#include "daemon/lab/lab_registry.h"
#include "daemon/scenario/lab/lab_scenarios.h"
#include "daemon/server/recovery_server.h"

namespace grpc {
class Server;
class Service;
}  // namespace grpc

namespace nslab::server {

struct DaemonOptions {
  std::string socket_path = "/run/nslab/nslabd.sock";
  std::string state_dir = "/run/nslab/labs";
  // The unix socket's group (empty: root's). Its members are root-equivalent, as with
  // Docker's socket: they can run any command in namespaces that share the host's files.
  std::string socket_group;
  // Optional "host:port", served with mutual TLS only (see tcp_credentials.h).
  std::string tcp_address;
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string tls_ca_file;
  // The participant node's stack, run by ustack nodes.
  std::string ustack_binary;
  // Builds and removals publish PROGRESS events once they have run this long (0: as each
  // phase ends, however quick).
  int progress_after_ms = 500;
};

// nslabd: recovers labs from state files, probes the kernel, serves the API on a unix
// socket (and TCP if asked) with health checking and reflection, and expires labs whose
// TTL has passed.
class DaemonServer {
 public:
  explicit DaemonServer(DaemonOptions options);
  ~DaemonServer();

  absl::Status Start();
  void Wait();
  void Shutdown();

 private:
  void ReapExpiredLabs();

  DaemonOptions options_;
  std::optional<DirLock> state_lock_;
  // Before everything that publishes on it.
  events::EventBus events_;
  exec::ProcessRegistry processes_;
  exec::Supervisor supervisor_;
  std::unique_ptr<lab::LabRegistry> labs_;
  std::unique_ptr<chaos::ChaosEngine> chaos_;
  std::unique_ptr<scenario::LabScenarios> scenarios_;
  std::unique_ptr<diag::DiagEngine> diag_;
  std::vector<std::unique_ptr<grpc::Service>> services_;
  std::unique_ptr<grpc::Service> reflection_v1_;
  std::unique_ptr<grpc::Server> server_;
  // Answered the socket while the labs came back; goes once its clients have moved over.
  std::unique_ptr<RecoveryServer> recovery_;
  absl::Notification stopping_;
  std::thread reaper_;
  // Shutdown runs once: the signal thread and the destructor may call it at the same time.
  std::once_flag shutdown_once_;
};

}  // namespace nslab::server
