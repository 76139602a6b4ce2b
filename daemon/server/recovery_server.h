#pragma once

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/notification.h"

namespace grpc {
class CallbackGenericService;
class Server;
}  // namespace grpc

namespace nslab::server {

// What nslabd's socket answers while it recovers the labs of its state directory: health is
// NOT_SERVING (for the server and every service), and every other call is UNAVAILABLE with a
// message that says to wait for SERVING. Probes and clients can tell "starting" from "gone"
// without ever seeing a half-recovered lab.
class RecoveryServer {
 public:
  // Listens on `socket_path` (a unix socket) until destroyed; `services` are the names the
  // serving daemon will answer health checks for.
  static absl::StatusOr<std::unique_ptr<RecoveryServer>> Start(
      const std::string& socket_path, const std::string& state_dir,
      const std::vector<std::string>& services);
  // Stops it once `socket_path` names the serving daemon. A client connected here is not
  // cut off mid-call: every connection here is told to go (an HTTP/2 GOAWAY, which gRPC
  // clients follow by reconnecting, now to the serving daemon, retrying what was not yet
  // taken), and only after every one has been told does the server shut down. Shutting
  // down at once cancelled a call that crossed the handoff (CANCELLED, seen in CI by a
  // client polling health).
  void Retire();
  ~RecoveryServer();

 private:
  RecoveryServer() = default;
  void ShutdownNow();

  std::unique_ptr<grpc::CallbackGenericService> unavailable_;
  std::unique_ptr<grpc::Server> server_;
  absl::Notification stop_waiting_;
  std::thread retiring_;
};

}  // namespace nslab::server
